//! The control API through its client: faults, quotas, the clock, the call log and reset; and
//! every row of the operation table routed at its path.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::Method;
use axum::routing::MethodFilter;
use common::*;
use connect_sim::control::{CallFilter, ClientError, Fault, Faults};
use connect_sim::ops::OPERATIONS;

fn faults(entries: &[(&str, f64, u64)]) -> Faults {
    Faults(
        entries
            .iter()
            .map(|(op, error_rate, latency_ms)| {
                let fault = Fault {
                    error_rate: *error_rate,
                    latency_ms: *latency_ms,
                };
                (op.to_string(), fault)
            })
            .collect::<HashMap<_, _>>(),
    )
}

fn refused_with(result: &Result<impl std::fmt::Debug, ClientError>, words: &str) -> bool {
    matches!(result, Err(ClientError::Refused { status: 400, message, .. }) if message.contains(words))
}

#[tokio::test]
async fn injected_faults_fail_and_slow_the_calls_they_name() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);

    // Given every DescribeInstance failing, and every other call 300 ms slower.
    let set = faults(&[("DescribeInstance", 1.0, 0), ("*", 0.0, 300)]);
    assert_eq!(sim.control.set_faults(&set).await.unwrap(), set);
    assert_eq!(sim.control.faults().await.unwrap(), set);

    // Then DescribeInstance answers 500 InternalServiceException, and is logged so.
    let err = east
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InternalServiceException");
    let logged = sim.calls("DescribeInstance").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].status, 500);
    assert_eq!(
        logged[0].error_type.as_deref(),
        Some("InternalServiceException")
    );

    // And another operation is served, late.
    let started = Instant::now();
    east.list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("served");
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Out-of-range settings are refused and change nothing.
    let bad = sim
        .control
        .set_faults(&faults(&[("ListUsers", 1.5, 0)]))
        .await;
    assert!(refused_with(&bad, "errorRate"), "{bad:?}");
    assert_eq!(sim.control.faults().await.unwrap(), set);

    // A reset goes back to the scenario's faults (none) and an empty log.
    sim.control.reset().await.unwrap();
    assert_eq!(sim.control.faults().await.unwrap(), Faults::default());
    assert!(sim.calls("DescribeInstance").await.is_empty());
    east.describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("no fault after a reset");
}

#[tokio::test]
async fn the_quota_factor_and_the_clock_are_set_through_the_control_api() {
    let sim = Harness::start("small").await;

    // The quota factor: at 1, the sixth ReplicateInstance-class call in a burst is throttled.
    assert_eq!(sim.control.set_quota_factor(1.0).await.unwrap(), 1.0);
    assert_eq!(sim.state().await.quota_factor, 1.0);
    let east = sim.client(SOURCE);
    let mut throttled = 0;
    for _ in 0..6 {
        if let Err(e) = east.describe_instance().instance_id(INSTANCE).send().await {
            assert_eq!(code(&e), "ThrottlingException");
            throttled += 1;
        }
    }
    assert_eq!(throttled, 1);
    let bad = sim.control.set_quota_factor(0.0).await;
    assert!(refused_with(&bad, "factor"), "{bad:?}");

    // The clock: advancing moves simulated now by that much.
    let before = sim.control.clock().await.unwrap();
    assert_eq!(before.time_scale, 1.0);
    let now = sim.control.advance_clock(3600.0).await.unwrap();
    assert!(now - before.now >= 3600.0, "{now} after {}", before.now);
    let bad = sim.control.advance_clock(-1.0).await;
    assert!(refused_with(&bad, "seconds"), "{bad:?}");
}

#[tokio::test]
async fn the_call_log_is_filtered_by_operation_region_and_sequence() {
    let sim = Harness::start("small").await;
    for region in [SOURCE, REPLICA] {
        let _ = sim
            .client(region)
            .describe_instance()
            .instance_id(INSTANCE)
            .send()
            .await;
    }
    let _ = sim.client(SOURCE).list_instances().send().await;

    let all = sim.control.calls(&CallFilter::default()).await.unwrap();
    let seqs: Vec<u64> = all.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    let east = CallFilter::default().region(SOURCE);
    assert_eq!(sim.control.calls(&east).await.unwrap().len(), 2);
    let described = CallFilter::default().operation("DescribeInstance");
    assert_eq!(sim.control.calls(&described).await.unwrap().len(), 2);
    let later = sim.control.calls(&east.since(1)).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].operation, "ListInstances");

    sim.control.clear_calls().await.unwrap();
    assert!(sim
        .control
        .calls(&CallFilter::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn every_operation_of_the_table_is_routed_at_its_path() {
    let sim = Harness::start("small").await;
    for spec in OPERATIONS {
        let method = [Method::GET, Method::PUT, Method::POST, Method::DELETE]
            .into_iter()
            .find(|m| MethodFilter::try_from(m.clone()).ok() == Some(spec.method))
            .expect("a method");
        let path = spec
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDROUTE/20240101/{SOURCE}/connect/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: 0\r\n\r\n"
        );
        let (status, _, body) = sim.raw(request.as_bytes()).await;
        let log = sim.control.calls(&CallFilter::default()).await.unwrap();
        let last = log.last().expect("logged");
        assert_eq!(
            last.operation, spec.name,
            "{method} {path}: {status} {body}"
        );
    }
}
