//! The SDK adapters against `aws-smithy-mocks`: status sequences, modeled errors, call counts.
//! How raw error replies are classified is in `errors.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod errors;

use acgr::agents::Association;
use acgr::connect::sdk::SdkConnect;
use acgr::connect::Connect;
use acgr::domain::{Region, TrafficPlan};
use acgr::error::ConnectErrorClass;
use acgr::run::{Lock, LockOutcome, RunKind};
use acgr::store::dynamo::DynamoRunStore;
use acgr::store::ports::*;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::operation::describe_instance::DescribeInstanceOutput;
use aws_sdk_connect::operation::replicate_instance::ReplicateInstanceOutput;
use aws_sdk_connect::operation::update_traffic_distribution::UpdateTrafficDistributionError;
use aws_sdk_connect::types::error::{
    ResourceConflictException, ResourceNotFoundException, ThrottlingException,
};
use aws_sdk_connect::types::{
    Instance, InstanceReplicationStatus, InstanceStatus, ReplicationConfiguration,
    ReplicationStatusSummary,
};
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

/// What the SDK's parser attaches from the `x-amzn-ErrorType` header.
fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn region(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn described(status: InstanceReplicationStatus) -> DescribeInstanceOutput {
    let summary = |r: &str| {
        ReplicationStatusSummary::builder()
            .region(r)
            .replication_status(status.clone())
            .build()
    };
    DescribeInstanceOutput::builder()
        .instance(
            Instance::builder()
                .id("i-1")
                .arn("arn:aws:connect:us-east-1:1:instance/i-1")
                .instance_status(InstanceStatus::Active)
                .instance_alias("acme")
                .build(),
        )
        .replication_configuration(
            ReplicationConfiguration::builder()
                .source_region("us-east-1")
                .replication_status_summary_list(summary("us-east-1"))
                .replication_status_summary_list(summary("us-west-2"))
                .build(),
        )
        .build()
}

#[tokio::test]
async fn replication_status_is_read_across_a_sequence_of_polls() {
    let rule = mock!(aws_sdk_connect::Client::describe_instance)
        .sequence()
        .output(|| described(InstanceReplicationStatus::InstanceReplicationInProgress))
        .times(2)
        .output(|| described(InstanceReplicationStatus::InstanceReplicationComplete))
        .build();
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-east-1"));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let info = connect.describe_instance("i-1").await.unwrap().unwrap();
        let rep = info.replication.unwrap();
        assert_eq!(rep.source_region, Some(region("us-east-1")));
        seen.push(rep.complete());
    }
    assert_eq!(seen, [false, false, true]);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_missing_instance_is_none_not_an_error() {
    let rule = mock!(aws_sdk_connect::Client::describe_instance).then_error(|| {
        aws_sdk_connect::operation::describe_instance::DescribeInstanceError::ResourceNotFoundException(
            ResourceNotFoundException::builder().message("nope").meta(meta("ResourceNotFoundException", "nope")).build(),
        )
    });
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-west-2"));
    assert!(connect.describe_instance("i-1").await.unwrap().is_none());
}

#[tokio::test]
async fn replicate_sends_the_run_token_and_returns_the_replica_arn() {
    let rule = mock!(aws_sdk_connect::Client::replicate_instance)
        .match_requests(|r| {
            r.client_token() == Some("acgr-replicate-run-1")
                && r.replica_region() == Some("us-west-2")
        })
        .then_output(|| {
            ReplicateInstanceOutput::builder()
                .id("i-1")
                .arn("arn:aws:connect:us-west-2:1:instance/i-1")
                .build()
        });
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-east-1"));
    let arn = connect
        .replicate_instance("i-1", &region("us-west-2"), None, "acgr-replicate-run-1")
        .await
        .unwrap();
    assert!(arn.contains("us-west-2"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn modeled_errors_are_classified_by_code() {
    let rule = mock!(aws_sdk_connect::Client::update_traffic_distribution)
        .sequence()
        .error(|| {
            UpdateTrafficDistributionError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message("busy")
                    .meta(meta("ResourceConflictException", "busy"))
                    .build(),
            )
        })
        .error(|| {
            UpdateTrafficDistributionError::ThrottlingException(
                ThrottlingException::builder()
                    .message("slow")
                    .meta(meta("ThrottlingException", "slow"))
                    .build(),
            )
        })
        .build();
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-west-2"));
    let pair = acgr::domain::RegionPair::new(region("us-east-1"), region("us-west-2"));
    let plan = TrafficPlan::failover_to(&pair, &region("us-west-2"), true).unwrap();
    let busy = connect
        .update_distribution(
            "arn:aws:connect:us-east-1:1:traffic-distribution-group/g",
            &plan,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (busy.class, busy.code.as_str(), busy.message.as_str()),
        (
            ConnectErrorClass::Conflict,
            "ResourceConflictException",
            "busy"
        )
    );
    let slow = connect
        .update_distribution(
            "arn:aws:connect:us-east-1:1:traffic-distribution-group/g",
            &plan,
        )
        .await
        .unwrap_err();
    assert_eq!(slow.class, ConnectErrorClass::Throttled);
    assert_eq!(rule.num_calls(), 2);
}

fn lock(run: &str) -> Lock {
    Lock {
        instance_id: "i-1".into(),
        run_id: run.into(),
        kind: RunKind::Replication,
        acquired_at: 0,
        lease_until: 100,
        broke: None,
        machine: None,
    }
}

#[tokio::test]
async fn a_failed_lock_condition_reports_the_holder() {
    let holder = serde_json::to_string(&lock("r1")).unwrap();
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .item("data", AttributeValue::S(holder.clone()))
            .build()
    });
    let put = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .message("held")
                .meta(meta("ConditionalCheckFailedException", "held"))
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&get, &put], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = DynamoRunStore::new(client, "runs");
    let outcome = store.acquire_lock(&lock("r2"), 50).await.unwrap();
    assert_eq!(outcome, LockOutcome::Held(lock("r1")));
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn unprocessed_association_writes_are_retried() {
    let leftover = |n: usize| {
        let put = aws_sdk_dynamodb::types::PutRequest::builder()
            .item("pk", AttributeValue::S("INSTANCE#i-1".into()))
            .item("sk", AttributeValue::S(format!("AGENT#g#u{n}")))
            .build()
            .unwrap();
        aws_sdk_dynamodb::types::WriteRequest::builder()
            .put_request(put)
            .build()
    };
    let batch = mock!(aws_sdk_dynamodb::Client::batch_write_item)
        .sequence()
        .output(move || {
            BatchWriteItemOutput::builder()
                .unprocessed_items("runs", vec![leftover(1)])
                .build()
        })
        .output(|| BatchWriteItemOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&batch], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = DynamoRunStore::new(client, "runs");
    let records: Vec<Association> = (0..3)
        .map(|n| Association {
            instance_id: "i-1".into(),
            group_arn: "g".into(),
            user_id: format!("u{n}"),
            username: format!("agent{n}"),
            run_id: "r".into(),
            at: 1,
        })
        .collect();
    store.put_associations(&records).await.unwrap();
    assert_eq!(batch.num_calls(), 2);
}

#[tokio::test]
async fn a_flow_scan_and_its_pages_are_keyed_under_the_run() {
    use acgr::domain::Kind;
    use acgr::flows::{FlowScan, HardcodedPage, HardcodedRegion};
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::operation::query::QueryOutput;

    let page = HardcodedPage {
        instance_id: "i-1".into(),
        run_id: "r1".into(),
        generation: 2,
        page: 3,
        findings: vec![HardcodedRegion {
            kind: Kind::ContactFlows,
            id: "f-1".into(),
            name: "Main inbound".into(),
            found: vec!["us-east-1".into()],
            found_total: 1,
        }],
        at: 100,
    };
    let stored = serde_json::to_string(&page).unwrap();
    let key = |sk: &'static str, ttl: &'static str| {
        move |r: &aws_sdk_dynamodb::operation::put_item::PutItemInput| {
            let item = r.item().unwrap();
            item["pk"].as_s().unwrap() == "INSTANCE#i-1"
                && item["sk"].as_s().unwrap() == sk
                && item["expiresAt"].as_n().unwrap() == ttl
        }
    };
    let put_page = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(key("HARDCODED#r1#0002#00003", "7776100"))
        .then_output(|| PutItemOutput::builder().build());
    let put_scan = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(key("SCAN#r1", "7776050"))
        .then_output(|| PutItemOutput::builder().build());
    let query = mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|r| {
            r.expression_attribute_values().unwrap()[":prefix"]
                .as_s()
                .unwrap()
                == "HARDCODED#r1#0002#"
        })
        .then_output(move || {
            QueryOutput::builder()
                .items(
                    [("data".to_string(), AttributeValue::S(stored.clone()))]
                        .into_iter()
                        .collect(),
                )
                .build()
        });
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&put_page, &put_scan, &query],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    let store = DynamoRunStore::new(client, "runs");

    store.put_hardcoded_page(&page).await.unwrap();
    let mut scan = FlowScan::new("i-1", "r1", 2, 10);
    scan.updated_at = 50;
    store.put_flow_scan(&scan).await.unwrap();
    let pages = store.hardcoded_pages("i-1", "r1", 2).await.unwrap();

    assert_eq!(pages, vec![page]);
    assert_eq!(
        (
            put_page.num_calls(),
            put_scan.num_calls(),
            query.num_calls()
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_run_and_its_lock_name_their_machine_for_the_machines_conditions() {
    use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
    const MACHINE: &str = "arn:aws:states:us-east-1:1:stateMachine:replication";
    let run_put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r: &PutItemInput| {
            let item = r.item().unwrap();
            item["sk"].as_s().unwrap() == "RUN#r1" && item["machine"].as_s().unwrap() == MACHINE
        })
        .then_output(|| PutItemOutput::builder().build());
    let lock_put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r: &PutItemInput| {
            let item = r.item().unwrap();
            item["sk"].as_s().unwrap() == "LOCK"
                && item["machine"].as_s().unwrap() == MACHINE
                && r.condition_expression().unwrap().contains("#m = :machine")
                && r.expression_attribute_names().unwrap()["#m"] == "machine"
                && r.expression_attribute_values().unwrap()[":machine"]
                    .as_s()
                    .unwrap()
                    == MACHINE
        })
        .then_output(|| PutItemOutput::builder().build());
    let get =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&run_put, &lock_put, &get],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    let store = DynamoRunStore::new(client, "runs");
    let mut run = acgr::run::RunRecord::new(
        "i-1",
        "r1",
        RunKind::Replication,
        "replicate",
        serde_json::Value::Null,
        1,
    );
    run.machine = Some(MACHINE.into());
    store.put_run(&run).await.unwrap();
    let held = Lock {
        machine: Some(MACHINE.into()),
        ..lock("r1")
    };
    store.acquire_lock(&held, 50).await.unwrap();
    assert_eq!((run_put.num_calls(), lock_put.num_calls()), (1, 1));
}

#[tokio::test]
async fn items_written_by_a_newer_version_are_read_or_skipped_one_by_one() {
    use acgr::traffic::ShiftStatus;
    use aws_sdk_dynamodb::operation::query::QueryOutput;

    // what a newer version might write during a deploy: a shift with a status and a member this
    // version does not know, a shift whose shape changed, and a well-formed one
    let shift = |run: &str, status: &str| {
        serde_json::json!({
            "instanceId": "i-1", "runId": run, "groupArn": "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1",
            "status": status, "reason": "failover",
            "before": {"telephony": [["us-east-1", 100], ["us-west-2", 0]], "agents": [["us-east-1", 100], ["us-west-2", 0]]},
            "after": {"telephony": [["us-east-1", 0], ["us-west-2", 100]], "agents": [["us-east-1", 0], ["us-west-2", 100]]},
            "calledIn": "us-west-2", "at": 10, "fenceToken": "new"
        })
        .to_string()
    };
    let item = |sk: &str, data: String| {
        [
            ("sk".to_string(), AttributeValue::S(sk.into())),
            ("data".to_string(), AttributeValue::S(data)),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
    };
    let items = vec![
        item("SHIFT#3#newer", shift("newer", "verified")),
        item("SHIFT#2#reshaped", r#"{"runId": 7}"#.to_string()),
        item("SHIFT#1#known", shift("known", "done")),
    ];
    let query = mock!(aws_sdk_dynamodb::Client::query).then_output(move || {
        QueryOutput::builder()
            .set_items(Some(items.clone()))
            .build()
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&query], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = DynamoRunStore::new(client, "runs");

    let shifts = store.shifts("i-1").await.expect("the query does not fail");
    let seen: Vec<(&str, ShiftStatus)> = shifts
        .iter()
        .map(|s| (s.run_id.as_str(), s.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("newer", ShiftStatus::Unknown),
            ("known", ShiftStatus::Done)
        ],
        "the unknown status is read as Unknown; the undecodable item is skipped"
    );
}

#[tokio::test]
async fn the_runs_an_item_cannot_be_read_of_are_named_not_dropped() {
    use aws_sdk_dynamodb::operation::query::QueryOutput;

    let run = |id: &str, started: i64| {
        serde_json::json!({
            "instanceId": "i-1", "runId": id, "kind": "replication", "status": "succeeded",
            "step": "poll-mirroring", "inputs": null, "startedAt": started, "updatedAt": started
        })
        .to_string()
    };
    let item = |sk: &str, data: String| {
        [
            ("sk".to_string(), AttributeValue::S(sk.into())),
            ("data".to_string(), AttributeValue::S(data)),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
    };
    let items = vec![
        item("RUN#older", run("older", 5)),
        item("RUN#damaged", "{not json".to_string()),
        item("RUN#newer", run("newer", 9)),
    ];
    let query = mock!(aws_sdk_dynamodb::Client::query).then_output(move || {
        QueryOutput::builder()
            .set_items(Some(items.clone()))
            .build()
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&query], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = DynamoRunStore::new(client, "runs");

    let listing = store.runs("i-1").await.expect("the query does not fail");
    let ids: Vec<&str> = listing.records.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["newer", "older"], "newest first");
    let unreadable: Vec<&str> = listing.unreadable.iter().map(|u| u.sk.as_str()).collect();
    assert_eq!(unreadable, ["RUN#damaged"], "the damaged item is named");
    assert!(!listing.unreadable[0].error.is_empty());
}
