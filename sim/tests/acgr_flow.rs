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
