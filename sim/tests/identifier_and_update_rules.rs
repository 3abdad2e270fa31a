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
