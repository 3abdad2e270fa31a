//! The Connect client's pacing and retry policy end to end through the SDK: every attempt, first
//! or retried, takes a token from its operation's bucket; a throttle drains it; the SDK owns the
//! retries; nothing is sent whose turn comes after the deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acgr::connect::pace::{self, Pacer, Policy};
use acgr::connect::sdk::SdkConnect;
use acgr::connect::Connect;
use acgr::domain::Region;
use acgr::error::ConnectErrorClass;
use acgr::run::handler as deadline;
use aws_sdk_connect::config::{BehaviorVersion, Credentials};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use tokio::time::Instant;

/// A control plane that answers each request with the next scripted status (200 when none is
/// left) and logs when each request arrived.
#[derive(Clone, Debug, Default)]
struct Scripted {
    statuses: Arc<Mutex<VecDeque<u16>>>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl HttpClient for Scripted {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Scripted {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        self.arrivals.lock().unwrap().push(Instant::now());
        let status = self.statuses.lock().unwrap().pop_front().unwrap_or(200);
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(if status == 200 {
                "{}"
            } else {
                r#"{"message":"Rate exceeded"}"#
            }),
        );
        if status == 429 {
            response
                .headers_mut()
                .insert("x-amzn-ErrorType", "ThrottlingException");
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

fn client(scripted: &Scripted, policy: &Policy) -> SdkConnect {
    let region = Region::parse("us-east-1").unwrap();
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_connect::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_connect::config::SharedCredentialsProvider::new(
            Credentials::new("AKID", "SECRET", None, None, "test"),
        ))
        .http_client(SharedHttpClient::new(scripted.clone()))
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .build();
    let pacer = Arc::new(Pacer::new(policy.quota_factor));
    let config = pace::connect_config(&conf, &region, policy, pacer);
    SdkConnect::new(aws_sdk_connect::Client::from_conf(config), region)
}

#[tokio::test(start_paused = true)]
async fn every_attempt_takes_a_token_and_a_throttle_drains_the_bucket() {
    let scripted = Scripted::default();
    let connect = client(&scripted, &Policy::default());
    // The burst (5) goes at once, then 2/s: 9 associations take about 2 s.
    let start = Instant::now();
    for u in 0..9 {
        connect
            .associate_user("g1", &format!("u{u}"), "i-1")
            .await
            .unwrap();
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1990) && took < Duration::from_millis(2300),
        "5 at once then 4 at 2/s: {took:?}"
    );

    // Three throttles then success: the SDK retries (one layer), each attempt waits for a token
    // of the drained bucket (0.5 s each at least), and the call succeeds on the fourth attempt.
    scripted.statuses.lock().unwrap().extend([429, 429, 429]);
    scripted.arrivals.lock().unwrap().clear();
    connect.associate_user("g1", "u9", "i-1").await.unwrap();
    let arrivals = scripted.arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 4, "one call, four attempts");
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(500),
            "each retry waited for a token of the drained bucket: {arrivals:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn throttling_past_the_attempts_is_throttled_and_other_operations_keep_their_buckets() {
    let scripted = Scripted::default();
    let policy = Policy {
        max_attempts: 3,
        ..Policy::default()
    };
    let connect = client(&scripted, &policy);
    scripted.statuses.lock().unwrap().extend([429, 429, 429]);
    let e = connect.associate_user("g1", "u1", "i-1").await.unwrap_err();
    assert_eq!(e.class, ConnectErrorClass::Throttled);
    assert_eq!(scripted.arrivals.lock().unwrap().len(), 3, "max_attempts");

    // ListUsers has its own bucket (10/s, burst 5): five pages go at once.
    scripted.arrivals.lock().unwrap().clear();
    let start = Instant::now();
    for _ in 0..5 {
        connect.list_users_page("i-1", None, 100).await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_sent_whose_turn_comes_after_the_deadline() {
    let scripted = Scripted::default();
    let connect = client(&scripted, &Policy::default());
    let stop_at = Instant::now() + Duration::from_millis(1200);
    let mut sent = 0;
    let outcome = deadline::within(Some(stop_at), async {
        loop {
            match connect
                .associate_user("g1", &format!("u{sent}"), "i-1")
                .await
            {
                Ok(()) => sent += 1,
                Err(e) => return e,
            }
        }
    })
    .await;
    assert_eq!(outcome.class, ConnectErrorClass::OutOfTime, "{outcome}");
    assert_eq!(sent, 7, "5 at once, then 2/s until 1.2 s");
    assert_eq!(
        scripted.arrivals.lock().unwrap().len(),
        7,
        "the refused one was never sent"
    );
    assert!(Instant::now() <= stop_at);

    // A raised factor raises the pacer with the quotas (the local control plane's setting).
    let fast = client(
        &Scripted::default(),
        &Policy {
            quota_factor: 100.0,
            ..Policy::default()
        },
    );
    let start = Instant::now();
    for u in 0..205 {
        fast.associate_user("g1", &format!("u{u}"), "i-1")
            .await
            .unwrap();
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_millis(1100),
        "5 at once then 200 at 200/s: {took:?}"
    );
}
