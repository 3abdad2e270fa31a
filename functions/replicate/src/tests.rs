//! Unit tests of replicate over the in-memory Connect and run store.

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::{Finding, Findings, RegionStatus, ReplicationInfo};
use acgr::mirroring::ConflictRecord;
use acgr::run::RunStatus;
use acgr::store::memory::MemoryRunStore;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

fn ctx() -> Context<FakeConnect, MemoryRunStore> {
    FakeWorld::instance(ID, "us-east-1")
        .context("us-east-1", "us-west-2")
        .unwrap()
}

/// The token of a run of `ID` driven by hand (no state machine).
fn token(run: &str) -> String {
    acgr::run::run_token("acgr-replicate", ID, "Replication", run)
}

fn input(run: &str) -> Input {
    Input {
        header: Header::new(run, ID),
        replica_region: "us-west-2".into(),
        replica_alias: None,
        migrate: false,
    }
}

#[tokio::test]
async fn calls_replicate_instance_once_per_run_with_a_derived_token() {
    let ctx = ctx();
    let first = replicate(&ctx, input("run-1"), 100).await.unwrap();
    let second = replicate(&ctx, input("run-1"), 130).await.unwrap();
    assert_eq!(first, second);
    assert!(!first.adopted);
    assert!(first.replica_arn.contains("us-west-2"));
    let requests = ctx.source.world().replicate_requests.clone();
    assert_eq!(
        requests,
        vec![(ID.to_string(), "us-west-2".to_string(), token("run-1"))]
    );
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["state"], "accepted");
    let writes = ctx.store.state().writes.clone();
    let intent = writes
        .iter()
        .position(|w| w == "RUN#run-1#replicate")
        .unwrap();
    assert!(
        writes[intent..]
            .iter()
            .filter(|w| w.starts_with("RUN#run-1"))
            .count()
            >= 2,
        "intent then outcome: {writes:?}"
    );
}

#[tokio::test]
async fn a_retry_after_a_throttled_call_reuses_the_token() {
    let ctx = ctx();
    ctx.source
        .world()
        .fail_next("ReplicateInstance", "ThrottlingException", 1);
    let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(
        run.steps[STEP]["state"], "requested",
        "the intent survives the failure"
    );
    replicate(&ctx, input("run-1"), 110).await.unwrap();
    let tokens: Vec<String> = ctx
        .source
        .world()
        .calls_of("ReplicateInstance")
        .iter()
        .map(|c| c.target.clone())
        .collect();
    assert_eq!(tokens.len(), 2);
    assert!(ctx
        .source
        .world()
        .replicate_requests
        .iter()
        .all(|r| r.2 == token("run-1")));
}

fn mark_replicated(ctx: &Context<FakeConnect, MemoryRunStore>) {
    ctx.source
        .world()
        .instances
        .get_mut(&("us-east-1".into(), ID.into()))
        .unwrap()
        .replication = Some(ReplicationInfo {
        source_region: Some(Region::parse("us-east-1").unwrap()),
        statuses: vec![
            RegionStatus {
                region: "us-east-1".into(),
                status: "INSTANCE_REPLICATION_COMPLETE".into(),
                reason: None,
            },
            RegionStatus {
                region: "us-west-2".into(),
                status: "INSTANCE_REPLICATION_COMPLETE".into(),
                reason: None,
            },
        ],
        global_sign_in_endpoint: None,
    });
}

#[tokio::test]
async fn an_existing_replica_of_the_pair_is_adopted_without_a_call() {
    let ctx = ctx();
    mark_replicated(&ctx);
    let out = replicate(&ctx, input("run-2"), 100).await.unwrap();
    assert!(out.adopted);
    assert!(ctx.source.world().calls_of("ReplicateInstance").is_empty());
}

#[tokio::test]
async fn a_replica_with_recorded_conflicts_is_resynced_not_adopted() {
    let ctx = ctx();
    mark_replicated(&ctx);
    ctx.store
        .put_conflict(&ConflictRecord {
            instance_id: ID.into(),
            kind: Kind::Queues,
            name: "Billing".into(),
            source_id: Some("q1".into()),
            replica_id: Some("q9".into()),
            region: Some("us-west-2".into()),
            first_seen: 1,
            last_seen: 2,
            resolved: false,
            resolved_at: None,
        })
        .await
        .unwrap();
    let out = replicate(&ctx, input("run-3"), 100).await.unwrap();
    assert!(!out.adopted);
    assert_eq!(ctx.source.world().calls_of("ReplicateInstance").len(), 1);
    let run = ctx.store.get_run(ID, "run-3").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["state"], "accepted");
}

#[tokio::test]
async fn a_second_run_is_refused_while_the_first_holds_the_lock() {
    let ctx = ctx();
    replicate(&ctx, input("run-1"), 100).await.unwrap();
    let err = replicate(&ctx, input("run-2"), 200).await.unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert_eq!(ctx.source.world().calls_of("ReplicateInstance").len(), 1);
}

#[tokio::test]
async fn name_conflicts_are_recorded_and_returned_as_resource_conflict() {
    let ctx = ctx();
    {
        let mut w = ctx.source.world();
        w.fail_next("ReplicateInstance", "ResourceConflictException", 1);
        w.findings.insert(
            (ID.into(), Kind::Queues.finding_type().to_string()),
            Findings {
                findings: vec![
                    serde_json::from_value::<Finding>(serde_json::json!({
                        "id": "q-1", "name": "Billing", "region": "us-west-2"
                    }))
                    .unwrap(),
                    // not a look-alike: poll-mirroring reports it, the ledger does not hold it
                    serde_json::from_value::<Finding>(serde_json::json!({
                        "id": "q-2", "name": "Callbacks", "region": "us-west-2",
                        "referenceCode": "MISSING_DEPENDENCY", "operation": "CREATE"
                    }))
                    .unwrap(),
                ],
                ..Default::default()
            },
        );
    }
    let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict");
    let conflicts = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (conflicts[0].kind, conflicts[0].name.as_str()),
        (Kind::Queues, "Billing")
    );
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.error.unwrap().error_type, "ResourceConflict");
}

#[tokio::test]
async fn a_name_conflict_refused_as_an_invalid_request_is_a_resource_conflict() {
    let ctx = ctx();
    ctx.source
        .world()
        .fail_next("ReplicateInstance", "InvalidRequestException", 1);
    ctx.source.world().failure_message =
        Some("There is a resource name conflict: QUEUE 'Billing' exists in us-west-2".into());
    let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict", "{err}");
    assert!(err.to_string().contains("QUEUE 'Billing'"), "{err}");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.error.unwrap().error_type, "ResourceConflict");
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let ctx = ctx();
    for bad in [
        Input {
            replica_region: "eu-west-2".into(),
            ..input("r")
        },
        Input {
            header: Header::new("r", "not an id"),
            ..input("r")
        },
        Input {
            header: Header::new("has space", ID),
            ..input("r")
        },
        Input {
            replica_alias: Some("d-bad".into()),
            ..input("r")
        },
    ] {
        let err = replicate(&ctx, bad, 1).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
    assert!(ctx.store.state().writes.is_empty());
    assert!(ctx.source.world().calls.is_empty());
    let err = run::parse::<Input>(serde_json::json!({"runId": "r", "instanceId": ID, "replicaRegion": "us-west-2", "surprise": 1})).unwrap_err();
    assert!(err.to_string().contains("surprise"));
}

#[tokio::test]
async fn the_handler_runs_the_example_event() {
    let ctx = ctx();
    let path = format!(
        "{}/../../tests/events/replicate/small.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let out = handler(&ctx, LambdaEvent::new(event, Default::default()))
        .await
        .unwrap();
    assert_eq!(out.client_token, token("rehearsal-1"));
    assert_eq!(ctx.source.world().replicate_requests.len(), 1);
    let err = handler(
        &ctx,
        LambdaEvent::new(serde_json::json!({"runId": "x"}), Default::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");
    assert_eq!(ctx.source.world().replicate_requests.len(), 1);
}

#[tokio::test]
async fn connect_refusals_fail_the_run_by_name_and_waits_keep_it() {
    for (code, status, name) in [
        ("InternalFailure", 500, "Transient"),
        ("SomethingNew", 503, "Transient"),
        ("ResourceNotReadyException", 409, "NotReady"),
        ("IdempotencyException", 409, "IdempotencyConflict"),
        ("ExpiredTokenException", 403, "CredentialsRejected"),
        ("AccessDeniedException", 403, "AccessDenied"),
    ] {
        let ctx = ctx();
        ctx.source
            .world()
            .fail_next_status("ReplicateInstance", code, status, 1);
        let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), name, "{code} {status}: {err}");
        let wait = err.is_retryable();
        assert_eq!(wait, matches!(name, "Transient" | "NotReady"), "{code}");
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.status == RunStatus::Failed, !wait, "{code}");
        assert_eq!(
            ctx.store.get_lock(ID).await.unwrap().is_some(),
            wait,
            "{code}: a wait keeps the lock, a failure for good releases it"
        );
    }
}

fn set_replication(ctx: &Context<FakeConnect, MemoryRunStore>, replica_status: &str) {
    mark_replicated(ctx);
    let mut w = ctx.source.world();
    let source = w
        .instances
        .get_mut(&("us-east-1".into(), ID.into()))
        .unwrap();
    let statuses = &mut source.replication.as_mut().unwrap().statuses;
    statuses[1].status = replica_status.into();
    statuses[1].reason = Some("the reason Connect gives".into());
}

#[tokio::test]
async fn a_replica_being_deleted_is_waited_for_and_never_adopted() {
    let ctx = ctx();
    set_replication(&ctx, "INSTANCE_REPLICA_DELETING");
    let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    assert!(
        err.to_string().contains("INSTANCE_REPLICA_DELETING"),
        "{err}"
    );
    assert!(ctx.source.world().calls_of("ReplicateInstance").is_empty());
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(
        run.status,
        RunStatus::Running,
        "the retry waits under the lock"
    );
    assert!(!run.steps.contains_key(STEP), "nothing adopted");

    // once the deletion is over (the replica gone), the retry asks for a new one
    ctx.source
        .world()
        .instances
        .get_mut(&("us-east-1".into(), ID.into()))
        .unwrap()
        .replication = None;
    let out = replicate(&ctx, input("run-1"), 200).await.unwrap();
    assert!(!out.adopted);
    assert_eq!(ctx.source.world().calls_of("ReplicateInstance").len(), 1);
}

#[tokio::test]
async fn a_failed_replica_fails_the_run_by_name_with_its_status_and_reason() {
    for (status, name) in [
        ("INSTANCE_REPLICATION_FAILED", "ReplicationFailed"),
        (
            "INSTANCE_REPLICATION_DELETION_FAILED",
            "ReplicaDeletionFailed",
        ),
    ] {
        let ctx = ctx();
        set_replication(&ctx, status);
        let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), name, "{err}");
        let message = err.to_string();
        assert!(
            message.contains(status) && message.contains("the reason Connect gives"),
            "{message}"
        );
        assert!(ctx.source.world().calls_of("ReplicateInstance").is_empty());
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Failed);
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
    }

    // the replica instance itself could not be created
    let ctx = ctx();
    set_replication(&ctx, "INSTANCE_REPLICATION_IN_PROGRESS");
    {
        let mut w = ctx.source.world();
        let mut replica = w.instances[&("us-east-1".to_string(), ID.to_string())].clone();
        replica.status = Some(acgr::connect::InstanceStatus::CreationFailed);
        replica.status_reason = Some("the alias is taken".into());
        w.instances.insert(("us-west-2".into(), ID.into()), replica);
    }
    let err = replicate(&ctx, input("run-1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "ReplicationFailed", "{err}");
    assert!(
        err.to_string()
            .contains("CREATION_FAILED: the alias is taken"),
        "{err}"
    );
}

#[tokio::test]
async fn the_token_is_scoped_by_instance_machine_and_run_and_kept_by_the_retries() {
    let machine =
        |name: &str| format!("arn:aws:states:us-east-1:123456789012:execution:{name}:nightly");
    let run = |instance: &str, execution: Option<String>| {
        let mut r = acgr::run::RunRecord::new(
            instance,
            "nightly",
            RunKind::Replication,
            STEP,
            Value::Null,
            1,
        );
        r.machine = execution.as_deref().and_then(acgr::run::machine_of);
        r
    };
    let here = client_token(ID, &run(ID, Some(machine("replication"))));
    assert!(here.starts_with("acgr-replicate-") && here.is_ascii() && here.len() <= 500);
    for other in [
        client_token(
            "other-instance",
            &run("other-instance", Some(machine("replication"))),
        ),
        client_token(ID, &run(ID, Some(machine("replication-staging")))),
        client_token(ID, &run(ID, None)),
    ] {
        assert_ne!(here, other);
    }

    // a first attempt by hand is throttled; the machine's retry sends the recorded token
    let ctx = ctx();
    ctx.source
        .world()
        .fail_next("ReplicateInstance", "ThrottlingException", 1);
    replicate(&ctx, input("nightly"), 100).await.unwrap_err();
    let intent = ctx.store.get_run(ID, "nightly").await.unwrap().unwrap();
    assert_eq!(intent.steps[STEP]["clientToken"], token("nightly").as_str());
    let mut retry = input("nightly");
    retry.header.execution_arn = Some(machine("replication"));
    let out = replicate(&ctx, retry, 110).await.unwrap();
    assert_eq!(out.client_token, token("nightly"));
    let sent: Vec<String> = ctx
        .source
        .world()
        .replicate_requests
        .iter()
        .map(|r| r.2.clone())
        .collect();
    assert_eq!(sent, vec![token("nightly")]);
    assert_eq!(ctx.source.world().calls_of("ReplicateInstance").len(), 2);
}

#[tokio::test]
async fn hostile_inputs_are_refused_by_member_and_change_nothing() {
    let spec = acgr::hostile::Spec {
        example: serde_json::json!({
            "runId": "run-1", "instanceId": ID, "replicaRegion": "us-west-2",
            "replicaAlias": "acme-replica"
        }),
        required: vec!["instanceId", "replicaRegion"],
        identifiers: vec!["runId", "instanceId", "replicaRegion", "replicaAlias"],
        ..Default::default()
    };
    let ctx = ctx();
    acgr::hostile::check_step(STEP, &spec, 0x5eed_0001, &ctx, |payload| {
        handler(
            &ctx,
            LambdaEvent::new(payload, lambda_runtime::Context::default()),
        )
    })
    .await;
}

fn migration(run: &str) -> Input {
    Input {
        migrate: true,
        ..input(run)
    }
}

#[tokio::test]
async fn a_migration_re_runs_replicate_instance_on_the_existing_replica() {
    let ctx = ctx();
    mark_replicated(&ctx);
    let out = replicate(&ctx, migration("m1"), 100).await.unwrap();
    assert!(out.migrated && !out.adopted, "{out:?}");
    let requests = ctx.source.world().replicate_requests.clone();
    assert_eq!(requests.len(), 1, "one call");
    assert_eq!(requests[0].2, token("m1"));
    let run = ctx.store.get_run(ID, "m1").await.unwrap().unwrap();
    assert_eq!(run.steps["replicate"]["state"], "migration-accepted");
    assert_eq!(run.inputs["migrate"], true);
    // the retry of the same run answers from its record
    let again = replicate(&ctx, migration("m1"), 130).await.unwrap();
    assert_eq!(ctx.source.world().replicate_requests.len(), 1);
    assert!(again.migrated);
}

#[tokio::test]
async fn a_refused_migration_says_to_ask_aws_support_and_an_enabled_instance_needs_none() {
    let refused = ctx();
    mark_replicated(&refused);
    refused
        .source
        .world()
        .fail_next("ReplicateInstance", "InvalidRequestException", 1);
    let err = replicate(&refused, migration("m1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "PreflightFailed");
    assert!(err.to_string().contains("AWS Support"), "{err}");
    let run = refused.store.get_run(ID, "m1").await.unwrap().unwrap();
    assert_eq!(run.steps["replicate"]["state"], "migration-refused");

    let enabled = ctx();
    mark_replicated(&enabled);
    {
        let mut w = enabled.source.world();
        let world = std::mem::take(&mut *w);
        *w = world.with_global_routing(ID);
    }
    let out = replicate(&enabled, migration("m2"), 100).await.unwrap();
    assert!(out.adopted && !out.migrated);
    assert!(enabled
        .source
        .world()
        .calls_of("ReplicateInstance")
        .is_empty());
}
