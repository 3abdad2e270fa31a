//! An instance that is not replicated, bad input, and the handler with the example event.

use super::*;

#[tokio::test]
async fn an_unreplicated_instance_is_not_ready_and_bad_input_is_refused() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    ctx.source
        .world()
        .instances
        .get_mut(&(EAST.into(), ID.into()))
        .unwrap()
        .replication = None;
    let err = poll(&ctx, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    let err = poll(
        &ctx,
        Input {
            header: Header::new("x y", ID),
        },
        10,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
}

#[tokio::test]
async fn the_handler_runs_the_example_event() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    let path = format!(
        "{}/../../tests/events/poll-mirroring/small.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let out = handler(&ctx, LambdaEvent::new(event, Default::default()))
        .await
        .unwrap();
    assert!(out.complete);
    let run = ctx.store.get_run(ID, "rehearsal-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["complete"], true);
    let err = handler(
        &ctx,
        LambdaEvent::new(serde_json::json!({"runId": 1}), Default::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");
}
