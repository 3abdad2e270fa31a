//! The handler with the example events, the run's key, and a dry run.

use super::*;

#[tokio::test]
async fn a_dry_run_returns_the_exact_calls_and_writes_nothing() {
    let ctx = synced_at(100).await;
    let writes = ctx.store.state().writes.len();
    let out = go(
        &ctx,
        Input {
            dry_run: true,
            ..failover("d1")
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0].region, WEST);
    assert_eq!(out.calls[0].id, ARN);
    assert_eq!(
        out.calls[0].body["TelephonyConfig"]["Distributions"][1],
        json!({"Region": WEST, "Percentage": 100})
    );
    assert!(updates(&ctx).is_empty());
    assert_eq!(ctx.store.state().writes.len(), writes);
}

#[tokio::test]
async fn an_instance_arn_keys_the_run_by_the_bare_id() {
    let ctx = synced_at(100).await;
    go(
        &ctx,
        Input {
            header: Header::new("f1", format!("arn:aws:connect:us-east-1:1:instance/{ID}")),
            ..failover("f1")
        },
        100,
    )
    .await
    .unwrap();
    assert!(ctx.store.get_run(ID, "f1").await.unwrap().is_some());
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
}

fn event(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/events/shift-traffic/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_handler_runs_the_example_events() {
    let ctx = synced_at(100).await;
    let settings = settings();
    let run = |name: &str| {
        handler(
            &ctx,
            &settings,
            LambdaEvent::new(event(name), Default::default()),
        )
    };

    let dry = run("dry-run-plan").await.unwrap();
    assert!(dry.dry_run);
    assert!(updates(&ctx).is_empty());

    let err = run("invalid-plan").await.unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");

    let over = run("failover").await.unwrap();
    assert_eq!(over.called_in, WEST);
    assert_eq!(live(&ctx, ARN), split(0, true));

    let back = run("failback").await.unwrap();
    assert_eq!(back.called_in, EAST);
    assert_eq!(live(&ctx, ARN), split(100, true));
}
