//! The messier regional outages staged at run time (writes failing, one family failing,
//! connections reset, a slow and flaky region) and the per-call latency model.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_connect::error::SdkError;
use aws_sdk_connect::types::{Distribution, TelephonyConfig};
use common::*;
use connect_sim::control::{OutageCode, RegionOutage, SettingsChange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn telephony(source: i32) -> TelephonyConfig {
    let d = |r: &str, p: i32| {
        Distribution::builder()
            .region(r)
            .percentage(p)
            .build()
            .unwrap()
    };
    TelephonyConfig::builder()
        .distributions(d(SOURCE, source))
        .distributions(d(REPLICA, 100 - source))
        .build()
        .unwrap()
}

async fn stage(sim: &Harness, region: &str, outage: Option<RegionOutage>) {
    sim.control
        .set_region_outage(region, outage)
        .await
        .expect("stage the outage");
}

/// (status, code) of an UpdateTrafficDistribution from `region`; (200, "") when it succeeds.
async fn update(sim: &Harness, region: &str, arn: &str, source: i32) -> (u16, String) {
    match sim
        .client(region)
        .update_traffic_distribution()
        .id(arn)
        .telephony_config(telephony(source))
        .send()
        .await
    {
        Ok(_) => (200, String::new()),
        Err(e) => (status(&e), code(&e)),
    }
}

/// (status, code) of a DescribeInstance in `region`.
async fn describe(sim: &Harness, region: &str) -> (u16, String) {
    match sim
        .client(region)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
    {
        Ok(_) => (200, String::new()),
        Err(e) => (status(&e), code(&e)),
    }
}

#[tokio::test]
async fn a_partial_outage_fails_writes_and_serves_reads() {
    let sim = replicated(400.0).await;
    let arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();

    // Given us-east-1 fails its writes.
    stage(
        &sim,
        SOURCE,
        Some(RegionOutage::Partial {
            code: OutageCode::ServiceUnavailable,
        }),
    )
    .await;
    let listed = sim.control.regions().await.unwrap();
    let east = listed.iter().find(|r| r.region == SOURCE).unwrap();
    assert_eq!(
        east.outage.as_ref().map(RegionOutage::kind),
        Some("partial")
    );

    // Then reads work there, a write is 503, and the other region takes the write.
    assert_eq!(describe(&sim, SOURCE).await, (200, String::new()));
    sim.client(SOURCE)
        .get_traffic_distribution()
        .id(&arn)
        .send()
        .await
        .expect("a read in a partial outage");
    assert_eq!(
        update(&sim, SOURCE, &arn, 0).await,
        (503, "ServiceUnavailableException".into())
    );
    assert_eq!(update(&sim, REPLICA, &arn, 0).await, (200, String::new()));
    let refused = sim.calls("UpdateTrafficDistribution").await;
    assert_eq!(refused[0].status, 503);
    assert_eq!(refused[0].region, SOURCE);

    // And with the other code the write is 500.
    stage(
        &sim,
        SOURCE,
        Some(RegionOutage::Partial {
            code: OutageCode::InternalService,
        }),
    )
    .await;
    sim.advance(3.0).await;
    assert_eq!(
        update(&sim, SOURCE, &arn, 100).await,
        (500, "InternalServiceException".into())
    );
    stage(&sim, SOURCE, None).await;
    assert_eq!(update(&sim, SOURCE, &arn, 100).await, (200, String::new()));
}

#[tokio::test]
async fn an_operations_outage_fails_only_those_operations() {
    let sim = replicated(400.0).await;
    let arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();

    // Given the traffic family fails in us-west-2 (500 by default).
    stage(
        &sim,
        REPLICA,
        Some(RegionOutage::Operations {
            operations: vec!["traffic".into()],
            code: OutageCode::InternalService,
        }),
    )
    .await;
    let err = sim
        .client(REPLICA)
        .get_traffic_distribution()
        .id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_str()),
        (500, "InternalServiceException")
    );
    assert_eq!(
        update(&sim, REPLICA, &arn, 0).await,
        (500, "InternalServiceException".into())
    );
    assert_eq!(describe(&sim, REPLICA).await, (200, String::new()));
    assert_eq!(update(&sim, SOURCE, &arn, 0).await, (200, String::new()));

    // When one operation is named instead, only it fails.
    stage(
        &sim,
        REPLICA,
        Some(RegionOutage::Operations {
            operations: vec!["DescribeInstance".into()],
            code: OutageCode::ServiceUnavailable,
        }),
    )
    .await;
    assert_eq!(
        describe(&sim, REPLICA).await,
        (503, "ServiceUnavailableException".into())
    );
    sim.client(REPLICA)
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("another operation works");

    // An unknown operation or family is refused by the control API.
    let refused = sim
        .control
        .set_region_outage(
            REPLICA,
            Some(RegionOutage::Operations {
                operations: vec!["Teleport".into()],
                code: OutageCode::InternalService,
            }),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn a_reset_outage_drops_the_connection_without_an_answer() {
    let sim = replicated(400.0).await;
    stage(&sim, SOURCE, Some(RegionOutage::Reset)).await;

    // A raw request gets no byte back: the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    stream
        .write_all(signed_get(SOURCE, &format!("/instance/{INSTANCE}")).as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf))
        .await
        .expect("closed at once");
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    drop(read);

    // The SDK sees no HTTP answer at all, not a service error.
    let err = sim
        .client(SOURCE)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
    assert!(err.raw_response().is_none());

    // The other region serves; the log shows the dropped calls with status 0.
    assert_eq!(describe(&sim, REPLICA).await, (200, String::new()));
    let calls = sim.calls("DescribeInstance").await;
    let east: Vec<_> = calls.iter().filter(|c| c.region == SOURCE).collect();
    assert_eq!(east.len(), 2);
    assert!(east.iter().all(|c| c.status == 0 && c.error_type.is_none()));

    // And once cleared, the region answers again.
    stage(&sim, SOURCE, None).await;
    assert_eq!(describe(&sim, SOURCE).await, (200, String::new()));
}

/// The statuses of `n` DescribeInstance calls in the source region, each checked to wait
/// `at_least` and to be answered 200 or 500 `InternalServiceException`.
async fn sample(sim: &Harness, n: usize, at_least: Duration) -> Vec<u16> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let (status, code) = describe(sim, SOURCE).await;
        assert!(started.elapsed() >= at_least, "{:?}", started.elapsed());
        assert!(
            status == 200 || (status, code.as_str()) == (500, "InternalServiceException"),
            "{status} {code}"
        );
        answers.push(status);
    }
    answers
}

#[tokio::test]
async fn a_degraded_region_is_slow_and_fails_a_seeded_share_of_calls() {
    let sim = Harness::start("small").await;
    let degraded = RegionOutage::Degraded {
        latency_seconds: 0.15,
        error_rate: 0.5,
    };
    stage(&sim, SOURCE, Some(degraded.clone())).await;
    let first = sample(&sim, 12, Duration::from_millis(150)).await;
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");

    // The other region is neither slow nor failing.
    let started = Instant::now();
    assert_eq!(
        describe(&sim, REPLICA).await.0,
        404,
        "no instance there, answered"
    );
    assert!(started.elapsed() < Duration::from_millis(150));

    // The same calls after a reset fail the same way (seeded dice).
    sim.control.reset().await.unwrap();
    stage(&sim, SOURCE, Some(degraded)).await;
    assert_eq!(sample(&sim, 12, Duration::from_millis(150)).await, first);
}

#[tokio::test]
async fn the_latency_model_delays_every_call() {
    let sim = Harness::start("small").await;
    let settings = sim.control.settings().await.unwrap();
    assert_eq!(
        (settings.call_latency_ms, settings.call_latency_jitter_ms),
        (0, 0),
        "off by default"
    );

    // Given 120 ms plus up to 80 ms per call.
    sim.control
        .change_settings(&SettingsChange {
            call_latency_ms: Some(120),
            call_latency_jitter_ms: Some(80),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut took = Vec::new();
    for region in [SOURCE, SOURCE, SOURCE, REPLICA] {
        let started = Instant::now();
        describe(&sim, region).await;
        took.push(started.elapsed());
    }
    assert!(
        took.iter().all(|t| *t >= Duration::from_millis(120)),
        "{took:?}"
    );
    assert!(took.iter().all(|t| *t < Duration::from_secs(2)), "{took:?}");

    // Out of range is refused; the control API itself is not delayed.
    let refused = sim
        .control
        .change_settings(&SettingsChange {
            call_latency_ms: Some(120_000),
            ..Default::default()
        })
        .await;
    assert!(refused.is_err());
    let started = Instant::now();
    sim.control.health().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(120));
}
