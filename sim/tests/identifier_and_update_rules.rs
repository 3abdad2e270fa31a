//! Rules the admin guide states beyond the model: a phone number is described from the other
//! region by ARN only; UpdateTrafficDistribution needs a telephony distribution; and an agent
//! disassociated from a group outside any tool (the control API) for agent sync to find.

mod common;

use common::*;

#[tokio::test]
async fn a_number_in_a_group_is_described_from_the_other_region_by_arn_only() {
    // Given small replicated: its numbers are in groups, listed from both regions.
    let sim = replicated(400.0).await;
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    let listed = numbers(&sim, REPLICA, &default_arn).await;
    let (number, id, _) = listed[0].clone();
    let arn = sim
        .client(REPLICA)
        .list_phone_numbers_v2()
        .target_arn(&default_arn)
        .send()
        .await
        .unwrap()
        .list_phone_numbers_summary_list()[0]
        .phone_number_arn()
        .unwrap()
        .to_string();
    assert!(arn.contains(&format!(":{SOURCE}:")), "{arn}");

    // Then at home both the ID and the ARN describe it.
    for label in [&id, &arn] {
        let out = sim
            .client(SOURCE)
            .describe_phone_number()
            .phone_number_id(label)
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.claimed_phone_number_summary().unwrap().phone_number(),
            Some(number.as_str())
        );
    }

    // From the other region the bare ID is ResourceNotFoundException; the ARN works.
    let west = sim.client(REPLICA);
    let err = west
        .describe_phone_number()
        .phone_number_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let out = west
        .describe_phone_number()
        .phone_number_id(&arn)
        .send()
        .await
        .expect("by ARN");
    assert_eq!(
        out.claimed_phone_number_summary().unwrap().target_arn(),
        Some(default_arn.as_str())
    );
    // An ARN naming another region than the number's is no number.
    let wrong = arn.replace(&format!(":{SOURCE}:"), &format!(":{REPLICA}:"));
    let err = west
        .describe_phone_number()
        .phone_number_id(&wrong)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn update_traffic_distribution_without_telephony_is_an_invalid_request() {
    use aws_sdk_connect::types::{AgentConfig, Distribution, TelephonyConfig};
    let sim = replicated(400.0).await;
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    let d = |r: &str, p: i32| {
        Distribution::builder()
            .region(r)
            .percentage(p)
            .build()
            .unwrap()
    };
    let agents = AgentConfig::builder()
        .distributions(d(SOURCE, 50))
        .distributions(d(REPLICA, 50))
        .build()
        .unwrap();

    // An agents-only update (valid on its own) is refused: the telephony distribution is
    // required.
    let err = sim
        .client(SOURCE)
        .update_traffic_distribution()
        .id(&default_arn)
        .agent_config(agents.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err).as_str(), status(&err)),
        ("InvalidRequestException", 400)
    );
    assert!(
        message(&err).contains("TelephonyConfig"),
        "{}",
        message(&err)
    );
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!((g.status.as_str(), g.agents[SOURCE]), ("ACTIVE", 100));

    // With the current telephony distribution sent again, the agents move.
    let telephony = TelephonyConfig::builder()
        .distributions(d(SOURCE, 100))
        .distributions(d(REPLICA, 0))
        .build()
        .unwrap();
    sim.client(SOURCE)
        .update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(telephony)
        .agent_config(agents)
        .send()
        .await
        .expect("with telephony");
    sim.advance(4.0).await;
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!((g.agents[SOURCE], g.telephony[SOURCE]), (50, 100));
}

#[tokio::test]
async fn an_agent_disassociated_outside_any_tool_is_found_and_associated_again() {
    use connect_sim::control::ClientError;
    let sim = replicated(500.0).await;
    let east = sim.client(SOURCE);
    let default_arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    let users = east
        .list_users()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let agents: Vec<(String, String)> = users
        .user_summary_list()
        .iter()
        .filter(|u| u.username().is_some_and(|n| n.starts_with("agent")))
        .take(3)
        .map(|u| (u.id().unwrap().into(), u.username().unwrap().into()))
        .collect();
    for (id, _) in &agents {
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&default_arn)
            .user_id(id)
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap();
    }
    let associated = || async {
        let mut ids: Vec<String> = sim
            .client(SOURCE)
            .list_traffic_distribution_group_users()
            .traffic_distribution_group_id(&default_arn)
            .send()
            .await
            .unwrap()
            .traffic_distribution_group_user_summary_list()
            .iter()
            .filter_map(|u| u.user_id().map(String::from))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(associated().await.len(), 3);
    sim.control.clear_calls().await.unwrap();

    // When two agents are disassociated by hand (one by username, one by ID).
    let removed = sim
        .control
        .disassociate_outside("acme-contact-default", &[&agents[0].1, &agents[1].0])
        .await
        .unwrap();
    assert_eq!(removed, [agents[0].0.clone(), agents[1].0.clone()]);

    // Then the group lists one user, and no API call did it.
    assert_eq!(associated().await, [agents[2].0.clone()]);
    assert!(sim
        .calls("DisassociateTrafficDistributionGroupUser")
        .await
        .is_empty());

    // And agent sync can associate them again through the API.
    for (id, _) in &agents[..2] {
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&default_arn)
            .user_id(id)
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(associated().await.len(), 3);

    // A user not associated is no change; an unknown user or group is refused.
    let removed = sim
        .control
        .disassociate_outside(&default_arn, &["admin"])
        .await
        .unwrap();
    assert!(removed.is_empty());
    for (group, user) in [(default_arn.as_str(), "nobody"), ("no-such-group", "admin")] {
        let err = sim
            .control
            .disassociate_outside(group, &[user])
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Refused { status: 400, .. }),
            "{err}"
        );
    }
}
