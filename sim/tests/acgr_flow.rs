//! The whole Global Resiliency flow, driven by the unmodified `aws-sdk-connect` client.

mod common;

use aws_sdk_connect::types::{
    AgentConfig, Distribution, InstanceReplicationStatus, InstanceStatus, SignInConfig,
    SignInDistribution, TelephonyConfig, TrafficDistributionGroupStatus,
};
use common::*;

fn split(a: &str, pa: i32, b: &str, pb: i32) -> Vec<Distribution> {
    vec![
        Distribution::builder()
            .region(a)
            .percentage(pa)
            .build()
            .unwrap(),
        Distribution::builder()
            .region(b)
            .percentage(pb)
            .build()
            .unwrap(),
    ]
}

async fn default_group_arn(c: &aws_sdk_connect::Client) -> String {
    let out = c
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list groups");
    let g = out
        .traffic_distribution_group_summary_list()
        .iter()
        .find(|g| g.is_default())
        .expect("a default group");
    g.arn().unwrap().to_string()
}

#[tokio::test]
async fn replicate_mirror_associate_and_shift_traffic() {
    // Given the small scenario, with quotas raised so that 50 associations run at once.
    let text = scenario_text("small");
    let sim = Harness::start_text(&text, Some(100.0)).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);

    let before = east
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        before.instance().unwrap().instance_status(),
        Some(&InstanceStatus::Active)
    );
    assert!(before.replication_configuration().is_none());

    // When the instance is replicated, twice with the same client token.
    let first = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .client_token("run-1")
        .send()
        .await
        .expect("replicate");
    let again = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .client_token("run-1")
        .send()
        .await
        .expect("the same token returns the first answer");

    // Then the replica keeps the ID, has an ARN in the replica region, and only one exists.
    assert_eq!(first.id(), Some(INSTANCE));
    assert_eq!(
        first.arn(),
        Some(format!("arn:aws:connect:{REPLICA}:123456789012:instance/{INSTANCE}").as_str())
    );
    assert_eq!((again.id(), again.arn()), (first.id(), first.arn()));
    let state = sim.state().await;
    let replicas = state
        .instances
        .iter()
        .filter(|i| i.region == REPLICA)
        .count();
    assert_eq!(replicas, 1);
    let group_names: Vec<&str> = state
        .traffic_distribution_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(
        group_names,
        ["acme-contact-default", "sales"],
        "one default group, and the scenario's sales group"
    );
    assert_eq!(sim.calls("ReplicateInstance").await.len(), 2);

    // The replica is being created, replication is in progress, the default group too.
    let replica = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replica.instance().unwrap().instance_status(),
        Some(&InstanceStatus::CreationInProgress)
    );
    let rc = replica
        .replication_configuration()
        .expect("replication configuration");
    assert_eq!(rc.source_region(), Some(SOURCE));
    assert!(rc.global_sign_in_endpoint().is_some());
    let regions: Vec<_> = rc
        .replication_status_summary_list()
        .iter()
        .filter_map(|s| s.region())
        .collect();
    assert_eq!(regions, [SOURCE, REPLICA]);
    assert!(rc
        .replication_status_summary_list()
        .iter()
        .all(|s| s.replication_status()
            == Some(&InstanceReplicationStatus::InstanceReplicationInProgress)));
    let groups = east
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let group = &groups.traffic_distribution_group_summary_list()[0];
    assert!(group.is_default());
    assert_eq!(
        group.status(),
        Some(&TrafficDistributionGroupStatus::CreationInProgress)
    );
    assert!(group.instance_arn().unwrap().contains(SOURCE));

    // When the replica's creation time has passed.
    sim.advance(300.0).await;

    // Then the replica and the group are ACTIVE, and the numbers moved into the group.
    let replica = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replica.instance().unwrap().instance_status(),
        Some(&InstanceStatus::Active)
    );
    let arn = default_group_arn(&east).await;
    let numbers = west
        .list_phone_numbers_v2()
        .target_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        numbers.list_phone_numbers_summary_list().len(),
        2,
        "numbers are visible from the replica region through the group"
    );
    assert!(numbers
        .list_phone_numbers_summary_list()
        .iter()
        .all(|n| n.target_arn() == Some(arn.as_str())));

    // Mirroring is progressive: dependencies first, users last.
    sim.advance(20.0).await;
    let hours = west
        .list_hours_of_operations()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(hours.hours_of_operation_summary_list().len(), 2);
    let users = west
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert!(
        users.user_summary_list().is_empty(),
        "users wait for their routing profiles"
    );

    // When mirroring has had time to finish.
    sim.advance(120.0).await;

    // Then replication is complete and both regions list the same resources, with the same IDs.
    let rc = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert!(rc
        .replication_configuration()
        .unwrap()
        .replication_status_summary_list()
        .iter()
        .all(|s| s.replication_status()
            == Some(&InstanceReplicationStatus::InstanceReplicationComplete)));
    let ids = |out: aws_sdk_connect::operation::list_users::ListUsersOutput| {
        let mut v: Vec<String> = out
            .user_summary_list()
            .iter()
            .filter_map(|u| u.id().map(String::from))
            .collect();
        v.sort();
        v
    };
    let east_users = ids(east
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap());
    let west_users = ids(west
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap());
    assert_eq!(east_users.len(), 50);
    assert_eq!(east_users, west_users);
    let instances = sim.state().await.instances;
    let (e, w) = (&instances[0].counts, &instances[1].counts);
    assert_eq!(e, w, "every kind is mirrored");
    let findings = west
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("QUEUE")
        .send()
        .await
        .unwrap();
    assert!(findings.replication_findings_list().is_empty());
    assert!(findings
        .approximate_drifted_resource_counts()
        .iter()
        .all(|d| d.count() == 0));

    // When every user is associated with the default group, in its home region.
    for id in &east_users {
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&arn)
            .user_id(id)
            .instance_id(INSTANCE)
            .send()
            .await
            .expect("associate");
    }

    // Then the group lists them, ten at a time, from either region (by ARN).
    let listed: Vec<String> = west
        .list_traffic_distribution_group_users()
        .traffic_distribution_group_id(&arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|u| u.user_id().map(String::from))
        .collect();
    assert_eq!(listed.len(), 50);
    let pages = sim.calls("ListTrafficDistributionGroupUsers").await.len();
    assert_eq!(pages, 5, "pages hold at most 10 users");

    // When traffic fails over: the update is sent in the region taking the traffic, by ARN.
    west.update_traffic_distribution()
        .id(&arn)
        .telephony_config(
            TelephonyConfig::builder()
                .set_distributions(Some(split(SOURCE, 0, REPLICA, 100)))
                .build()
                .unwrap(),
        )
        .agent_config(
            AgentConfig::builder()
                .set_distributions(Some(split(SOURCE, 0, REPLICA, 100)))
                .build()
                .unwrap(),
        )
        .sign_in_config(
            SignInConfig::builder()
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
                .unwrap(),
        )
        .send()
        .await
        .expect("update");

    // Then the group is busy until the change is applied, and reads back the new split after.
    let busy = west
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        busy.traffic_distribution_group().unwrap().status(),
        Some(&TrafficDistributionGroupStatus::UpdateInProgress)
    );
    let err = west
        .get_traffic_distribution()
        .id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    sim.advance(3.0).await;
    let got = west
        .get_traffic_distribution()
        .id(&arn)
        .send()
        .await
        .unwrap();
    let pct = |d: &[Distribution]| {
        d.iter()
            .map(|d| (d.region().to_string(), d.percentage()))
            .collect::<Vec<_>>()
    };
    let moved = vec![(SOURCE.to_string(), 0), (REPLICA.to_string(), 100)];
    assert_eq!(pct(got.telephony_config().unwrap().distributions()), moved);
    assert_eq!(pct(got.agent_config().unwrap().distributions()), moved);
    assert!(got
        .sign_in_config()
        .unwrap()
        .distributions()
        .iter()
        .all(|d| d.enabled()));
    assert!(got.last_failover_time().is_some());
    assert_eq!(got.arn(), Some(arn.as_str()));
}

#[tokio::test]
async fn the_replica_region_accepts_group_arns_only_and_home_only_takes_associations() {
    let sim = Harness::start_text(&scenario_text("small"), Some(100.0)).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    let arn = default_group_arn(&east).await;
    let id = arn.rsplit('/').next().unwrap().to_string();

    // By ID: fine at home, not found from the replica region.
    east.describe_traffic_distribution_group()
        .traffic_distribution_group_id(&id)
        .send()
        .await
        .expect("ID at home");
    let err = west
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = west
        .get_traffic_distribution()
        .id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    west.describe_traffic_distribution_group()
        .traffic_distribution_group_id(&arn)
        .send()
        .await
        .expect("ARN from the replica");

    // Associations only in the home region, even by ARN.
    let user = east
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap()
        .user_summary_list()[0]
        .id()
        .unwrap()
        .to_string();
    let err = west
        .associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&arn)
        .user_id(&user)
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let state = sim.state().await;
    assert!(tdg_summary(&state, INSTANCE).users.is_empty());

    // Repeating an association is harmless; disassociating works at home.
    for _ in 0..2 {
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&id)
            .user_id(&user)
            .instance_id(INSTANCE)
            .send()
            .await
            .expect("associate is idempotent");
    }
    let state = sim.state().await;
    assert_eq!(tdg_summary(&state, INSTANCE).users.len(), 1);
    east.disassociate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&id)
        .user_id(&user)
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let state = sim.state().await;
    assert!(tdg_summary(&state, INSTANCE).users.is_empty());
}

#[tokio::test]
async fn new_hires_are_mirrored_and_can_only_be_associated_once_they_exist_in_both_regions() {
    let sim = Harness::start_text(&scenario_text("small"), Some(100.0)).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    let arn = default_group_arn(&east).await;
    let rp = east
        .list_routing_profiles()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap()
        .routing_profile_summary_list()[0]
        .id()
        .unwrap()
        .to_string();
    let sp = east
        .list_security_profiles()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap()
        .security_profile_summary_list()[0]
        .id()
        .unwrap()
        .to_string();

    // Given a user created in the source after replication.
    let hire = east
        .create_user()
        .instance_id(INSTANCE)
        .username("new.hire")
        .phone_config(
            aws_sdk_connect::types::UserPhoneConfig::builder()
                .phone_type(aws_sdk_connect::types::PhoneType::SoftPhone)
                .build(),
        )
        .security_profile_ids(&sp)
        .routing_profile_id(&rp)
        .send()
        .await
        .expect("create user");
    let uid = hire.user_id().unwrap().to_string();

    // When it is associated before it reaches the replica, then it is refused.
    let err = east
        .associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&arn)
        .user_id(&uid)
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");

    // After the sync delay it exists in the replica with the same ID, and can be associated.
    sim.advance(11.0).await;
    let mirrored = west
        .describe_user()
        .instance_id(INSTANCE)
        .user_id(&uid)
        .send()
        .await
        .expect("mirrored");
    assert_eq!(mirrored.user().unwrap().username(), Some("new.hire"));
    east.associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&arn)
        .user_id(&uid)
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("associate after mirroring");

    // A duplicate username is refused; deleting the user is mirrored and drops its association.
    let dup = east
        .create_user()
        .instance_id(INSTANCE)
        .username("new.hire")
        .phone_config(
            aws_sdk_connect::types::UserPhoneConfig::builder()
                .phone_type(aws_sdk_connect::types::PhoneType::SoftPhone)
                .build(),
        )
        .security_profile_ids(&sp)
        .routing_profile_id(&rp)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&dup), "DuplicateResourceException");
    east.delete_user()
        .instance_id(INSTANCE)
        .user_id(&uid)
        .send()
        .await
        .unwrap();
    sim.advance(11.0).await;
    let err = west
        .describe_user()
        .instance_id(INSTANCE)
        .user_id(&uid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let state = sim.state().await;
    assert!(tdg_summary(&state, INSTANCE).users.is_empty());
}
