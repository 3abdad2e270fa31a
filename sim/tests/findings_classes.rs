//! Findings of every class: prompts stored in S3 (never mirrored), flows naming a Lambda
//! function the region lacks, changes that failed to sync; with each region's own status.

mod common;

use aws_sdk_connect::operation::list_replication_findings::ListReplicationFindingsOutput;
use aws_sdk_connect::types::InstanceReplicationStatus;
use common::*;
use connect_sim::control::{ReplicaFailure, SyncFailure};
use connect_sim::kinds::Kind;
use serde_json::{json, Value};

async fn replicate(sim: &Harness) {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
}

async fn findings(
    sim: &Harness,
    region: &str,
    resource_type: &str,
) -> ListReplicationFindingsOutput {
    sim.client(region)
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type(resource_type)
        .send()
        .await
        .unwrap()
}

/// Per region: a drift count, or a status.
type PerRegion<T> = Vec<(String, T)>;

/// (region, count) of the drift counts, and (region, status) of the type's statuses.
fn drift_and_statuses(out: &ListReplicationFindingsOutput) -> (PerRegion<i64>, PerRegion<String>) {
    (
        out.approximate_drifted_resource_counts()
            .iter()
            .map(|d| (d.region().to_string(), d.count()))
            .collect(),
        out.resource_replication_statuses()
            .iter()
            .map(|s| (s.region().to_string(), s.status().to_string()))
            .collect(),
    )
}

fn pair<T: Clone>(source: T, replica: T) -> Vec<(String, T)> {
    vec![(SOURCE.to_string(), source), (REPLICA.to_string(), replica)]
}

async fn statuses(sim: &Harness) -> Vec<(InstanceReplicationStatus, String)> {
    let out = sim
        .client(SOURCE)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    out.replication_configuration()
        .unwrap()
        .replication_status_summary_list()
        .iter()
        .map(|s| {
            (
                s.replication_status().unwrap().clone(),
                s.replication_status_reason()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_findings_scenario_completes_with_s3_prompts_and_a_missing_lambda_function() {
    // Given the findings scenario, replicated to the end.
    let sim = Harness::start("findings").await;
    replicate(&sim).await;
    sim.advance(500.0).await;

    // Then replication is complete in both regions: S3 prompts do not hold it back.
    assert_eq!(sim.state().await.pending_tasks, 0);
    for (status, reason) in statuses(&sim).await {
        assert_eq!(
            status,
            InstanceReplicationStatus::InstanceReplicationComplete
        );
        assert_eq!(reason, "");
    }

    // And the S3 prompts are not in the replica, each reported as a finding.
    let prompts = sim
        .client(REPLICA)
        .list_prompts()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = prompts
        .prompt_summary_list()
        .iter()
        .filter_map(|p| p.name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Beep.wav", "CustomerQueue.wav"]);
    let out = findings(&sim, REPLICA, "PROMPT").await;
    let list = out.replication_findings_list();
    assert_eq!(list.len(), 2);
    for f in list {
        assert_eq!(f.reference_code(), Some("S3_PROMPT_NOT_SUPPORTED"));
        assert_eq!(f.operation(), Some("CREATE"));
        assert_eq!(f.region(), Some(REPLICA));
        assert_eq!(f.resource_type(), "PROMPT");
        assert!(f.arn().contains(&format!(":{SOURCE}:")), "{}", f.arn());
        assert!(f.message().unwrap_or_default().contains("S3"));
    }
    assert_eq!(
        drift_and_statuses(&out),
        (pair(0, 0), pair("ENABLED".into(), "ENABLED".into()))
    );

    // And the flow invoking acme-customer-lookup is reported in the replica region; the one
    // invoking acme-callback (deployed there) is not.
    let out = findings(&sim, SOURCE, "CONTACT_FLOW").await;
    let list = out.replication_findings_list();
    assert_eq!(list.len(), 1, "{list:?}");
    let f = &list[0];
    assert_eq!(f.name(), Some("Main inbound"));
    assert_eq!(f.reference_code(), Some("LAMBDA_FUNCTION_NOT_FOUND"));
    assert_eq!(f.operation(), Some("CREATE"));
    assert_eq!(f.region(), Some(REPLICA));
    assert!(f
        .message()
        .unwrap_or_default()
        .contains("acme-customer-lookup"));
    assert_eq!(
        drift_and_statuses(&out),
        (pair(0, 0), pair("ENABLED".into(), "ENABLED".into()))
    );

    // When the function is deployed in the replica region (control API), the finding goes.
    let deployed = sim
        .control
        .set_lambda_functions(
            REPLICA,
            Some(vec![
                "acme-callback".into(),
                "arn:aws:lambda:us-west-2:123456789012:function:acme-customer-lookup".into(),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        deployed.regions[REPLICA],
        ["acme-callback", "acme-customer-lookup"]
    );
    assert!(findings(&sim, SOURCE, "CONTACT_FLOW")
        .await
        .replication_findings_list()
        .is_empty());
    // And when it is removed again, it is back.
    sim.control
        .set_lambda_functions(REPLICA, Some(vec!["acme-callback".into()]))
        .await
        .unwrap();
    assert_eq!(
        findings(&sim, SOURCE, "CONTACT_FLOW")
            .await
            .replication_findings_list()
            .len(),
        1
    );
    sim.control
        .set_lambda_functions(REPLICA, None)
        .await
        .unwrap();
    assert!(sim
        .control
        .lambda_functions()
        .await
        .unwrap()
        .regions
        .is_empty());
}

#[tokio::test]
async fn an_update_that_failed_to_sync_is_a_finding_until_replicate_instance_retries_it() {
    let sim = replicated(500.0).await;
    let stage = |name: &str, region: Option<&str>| SyncFailure {
        instance_id: Some(INSTANCE.into()),
        kind: Kind::Users,
        name: name.into(),
        region: region.map(String::from),
    };

    // When an update of agent00007 fails to reach the replica, and one of agent00008 made in
    // the replica fails to reach the source.
    let staged = sim
        .control
        .stage_sync_failure(&stage("agent00007", None))
        .await
        .unwrap();
    assert!(!staged.armed);
    sim.control
        .stage_sync_failure(&stage("agent00008", Some(SOURCE)))
        .await
        .unwrap();

    // Then each is a finding in the region it did not reach, with Operation UPDATE.
    let out = findings(&sim, REPLICA, "AGENT").await;
    let mut found: Vec<(String, String, String, String)> = out
        .replication_findings_list()
        .iter()
        .map(|f| {
            (
                f.name().unwrap_or_default().to_string(),
                f.region().unwrap_or_default().to_string(),
                f.operation().unwrap_or_default().to_string(),
                f.reference_code().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "agent00007".into(),
                REPLICA.into(),
                "UPDATE".into(),
                "SYNC_FAILED".into()
            ),
            (
                "agent00008".into(),
                SOURCE.into(),
                "UPDATE".into(),
                "SYNC_FAILED".into()
            ),
        ]
    );
    // And each region has its own drift count and status.
    assert_eq!(
        drift_and_statuses(&out),
        (pair(1, 1), pair("BLOCKED".into(), "BLOCKED".into()))
    );
    let queues = findings(&sim, REPLICA, "QUEUE").await;
    assert_eq!(
        drift_and_statuses(&queues).1,
        pair("ENABLED".into(), "ENABLED".into())
    );
    for (status, reason) in statuses(&sim).await {
        assert_eq!(
            status,
            InstanceReplicationStatus::InstanceReplicationComplete
        );
        assert!(reason.contains("2 changes failed to sync"), "{reason}");
    }
    assert_eq!(sim.state().await.replications[0].failed_syncs, 2);

    // And the source's agent00007 is newer than the replica's copy.
    let modified = |region: &'static str| {
        let sim = &sim;
        async move {
            let users = sim
                .client(region)
                .list_users()
                .instance_id(INSTANCE)
                .send()
                .await
                .unwrap();
            let u = users
                .user_summary_list()
                .iter()
                .find(|u| u.username() == Some("agent00007"))
                .unwrap()
                .clone();
            u.last_modified_time().unwrap().as_secs_f64()
        }
    };
    assert!(modified(SOURCE).await > modified(REPLICA).await);

    // When ReplicateInstance is called again, both are retried and the findings go.
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("a retry");
    sim.advance(11.0).await;
    let out = findings(&sim, REPLICA, "AGENT").await;
    assert!(out.replication_findings_list().is_empty());
    assert_eq!(
        drift_and_statuses(&out),
        (pair(0, 0), pair("ENABLED".into(), "ENABLED".into()))
    );
    assert_eq!(modified(SOURCE).await, modified(REPLICA).await);
}

#[tokio::test]
async fn sync_failures_armed_in_the_scenario_fail_the_first_copy() {
    // Given small with Billing's mirroring staged to fail.
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["instances"][0]["syncFailures"] = json!([{"kind": "queues", "name": "Billing"}]);
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    replicate(&sim).await;
    sim.advance(500.0).await;

    // Then Billing is not in the replica: a CREATE that failed to sync.
    let out = findings(&sim, REPLICA, "QUEUE").await;
    let list = out.replication_findings_list();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].name(),
            list[0].operation(),
            list[0].reference_code()
        ),
        (Some("Billing"), Some("CREATE"), Some("SYNC_FAILED"))
    );
    assert_eq!(
        drift_and_statuses(&out),
        (pair(0, 1), pair("ENABLED".into(), "BLOCKED".into()))
    );

    // When replication into the replica region fails, its status for every type is DISABLED.
    sim.control
        .stage_replica_failure(
            INSTANCE,
            &ReplicaFailure::ReplicationFailed {
                after_seconds: 0.0,
                region: Some(REPLICA.into()),
                reason: None,
            },
        )
        .await
        .unwrap();
    sim.advance(1.0).await;
    let out = findings(&sim, SOURCE, "AGENT").await;
    assert_eq!(
        drift_and_statuses(&out).1,
        pair("ENABLED".into(), "DISABLED".into())
    );

    // An unknown resource in syncFailures is a scenario error.
    scenario["instances"][0]["syncFailures"] = json!([{"kind": "queues", "name": "Nope"}]);
    let built = connect_sim::Sim::new(
        connect_sim::Scenario::parse(&scenario.to_string()).unwrap(),
        connect_sim::Options {
            time_scale: 1.0,
            quota_factor: None,
            seed: None,
        },
    );
    assert!(built.is_err_and(|e| e.to_string().contains("Nope")));
}
