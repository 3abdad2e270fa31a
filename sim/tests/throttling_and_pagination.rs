//! Throttling with and without the client's retries, and each operation's page maximum.

mod common;

use aws_sdk_connect::config::retry::RetryConfig;
use common::*;
use std::time::Duration;

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
    let users = || east.list_users().instance_id(INSTANCE);
    let refusals: Vec<(&str, Result<(), String>, &str)> = vec![
        (
            "ListUsers 1001",
            refused(users().max_results(1001).send().await),
            "InvalidParameterException",
        ),
        (
            "ListUsers 0",
            refused(users().max_results(0).send().await),
            "InvalidParameterException",
        ),
        (
            "ListInstances 11",
            refused(east.list_instances().max_results(11).send().await),
            "InvalidRequestException",
        ),
        (
            "ListPredefinedAttributes 101",
            refused(
                east.list_predefined_attributes()
                    .instance_id(INSTANCE)
                    .max_results(101)
                    .send()
                    .await,
            ),
            "InvalidParameterException",
        ),
        (
            "ListLambdaFunctions 26",
            refused(
                east.list_lambda_functions()
                    .instance_id(INSTANCE)
                    .max_results(26)
                    .send()
                    .await,
            ),
            "InvalidParameterException",
        ),
        (
            "ListUsers with a forged token",
            refused(users().next_token("forged").send().await),
            "InvalidParameterException",
        ),
    ];
    for (call, answer, expected) in refusals {
        assert_eq!(answer, Err(expected.to_string()), "{call}");
    }

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
