//! Regional outages set, listed and refused through the control API, and a timeout outage
//! that holds calls until the client gives up.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_sdk_connect::error::SdkError;
use common::*;
use connect_sim::control::{ClientError, Outage, RegionOutage};

/// A control call with a body the client would not send: (status, body).
async fn control_status(sim: &Harness, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "{method} /_sim/{path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, body) = sim.raw(req.as_bytes()).await;
    (status, body)
}

#[tokio::test]
async fn the_control_api_sets_lists_and_refuses_outages() {
    let sim = Harness::start("small").await;

    let listed = sim.control.regions().await.expect("regions");
    let regions: Vec<&str> = listed.iter().map(|r| r.region.as_str()).collect();
    assert!(
        regions.contains(&SOURCE) && regions.contains(&REPLICA),
        "{listed:?}"
    );
    assert!(listed.iter().all(|r| r.outage.is_none()));

    let down = set_outage(&sim, SOURCE, Some(Outage::Unavailable)).await;
    assert_eq!(down.region, SOURCE);
    assert_eq!(down.outage, Some(RegionOutage::Unavailable));
    assert!(down.since.is_some());
    let hung = set_outage(&sim, REPLICA, Some(Outage::Timeout)).await;
    assert_eq!(hung.outage, Some(RegionOutage::Timeout));
    let listed = sim.control.regions().await.expect("regions");
    let outage_of = |region: &str| {
        listed
            .iter()
            .find(|r| r.region == region)
            .unwrap()
            .outage
            .clone()
    };
    assert_eq!(outage_of(SOURCE), Some(RegionOutage::Unavailable));
    assert_eq!(outage_of(REPLICA), Some(RegionOutage::Timeout));
    assert_eq!(sim.state().await.outages[SOURCE], RegionOutage::Unavailable);

    let refused = sim.control.set_outage("ap-south-9", None).await;
    assert!(
        matches!(&refused, Err(ClientError::Refused { status: 400, message, .. }) if message.contains("unknown region")),
        "{refused:?}"
    );

    for (path, body, why) in [
        ("regions/us-east-1", "{\"outage\": \"down\"}", "outage"),
        ("regions/us-east-1", "{}", "missing"),
        (
            "regions/us-east-1",
            "{\"outage\": null, \"x\": 1}",
            "unknown member",
        ),
        ("regions/us-east-1", "not json", "outage"),
    ] {
        let (status, text) = control_status(&sim, "PUT", path, body).await;
        assert_eq!(status, 400, "{path} {body}: {text}");
        assert!(text.contains(why), "{path} {body}: {text}");
    }

    // The control API itself is never in an outage.
    assert!(sim.control.health().await.expect("health").ok);
    let cleared = set_outage(&sim, SOURCE, None).await;
    assert_eq!(cleared.outage, None);
    assert_eq!(cleared.since, None);
    set_outage(&sim, REPLICA, None).await;
    assert!(sim.state().await.outages.is_empty());
}

#[tokio::test]
async fn a_timeout_outage_holds_calls_until_the_client_gives_up() {
    let sim = replicated(600.0).await;
    set_outage(&sim, SOURCE, Some(Outage::Timeout)).await;

    // A client with a short operation timeout gives up on its own.
    let impatient = sim.client_with_timeouts(
        SOURCE,
        RetryConfig::disabled(),
        Some(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(500))
                .build(),
        ),
    );
    let started = Instant::now();
    let err = impatient
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The other region answers meanwhile.
    sim.client(REPLICA)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("the replica region serves");

    // The held call is in the log with status 0.
    let held = sim.calls("DescribeInstance").await;
    let held: Vec<_> = held.iter().filter(|c| c.region == SOURCE).collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, 0);
    assert_eq!(
        held[0].error_type.as_deref(),
        Some("ServiceUnavailableException")
    );

    // A call still waiting when the outage clears is answered 503.
    let raw = {
        let addr = sim.addr;
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(signed_get(SOURCE, &format!("/instance/{INSTANCE}")).as_bytes())
                .await
                .unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!raw.is_finished(), "the call is held");
    set_outage(&sim, SOURCE, None).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), raw)
        .await
        .expect("answered once cleared")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("ServiceUnavailableException"));

    // And new calls work again.
    impatient
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("served after the outage");
}
