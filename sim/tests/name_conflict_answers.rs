//! A resource name conflict answered either way: InvalidRequestException on the first
//! ReplicateInstance (the replica-creation guide's list of refusals), or, by default, accepted
//! with the resource left unsynchronised and ResourceConflictException on a repeat call.

mod common;

use common::*;
use connect_sim::control::{RefusalCode, SettingsChange};
use serde_json::{json, Value};

async fn replicate(sim: &Harness) -> Result<(), (String, String, u16)> {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| (code(&e), message(&e), status(&e)))
}

async fn answer(sim: &Harness, a: RefusalCode) {
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            name_conflict_answer: Some(a),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(settings.name_conflict_answer, a);
}

#[tokio::test]
async fn the_first_call_fails_until_the_conflict_is_resolved() {
    // Given small with a replica-side look-alike of the unused Support queue, and conflicts
    // answered with InvalidRequestException.
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["settings"] = json!({"nameConflictAnswer": "InvalidRequestException"});
    scenario["instances"][0]["replicaConflicts"] = json!([{"kind": "queues", "name": "Support"}]);
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    let east = sim.client(SOURCE);

    // Then the first ReplicateInstance fails with InvalidRequestException naming it, and
    // nothing starts.
    let (code, message, status) = replicate(&sim).await.unwrap_err();
    assert_eq!((code.as_str(), status), ("InvalidRequestException", 400));
    assert!(message.contains("resource name conflict"), "{message}");
    assert!(message.contains("QUEUE 'Support'"), "{message}");
    let state = sim.state().await;
    assert!(state.replications.is_empty());
    assert!(state.instance(REPLICA, INSTANCE).is_none());
    assert!(state.traffic_distribution_groups.is_empty());

    // When the source's Support queue is deleted, the call goes through.
    let queues = east
        .list_queues()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let support = queues
        .queue_summary_list()
        .iter()
        .find(|q| q.name() == Some("Support"))
        .and_then(|q| q.id())
        .unwrap()
        .to_string();
    east.delete_queue()
        .instance_id(INSTANCE)
        .queue_id(&support)
        .send()
        .await
        .unwrap();
    replicate(&sim).await.expect("no conflict left");
    sim.advance(500.0).await;

    // And replication is complete without findings (the look-alike is just another queue).
    let findings = sim
        .client(REPLICA)
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("QUEUE")
        .send()
        .await
        .unwrap();
    assert!(findings.replication_findings_list().is_empty());
}

#[tokio::test]
async fn the_answer_is_a_run_time_setting_and_applies_to_repeat_calls_too() {
    // Given the conflict scenario with the answer switched to InvalidRequestException.
    let sim = Harness::start("conflict").await;
    assert_eq!(
        sim.control.settings().await.unwrap().name_conflict_answer,
        RefusalCode::ResourceConflict,
        "the default keeps the resource unsynchronised"
    );
    answer(&sim, RefusalCode::InvalidRequest).await;
    let (code, message, _) = replicate(&sim).await.unwrap_err();
    assert_eq!(code, "InvalidRequestException");
    assert!(message.contains("QUEUE 'Billing'"), "{message}");

    // When it is switched back, the call is accepted and Billing is left unsynchronised.
    answer(&sim, RefusalCode::ResourceConflict).await;
    replicate(&sim).await.expect("accepted");
    sim.advance(500.0).await;
    let state = sim.state().await;
    assert_eq!(state.replications[0].blocked.len(), 1);
    assert_eq!(state.replications[0].blocked[0].name, "Billing");
    let (code, _, status) = replicate(&sim).await.unwrap_err();
    assert_eq!((code.as_str(), status), ("ResourceConflictException", 409));

    // And with InvalidRequestException, a repeat call while the look-alike remains gets it.
    answer(&sim, RefusalCode::InvalidRequest).await;
    let (code, message, status) = replicate(&sim).await.unwrap_err();
    assert_eq!((code.as_str(), status), ("InvalidRequestException", 400));
    assert!(message.contains("Billing"), "{message}");
}
