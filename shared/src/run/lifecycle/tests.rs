use super::*;
use crate::run::ids::check_run_id;
use crate::store::memory::MemoryRunStore;

fn header(run: &str) -> Header {
    Header {
        execution_arn: Some(format!(
            "arn:aws:states:us-east-1:1:execution:replication:{run}"
        )),
        ..Header::new(run, "i")
    }
}

fn begin(header: &Header, hold: Hold) -> Begin<'_> {
    Begin {
        header,
        instance_id: "i",
        kind: RunKind::Replication,
        step: "replicate",
        inputs: Value::Null,
        hold,
        lease_seconds: 60,
    }
}

#[tokio::test]
async fn a_run_is_begun_locked_recorded_and_finished() {
    let store = MemoryRunStore::default();
    let run = StepRun::begin(&store, begin(&header("r1"), Hold::Lock), 10)
        .await
        .unwrap();
    assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
    let out = run
        .end(Ok(serde_json::json!({"ok": true})), |_| true)
        .await
        .unwrap();
    assert_eq!(out["ok"], true);
    let stored = store.get_run("i", "r1").await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Succeeded);
    assert_eq!(stored.steps["replicate"]["ok"], true);
    assert!(stored.execution_arn.is_some());
    assert!(store.get_lock("i").await.unwrap().is_none());
}

#[tokio::test]
async fn a_refused_lock_and_a_failure_are_recorded_with_their_names() {
    let store = MemoryRunStore::default();
    let first = StepRun::begin(&store, begin(&header("r1"), Hold::Lock), 10)
        .await
        .unwrap();
    let refused = StepRun::begin(&store, begin(&header("r2"), Hold::Lock), 11).await;
    let err = refused.err().expect("refused");
    assert_eq!(err.error_type(), "RunInProgress");
    let r2 = store.get_run("i", "r2").await.unwrap().unwrap();
    assert_eq!(r2.error.unwrap().error_type, "RunInProgress");

    let err = first
        .end::<Value>(Err(StepError::Throttled("slow".into())), |_| true)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    let r1 = store.get_run("i", "r1").await.unwrap().unwrap();
    assert_eq!(
        r1.status,
        RunStatus::Running,
        "a retryable failure keeps the run"
    );
    assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");

    // a read-only step takes no lock; breaking one takes it whoever holds it
    StepRun::begin(&store, begin(&header("p1"), Hold::Nothing), 12)
        .await
        .unwrap();
    assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
    StepRun::begin(
        &store,
        begin(&header("f1"), Hold::BreakLock("incident".into())),
        13,
    )
    .await
    .unwrap();
    let lock = store.get_lock("i").await.unwrap().unwrap();
    assert_eq!(lock.run_id, "f1");
    assert_eq!(lock.broke.unwrap().previous_run_id.as_deref(), Some("r1"));
}

/// A run of `kind` begun by `step` under the execution `arn` (none: invoked by hand).
async fn begun(
    store: &MemoryRunStore,
    run: &str,
    kind: RunKind,
    step: &'static str,
    arn: Option<&str>,
    hold: Hold,
    now: i64,
) -> Result<RunRecord, StepError> {
    let header = Header {
        execution_arn: arn.map(str::to_string),
        ..Header::new(run, "i")
    };
    let b = Begin {
        header: &header,
        instance_id: "i",
        kind,
        step,
        inputs: Value::Null,
        hold,
        lease_seconds: 60,
    };
    Ok(StepRun::begin(store, b, now).await?.record)
}

#[tokio::test]
async fn a_second_run_is_refused_until_the_first_releases_or_expires() {
    let store = MemoryRunStore::default();
    let lock = |run: &'static str, kind, now| {
        let store = &store;
        async move { begun(store, run, kind, "x", None, Hold::Lock, now).await }
    };
    lock("r1", RunKind::Replication, 0).await.unwrap();
    let err = lock("r2", RunKind::Replication, 10).await.unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert!(err.to_string().contains("r1"));
    lock("f1", RunKind::Failover, 10)
        .await
        .expect("a failover takes over a replication");
    store.release_lock("i", "r1").await.unwrap();
    assert_eq!(
        store.get_lock("i").await.unwrap().unwrap().run_id,
        "f1",
        "only the holder releases"
    );
    lock("r3", RunKind::Replication, 71)
        .await
        .expect("expired lease");
}

#[tokio::test]
async fn steps_and_failures_are_recorded_on_the_run() {
    let store = MemoryRunStore::default();
    let arn = "arn:aws:states:us-east-1:1:execution:replication:r";
    let mut run = begun(
        &store,
        "r",
        RunKind::Replication,
        "preflight",
        Some(arn),
        Hold::Nothing,
        5,
    )
    .await
    .unwrap();
    record_step(
        &store,
        &mut run,
        "preflight",
        &serde_json::json!({"ok": true}),
        6,
    )
    .await
    .unwrap();
    record_failure(
        &store,
        &mut run,
        &StepError::PreflightFailed("no alias".into()),
        7,
    )
    .await;
    let stored = store.get_run("i", "r").await.unwrap().unwrap();
    assert_eq!(stored.steps["preflight"]["ok"], true);
    assert_eq!(stored.status, RunStatus::Failed);
    assert_eq!(stored.error.unwrap().error_type, "PreflightFailed");
    let again = begun(
        &store,
        "r",
        RunKind::Replication,
        "replicate",
        None,
        Hold::Nothing,
        8,
    )
    .await
    .unwrap();
    assert_eq!(again.started_at, 5, "the run is found, not restarted");
    assert_eq!(
        again.execution_arn.as_deref(),
        Some(arn),
        "the execution stays on the run"
    );
    assert!(check_run_id("run-2026.11_25").is_ok());
    assert!(check_run_id("bad id").is_err());
}

#[tokio::test]
async fn a_run_id_of_another_machine_is_refused_not_resumed() {
    let store = MemoryRunStore::default();
    let replication = "arn:aws:states:us-east-1:1:execution:replication:nightly";
    let agent_sync = "arn:aws:states:us-east-1:1:execution:agent-sync:nightly";
    let begin = |arn: Option<&'static str>, step: &'static str| {
        let store = &store;
        async move {
            begun(
                store,
                "nightly",
                RunKind::AgentSync,
                step,
                arn,
                Hold::Nothing,
                1,
            )
            .await
        }
    };
    let run = begin(Some(replication), "replicate").await.unwrap();
    assert_eq!(
        run.machine.as_deref(),
        Some("arn:aws:states:us-east-1:1:stateMachine:replication")
    );
    let err = begin(Some(agent_sync), "poll-mirroring").await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(
        err.to_string().contains("stateMachine:replication"),
        "{err}"
    );
    let stored = store.get_run("i", "nightly").await.unwrap().unwrap();
    assert_eq!(
        stored.step, "replicate",
        "the other machine's run is untouched"
    );

    // the same machine's next execution of the run, or a step invoked by hand, goes on
    begin(
        Some("arn:aws:states:us-east-1:1:execution:replication:nightly"),
        "poll-mirroring",
    )
    .await
    .unwrap();
    begin(None, "associate-agents").await.unwrap();

    // and the lock of that run is the machine's: the same run ID from another machine waits
    lock_run(&store, &stored, 60, 1).await.unwrap();
    let other = RunRecord {
        machine: Some("arn:aws:states:us-east-1:1:stateMachine:agent-sync".into()),
        ..stored.clone()
    };
    let refused = lock_run(&store, &other, 60, 2).await.unwrap_err();
    assert_eq!(refused.error_type(), "RunInProgress");
    lock_run(&store, &stored, 60, 3)
        .await
        .expect("renewed by its own machine");
}

#[tokio::test]
async fn a_failure_for_good_or_the_end_of_a_run_unlocks_the_instance() {
    let store = MemoryRunStore::default();
    let mut run = begun(&store, "r", RunKind::Replication, "x", None, Hold::Lock, 1)
        .await
        .unwrap();

    // a retryable failure keeps the lock for the retry
    record_failure(&store, &mut run, &StepError::Throttled("slow".into()), 2).await;
    assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r");
    assert_eq!(run.status, RunStatus::Running);

    // a failure for good lets the next run in at once
    record_failure(
        &store,
        &mut run,
        &StepError::ResourceConflict("queue".into()),
        3,
    )
    .await;
    assert!(store.get_lock("i").await.unwrap().is_none());
    begun(&store, "r2", RunKind::Replication, "x", None, Hold::Lock, 4)
        .await
        .expect("no wait for the lease");

    // finishing a run releases only its own lock
    let mut done = begun(
        &store,
        "r3",
        RunKind::Replication,
        "x",
        None,
        Hold::Nothing,
        5,
    )
    .await
    .unwrap();
    finish_run(&store, &mut done, 6).await.unwrap();
    assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r2");
    let stored = store.get_run("i", "r3").await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Succeeded);
}
