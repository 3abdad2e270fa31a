//! A region in an outage answers 503 while the other keeps serving and takes the traffic, and
//! mirroring pauses until the region is back, seen through the unmodified `aws-sdk-connect`
//! client.

mod common;

use aws_sdk_connect::types::{
    Distribution, InstanceReplicationStatus, InstanceStatus, TelephonyConfig,
};
use common::*;
use connect_sim::control::{CallFilter, Outage, SimState};
use connect_sim::kinds::Kind;

fn split(source: i32, replica: i32) -> TelephonyConfig {
    let d = |region: &str, p: i32| {
        Distribution::builder()
            .region(region)
            .percentage(p)
            .build()
            .unwrap()
    };
    TelephonyConfig::builder()
        .distributions(d(SOURCE, source))
        .distributions(d(REPLICA, replica))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_unavailable_region_answers_503_while_the_other_keeps_serving_and_failing_over() {
    // Given small, replicated and fully mirrored.
    let sim = replicated(600.0).await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
    let default_arn = groups(&sim, SOURCE)
        .await
        .into_iter()
        .find(|g| g.2)
        .unwrap()
        .1;
    sim.control.clear_calls().await.expect("clear the call log");

    // When the source region becomes unavailable.
    set_outage(&sim, SOURCE, Some(Outage::Unavailable)).await;

    // Then every call signed for it answers 503 ServiceUnavailableException.
    let err = east
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ServiceUnavailableException");
    assert_eq!(status(&err), 503);
    assert!(
        message(&err).contains("simulated regional outage"),
        "{}",
        message(&err)
    );
    let err = east
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ServiceUnavailableException");
    let (status_code, headers, body) = sim
        .raw(signed_get(SOURCE, "/no/such/operation").as_bytes())
        .await;
    assert_eq!(status_code, 503, "{body}");
    assert!(headers.iter().any(|(k, v)| k == "x-amzn-errortype"
        && v.split(':').next() == Some("ServiceUnavailableException")));

    // And the replica region serves its instance, its mirrored copy, the groups and numbers.
    let replica = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("the replica answers");
    assert_eq!(
        replica.instance().unwrap().instance_status(),
        Some(&InstanceStatus::Active)
    );
    assert_eq!(replica.instance().unwrap().id(), Some(INSTANCE));
    let users = west
        .list_users()
        .instance_id(INSTANCE)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(users.user_summary_list().len(), 50);
    let listed = groups(&sim, REPLICA).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(numbers(&sim, REPLICA, &default_arn).await.len(), 2);
    west.describe_traffic_distribution_group()
        .traffic_distribution_group_id(&default_arn)
        .send()
        .await
        .expect("describe by ARN from the replica region");
    let before = west
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .expect("get by ARN from the replica region");
    assert_eq!(
        before.telephony_config().unwrap().distributions()[0].percentage(),
        100
    );
    let by_id = default_arn.rsplit('/').next().unwrap();
    let err = west
        .get_traffic_distribution()
        .id(by_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "from the replica region only the ARN works"
    );

    // When traffic fails over from the surviving region, by ARN.
    west.update_traffic_distribution()
        .id(&default_arn)
        .telephony_config(split(0, 100))
        .send()
        .await
        .expect("fail over from the replica region");
    sim.advance(3.0).await;
    let after = west
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .unwrap();
    let replica_share = after
        .telephony_config()
        .unwrap()
        .distributions()
        .iter()
        .find(|d| d.region() == REPLICA)
        .map(|d| d.percentage());
    assert_eq!(replica_share, Some(100));

    // Then the call log holds the refused calls with their region and status.
    let refused = sim
        .control
        .calls(&CallFilter::default().region(SOURCE))
        .await
        .unwrap();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused.iter().all(|c| c.status == 503
        && c.error_type.as_deref() == Some("ServiceUnavailableException")
        && c.region == SOURCE));
    let ops: Vec<&str> = refused.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(
        ops,
        ["DescribeInstance", "GetTrafficDistribution", "Unknown"]
    );
    let served = sim
        .control
        .calls(&CallFilter::default().region(REPLICA))
        .await
        .unwrap();
    assert!(served.iter().all(|c| c.status != 503));

    // When the outage is cleared, the source region serves again and sees the failover.
    set_outage(&sim, SOURCE, None).await;
    let back = east
        .get_traffic_distribution()
        .id(&default_arn)
        .send()
        .await
        .expect("the source region is back");
    assert_eq!(
        back.telephony_config().unwrap().distributions(),
        after.telephony_config().unwrap().distributions()
    );
}

#[tokio::test]
async fn mirroring_pauses_while_a_region_is_down_and_resumes_after() {
    // Given small replicated, the replica just ACTIVE and nothing mirrored yet.
    let sim = replicated(300.0).await;
    let counts =
        |state: &SimState, region: &str| state.instance(region, INSTANCE).unwrap().counts.clone();

    // When the replica region is down for longer than the first copy takes.
    set_outage(&sim, REPLICA, Some(Outage::Unavailable)).await;
    sim.advance(1000.0).await;

    // Then nothing reached it, and replication is still in progress.
    let state = sim.state().await;
    assert_eq!(counts(&state, REPLICA)[&Kind::Users], 0);
    assert_eq!(counts(&state, REPLICA)[&Kind::Queues], 0);
    let east = sim.client(SOURCE);
    let rc = east
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
            == Some(&InstanceReplicationStatus::InstanceReplicationInProgress)));
    let drift = east
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("AGENT")
        .send()
        .await
        .unwrap();
    let west_drift = drift
        .approximate_drifted_resource_counts()
        .iter()
        .find(|d| d.region() == REPLICA)
        .map(|d| d.count());
    assert_eq!(west_drift, Some(50));

    // When it comes back, the held-back work is applied.
    set_outage(&sim, REPLICA, None).await;
    let state = sim.state().await;
    assert_eq!(counts(&state, SOURCE), counts(&state, REPLICA));
    let rc = east
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

    // A change made while the other region is down reaches it only once it is back.
    set_outage(&sim, REPLICA, Some(Outage::Unavailable)).await;
    let users = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let template = east
        .describe_user()
        .instance_id(INSTANCE)
        .user_id(users.user_summary_list()[0].id().unwrap())
        .send()
        .await
        .unwrap();
    let template = template.user().unwrap();
    east.create_user()
        .instance_id(INSTANCE)
        .username("outage.hire")
        .set_phone_config(template.phone_config().cloned())
        .set_security_profile_ids(Some(template.security_profile_ids().to_vec()))
        .set_routing_profile_id(template.routing_profile_id().map(String::from))
        .send()
        .await
        .expect("create a user in the serving region");
    sim.advance(60.0).await;
    assert_eq!(counts(&sim.state().await, REPLICA)[&Kind::Users], 50);
    set_outage(&sim, REPLICA, None).await;
    assert_eq!(counts(&sim.state().await, REPLICA)[&Kind::Users], 51);
}
