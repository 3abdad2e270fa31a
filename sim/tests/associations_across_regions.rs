//! Traffic distribution groups and agents across the two regions: the replica region takes
//! group ARNs only and only the home region takes associations, and new hires can be
//! associated once they exist in both regions.

mod common;

use common::*;

#[tokio::test]
async fn the_replica_region_accepts_group_arns_only_and_home_only_takes_associations() {
    let sim = replicated(400.0).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
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
    let sim = replicated(400.0).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
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
