//! Phone numbers claimed to a non-default traffic distribution group, and moved between groups
//! and back to the instance, seen through the unmodified `aws-sdk-connect` client.

mod common;

use aws_sdk_connect::types::{Distribution, TrafficDistributionGroupStatus};
use common::*;

const SALES_NUMBER: &str = "+12065550142";

async fn group_arn(sim: &Harness, name: &str) -> String {
    groups(sim, SOURCE)
        .await
        .into_iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no group {name}"))
        .1
}

#[tokio::test]
async fn a_scenario_number_is_claimed_to_its_named_group() {
    let sim = replicated(0.0).await;

    // Right after ReplicateInstance both groups exist, the default first, being created.
    let east = sim.client(SOURCE);
    let listed = east
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let summaries = listed.traffic_distribution_group_summary_list();
    assert_eq!(summaries.len(), 2);
    assert!(summaries[0].is_default());
    assert_eq!(summaries[1].name(), Some("sales"));
    assert!(!summaries[1].is_default());
    assert!(summaries
        .iter()
        .all(|g| g.status() == Some(&TrafficDistributionGroupStatus::CreationInProgress)));

    // When the replica is ACTIVE.
    sim.advance(300.0).await;

    // Then both groups are ACTIVE and listed from both regions.
    for region in [SOURCE, REPLICA] {
        let listed = groups(&sim, region).await;
        let names: Vec<(&str, bool)> = listed.iter().map(|(n, _, d)| (n.as_str(), *d)).collect();
        assert_eq!(names, [("acme-contact-default", true), ("sales", false)]);
    }
    let sales_arn = group_arn(&sim, "sales").await;
    let default_arn = group_arn(&sim, "acme-contact-default").await;
    let described = sim
        .client(REPLICA)
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(&sales_arn)
        .send()
        .await
        .unwrap();
    let g = described.traffic_distribution_group().unwrap();
    assert_eq!(g.status(), Some(&TrafficDistributionGroupStatus::Active));
    assert!(!g.is_default());
    assert_eq!(
        g.instance_arn(),
        Some(format!("arn:aws:connect:{SOURCE}:123456789012:instance/{INSTANCE}").as_str())
    );
    let dist = east
        .get_traffic_distribution()
        .id(&sales_arn)
        .send()
        .await
        .unwrap();
    let pct = |c: &[Distribution]| -> Vec<(String, i32)> {
        c.iter()
            .map(|d| (d.region().to_string(), d.percentage()))
            .collect()
    };
    let expected = vec![(SOURCE.to_string(), 100), (REPLICA.to_string(), 0)];
    assert_eq!(
        pct(dist.telephony_config().unwrap().distributions()),
        expected
    );
    assert_eq!(pct(dist.agent_config().unwrap().distributions()), expected);
    assert!(dist.sign_in_config().is_none());

    // And the number is in the sales group, the others in the default group.
    let sales = numbers(&sim, REPLICA, &sales_arn).await;
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].0, SALES_NUMBER);
    assert_eq!(sales[0].2, sales_arn);
    let default = numbers(&sim, SOURCE, &default_arn).await;
    assert_eq!(default.len(), 2);
    assert!(default.iter().all(|n| n.0 != SALES_NUMBER));
    let described = east
        .describe_phone_number()
        .phone_number_id(&sales[0].1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .claimed_phone_number_summary()
            .unwrap()
            .target_arn(),
        Some(sales_arn.as_str())
    );

    // A group with a claimed number cannot be deleted.
    let err = east
        .delete_traffic_distribution_group()
        .traffic_distribution_group_id(&sales_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceInUseException");
}

#[tokio::test]
async fn update_phone_number_moves_numbers_between_groups_and_back_to_the_instance() {
    let sim = replicated(300.0).await;
    let east = sim.client(SOURCE);
    let sales_arn = group_arn(&sim, "sales").await;
    let default_arn = group_arn(&sim, "acme-contact-default").await;
    let instance_arn = format!("arn:aws:connect:{SOURCE}:123456789012:instance/{INSTANCE}");
    let sales_id = numbers(&sim, SOURCE, &sales_arn).await[0].1.clone();
    let other = numbers(&sim, SOURCE, &default_arn).await[0].clone();

    // A number in the default group moves to sales.
    let moved = east
        .update_phone_number()
        .phone_number_id(&other.1)
        .target_arn(&sales_arn)
        .send()
        .await
        .expect("move to sales");
    assert_eq!(moved.phone_number_id(), Some(other.1.as_str()));
    assert!(moved
        .phone_number_arn()
        .unwrap()
        .ends_with(&format!("phone-number/{}", other.1)));
    let in_sales: Vec<String> = numbers(&sim, REPLICA, &sales_arn)
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(in_sales.len(), 2);
    assert!(in_sales.contains(&other.0));
    assert_eq!(numbers(&sim, SOURCE, &default_arn).await.len(), 1);

    // The sales number moves to the default group, the other back to the instance.
    east.update_phone_number()
        .phone_number_id(&sales_id)
        .target_arn(&default_arn)
        .client_token("move-1")
        .send()
        .await
        .expect("move to the default group");
    east.update_phone_number()
        .phone_number_id(&sales_id)
        .target_arn(&default_arn)
        .client_token("move-1")
        .send()
        .await
        .expect("the same token and target again");
    let err = east
        .update_phone_number()
        .phone_number_id(&sales_id)
        .target_arn(&sales_arn)
        .client_token("move-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "IdempotencyException");
    east.update_phone_number()
        .phone_number_id(&other.1)
        .target_arn(&instance_arn)
        .send()
        .await
        .expect("back to the instance");
    let described = east
        .describe_phone_number()
        .phone_number_id(&other.1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .claimed_phone_number_summary()
            .unwrap()
            .target_arn(),
        Some(instance_arn.as_str())
    );
    let err = sim
        .client(REPLICA)
        .describe_phone_number()
        .phone_number_id(&other.1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "out of any group, a number is seen in its region only"
    );
    let described = east
        .describe_phone_number()
        .phone_number_id(&sales_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .claimed_phone_number_summary()
            .unwrap()
            .target_arn(),
        Some(default_arn.as_str())
    );
    assert!(numbers(&sim, SOURCE, &sales_arn).await.is_empty());

    // Refusals.
    let missing_group = format!(
        "arn:aws:connect:{SOURCE}:123456789012:traffic-distribution-group/00000000-0000-4000-8000-000000000000"
    );
    let replica_instance = format!("arn:aws:connect:{REPLICA}:123456789012:instance/{INSTANCE}");
    let cases: [(&str, Option<&str>, Option<&str>, &str); 6] = [
        (
            "00000000-0000-4000-8000-000000000001",
            Some(&sales_arn),
            None,
            "ResourceNotFoundException",
        ),
        (
            &sales_id,
            Some(&missing_group),
            None,
            "ResourceNotFoundException",
        ),
        (
            &sales_id,
            Some("arn:aws:s3:::bucket"),
            None,
            "InvalidParameterException",
        ),
        (
            &sales_id,
            Some(&replica_instance),
            None,
            "InvalidParameterException",
        ),
        (&sales_id, None, None, "InvalidParameterException"),
        (
            &sales_id,
            Some(&sales_arn),
            Some(INSTANCE),
            "InvalidParameterException",
        ),
    ];
    for (id, target, instance, expected) in cases {
        let err = east
            .update_phone_number()
            .phone_number_id(id)
            .set_target_arn(target.map(String::from))
            .set_instance_id(instance.map(String::from))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), expected, "{id} -> {target:?} / {instance:?}");
    }
    let err = sim
        .client(REPLICA)
        .update_phone_number()
        .phone_number_id(&sales_id)
        .target_arn(&sales_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "a number is updated in its own region"
    );

    // With no number claimed any more, the sales group can be deleted.
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&sales_arn)
        .send()
        .await
        .expect("delete the empty group");
    let calls = sim.calls("UpdatePhoneNumber").await;
    assert_eq!(calls.len(), 12);
}
