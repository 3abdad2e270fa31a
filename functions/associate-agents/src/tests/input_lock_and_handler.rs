//! The instance lock, bad input, and the handler with the example event.

use super::*;

#[tokio::test]
async fn the_lock_is_taken_with_the_kind_of_the_run() {
    let ctx = ctx(5, 5);
    locked_by(&ctx.store, "repl-1", RunKind::Replication).await;
    let err = associate_agents(&ctx, input("sync-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert_eq!(count(&ctx, ASSOCIATE), 0);

    // A replication run's step outranks an agent sync that holds the lock.
    let ctx = self::ctx(5, 5);
    let header = Header::new("repl-1", ID);
    let replication = Begin {
        header: &header,
        instance_id: ID,
        kind: RunKind::Replication,
        step: "poll-mirroring",
        inputs: Value::Null,
        hold: Hold::Nothing,
        lease_seconds: 900,
    };
    StepRun::begin(&ctx.store, replication, 40).await.unwrap();
    locked_by(&ctx.store, "sync-0", RunKind::AgentSync).await;
    let out = associate_agents(&ctx, input("repl-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    let run = ctx.store.get_run(ID, "repl-1").await.unwrap().unwrap();
    assert_eq!(run.kind, RunKind::Replication);
    assert_eq!(run.step, STEP);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let ctx = ctx(5, 5);
    for bad in [
        Input {
            header: Header::new("has space", ID),
            ..input("r")
        },
        Input {
            header: Header::new("r", "not an id"),
            ..input("r")
        },
        Input {
            header: Header::new(
                "r",
                format!("arn:aws:connect:{WEST}:123456789012:instance/{ID}"),
            ),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some("no/slashes".into()),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some(format!(
                "arn:aws:connect:{WEST}:123456789012:traffic-distribution-group/x"
            )),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some(format!(
                "arn:aws:connect:{EAST}:123456789012:instance/x"
            )),
            ..input("r")
        },
        Input {
            cursor: Some(String::new()),
            ..input("r")
        },
    ] {
        let err = associate_agents(&ctx, bad.clone(), 1, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput", "{bad:?}");
    }
    assert!(ctx.store.state().writes.is_empty());
    assert!(ctx.source.world().calls.is_empty());

    let field = |payload: Value| run::parse::<Input>(payload).unwrap_err().to_string();
    assert!(
        field(serde_json::json!({"runId": "r", "instanceId": ID, "surprise": 1}))
            .contains("surprise")
    );
    assert!(
        field(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": 5})).contains("cursor")
    );
    assert!(field(serde_json::json!({"runId": 7, "instanceId": ID})).contains("runId"));
    assert!(field(serde_json::json!({"runId": "r"})).contains("instanceId"));
    assert!(run::parse::<Input>(serde_json::json!([])).is_err());
    let ok =
        run::parse::<Input>(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": null}))
            .unwrap();
    assert_eq!(ok.cursor, None);
}

#[tokio::test]
async fn the_handler_runs_the_small_event() {
    let ctx = ctx(50, 50);
    let payload: Value = serde_json::from_str(include_str!(
        "../../../../tests/events/associate-agents/small.json"
    ))
    .unwrap();
    let out = handler(
        &ctx,
        LambdaEvent::new(payload.clone(), lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    assert!(out.done, "a deadline of 0 is no deadline");
    assert_eq!(out.associated, 50);
    let run = ctx.store.get_run(ID, "rehearsal-1").await.unwrap();
    assert!(run.is_some());

    // Inside the margin already: nothing is started, and the error is one to retry (a
    // "not done" answer with no progress would loop the state machine for ever).
    let fresh = self::ctx(50, 50);
    let mut lambda_ctx = lambda_runtime::Context::default();
    lambda_ctx.deadline = deadline::epoch_millis() + 1000;
    let err = handler(&fresh, LambdaEvent::new(payload, lambda_ctx))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Transient", "{err:?}");
    assert_eq!(count(&fresh, ASSOCIATE), 0);
    let out = serde_json::to_value(out).unwrap();
    for key in [
        "done",
        "associated",
        "alreadyAssociated",
        "waitingForReplica",
        "failed",
        "cursor",
        "groupArn",
    ] {
        assert!(out.get(key).is_some(), "{key} in {out}");
    }
}
