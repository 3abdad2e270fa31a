//! What Connect says of a replication and of its replica, as the steps act on it: go on, wait
//! (`NotReady`), or fail the run at once by name. One rule for replicate (before it adopts a
//! replica) and poll-mirroring (at every poll).

use crate::connect::{
    InstanceInfo, InstanceStatus, RegionStatus, ReplicationInfo, ReplicationStatus,
};
use crate::error::StepError;

/// The replication's per-region statuses, worst first: a failed replication
/// (`ReplicationFailed`), a replica whose deletion failed (`ReplicaDeletionFailed`), a replica
/// being deleted (`NotReady`: its deletion ends by itself). Anything else goes on.
pub fn check(instance_id: &str, replication: &ReplicationInfo) -> Result<(), StepError> {
    let with = |status: ReplicationStatus| {
        replication
            .statuses
            .iter()
            .find(move |s| s.status == status)
    };
    if let Some(s) = with(ReplicationStatus::Failed) {
        return Err(StepError::ReplicationFailed(format!(
            "replication of instance {instance_id} failed ({}); fix the reason, delete the failed \
             replica, then replicate again",
            said(s)
        )));
    }
    if let Some(s) = with(ReplicationStatus::DeletionFailed) {
        return Err(StepError::ReplicaDeletionFailed(format!(
            "the replica of instance {instance_id} could not be deleted ({}); it can be neither \
             used nor replaced: delete it again (or ask AWS Support), then replicate again",
            said(s)
        )));
    }
    if let Some(s) = with(ReplicationStatus::ReplicaDeleting) {
        return Err(StepError::NotReady(format!(
            "the replica of instance {instance_id} is being deleted ({}); waiting for the \
             deletion to end",
            said(s)
        )));
    }
    Ok(())
}

/// The replica instance itself: one that could not be created (`CREATION_FAILED`) fails the run
/// (`ReplicationFailed`) with its reason.
pub fn check_replica(replica: &InstanceInfo) -> Result<(), StepError> {
    if replica.status != Some(InstanceStatus::CreationFailed) {
        return Ok(());
    }
    Err(StepError::ReplicationFailed(format!(
        "the replica instance {} ({}) could not be created: {}{}; delete it, then replicate again",
        replica.id,
        replica.arn,
        InstanceStatus::CreationFailed,
        reason(replica.status_reason.as_deref())
    )))
}

/// `STATUS in region: reason`.
fn said(s: &RegionStatus) -> String {
    format!(
        "{} in {}{}",
        s.status,
        s.region,
        reason(s.reason.as_deref())
    )
}

fn reason(r: Option<&str>) -> String {
    r.filter(|r| !r.trim().is_empty())
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replication(statuses: &[(&str, &str, Option<&str>)]) -> ReplicationInfo {
        ReplicationInfo {
            statuses: statuses
                .iter()
                .map(|(region, status, reason)| RegionStatus {
                    region: region.to_string(),
                    status: (*status).into(),
                    reason: reason.map(String::from),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn failures_are_named_with_their_status_and_reason_and_a_deletion_is_waited_for() {
        for (replica_status, name) in [
            ("INSTANCE_REPLICATION_FAILED", "ReplicationFailed"),
            (
                "INSTANCE_REPLICATION_DELETION_FAILED",
                "ReplicaDeletionFailed",
            ),
            ("INSTANCE_REPLICA_DELETING", "NotReady"),
        ] {
            let r = replication(&[
                ("us-east-1", "INSTANCE_REPLICATION_COMPLETE", None),
                (
                    "us-west-2",
                    replica_status,
                    Some("quota of instances reached"),
                ),
            ]);
            let e = check("i-1", &r).unwrap_err();
            assert_eq!(e.error_type(), name, "{e}");
            let m = e.to_string();
            assert!(
                m.contains(replica_status)
                    && m.contains("us-west-2")
                    && m.contains("quota of instances reached"),
                "{m}"
            );
        }
        // the worst status wins
        let r = replication(&[
            ("us-east-1", "INSTANCE_REPLICA_DELETING", None),
            ("us-west-2", "INSTANCE_REPLICATION_FAILED", None),
        ]);
        assert_eq!(
            check("i-1", &r).unwrap_err().error_type(),
            "ReplicationFailed"
        );
        for fine in [
            "INSTANCE_REPLICATION_IN_PROGRESS",
            "INSTANCE_REPLICATION_COMPLETE",
            "RESOURCE_REPLICATION_NOT_STARTED",
            "SOMETHING_NEW",
        ] {
            assert!(check("i-1", &replication(&[("us-west-2", fine, None)])).is_ok());
        }
    }

    #[test]
    fn a_replica_that_could_not_be_created_fails_with_its_reason() {
        let mut replica = InstanceInfo {
            id: "i-1".into(),
            arn: "arn:aws:connect:us-west-2:1:instance/i-1".into(),
            status: Some(InstanceStatus::CreationFailed),
            status_reason: Some("the alias is taken".into()),
            ..Default::default()
        };
        let e = check_replica(&replica).unwrap_err();
        assert_eq!(e.error_type(), "ReplicationFailed");
        assert!(
            e.to_string()
                .contains("CREATION_FAILED: the alias is taken"),
            "{e}"
        );
        for fine in [InstanceStatus::CreationInProgress, InstanceStatus::Active] {
            replica.status = Some(fine);
            assert!(check_replica(&replica).is_ok());
        }
    }
}
