//! Regional outages set through the control API, and phone numbers claimed to a non-default
//! traffic distribution group, seen through the unmodified `aws-sdk-connect` client.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_sdk_connect::error::SdkError;
use aws_sdk_connect::types::{
    Distribution, InstanceReplicationStatus, InstanceStatus, TelephonyConfig,
    TrafficDistributionGroupStatus,
};
use common::*;
use connect_sim::control::{CallFilter, ClientError, Outage, RegionStatus, SimState};
use connect_sim::kinds::Kind;

const SALES_NUMBER: &str = "+12065550142";

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

/// The HTTP status of a failed SDK call.
fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> u16 {
    e.raw_response().map_or(0, HttpStatus::status_u16)
}

trait HttpStatus {
    fn status_u16(&self) -> u16;
}

impl HttpStatus for aws_sdk_connect::config::http::HttpResponse {
    fn status_u16(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Starts small and replicates it; `settle` simulated seconds later.
async fn replicated(settle: f64) -> Harness {
    let sim = Harness::start("small").await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(settle).await;
    sim
}

/// (name, ARN, is default) of each group listed in `region`.
async fn groups(sim: &Harness, region: &str) -> Vec<(String, String, bool)> {
    sim.client(region)
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list groups")
        .traffic_distribution_group_summary_list()
        .iter()
        .map(|g| {
            (
                g.name().unwrap_or_default().to_string(),
                g.arn().unwrap_or_default().to_string(),
                g.is_default(),
            )
        })
        .collect()
}

async fn group_arn(sim: &Harness, name: &str) -> String {
    groups(sim, SOURCE)
        .await
        .into_iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no group {name}"))
        .1
}

/// (number, ID, target ARN) of each number listed in `region` for `target`.
async fn numbers(sim: &Harness, region: &str, target: &str) -> Vec<(String, String, String)> {
    sim.client(region)
        .list_phone_numbers_v2()
        .target_arn(target)
        .send()
        .await
        .expect("list numbers")
        .list_phone_numbers_summary_list()
        .iter()
        .map(|n| {
            (
                n.phone_number().unwrap_or_default().to_string(),
                n.phone_number_id().unwrap_or_default().to_string(),
                n.target_arn().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn set_outage(sim: &Harness, region: &str, outage: Option<Outage>) -> RegionStatus {
    sim.control
        .set_outage(region, outage)
        .await
        .expect("set the outage")
}

/// A control call with a body the client would not send: (status, body).
async fn control_status(sim: &Harness, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "{method} /_sim/{path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, body) = sim.raw(req.as_bytes()).await;
    (status, body)
}

fn signed_get(region: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDRAW/20240101/{region}/connect/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"
    )
}

#[tokio::test]
async fn the_control_api_sets_lists_and_refuses_outages() {
    let sim = Harness::start("small").await;

    let listed = sim.control.regions().await.expect("regions");
    let regions: Vec<&str> = listed.iter().map(|r| r.region.as_str()).collect();
    assert!(
        regions.contains(&SOURCE) && regions.contains(&REPLICA),
        "{listed:?}"
    );
    assert!(listed.iter().all(|r| r.outage.is_none()));

    let down = set_outage(&sim, SOURCE, Some(Outage::Unavailable)).await;
    assert_eq!(down.region, SOURCE);
    assert_eq!(down.outage, Some(Outage::Unavailable));
    assert!(down.since.is_some());
    let hung = set_outage(&sim, REPLICA, Some(Outage::Timeout)).await;
    assert_eq!(hung.outage, Some(Outage::Timeout));
    let listed = sim.control.regions().await.expect("regions");
    let outage_of = |region: &str| listed.iter().find(|r| r.region == region).unwrap().outage;
    assert_eq!(outage_of(SOURCE), Some(Outage::Unavailable));
    assert_eq!(outage_of(REPLICA), Some(Outage::Timeout));
    assert_eq!(sim.state().await.outages[SOURCE], Outage::Unavailable);

    let refused = sim.control.set_outage("ap-south-9", None).await;
    assert!(
        matches!(&refused, Err(ClientError::Refused { status: 400, message, .. }) if message.contains("unknown region")),
        "{refused:?}"
    );

    for (path, body, why) in [
        ("regions/us-east-1", "{\"outage\": \"down\"}", "outage"),
        ("regions/us-east-1", "{}", "missing"),
        (
            "regions/us-east-1",
            "{\"outage\": null, \"x\": 1}",
            "unknown member",
        ),
        ("regions/us-east-1", "not json", "outage"),
    ] {
        let (status, text) = control_status(&sim, "PUT", path, body).await;
        assert_eq!(status, 400, "{path} {body}: {text}");
        assert!(text.contains(why), "{path} {body}: {text}");
    }

    // The control API itself is never in an outage.
    assert!(sim.control.health().await.expect("health").ok);
    let cleared = set_outage(&sim, SOURCE, None).await;
    assert_eq!(cleared.outage, None);
    assert_eq!(cleared.since, None);
    set_outage(&sim, REPLICA, None).await;
    assert!(sim.state().await.outages.is_empty());
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
    assert!(headers
        .iter()
        .any(|(k, v)| k == "x-amzn-errortype" && v == "ServiceUnavailableException"));

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
async fn a_timeout_outage_holds_calls_until_the_client_gives_up() {
    let sim = replicated(600.0).await;
    set_outage(&sim, SOURCE, Some(Outage::Timeout)).await;

    // A client with a short operation timeout gives up on its own.
    let impatient = sim.client_with_timeouts(
        SOURCE,
        RetryConfig::disabled(),
        Some(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(500))
                .build(),
        ),
    );
    let started = Instant::now();
    let err = impatient
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The other region answers meanwhile.
    sim.client(REPLICA)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("the replica region serves");

    // The held call is in the log with status 0.
    let held = sim.calls("DescribeInstance").await;
    let held: Vec<_> = held.iter().filter(|c| c.region == SOURCE).collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, 0);
    assert_eq!(
        held[0].error_type.as_deref(),
        Some("ServiceUnavailableException")
    );

    // A call still waiting when the outage clears is answered 503.
    let raw = {
        let addr = sim.addr;
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(signed_get(SOURCE, &format!("/instance/{INSTANCE}")).as_bytes())
                .await
                .unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!raw.is_finished(), "the call is held");
    set_outage(&sim, SOURCE, None).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), raw)
        .await
        .expect("answered once cleared")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("ServiceUnavailableException"));

    // And new calls work again.
    impatient
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("served after the outage");
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
