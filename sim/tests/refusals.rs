//! Every documented refusal of ReplicateInstance and UpdateTrafficDistribution, and that a
//! refused call changes nothing.

mod common;

use aws_sdk_connect::types::{
    AgentConfig, Distribution, SignInConfig, SignInDistribution, TelephonyConfig,
};
use common::*;
use connect_sim::control::SimState;

/// Instances that each break one prerequisite, plus a clean one per region pair.
const EDGE_CASES: &str = r#"{
  "instances": [
    {"id": "ok-east", "region": "us-east-1", "alias": "ok-east"},
    {"id": "no-alias", "region": "us-east-1"},
    {"id": "managed", "region": "us-east-1", "alias": "managed-users", "identityManagementType": "CONNECT_MANAGED"},
    {"id": "creating", "region": "us-east-1", "alias": "still-creating", "status": "CREATION_FAILED"},
    {"id": "ok-frankfurt", "region": "eu-central-1", "alias": "ok-frankfurt"},
    {"id": "osaka", "region": "ap-northeast-3", "alias": "osaka-center"},
    {"id": "tokyo", "region": "ap-northeast-1", "alias": "tokyo-center"}
  ]
}"#;

async fn replicate_err(
    sim: &Harness,
    region: &str,
    instance: &str,
    replica: &str,
) -> (String, String) {
    let err = sim
        .client(region)
        .replicate_instance()
        .instance_id(instance)
        .replica_region(replica)
        .send()
        .await
        .expect_err("refused");
    (code(&err), message(&err))
}

fn replica_count(state: &SimState) -> usize {
    state
        .instances
        .iter()
        .filter(|i| i.replica_of.is_some())
        .count()
}

#[tokio::test]
async fn replicate_instance_refuses_each_documented_case_and_changes_nothing() {
    let sim = Harness::start_text(EDGE_CASES, Some(100.0)).await;
    let cases = [
        ("us-east-1", "ok-east", "us-east-1", "own region"),
        (
            "us-east-1",
            "ok-east",
            "eu-west-2",
            "not a Global Resiliency pair",
        ),
        (
            "eu-central-1",
            "ok-frankfurt",
            "us-west-2",
            "not a Global Resiliency pair",
        ),
        (
            "ap-northeast-3",
            "osaka",
            "ap-northeast-1",
            "not a Global Resiliency pair",
        ),
        (
            "ap-northeast-1",
            "tokyo",
            "ap-northeast-3",
            "not a Global Resiliency pair",
        ),
        ("us-east-1", "no-alias", "us-west-2", "no alias"),
        ("us-east-1", "managed", "us-west-2", "needs SAML"),
        ("us-east-1", "creating", "us-west-2", "must be ACTIVE"),
    ];
    for (region, instance, replica, why) in cases {
        let (code, message) = replicate_err(&sim, region, instance, replica).await;
        assert_eq!(code, "InvalidRequestException", "{instance} -> {replica}");
        assert!(message.contains(why), "{instance} -> {replica}: {message}");
    }
    let state = sim.state().await;
    assert_eq!(replica_count(&state), 0);
    assert!(state.traffic_distribution_groups.is_empty());
    let calls = sim.calls("ReplicateInstance").await;
    assert_eq!(calls.len(), cases.len());
    assert!(calls
        .iter()
        .all(|c| c.status == 400 && c.error_type.as_deref() == Some("InvalidRequestException")));

    // An unknown instance is not found; a replicated one is "already replicated", in any region.
    let (code, _) = replicate_err(&sim, "us-east-1", "nope", "us-west-2").await;
    assert_eq!(code, "ResourceNotFoundException");
    sim.client("eu-central-1")
        .replicate_instance()
        .instance_id("ok-frankfurt")
        .replica_region("eu-west-2")
        .send()
        .await
        .expect("eu-central-1 -> eu-west-2 is a pair");
    sim.advance(600.0).await;
    for replica in ["eu-west-2", "us-east-1"] {
        let (code, message) = replicate_err(&sim, "eu-central-1", "ok-frankfurt", replica).await;
        assert_eq!(code, "InvalidRequestException");
        assert!(message.contains("already replicated"), "{message}");
    }
    let (code, message) = replicate_err(&sim, "eu-west-2", "ok-frankfurt", "eu-central-1").await;
    assert_eq!(
        code, "InvalidRequestException",
        "the replica itself cannot be replicated"
    );
    assert!(message.contains("already replicated"), "{message}");
    assert_eq!(replica_count(&sim.state().await), 1);
}

#[tokio::test]
async fn the_one_way_tokyo_osaka_pair_is_a_scenario_setting() {
    let text = EDGE_CASES.replacen(
        "{\n  \"instances\"",
        r#"{"settings": {"regionPairs": [["ap-northeast-1", "ap-northeast-3"]]}, "instances""#,
        1,
    );
    let sim = Harness::start_text(&text, Some(100.0)).await;
    let (code, _) = replicate_err(&sim, "ap-northeast-3", "osaka", "ap-northeast-1").await;
    assert_eq!(code, "InvalidRequestException", "one way only");
    sim.client("ap-northeast-1")
        .replicate_instance()
        .instance_id("tokyo")
        .replica_region("ap-northeast-3")
        .send()
        .await
        .expect("ap-northeast-1 -> ap-northeast-3 when enabled");
}

#[tokio::test]
async fn a_reused_client_token_with_other_parameters_is_refused() {
    let sim = Harness::start_text(EDGE_CASES, Some(100.0)).await;
    let east = sim.client("us-east-1");
    east.replicate_instance()
        .instance_id("ok-east")
        .replica_region("us-west-2")
        .client_token("t1")
        .send()
        .await
        .unwrap();
    let err = east
        .replicate_instance()
        .instance_id("ok-east")
        .replica_region("us-west-2")
        .replica_alias("other-alias")
        .client_token("t1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    assert!(message(&err).contains("ClientToken"));
}

fn dist(a: i32, b: i32) -> Vec<Distribution> {
    vec![
        Distribution::builder()
            .region(SOURCE)
            .percentage(a)
            .build()
            .unwrap(),
        Distribution::builder()
            .region(REPLICA)
            .percentage(b)
            .build()
            .unwrap(),
    ]
}

fn telephony(d: Vec<Distribution>) -> TelephonyConfig {
    TelephonyConfig::builder()
        .set_distributions(Some(d))
        .build()
        .unwrap()
}

#[tokio::test]
async fn update_traffic_distribution_enforces_steps_sums_regions_and_sign_in_rules() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();

    let groups = east
        .list_traffic_distribution_groups()
        .send()
        .await
        .unwrap();
    let default_arn = groups.traffic_distribution_group_summary_list()[0]
        .arn()
        .unwrap()
        .to_string();
    let err = east
        .update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony(dist(50, 50)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "InvalidRequestException",
        "a group still being created is not ACTIVE"
    );
    sim.advance(400.0).await;

    let bad = [
        (telephony(dist(55, 45)), "steps of 10"),
        (telephony(dist(50, 40)), "add up to 100"),
        (
            telephony(vec![Distribution::builder()
                .region(SOURCE)
                .percentage(100)
                .build()
                .unwrap()]),
            "exactly once",
        ),
        (
            telephony(vec![
                Distribution::builder()
                    .region(SOURCE)
                    .percentage(50)
                    .build()
                    .unwrap(),
                Distribution::builder()
                    .region("eu-west-2")
                    .percentage(50)
                    .build()
                    .unwrap(),
            ]),
            "exactly once",
        ),
    ];
    for (config, why) in bad {
        let err = east
            .update_traffic_distribution()
            .id(&default_arn)
            .telephony_config(config)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidRequestException");
        assert!(message(&err).contains(why), "{}", message(&err));
    }
    let err = east
        .update_traffic_distribution()
        .id(&default_arn)
        .agent_config(
            AgentConfig::builder()
                .set_distributions(Some(dist(30, 60)))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "InvalidRequestException",
        "agent percentages add up to 100 too"
    );
    let err = east
        .update_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException", "an empty update");

    // Sign-in belongs to the default group only.
    let custom = east
        .create_traffic_distribution_group()
        .name("Billing numbers")
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("create a custom group");
    let custom_arn = custom.arn().unwrap().to_string();
    let err = sim
        .client(REPLICA)
        .create_traffic_distribution_group()
        .name("From the replica")
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "InvalidRequestException",
        "groups are created in the source region"
    );
    sim.advance(60.0).await;
    let sign_in = SignInConfig::builder()
        .distributions(
            SignInDistribution::builder()
                .region(SOURCE)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .distributions(
            SignInDistribution::builder()
                .region(REPLICA)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = east
        .update_traffic_distribution()
        .id(&custom_arn)
        .sign_in_config(sign_in.clone())
        .send()
        .await
        .unwrap_err();
    assert!(message(&err).contains("default"), "{}", message(&err));

    // Nothing above changed any distribution.
    let state = sim.state().await;
    for g in &state.traffic_distribution_groups {
        assert_eq!(g.telephony[SOURCE], 100);
        assert_eq!(g.status, "ACTIVE");
    }

    // A valid change is accepted; a second one while it applies is refused (the group must be
    // ACTIVE).
    east.update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony(dist(50, 50)))
        .sign_in_config(sign_in)
        .send()
        .await
        .unwrap();
    let err = east
        .update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony(dist(0, 100)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    sim.advance(3.0).await;
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!((g.telephony[SOURCE], g.telephony[REPLICA]), (50, 50));
    assert_eq!(g.agents[SOURCE], 100, "agents unchanged when not sent");

    // The default group cannot be deleted; a custom one with no numbers can, at home only.
    let err = east
        .delete_traffic_distribution_group()
        .traffic_distribution_group_id(&default_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let err = sim
        .client(REPLICA)
        .delete_traffic_distribution_group()
        .traffic_distribution_group_id(&custom_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&custom_arn)
        .send()
        .await
        .unwrap();
    sim.advance(30.0).await;
    let left = east
        .list_traffic_distribution_groups()
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = left
        .traffic_distribution_group_summary_list()
        .iter()
        .filter_map(|g| g.name())
        .collect();
    assert_eq!(
        names,
        ["acme-contact-default", "sales"],
        "the custom group is gone; the scenario's sales group stays"
    );
}
