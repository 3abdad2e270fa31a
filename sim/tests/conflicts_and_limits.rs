//! Name conflicts and findings, throttling, and pagination boundaries.

mod common;

use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::types::InstanceReplicationStatus;
use common::*;
use connect_sim::kinds::Kind;
use std::time::Duration;

#[tokio::test]
async fn a_replica_side_look_alike_blocks_its_resource_until_deleted_and_replicated_again() {
    // Given the conflict scenario, replicated to the end.
    let sim = Harness::start("conflict").await;
    let east = sim.client(SOURCE);
    let west = sim.client(REPLICA);
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(500.0).await;

    // Then the source's Billing queue is not mirrored: the replica keeps its own, other ID.
    let queues = |out: aws_sdk_connect::operation::list_queues::ListQueuesOutput| {
        out.queue_summary_list()
            .iter()
            .find(|q| q.name() == Some("Billing"))
            .and_then(|q| q.id().map(String::from))
            .expect("a Billing queue")
    };
    let source_billing = queues(
        east.list_queues()
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap(),
    );
    let replica_billing = queues(
        west.list_queues()
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap(),
    );
    assert_ne!(source_billing, replica_billing);

    // And it shows as a finding, in the drift count and in the replication status reason.
    let findings = west
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("QUEUE")
        .send()
        .await
        .unwrap();
    let list = findings.replication_findings_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name(), Some("Billing"));
    assert_eq!(list[0].id(), source_billing.as_str());
    assert_eq!(list[0].region(), Some(REPLICA));
    let drift: Vec<(&str, i64)> = findings
        .approximate_drifted_resource_counts()
        .iter()
        .map(|d| (d.region(), d.count()))
        .collect();
    assert_eq!(drift, [(SOURCE, 0), (REPLICA, 1)]);
    assert!(findings
        .resource_replication_statuses()
        .iter()
        .any(|s| s.region() == REPLICA && s.status() == "BLOCKED"));
    let users = west
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("AGENT")
        .send()
        .await
        .unwrap();
    assert!(
        users.replication_findings_list().is_empty(),
        "other kinds are clean"
    );
    let rc = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let summary = &rc
        .replication_configuration()
        .unwrap()
        .replication_status_summary_list()[1];
    assert!(summary
        .replication_status_reason()
        .unwrap_or_default()
        .contains("name conflicts"));

    // When ReplicateInstance is called again with the look-alike still there, it is refused.
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceConflictException");
    assert!(message(&err).contains("Billing"));
    assert!(err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 409));

    // When the look-alike is deleted in the replica and ReplicateInstance is called again.
    west.delete_queue()
        .instance_id(INSTANCE)
        .queue_id(&replica_billing)
        .send()
        .await
        .unwrap();
    let err = west
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("QUEUE")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err.replication_findings_list().len(),
        1,
        "the finding stays until the retry"
    );
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("resync accepted");
    let rc = west
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rc.replication_configuration()
            .unwrap()
            .replication_status_summary_list()[1]
            .replication_status(),
        Some(&InstanceReplicationStatus::InstanceReplicationInProgress)
    );
    sim.advance(11.0).await;

    // Then the source's queue is mirrored with its own ID and the finding is gone.
    let mirrored = queues(
        west.list_queues()
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(mirrored, source_billing);
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
    // The source's own queue was never touched by the replica-side delete.
    let source_now = queues(
        east.list_queues()
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(source_now, source_billing);
    // A clean, complete replication is "already replicated" again.
    let err = east
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
}

#[tokio::test]
async fn findings_refuse_unknown_types_and_unreplicated_instances() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);
    let err = east
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("QUEUE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "InvalidRequestException",
        "not set up for Global Resiliency"
    );
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    let err = east
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("SPACESHIP")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let ok = east
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("VIEW")
        .send()
        .await
        .unwrap();
    assert!(ok.replication_findings_list().is_empty());
    // Before the replica exists, every resource counts as drift in the replica region.
    let users = east
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type("AGENT")
        .send()
        .await
        .unwrap();
    let replica_drift = users
        .approximate_drifted_resource_counts()
        .iter()
        .find(|d| d.region() == REPLICA)
        .unwrap();
    assert_eq!(replica_drift.count(), 50);
}

#[tokio::test]
async fn throttling_surfaces_without_retries_and_is_absorbed_with_them() {
    // Given the real quotas: 2 requests/s, burst 5, per region and operation.
    let sim = Harness::start_text(&scenario_text("small"), Some(1.0)).await;
    let bare = sim.client(SOURCE);

    // When eight calls arrive at once, without retries.
    let results = futures_join(8, || bare.describe_instance().instance_id(INSTANCE).send()).await;

    // Then the burst of five passes (a sixth if a token refilled meanwhile), the rest get 429.
    let throttled: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let passed = results.len() - throttled.len();
    assert!((5..=6).contains(&passed), "{passed} passed");
    for e in &throttled {
        assert_eq!(code(e), "ThrottlingException");
        assert!(e.raw_response().is_some_and(|r| r.status().as_u16() == 429));
    }
    // Another region's bucket is untouched.
    sim.client(REPLICA)
        .list_instances()
        .send()
        .await
        .expect("us-west-2 has its own quota");

    // When the same burst is sent with the SDK's standard retries.
    tokio::time::sleep(Duration::from_millis(2600)).await; // refill the bucket
    let retrying = sim.client_with(
        SOURCE,
        RetryConfig::standard()
            .with_max_attempts(6)
            .with_initial_backoff(Duration::from_millis(300)),
    );
    let before = sim.calls("DescribeInstance").await.len();
    let results = futures_join(8, || {
        retrying.describe_instance().instance_id(INSTANCE).send()
    })
    .await;

    // Then every call succeeds, and the log shows the throttled attempts that were retried.
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(code)
            .collect::<Vec<_>>()
    );
    let log = sim.calls("DescribeInstance").await;
    let attempts = &log[before..];
    assert!(
        attempts.iter().any(|c| c.status == 429),
        "some attempts were throttled"
    );
    assert_eq!(attempts.iter().filter(|c| c.status == 200).count(), 8);
    assert!(attempts
        .iter()
        .all(|c| c.access_key_id == "AKIDSIMTEST" && c.region == SOURCE));
}

async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|_| tokio::spawn(make())).collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn pagination_honours_each_operations_page_maximum() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);

    // 50 users: a page of exactly 50 ends the listing; 49 leaves one for the next page.
    let page = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(50)
        .send()
        .await
        .unwrap();
    assert_eq!(page.user_summary_list().len(), 50);
    assert!(page.next_token().is_none());
    let page = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(49)
        .send()
        .await
        .unwrap();
    assert_eq!(page.user_summary_list().len(), 49);
    let token = page.next_token().expect("a token").to_string();
    let rest = east
        .list_users()
        .instance_id(INSTANCE)
        .next_token(&token)
        .max_results(49)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.user_summary_list().len(), 1);
    assert!(rest.next_token().is_none());

    // The paginator walks every page without repeats.
    let mut names: Vec<String> = east
        .list_users()
        .instance_id(INSTANCE)
        .into_paginator()
        .page_size(7)
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|u| u.username().map(String::from))
        .collect();
    assert_eq!(names.len(), 50);
    names.dedup();
    assert_eq!(names.len(), 50);

    // Out-of-range page sizes and forged tokens are the modeled 400s.
    let err = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = east
        .list_instances()
        .max_results(11)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let err = east
        .list_predefined_attributes()
        .instance_id(INSTANCE)
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = east
        .list_lambda_functions()
        .instance_id(INSTANCE)
        .max_results(26)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = east
        .list_users()
        .instance_id(INSTANCE)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");

    // Attributes page at 7; type filters apply.
    let attrs = east
        .list_instance_attributes()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.attributes().len(), 7);
    assert!(attrs.next_token().is_some());
    let flows = east
        .list_contact_flows()
        .instance_id(INSTANCE)
        .contact_flow_types(aws_sdk_connect::types::ContactFlowType::CustomerQueue)
        .send()
        .await
        .unwrap();
    assert_eq!(flows.contact_flow_summary_list().len(), 1);

    // Group user listings cap pages at 10 even when asked for 1000.
    east.replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    let groups = east
        .list_traffic_distribution_groups()
        .send()
        .await
        .unwrap();
    let arn = groups.traffic_distribution_group_summary_list()[0]
        .arn()
        .unwrap()
        .to_string();
    let users = east
        .list_users()
        .instance_id(INSTANCE)
        .max_results(12)
        .send()
        .await
        .unwrap();
    for u in users.user_summary_list() {
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&arn)
            .user_id(u.id().unwrap())
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap();
    }
    let page = east
        .list_traffic_distribution_group_users()
        .traffic_distribution_group_id(&arn)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.traffic_distribution_group_user_summary_list().len(),
        10
    );
    assert!(page.next_token().is_some());
}

#[tokio::test]
async fn integrations_flows_and_attributes_read_back_from_the_scenario() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);
    let lambdas = east
        .list_lambda_functions()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(lambdas.lambda_functions().len(), 2);
    let v2 = east
        .list_bots()
        .instance_id(INSTANCE)
        .lex_version(aws_sdk_connect::types::LexVersion::V2)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.lex_bots().len(), 1);
    assert!(v2.lex_bots()[0].lex_v2_bot().is_some());
    let v1 = east
        .list_lex_bots()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.lex_bots()[0].name(), "AcmeOrderBot");

    let flows = east
        .list_contact_flows()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let main = flows
        .contact_flow_summary_list()
        .iter()
        .find(|f| f.name() == Some("Main inbound"))
        .unwrap();
    let flow = east
        .describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(main.id().unwrap())
        .send()
        .await
        .unwrap();
    let content = flow.contact_flow().unwrap().content().unwrap();
    assert!(
        content.contains("arn:aws:lambda:us-east-1:"),
        "the flow hardcodes a regional ARN"
    );
    let draft = flows
        .contact_flow_summary_list()
        .iter()
        .find(|f| f.name() == Some("Draft callback"))
        .unwrap();
    let err = east
        .describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(draft.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ContactFlowNotPublishedException");
    east.describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(format!("{}:$SAVED", draft.id().unwrap()))
        .send()
        .await
        .expect("the saved version");
    let modules = east
        .list_contact_flow_modules()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let module_id = modules.contact_flow_modules_summary_list()[0].id().unwrap();
    let module = east
        .describe_contact_flow_module()
        .instance_id(INSTANCE)
        .contact_flow_module_id(module_id)
        .send()
        .await
        .unwrap();
    let module = module.contact_flow_module().unwrap();
    assert_eq!(module.name(), Some("Order status"));
    assert!(module.content().unwrap().contains("arn:aws:lex:us-east-1:"));
    let err = east
        .describe_contact_flow_module()
        .instance_id(INSTANCE)
        .contact_flow_module_id("no-such-module")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");

    let attr = east
        .describe_instance_attribute()
        .instance_id(INSTANCE)
        .attribute_type(aws_sdk_connect::types::InstanceAttributeType::ContactLens)
        .send()
        .await
        .unwrap();
    assert_eq!(attr.attribute().unwrap().value(), Some("true"));
    let number = east.list_phone_numbers_v2().send().await.unwrap();
    let id = number.list_phone_numbers_summary_list()[0]
        .phone_number_id()
        .unwrap();
    let described = east
        .describe_phone_number()
        .phone_number_id(id)
        .send()
        .await
        .unwrap();
    assert!(described
        .claimed_phone_number_summary()
        .unwrap()
        .target_arn()
        .unwrap()
        .contains(":instance/"));
    let err = sim
        .client(REPLICA)
        .describe_phone_number()
        .phone_number_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "a number outside any group stays in its region"
    );
}

#[tokio::test]
async fn the_large_scenario_is_generated_from_its_compact_description() {
    let sim = Harness::start("large").await;
    let state = sim.state().await;
    let counts = &state.instances[0].counts;
    assert_eq!(counts[&Kind::Users], 10_000);
    assert_eq!(counts[&Kind::Queues], 501);
    assert_eq!(counts[&Kind::ContactFlows], 300);
    let east = sim.client(SOURCE);
    let page = east
        .list_users()
        .instance_id("9d2e7c41-5b8a-4f0e-b6d3-1a2c3e4f5a6b")
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(page.user_summary_list().len(), 1000);
    assert!(page.next_token().is_some());
}
