//! When Connect says no: each failure state connect-sim can stage, and what the orchestrator does
//! about it (the error it names, the run record, the lock, the calls it makes). Every function
//! here runs with exactly the Connect permissions `template.yaml` grants it.

use std::time::Duration;

use acgr_e2e::sim_api::{
    AccessPolicy, GroupFailure, GroupFailureKind, RefusalCode, ReplicaFailure, SettingsChange,
    ThrottleCode,
};
use acgr_e2e::{
    default_group, event, replication_input, Options, Stack, INSTANCE_ID, REPLICA_REGION,
    SOURCE_REGION, TABLE_NAME,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};

fn replicate_input(run_id: &str) -> Value {
    let mut e = event("replicate", "small");
    e["runId"] = json!(run_id);
    e
}

/// The run's machine ending: what its ReleaseLock state does once the run is over.
async fn release_lock(stack: &Stack) {
    stack
        .dynamodb
        .delete_item()
        .table_name(TABLE_NAME)
        .key("pk", AttributeValue::S(format!("INSTANCE#{INSTANCE_ID}")))
        .key("sk", AttributeValue::S("LOCK".into()))
        .send()
        .await
        .expect("DeleteItem LOCK");
}

async fn run_data(stack: &Stack, run_id: &str) -> Value {
    stack
        .item(INSTANCE_ID, &format!("RUN#{run_id}"))
        .await
        .unwrap_or_else(|| panic!("RUN#{run_id} is recorded"))
        .data
}

/// The calls of `operation` answered with `status`.
async fn calls_answered(stack: &Stack, operation: &str, status: u16) -> Vec<Value> {
    stack
        .sim_calls(Some(operation))
        .await
        .into_iter()
        .filter(|c| c["status"] == status)
        .collect()
}

async fn stage_replica(stack: &Stack, failure: ReplicaFailure) {
    stack
        .sim_client()
        .stage_replica_failure(INSTANCE_ID, &failure)
        .await
        .expect("the sim stages the replica failure");
}

async fn change_settings(stack: &Stack, change: SettingsChange) {
    stack
        .sim_client()
        .change_settings(&change)
        .await
        .expect("the sim takes the settings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_cannot_be_created_fails_the_replication_at_once() {
    // given the replica's creation will fail
    let stack = Stack::start(Options::state_machines("small", 100.0))
        .await
        .expect("the local stack starts");
    stage_replica(
        &stack,
        ReplicaFailure::CreationFailed {
            reason: Some("the service-linked role could not be created".into()),
        },
    )
    .await;

    // when the replication machine runs, polling every second for up to two minutes
    let input = replication_input(1, 120);
    let arn = stack
        .start_execution("replication", "doomed-1", &input)
        .await
        .expect("StartExecution");
    let done = stack
        .wait_execution(&arn, Duration::from_secs(240))
        .await
        .expect("the execution ends");

    // then it fails by name, with the status and Connect's reason, as soon as Connect says so
    assert_eq!(done.status, "FAILED", "{done:#?}");
    assert_eq!(
        done.error.as_deref(),
        Some("ReplicationFailed"),
        "{done:#?}"
    );
    let cause = done.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("FAILED") && cause.contains("service-linked role"),
        "{cause}"
    );
    let polls = stack
        .sim_calls(Some("DescribeInstance"))
        .await
        .into_iter()
        .filter(|c| c["accessKeyId"] == "AKIDPOLLMIRRORINGUSEAST1")
        .count();
    assert!(
        polls < 30,
        "noticed at once, not after 120 polls: {polls} DescribeInstance"
    );
    // the run says why, the lock is free, no agent was associated
    let run = run_data(&stack, "doomed-1").await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["error"]["errorType"], "ReplicationFailed", "{run:#}");
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    assert!(stack
        .sim_calls(Some("AssociateTrafficDistributionGroupUser"))
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_failing_after_the_replica_is_active_is_named_by_the_next_poll() {
    let mut stack = Stack::start(Options::new("small", &["replicate", "poll-mirroring"]))
        .await
        .expect("the local stack starts");
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate");
    stack.advance_clock(300).await;
    stage_replica(
        &stack,
        ReplicaFailure::ReplicationFailed {
            after_seconds: 0.0,
            region: Some(REPLICA_REGION.into()),
            reason: Some("internal replication error".into()),
        },
    )
    .await;
    stack.advance_clock(1).await;

    let mut poll = event("poll-mirroring", "small");
    poll["runId"] = json!("run-1");
    let err = stack.invoke("poll-mirroring", poll).await.unwrap_err();

    assert_eq!(err.error_type, "ReplicationFailed", "{err}");
    assert!(
        err.error_message.contains("INSTANCE_REPLICATION_FAILED")
            && err.error_message.contains("internal replication error"),
        "{err}"
    );
    let run = run_data(&stack, "run-1").await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(
        stack.item(INSTANCE_ID, "LOCK").await.is_none(),
        "a failure for good releases the lock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_being_deleted_is_waited_for_and_one_whose_deletion_failed_is_never_adopted() {
    let mut stack = Stack::start(Options::new("small", &["replicate"]))
        .await
        .expect("the local stack starts");
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate");
    stack.advance_clock(300).await;
    release_lock(&stack).await;

    // while the replica is being deleted, a new replication waits (the machine retries NotReady)
    stage_replica(
        &stack,
        ReplicaFailure::Deletion {
            after_seconds: 0.0,
            seconds: 60.0,
            fails: false,
            reason: None,
        },
    )
    .await;
    let err = stack
        .invoke("replicate", replicate_input("run-2"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NotReady", "{err}");
    assert!(
        err.error_message.contains("INSTANCE_REPLICA_DELETING"),
        "{err}"
    );
    assert_eq!(
        stack.accepted_calls("ReplicateInstance").await.len(),
        1,
        "neither adopted nor replicated again"
    );
    assert_eq!(run_data(&stack, "run-2").await["status"], "running");

    // once the replica is gone, the same run's retry replicates again
    stack.advance_clock(61).await;
    let out = stack
        .invoke("replicate", replicate_input("run-2"))
        .await
        .expect("the retry replicates");
    assert_eq!(out["adopted"], false, "{out:#}");
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 2);

    // a replica whose deletion failed can be neither used nor replaced: named, lock released
    stack.advance_clock(300).await;
    release_lock(&stack).await;
    stage_replica(
        &stack,
        ReplicaFailure::Deletion {
            after_seconds: 0.0,
            seconds: 10.0,
            fails: true,
            reason: Some("a phone number is still claimed".into()),
        },
    )
    .await;
    stack.advance_clock(11).await;
    let err = stack
        .invoke("replicate", replicate_input("run-3"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "ReplicaDeletionFailed", "{err}");
    assert!(
        err.error_message
            .contains("INSTANCE_REPLICATION_DELETION_FAILED"),
        "{err}"
    );
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 2);
    assert_eq!(
        run_data(&stack, "run-3").await["error"]["errorType"],
        "ReplicaDeletionFailed"
    );
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_conflict_refused_on_the_call_is_a_resource_conflict() {
    // given the conflict scenario's look-alike queue, answered as the guide's
    // InvalidRequestException on the call
    let mut stack = Stack::start(Options::new("conflict", &["replicate"]))
        .await
        .expect("the local stack starts");
    change_settings(
        &stack,
        SettingsChange {
            name_conflict_answer: Some(RefusalCode::InvalidRequest),
            ..Default::default()
        },
    )
    .await;

    let err = stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type, "ResourceConflict", "{err}");
    assert!(err.error_message.contains("Billing"), "{err}");
    assert!(stack.accepted_calls("ReplicateInstance").await.is_empty());
    assert_eq!(
        calls_answered(&stack, "ReplicateInstance", 400).await.len(),
        1
    );
    let run = run_data(&stack, "run-1").await;
    assert_eq!(run["steps"]["replicate"]["state"], "conflict", "{run:#}");
    assert_eq!(run["error"]["errorType"], "ResourceConflict", "{run:#}");
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_missing_from_the_role_is_access_denied_naming_it() {
    let mut stack = Stack::start(Options::new("small", &["replicate", "associate-agents"]))
        .await
        .expect("the local stack starts");

    // an account without Global Resiliency: replicate is refused, nothing is created
    change_settings(
        &stack,
        SettingsChange {
            global_resiliency_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let err = stack
        .invoke("replicate", replicate_input("run-0"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "AccessDenied", "{err}");
    assert!(err.error_message.contains("not enabled"), "{err}");
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
    change_settings(
        &stack,
        SettingsChange {
            global_resiliency_enabled: Some(true),
            ..Default::default()
        },
    )
    .await;

    // the template's permissions are enough to replicate
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate with the template's permissions");
    stack.advance_clock(7200).await;
    release_lock(&stack).await;

    // a role missing AssociateTrafficDistributionGroupUser: one refused call, the action named
    let root = acgr_e2e::workspace();
    let policies = local_stack::permissions::template_policies(
        &root,
        &root.join("sim/scenarios/small.json"),
        SOURCE_REGION,
    )
    .expect("the template's policies");
    let mut narrowed: AccessPolicy = policies["associate-agents"].clone();
    for s in &mut narrowed.statements {
        s.actions
            .retain(|a| a != "connect:AssociateTrafficDistributionGroupUser");
    }
    stack
        .set_access_policy("associate-agents", SOURCE_REGION, &narrowed)
        .await
        .expect("the sim takes the policy");
    let err = stack
        .invoke(
            "associate-agents",
            json!({"runId": "sync-1", "instanceId": INSTANCE_ID}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "AccessDenied", "{err}");
    assert!(
        err.error_message
            .contains("connect:AssociateTrafficDistributionGroupUser"),
        "{err}"
    );
    assert_eq!(
        calls_answered(&stack, "AssociateTrafficDistributionGroupUser", 403)
            .await
            .len(),
        1,
        "stops at the first refusal, not one per agent"
    );
    assert!(stack.items_under(INSTANCE_ID, "AGENT#").await.is_empty());
    assert_eq!(
        run_data(&stack, "sync-1").await["error"]["errorType"],
        "AccessDenied"
    );
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());

    // and with the template's policy back, the same step goes through
    stack
        .set_access_policy(
            "associate-agents",
            SOURCE_REGION,
            &policies["associate-agents"],
        )
        .await
        .expect("the sim takes the policy");
    let mut out = stack
        .invoke(
            "associate-agents",
            json!({"runId": "sync-2", "instanceId": INSTANCE_ID}),
        )
        .await
        .expect("associate");
    while out["done"] != true {
        out = stack
            .invoke(
                "associate-agents",
                json!({"runId": "sync-2", "instanceId": INSTANCE_ID, "cursor": out["cursor"]}),
            )
            .await
            .expect("resume");
    }
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_answered_as_too_many_requests_are_retried_and_nobody_is_associated_twice() {
    let mut stack = Stack::start(Options::new("small", &["replicate", "associate-agents"]))
        .await
        .expect("the local stack starts");
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate");
    stack.advance_clock(7200).await;
    release_lock(&stack).await;

    // Connect answers throttles with the other documented code (and the ':' suffix), at a quota
    // below the one our pacer keeps to: the pacer alone cannot avoid them
    change_settings(
        &stack,
        SettingsChange {
            throttling_answer: Some(ThrottleCode::TooManyRequests),
            ..Default::default()
        },
    )
    .await;
    stack.set_quota_factor(0.5).await.expect("quota factor");

    let input = json!({"runId": "sync-1", "instanceId": INSTANCE_ID});
    let mut out = stack
        .invoke("associate-agents", input.clone())
        .await
        .expect("associate");
    let mut invocations = 1;
    while out["done"] != true {
        let mut next = input.clone();
        next["cursor"] = out["cursor"].clone();
        out = stack
            .invoke("associate-agents", next)
            .await
            .expect("resume");
        invocations += 1;
        assert!(invocations < 20, "no progress: {out:#}");
    }

    let throttled = calls_answered(&stack, "AssociateTrafficDistributionGroupUser", 429).await;
    assert!(!throttled.is_empty(), "the quota was met");
    assert!(
        throttled
            .iter()
            .all(|c| c["errorType"] == "TooManyRequestsException"),
        "{throttled:#?}"
    );
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50,
        "each agent associated by exactly one accepted call"
    );
    assert!(
        out["failed"].as_array().is_none_or(Vec::is_empty),
        "{out:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_being_updated_by_someone_else_is_waited_for_then_moved() {
    let mut stack = Stack::start(Options::new("small", &["replicate", "shift-traffic"]))
        .await
        .expect("the local stack starts");
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate");
    stack.advance_clock(7200).await;
    release_lock(&stack).await;
    let state = stack.sim_state().await;
    let default_group = default_group(&state)["id"]
        .as_str()
        .expect("the group's id")
        .to_string();

    // another client's update holds the default group UPDATE_IN_PROGRESS for ten minutes
    stack
        .sim_client()
        .stage_group_failure(&GroupFailure {
            group: default_group,
            instance_id: None,
            failure: GroupFailureKind::UpdateInProgress,
            seconds: Some(600.0),
        })
        .await
        .expect("the sim stages the update");
    let mut failover = event("shift-traffic", "failover");
    failover["force"] = json!(true);
    let err = stack
        .invoke("shift-traffic", failover.clone())
        .await
        .unwrap_err();

    // then the shift waits (NotReady, which the failover machine retries) and moves nothing
    assert_eq!(err.error_type, "NotReady", "{err}");
    assert!(err.error_message.contains("UPDATE_IN_PROGRESS"), "{err}");
    assert!(stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .is_empty());
    let state = stack.sim_state().await;
    for g in state["trafficDistributionGroups"].as_array().unwrap() {
        assert_eq!(g["telephony"]["us-east-1"], 100, "nothing moved: {g:#}");
    }

    // and once the other update is over, the retry moves every group
    stack.advance_clock(601).await;
    stack
        .invoke("shift-traffic", failover)
        .await
        .expect("the retry shifts");
    let state = stack.sim_state().await;
    for g in state["trafficDistributionGroups"].as_array().unwrap() {
        assert_eq!(g["telephony"]["us-west-2"], 100, "{g:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sync_waits_out_a_group_update_and_reassociates_agents_removed_by_hand() {
    // given a replication run that associated the 50 agents
    let stack = Stack::start(Options::state_machines("small", 100.0))
        .await
        .expect("the local stack starts");
    let replication = replication_input(1, 120);
    let arn = stack
        .start_execution("replication", "repl-1", &replication)
        .await
        .expect("StartExecution");
    let done = stack
        .wait_execution(&arn, Duration::from_secs(240))
        .await
        .expect("replication");
    assert_eq!(done.status, "SUCCEEDED", "{done:#?}");

    // and then someone removes three agents from the default group by hand, and another client
    // holds the group UPDATE_IN_PROGRESS for 1,500 simulated seconds (15 s here)
    let state = stack.sim_state().await;
    let group = state["trafficDistributionGroups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["isDefault"] == true))
        .cloned()
        .unwrap_or_else(|| panic!("a default group: {state:#}"));
    let id = group["id"].as_str().expect("id").to_string();
    let users: Vec<String> = group["users"]
        .as_array()
        .expect("users")
        .iter()
        .take(3)
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect();
    let removed = stack
        .sim_client()
        .disassociate_outside(&id, &users.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .expect("disassociated by hand");
    assert_eq!(removed.len(), 3);
    stack
        .sim_client()
        .stage_group_failure(&GroupFailure {
            group: id.clone(),
            instance_id: None,
            failure: GroupFailureKind::UpdateInProgress,
            seconds: Some(1500.0),
        })
        .await
        .expect("the sim stages the update");
    let lists_before = group_lookups(&stack).await;
    let pages_before = stack
        .accepted_calls("ListTrafficDistributionGroupUsers")
        .await
        .len();

    // when the operator runs an agent sync that checks the members now
    let sync = json!({"instanceId": INSTANCE_ID, "checkMembers": true});
    let arn = stack
        .start_execution("agent-sync", "sync-1", &sync)
        .await
        .expect("StartExecution agent-sync");
    let done = stack
        .wait_execution(&arn, Duration::from_secs(240))
        .await
        .expect("agent-sync");

    // then AssociateAgents was refused NotReady while the group was updating, retried by the
    // machine, and succeeded
    assert_eq!(done.status, "SUCCEEDED", "{done:#?}");
    let lookups = group_lookups(&stack).await - lists_before;
    assert!(lookups >= 2, "{lookups} lookups of the group: no retry");
    // and the members check listed 47 members (5 pages of 10) and associated the three again
    let pages = stack
        .accepted_calls("ListTrafficDistributionGroupUsers")
        .await
        .len()
        - pages_before;
    assert_eq!(pages, 5);
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        53
    );
    let state = stack.sim_state().await;
    let group = state["trafficDistributionGroups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["id"] == id.as_str()))
        .cloned()
        .expect("the group");
    assert_eq!(group["users"].as_array().map(Vec::len), Some(50));
    let run = run_data(&stack, "sync-1").await;
    assert_eq!(
        run["steps"]["associate-agents"]["membersCheck"]["stale"], 3,
        "{run:#}"
    );
}

/// ListTrafficDistributionGroups calls associate-agents made (it finds the default group so).
async fn group_lookups(stack: &Stack) -> usize {
    stack
        .sim_calls(Some("ListTrafficDistributionGroups"))
        .await
        .iter()
        .filter(|c| c["accessKeyId"] == "AKIDASSOCIATEAGENTSUSEAST1")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_group_whose_creation_failed_takes_no_users_and_does_not_move() {
    // given the default group made with the replica will fail its creation
    let mut stack = Stack::start(Options::new(
        "small",
        &["replicate", "associate-agents", "shift-traffic"],
    ))
    .await
    .expect("the local stack starts");
    let staged = stack
        .sim_client()
        .stage_group_failure(&GroupFailure {
            group: "acme-contact-default".into(),
            instance_id: Some(INSTANCE_ID.into()),
            failure: GroupFailureKind::CreationFailed,
            seconds: None,
        })
        .await
        .expect("the sim arms the failure");
    assert!(staged.armed, "{staged:?}");
    stack
        .invoke("replicate", replicate_input("run-1"))
        .await
        .expect("replicate");
    stack.advance_clock(7200).await;
    release_lock(&stack).await;

    // then associate-agents refuses for good (no wait makes it ACTIVE), naming the status
    let err = stack
        .invoke(
            "associate-agents",
            json!({"runId": "sync-1", "instanceId": INSTANCE_ID}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Rejected", "{err}");
    assert!(err.error_message.contains("CREATION_FAILED"), "{err}");
    assert!(stack
        .sim_calls(Some("AssociateTrafficDistributionGroupUser"))
        .await
        .is_empty());
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());

    // and a failover refuses to move anything, naming the group
    let mut failover = event("shift-traffic", "failover");
    failover["force"] = json!(true);
    let err = stack.invoke("shift-traffic", failover).await.unwrap_err();
    assert_eq!(err.error_type, "Unsafe", "{err}");
    assert!(err.error_message.contains("CREATION_FAILED"), "{err}");
    assert!(stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .is_empty());
}
