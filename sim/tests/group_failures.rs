//! Staged traffic distribution group failures: CREATION_FAILED, DELETION_FAILED and an
//! UPDATE_IN_PROGRESS window, whose answer to another update is a setting.

mod common;

use aws_sdk_connect::types::{Distribution, TelephonyConfig, TrafficDistributionGroupStatus};
use common::*;
use connect_sim::control::{
    ClientError, GroupFailure, GroupFailureKind, RefusalCode, SettingsChange,
};
use serde_json::{json, Value};

fn scenario_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    edit(&mut scenario);
    scenario.to_string()
}

async fn replicate(sim: &Harness) {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
}

fn failure(group: &str, failure: GroupFailureKind) -> GroupFailure {
    GroupFailure {
        group: group.into(),
        instance_id: None,
        failure,
        seconds: None,
    }
}

async fn group_status(sim: &Harness, arn: &str) -> Option<TrafficDistributionGroupStatus> {
    sim.client(SOURCE)
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(arn)
        .send()
        .await
        .ok()
        .and_then(|g| g.traffic_distribution_group()?.status().cloned())
}

fn telephony(source: i32) -> TelephonyConfig {
    let d = |r: &str, p: i32| {
        Distribution::builder()
            .region(r)
            .percentage(p)
            .build()
            .unwrap()
    };
    TelephonyConfig::builder()
        .distributions(d(SOURCE, source))
        .distributions(d(REPLICA, 100 - source))
        .build()
        .unwrap()
}

#[tokio::test]
async fn groups_that_fail_their_creation_from_the_scenario_and_the_control_api() {
    // Given small with the sales group's creation staged to fail.
    let text = scenario_with(|s| {
        s["instances"][0]["groupFailures"] =
            json!([{"group": "sales", "failure": "creationFailed"}]);
    });
    let sim = Harness::start_text(&text, Some(100.0)).await;
    let east = sim.client(SOURCE);
    replicate(&sim).await;
    sim.advance(400.0).await;

    // Then sales is CREATION_FAILED and claimed nothing; the default group is ACTIVE.
    let state = sim.state().await;
    let sales = state
        .traffic_distribution_groups
        .iter()
        .find(|g| g.name == "sales")
        .unwrap();
    assert_eq!(sales.status, "CREATION_FAILED");
    assert_eq!(tdg_summary(&state, INSTANCE).status, "ACTIVE");
    let sales_number = state
        .phone_numbers
        .iter()
        .find(|n| n.number == "+12065550142")
        .unwrap();
    assert!(sales_number.target_arn.contains(":instance/"));
    assert_eq!(
        group_status(&sim, &sales.arn).await,
        Some(TrafficDistributionGroupStatus::CreationFailed)
    );
    let err = east
        .get_traffic_distribution()
        .id(&sales.arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");

    // And a failed group can be deleted.
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&sales.arn)
        .send()
        .await
        .expect("delete a failed group");
    sim.advance(31.0).await;
    assert_eq!(group_status(&sim, &sales.arn).await, None);

    // When the control API stages a failure for a group being created, by name.
    let created = east
        .create_traffic_distribution_group()
        .name("Later")
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let later_arn = created.arn().unwrap().to_string();
    let staged = sim
        .control
        .stage_group_failure(&failure("Later", GroupFailureKind::CreationFailed))
        .await
        .unwrap();
    assert!(!staged.armed);
    assert_eq!(staged.status.as_deref(), Some("CREATION_IN_PROGRESS"));
    // And arms one for a group not created yet.
    let armed = sim
        .control
        .stage_group_failure(&failure("Future", GroupFailureKind::CreationFailed))
        .await
        .unwrap();
    assert!(armed.armed);
    let future = east
        .create_traffic_distribution_group()
        .name("Future")
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    sim.advance(61.0).await;

    // Then both end CREATION_FAILED.
    assert_eq!(
        group_status(&sim, &later_arn).await,
        Some(TrafficDistributionGroupStatus::CreationFailed)
    );
    assert_eq!(
        group_status(&sim, future.arn().unwrap()).await,
        Some(TrafficDistributionGroupStatus::CreationFailed)
    );
    // And an ACTIVE group's creation can no longer fail.
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    let err = sim
        .control
        .stage_group_failure(&failure(&default_arn, GroupFailureKind::CreationFailed))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused { status: 400, message, .. } if message.contains("creation is over")),
        "{err}"
    );
}

#[tokio::test]
async fn a_deletion_that_fails_leaves_the_group_deletion_failed_until_deleted_again() {
    let sim = replicated(400.0).await;
    let east = sim.client(SOURCE);
    let created = east
        .create_traffic_distribution_group()
        .name("Billing numbers")
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_string();
    sim.advance(61.0).await;

    // Given its next deletion staged to fail, by ARN.
    let staged = sim
        .control
        .stage_group_failure(&failure(&arn, GroupFailureKind::DeletionFailed))
        .await
        .unwrap();
    assert_eq!(staged.status.as_deref(), Some("ACTIVE"));

    // When it is deleted.
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        group_status(&sim, &arn).await,
        Some(TrafficDistributionGroupStatus::PendingDeletion)
    );
    sim.advance(31.0).await;

    // Then it is DELETION_FAILED, and still listed from both regions.
    assert_eq!(
        group_status(&sim, &arn).await,
        Some(TrafficDistributionGroupStatus::DeletionFailed)
    );
    assert!(groups(&sim, REPLICA).await.iter().any(|g| g.1 == arn));

    // And a second deletion goes through.
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&arn)
        .send()
        .await
        .expect("delete again");
    sim.advance(31.0).await;
    assert_eq!(group_status(&sim, &arn).await, None);
}

#[tokio::test]
async fn an_update_in_progress_window_answers_by_the_setting() {
    let sim = replicated(400.0).await;
    let east = sim.client(SOURCE);
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();

    // Given a 30 s update window, set at run time.
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            tdg_update_seconds: Some(30.0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(settings.tdg_update_seconds, 30.0);
    assert_eq!(
        settings.update_in_progress_answer,
        RefusalCode::InvalidRequest,
        "the admin guide's answer by default"
    );
    let update = |source: i32| {
        east.update_traffic_distribution()
            .id(&default_arn)
            .telephony_config(telephony(source))
            .send()
    };
    update(50).await.unwrap();
    sim.advance(20.0).await;

    // Then 20 s later the group is still UPDATE_IN_PROGRESS and another update is refused as
    // the admin guide has it.
    assert_eq!(
        group_status(&sim, &default_arn).await,
        Some(TrafficDistributionGroupStatus::UpdateInProgress)
    );
    let err = update(0).await.unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    assert!(message(&err).contains("UPDATE_IN_PROGRESS"));

    // When the answer is set to ResourceConflictException (the model lists it).
    sim.control
        .change_settings(&SettingsChange {
            update_in_progress_answer: Some(RefusalCode::ResourceConflict),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = update(0).await.unwrap_err();
    assert_eq!(code(&err), "ResourceConflictException");
    assert_eq!(status(&err), 409);

    // And after the window the update has landed.
    sim.advance(11.0).await;
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!((g.status.as_str(), g.telephony[SOURCE]), ("ACTIVE", 50));

    // When the control API holds the group UPDATE_IN_PROGRESS for 5 s (another client).
    let staged = sim
        .control
        .stage_group_failure(&GroupFailure {
            seconds: Some(5.0),
            ..failure(&default_arn, GroupFailureKind::UpdateInProgress)
        })
        .await
        .unwrap();
    assert_eq!(staged.status.as_deref(), Some("UPDATE_IN_PROGRESS"));
    let err = east
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    sim.advance(6.0).await;
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!(
        (g.status.as_str(), g.telephony[SOURCE]),
        ("ACTIVE", 50),
        "the distribution is unchanged"
    );

    // Bad settings are refused and change nothing.
    let err = sim
        .control
        .change_settings(&SettingsChange {
            tdg_update_seconds: Some(-1.0),
            update_in_progress_answer: Some(RefusalCode::ResourceConflict),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused { status: 400, .. }));
    let settings = sim.control.settings().await.unwrap();
    assert_eq!(
        (
            settings.tdg_update_seconds,
            settings.update_in_progress_answer
        ),
        (30.0, RefusalCode::ResourceConflict)
    );
}

#[tokio::test]
async fn the_update_window_and_its_answer_from_the_scenario() {
    let text = scenario_with(|s| {
        s["settings"] =
            json!({"tdgUpdateSeconds": 20, "updateInProgressAnswer": "InvalidRequestException"});
    });
    let sim = Harness::start_text(&text, Some(100.0)).await;
    replicate(&sim).await;
    sim.advance(400.0).await;
    let east = sim.client(SOURCE);
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    east.update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony(50))
        .send()
        .await
        .unwrap();
    sim.advance(15.0).await;
    let err = east
        .update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony(0))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    sim.advance(6.0).await;
    assert_eq!(
        group_status(&sim, &default_arn).await,
        Some(TrafficDistributionGroupStatus::Active)
    );
    // A scenario cannot stage updateInProgress (there is no group yet).
    let bad = scenario_with(|s| {
        s["instances"][0]["groupFailures"] =
            json!([{"group": "sales", "failure": "updateInProgress"}]);
    });
    let built = connect_sim::Sim::new(
        connect_sim::Scenario::parse(&bad).unwrap(),
        connect_sim::Options {
            time_scale: 1.0,
            quota_factor: None,
            seed: None,
        },
    );
    assert!(built.is_err_and(|e| e.to_string().contains("updateInProgress")));
}
