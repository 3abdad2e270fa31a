//! Name conflicts: a replica-side look-alike blocks its resource until deleted, and the
//! findings that report it.

mod common;

use aws_sdk_connect::types::InstanceReplicationStatus;
use common::*;

/// `ListReplicationFindings` of one resource type in the region `client` calls, or the error's
/// code.
async fn findings_of(
    client: &aws_sdk_connect::Client,
    resource_type: &str,
) -> Result<
    aws_sdk_connect::operation::list_replication_findings::ListReplicationFindingsOutput,
    String,
> {
    client
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type(resource_type)
        .send()
        .await
        .map_err(|e| code(&e))
}

/// The ID of the queue named Billing in the region `client` calls.
async fn billing(client: &aws_sdk_connect::Client) -> String {
    let out = client
        .list_queues()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    out.queue_summary_list()
        .iter()
        .find(|q| q.name() == Some("Billing"))
        .and_then(|q| q.id().map(String::from))
        .expect("a Billing queue")
}

#[tokio::test]
async fn a_replica_side_look_alike_blocks_its_resource_until_deleted_and_replicated_again() {
    // Given the conflict scenario, replicated to the end.
    let sim = Harness::start("conflict").await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(500.0).await;

    // Then the source's Billing queue is not mirrored: the replica keeps its own, other ID.
    let source_billing = billing(&east).await;
    let replica_billing = billing(&west).await;
    assert_ne!(source_billing, replica_billing);

    // And it shows as a finding, in the drift count and in the replication status reason.
    let findings = findings_of(&west, "QUEUE").await.unwrap();
    let list = findings.replication_findings_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name(), Some("Billing"));
    assert_eq!(list[0].id(), source_billing.as_str());
    assert_eq!(list[0].region(), Some(REPLICA));
    let drift: Vec<(&str, i64)> = findings
        .approximate_drifted_resource_counts()
        .iter()
        .map(|d| (d.region(), d.count()))
        .collect();
    assert_eq!(drift, [(SOURCE, 0), (REPLICA, 1)]);
    assert!(findings
        .resource_replication_statuses()
        .iter()
        .any(|s| s.region() == REPLICA && s.status() == "BLOCKED"));
    let users = findings_of(&west, "AGENT").await.unwrap();
    assert!(
        users.replication_findings_list().is_empty(),
        "other kinds are clean"
    );
    let rc = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let summary = &rc
        .replication_configuration()
        .unwrap()
        .replication_status_summary_list()[1];
    assert!(summary
        .replication_status_reason()
        .unwrap_or_default()
        .contains("name conflicts"));

    // When ReplicateInstance is called again with the look-alike still there, it is refused.
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceConflictException");
    assert!(message(&err).contains("Billing"));
    assert!(err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 409));

    // When the look-alike is deleted in the replica and ReplicateInstance is called again.
    west.delete_queue()
        .instance_id(INSTANCE)
        .queue_id(&replica_billing)
        .send()
        .await
        .unwrap();
    let err = findings_of(&west, "QUEUE").await.unwrap();
    assert_eq!(
        err.replication_findings_list().len(),
        1,
        "the finding stays until the retry"
    );
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("resync accepted");
    let rc = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rc.replication_configuration()
            .unwrap()
            .replication_status_summary_list()[1]
            .replication_status(),
        Some(&InstanceReplicationStatus::InstanceReplicationInProgress)
    );
    sim.advance(11.0).await;

    // Then the source's queue is mirrored with its own ID and the finding is gone.
    let mirrored = billing(&west).await;
    assert_eq!(mirrored, source_billing);
    let findings = findings_of(&west, "QUEUE").await.unwrap();
    assert!(findings.replication_findings_list().is_empty());
    assert!(findings
        .approximate_drifted_resource_counts()
        .iter()
        .all(|d| d.count() == 0));
    // The source's own queue was never touched by the replica-side delete.
    let source_now = billing(&east).await;
    assert_eq!(source_now, source_billing);
    // A clean, complete replication is "already replicated" again.
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
}

#[tokio::test]
async fn findings_refuse_unknown_types_and_unreplicated_instances() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);
    let err = findings_of(&east, "QUEUE").await.unwrap_err();
    assert_eq!(
        err, "InvalidRequestException",
        "not set up for Global Resiliency"
    );
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    let err = findings_of(&east, "SPACESHIP").await.unwrap_err();
    assert_eq!(err, "InvalidRequestException");
    let ok = findings_of(&east, "VIEW").await.unwrap();
    assert!(ok.replication_findings_list().is_empty());
    // Before the replica exists, every resource counts as drift in the replica region.
    let users = findings_of(&east, "AGENT").await.unwrap();
    let replica_drift = users
        .approximate_drifted_resource_counts()
        .iter()
        .find(|d| d.region() == REPLICA)
        .unwrap();
    assert_eq!(replica_drift.count(), 50);
}
