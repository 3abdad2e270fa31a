//! Staged replica failures: a replica that fails its creation, a replication that fails, a
//! replica being deleted (then gone, or DELETION_FAILED), from a scenario and the control API.

mod common;

use aws_sdk_connect::types::{InstanceReplicationStatus, InstanceStatus};
use common::*;
use connect_sim::control::{ClientError, ReplicaFailure};
use serde_json::{json, Value};

/// Starts `name` with the first instance's member `key` set to `value`.
async fn start_with(name: &str, key: &str, value: Value) -> Harness {
    let mut scenario: Value = serde_json::from_str(&scenario_text(name)).unwrap();
    scenario["instances"][0][key] = value;
    Harness::start_text(&scenario.to_string(), Some(100.0)).await
}

async fn replicate(sim: &Harness) -> Result<(), String> {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{} {}", code(&e), message(&e)))
}

/// (region, status, reason) of each entry of the replication summary, as `region` describes it.
async fn summary(sim: &Harness, region: &str) -> Vec<(String, InstanceReplicationStatus, String)> {
    let out = sim
        .client(region)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    out.replication_configuration()
        .map(|rc| {
            rc.replication_status_summary_list()
                .iter()
                .map(|s| {
                    (
                        s.region().unwrap_or_default().to_string(),
                        s.replication_status().unwrap().clone(),
                        s.replication_status_reason()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_replica_that_fails_its_creation_from_the_scenario() {
    // Given small with the replica's creation staged to fail.
    let sim = start_with(
        "small",
        "replicaFailure",
        json!({"failure": "creationFailed", "reason": "KMS key not found in us-west-2"}),
    )
    .await;
    replicate(&sim).await.expect("the call itself is accepted");
    assert_eq!(
        sim.state().await.replications[0].phase,
        "running",
        "nothing fails before the replica's creation ends"
    );

    // When the creation time has passed.
    sim.advance(400.0).await;

    // Then the replica is CREATION_FAILED with its reason, and replication FAILED in both
    // regions' entries.
    let replica = sim
        .client(REPLICA)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let inst = replica.instance().unwrap();
    assert_eq!(
        inst.instance_status(),
        Some(&InstanceStatus::CreationFailed)
    );
    assert_eq!(
        inst.status_reason().and_then(|r| r.message()),
        Some("KMS key not found in us-west-2")
    );
    let entries = summary(&sim, SOURCE).await;
    assert_eq!(entries.len(), 2);
    for (_, status, reason) in &entries {
        assert_eq!(
            status,
            &InstanceReplicationStatus::InstanceReplicationFailed
        );
        assert_eq!(reason, "KMS key not found in us-west-2");
    }

    // And nothing was mirrored, the groups made with it failed too, and no number moved.
    let state = sim.state().await;
    let replica = state.instance(REPLICA, INSTANCE).unwrap();
    assert!(replica.counts.values().all(|n| *n == 0));
    assert_eq!(state.pending_tasks, 0);
    assert!(state
        .traffic_distribution_groups
        .iter()
        .all(|g| g.status == "CREATION_FAILED"));
    assert!(state
        .phone_numbers
        .iter()
        .all(|n| n.target_arn.contains(":instance/")));
    assert_eq!(state.replications[0].phase, "creationFailed");

    // And a second ReplicateInstance is "already replicated".
    let err = replicate(&sim).await.unwrap_err();
    assert!(err.starts_with("InvalidRequestException"), "{err}");
    assert!(err.contains("creationFailed"), "{err}");
}

#[tokio::test]
async fn a_creation_failure_staged_through_the_control_api_while_the_replica_is_created() {
    let sim = Harness::start("small").await;
    replicate(&sim).await.unwrap();
    sim.advance(100.0).await;

    // When the control API stages the failure during the creation.
    let staged = sim
        .control
        .stage_replica_failure(INSTANCE, &ReplicaFailure::CreationFailed { reason: None })
        .await
        .unwrap();
    assert!(!staged.armed);
    let state = sim.state().await;
    assert_eq!(staged.at, Some(state.replications[0].replica_ready_at));

    // Then the replica fails when its creation ends, not before.
    sim.advance(150.0).await;
    let replica = sim.state().await;
    assert_eq!(
        replica.instance(REPLICA, INSTANCE).unwrap().status,
        "CREATION_IN_PROGRESS"
    );
    sim.advance(60.0).await;
    let state = sim.state().await;
    assert_eq!(
        state.instance(REPLICA, INSTANCE).unwrap().status,
        "CREATION_FAILED"
    );
    let (_, status, reason) = &summary(&sim, REPLICA).await[1];
    assert_eq!(
        status,
        &InstanceReplicationStatus::InstanceReplicationFailed
    );
    assert!(reason.contains("could not be created"), "{reason}");

    // And once the creation is over, a creation failure is refused.
    let err = sim
        .control
        .stage_replica_failure(INSTANCE, &ReplicaFailure::CreationFailed { reason: None })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused { status: 400, message, .. } if message.contains("creation is over")),
        "{err}"
    );
    // An unknown instance is refused too.
    let err = sim
        .control
        .stage_replica_failure("nope", &ReplicaFailure::CreationFailed { reason: None })
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused { status: 400, .. }));
}

#[tokio::test]
async fn a_failed_replication_stops_mirroring_into_its_region_and_stays_drifted() {
    // Given a replication failure armed before ReplicateInstance: 20 s after the replica is up,
    // mirroring into the replica region fails.
    let sim = Harness::start("small").await;
    let staged = sim
        .control
        .stage_replica_failure(
            INSTANCE,
            &ReplicaFailure::ReplicationFailed {
                after_seconds: 20.0,
                region: Some(REPLICA.into()),
                reason: None,
            },
        )
        .await
        .unwrap();
    assert!(staged.armed);
    replicate(&sim).await.unwrap();
    assert!(sim.state().await.replications[0].staged.is_some());

    // When the replica is up and mirroring has had 20 s.
    sim.advance(330.0).await;

    // Then the replica region's entry is INSTANCE_REPLICATION_FAILED with a reason; the
    // source's entry has its own status.
    let entries = summary(&sim, REPLICA).await;
    let replica_entry = entries.iter().find(|e| e.0 == REPLICA).unwrap();
    assert_eq!(
        replica_entry.1,
        InstanceReplicationStatus::InstanceReplicationFailed
    );
    assert!(replica_entry.2.contains(REPLICA), "{}", replica_entry.2);
    let source_entry = entries.iter().find(|e| e.0 == SOURCE).unwrap();
    assert_ne!(
        source_entry.1,
        InstanceReplicationStatus::InstanceReplicationFailed
    );

    // And the replica holds what was mirrored in those 20 s only; the rest stays drifted.
    let state = sim.state().await;
    assert_eq!(state.replications[0].phase, "replicationFailed");
    assert_eq!(state.pending_tasks, 0);
    let replica = state.instance(REPLICA, INSTANCE).unwrap();
    let mirrored: usize = replica.counts.values().sum();
    assert!((15..=25).contains(&mirrored), "{mirrored} mirrored");
    let findings = sim
        .client(REPLICA)
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("AGENT")
        .send()
        .await
        .unwrap();
    let drift: Vec<(&str, i64)> = findings
        .approximate_drifted_resource_counts()
        .iter()
        .map(|d| (d.region(), d.count()))
        .collect();
    assert_eq!(drift, [(SOURCE, 0), (REPLICA, 50)]);

    // And a queue created later in the source never reaches the replica: it adds to the drift.
    let queue_drift = || async {
        let findings = sim
            .client(REPLICA)
            .list_replication_findings()
            .instance_id(INSTANCE)
            .resource_type("QUEUE")
            .send()
            .await
            .unwrap();
        findings
            .approximate_drifted_resource_counts()
            .iter()
            .find(|d| d.region() == REPLICA)
            .unwrap()
            .count()
    };
    let before = queue_drift().await;
    assert!(before > 0);
    let east = sim.client(SOURCE);
    let hours = east
        .list_hours_of_operations()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let hours_id = hours.hours_of_operation_summary_list()[0].id().unwrap();
    east.create_queue()
        .instance_id(INSTANCE)
        .name("Late queue")
        .hours_of_operation_id(hours_id)
        .send()
        .await
        .unwrap();
    sim.advance(3600.0).await;
    let queues = sim
        .client(REPLICA)
        .list_queues()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert!(queues
        .queue_summary_list()
        .iter()
        .all(|q| q.name() != Some("Late queue")));
    assert_eq!(queue_drift().await, before + 1);
}

#[tokio::test]
async fn a_replica_being_deleted_refuses_replicate_instance_then_is_gone() {
    // Given small replicated to the end.
    let sim = replicated(500.0).await;
    let east = sim.client(SOURCE);
    let sales_number_target = |state: &connect_sim::control::SimState| {
        state
            .phone_numbers
            .iter()
            .find(|n| n.number == "+12065550142")
            .unwrap()
            .target_arn
            .clone()
    };
    assert!(sales_number_target(&sim.state().await).contains("traffic-distribution-group"));

    // When the control API starts a deletion of the replica, 120 s long.
    let staged = sim
        .control
        .stage_replica_failure(
            INSTANCE,
            &ReplicaFailure::Deletion {
                after_seconds: 0.0,
                seconds: 120.0,
                fails: false,
                reason: None,
            },
        )
        .await
        .unwrap();
    assert!(!staged.armed);

    // Then both entries say INSTANCE_REPLICA_DELETING, and ReplicateInstance is 409
    // ResourceNotReadyException.
    for (_, status, _) in summary(&sim, SOURCE).await {
        assert_eq!(status, InstanceReplicationStatus::InstanceReplicaDeleting);
    }
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotReadyException");
    assert_eq!(status(&err), 409);
    assert!(message(&err).contains("being deleted"));
    let err = sim
        .control
        .stage_replica_failure(
            INSTANCE,
            &ReplicaFailure::ReplicationFailed {
                after_seconds: 0.0,
                region: None,
                reason: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused { status: 400, .. }));

    // When the deletion time has passed.
    sim.advance(121.0).await;

    // Then the replica is gone, the source has no replication, the groups are gone and their
    // numbers are back on the instance.
    let err = sim
        .client(REPLICA)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert!(summary(&sim, SOURCE).await.is_empty());
    let state = sim.state().await;
    assert!(state.replications.is_empty());
    assert!(state.traffic_distribution_groups.is_empty());
    assert!(sales_number_target(&state).ends_with(&format!("instance/{INSTANCE}")));

    // And the instance can be replicated again.
    replicate(&sim).await.expect("a new replica");
    sim.advance(500.0).await;
    assert_eq!(
        summary(&sim, SOURCE).await[0].1,
        InstanceReplicationStatus::InstanceReplicationComplete
    );
}

#[tokio::test]
async fn a_deletion_that_fails_from_the_scenario() {
    // Given a deletion armed in the scenario: 100 s after the replica is up, 30 s long, failing.
    let sim = start_with(
        "small",
        "replicaFailure",
        json!({"failure": "deletion", "afterSeconds": 100, "seconds": 30, "fails": true}),
    )
    .await;
    replicate(&sim).await.unwrap();

    // Then after 300 + 100 s the replica is being deleted, and 30 s later the deletion failed.
    sim.advance(410.0).await;
    assert_eq!(
        summary(&sim, REPLICA).await[1].1,
        InstanceReplicationStatus::InstanceReplicaDeleting
    );
    sim.advance(30.0).await;
    for (_, status, reason) in summary(&sim, REPLICA).await {
        assert_eq!(
            status,
            InstanceReplicationStatus::InstanceReplicationDeletionFailed
        );
        assert!(reason.contains("could not be deleted"), "{reason}");
    }
    // And the replica is still there; ReplicateInstance is "already replicated" again.
    let state = sim.state().await;
    assert_eq!(state.instance(REPLICA, INSTANCE).unwrap().status, "ACTIVE");
    let err = replicate(&sim).await.unwrap_err();
    assert!(err.starts_with("InvalidRequestException"), "{err}");
}

#[tokio::test]
async fn scenario_replica_failures_are_checked() {
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["instances"][0]["replicaFailure"] = json!({"failure": "deletion", "seconds": -1});
    let parsed = connect_sim::Scenario::parse(&scenario.to_string()).unwrap();
    let built = connect_sim::Sim::new(
        parsed,
        connect_sim::Options {
            time_scale: 1.0,
            quota_factor: None,
            seed: None,
        },
    );
    assert!(built.is_err_and(|e| e.to_string().contains("seconds")));
    scenario["instances"][0]["replicaFailure"] = json!({"failure": "melted"});
    assert!(connect_sim::Scenario::parse(&scenario.to_string()).is_err());
}
