//! Access denied: identity-based policies per access key, enforced by the front door on every
//! call with IAM's AccessDeniedException; and an account without Global Resiliency.

mod common;

use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::{BehaviorVersion, Credentials, Region};
use common::*;
use connect_sim::control::{AccessPolicy, ClientError, SettingsChange, Statement};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

/// An SDK client signing with `key`, without retries.
fn client_as(sim: &Harness, region: &str, key: &str) -> aws_sdk_connect::Client {
    let conf = aws_sdk_connect::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(format!("http://{}", sim.addr))
        .credentials_provider(Credentials::new(key, "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_connect::Client::from_conf(conf)
}

fn instance_arn(region: &str) -> String {
    format!("arn:aws:connect:{region}:{ACCOUNT}:instance/{INSTANCE}")
}

#[tokio::test]
async fn a_scenario_policy_lets_a_key_read_one_instance_and_nothing_else() {
    // Given a read-only key for the instance in us-east-1 (and what is in it).
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["accessPolicies"] = json!({"AKIDREADONLY": {"statements": [{
        "actions": ["connect:Describe*", "connect:List*"],
        "resources": [instance_arn(SOURCE), format!("{}/*", instance_arn(SOURCE))]
    }]}});
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    let reader = client_as(&sim, SOURCE, "AKIDREADONLY");

    // Then it describes and lists the instance, and describes a user in it.
    reader
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("allowed");
    let users = reader
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("allowed");
    let user = users.user_summary_list()[0].id().unwrap();
    reader
        .describe_user()
        .instance_id(INSTANCE)
        .user_id(user)
        .send()
        .await
        .expect("instance/*/agent/ID matches the second pattern");

    // But ReplicateInstance is 403 AccessDeniedException, worded as IAM words it, before the
    // input is looked at (no ReplicaRegion here).
    let err = reader
        .replicate_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert_eq!(status(&err), 403);
    assert_eq!(
        message(&err),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/AKIDREADONLY is not authorized to perform: connect:ReplicateInstance on resource: {} because no identity-based policy allows the connect:ReplicateInstance action",
            instance_arn(SOURCE)
        )
    );
    let logged = sim.calls("ReplicateInstance").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (logged[0].status, logged[0].error_type.as_deref()),
        (403, Some("AccessDeniedException"))
    );
    // And ListInstances (resource instance/*) and the other region are denied.
    let err = reader.list_instances().send().await.unwrap_err();
    assert!(message(&err).contains(&format!(
        "on resource: arn:aws:connect:{SOURCE}:{ACCOUNT}:instance/*"
    )));
    let err = client_as(&sim, REPLICA, "AKIDREADONLY")
        .list_traffic_distribution_groups()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    // A key without a policy does everything.
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("no policy, no limit");
}

#[tokio::test]
async fn policies_set_at_run_time_scope_groups_by_their_arn_in_the_source_region() {
    let sim = replicated(400.0).await;
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();

    // Given a key allowed everything on us-west-2 resources only.
    let policy = AccessPolicy {
        principal: Some(format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/FailoverRole/ops"
        )),
        statements: vec![Statement {
            actions: vec!["connect:*".into()],
            resources: vec![format!("arn:aws:connect:{REPLICA}:{ACCOUNT}:*")],
        }],
    };
    assert_eq!(
        sim.control
            .set_access_policy("AKIDOPS", &policy)
            .await
            .unwrap(),
        policy
    );
    assert_eq!(
        sim.control.access_policies().await.unwrap().policies["AKIDOPS"],
        policy
    );
    let ops = client_as(&sim, REPLICA, "AKIDOPS");

    // Then it reads the replica, but the group's ARN names the source region: denied.
    ops.describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("the replica is a us-west-2 resource");
    let err = ops
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(message(&err).starts_with(&format!(
        "User: arn:aws:sts::{ACCOUNT}:assumed-role/FailoverRole/ops is not authorized to perform: connect:GetTrafficDistribution on resource: {default_arn}"
    )));

    // When the policy is removed, the key does everything again.
    sim.control.remove_access_policy("AKIDOPS").await.unwrap();
    ops.get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .expect("no policy");

    // A policy that is not one is refused.
    let bad = AccessPolicy {
        principal: None,
        statements: vec![Statement {
            actions: vec!["s3:GetObject".into()],
            resources: vec!["*".into()],
        }],
    };
    let err = sim
        .control
        .set_access_policy("AKIDBAD", &bad)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused { status: 400, .. }));
}

#[tokio::test]
async fn an_account_without_global_resiliency_cannot_replicate_or_create_groups() {
    // Given an account not enabled for Global Resiliency.
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["settings"] = json!({"globalResiliencyEnabled": false});
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    let east = sim.client(SOURCE);

    // Then ReplicateInstance is 403 AccessDeniedException, and nothing starts.
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err).as_str(), status(&err)),
        ("AccessDeniedException", 403)
    );
    assert!(message(&err).contains("Global Resiliency is not enabled for account"));
    assert!(sim.state().await.replications.is_empty());

    // When AWS enables it (the setting, at run time), replication works.
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            global_resiliency_enabled: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(settings.global_resiliency_enabled);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("enabled");
    sim.advance(400.0).await;

    // And when it is switched off again, CreateTrafficDistributionGroup is refused the same way.
    sim.control
        .change_settings(&SettingsChange {
            global_resiliency_enabled: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = east
        .create_traffic_distribution_group()
        .name("Billing numbers")
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
}
