//! Global routing: on by default for instances created since 2026-09-01, off for older ones
//! until AWS grants it and ReplicateInstance is run again (a migration); Get and
//! UpdateCrossRegionRouting from either region, with the other region seeing an update a lag
//! later, under outages and access policies.

mod common;

use aws_sdk_connect::config::Credentials;
use common::*;
use connect_sim::control::{AccessPolicy, Outage, SettingsChange, Statement};
use serde_json::Value;

const NOT_ENABLED: &str =
    "This operation is available only for Amazon Connect Global Resiliency instances enabled for global routing.";

fn arn(region: &str) -> String {
    format!("arn:aws:connect:{region}:123456789012:instance/{INSTANCE}")
}

async fn start_replicated(name: &str, settings: Value) -> Harness {
    let mut scenario: Value = serde_json::from_str(&scenario_text(name)).unwrap();
    if let Value::Object(s) = settings {
        for (k, v) in s {
            if k == "globalRoutingGranted" {
                scenario[k] = v;
            } else {
                scenario["settings"][k] = v;
            }
        }
    }
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(400.0).await;
    sim
}

async fn isolated(sim: &Harness, region: &str, id: &str) -> Result<Vec<String>, String> {
    sim.client(region)
        .get_cross_region_routing()
        .instance_id(id)
        .send()
        .await
        .map(|o| o.isolated_regions().to_vec())
        .map_err(|e| code(&e))
}

async fn isolate(sim: &Harness, region: &str, id: &str, all: bool) -> Result<(), String> {
    refused(
        sim.client(region)
            .update_cross_region_routing()
            .instance_id(id)
            .isolated_all(all)
            .send()
            .await,
    )
}

/// (InstanceAccessUrl, CreatedTime) that DescribeInstance gives in `region`.
async fn url_and_created(sim: &Harness, region: &str) -> (String, i64) {
    let out = sim
        .client(region)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("describe");
    let i = out.instance().unwrap();
    (
        i.instance_access_url().unwrap_or_default().to_string(),
        i.created_time().unwrap().secs(),
    )
}

async fn replication_statuses(sim: &Harness) -> Vec<String> {
    let out = sim
        .client(SOURCE)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("describe");
    out.replication_configuration()
        .unwrap()
        .replication_status_summary_list()
        .iter()
        .map(|s| s.replication_status().unwrap().as_str().to_string())
        .collect()
}

async fn replicate_again(sim: &Harness, token: Option<&str>) -> Result<String, (String, String)> {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .replica_alias("acme-contact")
        .set_client_token(token.map(String::from))
        .send()
        .await
        .map(|o| o.arn().unwrap_or_default().to_string())
        .map_err(|e| (code(&e), message(&e)))
}

#[tokio::test]
async fn global_routing_follows_the_creation_date() {
    // legacy: created 2025-03-01, global routing off.
    let sim = start_replicated("legacy", Value::Null).await;
    let state = sim.state().await;
    let inst = state.instance(SOURCE, INSTANCE).unwrap();
    assert!(!inst.global_routing);
    assert_eq!(inst.isolated_regions[SOURCE], Vec::<String>::new());
    let (url, created) = url_and_created(&sim, SOURCE).await;
    assert_eq!(url, "https://acme-contact.my.connect.aws");
    assert_eq!(created, 1_740_787_200, "2025-03-01T00:00:00Z");
    let err = sim
        .client(SOURCE)
        .get_cross_region_routing()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&err), NOT_ENABLED);
    assert!(err.into_service_error().is_invalid_request_exception());
    let err = sim
        .client(REPLICA)
        .update_cross_region_routing()
        .instance_id(INSTANCE)
        .isolated_all(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&err), NOT_ENABLED);
    assert!(err.into_service_error().is_invalid_request_exception());

    // small: created a day before the start (December 2026), global routing on.
    let sim = Harness::start("small").await;
    assert!(
        sim.state()
            .await
            .instance(SOURCE, INSTANCE)
            .unwrap()
            .global_routing
    );
    // Not replicated yet: not an ACGR instance, so not available.
    assert_eq!(
        isolated(&sim, SOURCE, INSTANCE).await,
        Err("InvalidRequestException".into())
    );
    let (url, _) = url_and_created(&sim, SOURCE).await;
    assert_eq!(url, "https://acme-contact.my.connect.aws");
    drop(sim);
    let sim = replicated(400.0).await;
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(vec![]));
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(vec![]));
    for region in [SOURCE, REPLICA] {
        let (url, _) = url_and_created(&sim, region).await;
        assert_eq!(url, format!("https://{region}.acme-contact.my.connect.aws"));
    }
    let listed = sim
        .client(REPLICA)
        .list_instances()
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.instance_summary_list()[0].instance_access_url(),
        Some("https://us-west-2.acme-contact.my.connect.aws")
    );
    assert_eq!(sim.calls("GetCrossRegionRouting").await.len(), 2);
}

#[tokio::test]
async fn the_instance_is_named_by_id_or_by_the_arn_of_either_region_of_its_pair() {
    let sim = replicated(400.0).await;
    assert_eq!(isolate(&sim, REPLICA, &arn(SOURCE), true).await, Ok(()));
    let both = vec![SOURCE.to_string(), REPLICA.to_string()];
    for region in [SOURCE, REPLICA] {
        for id in [INSTANCE.to_string(), arn(SOURCE), arn(REPLICA)] {
            assert_eq!(
                isolated(&sim, region, &id).await,
                Ok(both.clone()),
                "{region} {id}"
            );
        }
    }
    let nowhere = [
        "arn:aws:connect:us-east-1:999999999999:instance/4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10"
            .to_string(),
        arn("eu-west-2"),
        "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d".to_string(),
    ];
    for id in nowhere {
        assert_eq!(
            isolated(&sim, SOURCE, &id).await,
            Err("ResourceNotFoundException".into()),
            "{id}"
        );
    }
    assert_eq!(
        isolated(
            &sim,
            SOURCE,
            "arn:aws:connect:us-east-1:123456789012:queue/x"
        )
        .await,
        Err("InvalidRequestException".into())
    );
    assert_eq!(isolate(&sim, SOURCE, INSTANCE, false).await, Ok(()));
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(vec![]));

    // IsolatedAll is required and a boolean.
    let put = |body: &str| {
        format!(
            "PUT /cross-region-routing/{INSTANCE} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDRAW/20240101/{SOURCE}/connect/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n{body}",
            body.len()
        )
    };
    for (body, member) in [("{}", "missing"), (r#"{"IsolatedAll": "yes"}"#, "boolean")] {
        let (status, headers, text) = sim.raw(put(body).as_bytes()).await;
        assert_eq!(status, 400, "{text}");
        let kind = headers
            .iter()
            .find(|(k, _)| k == "x-amzn-errortype")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        assert!(kind.starts_with("InvalidRequestException"), "{kind}");
        assert!(
            text.contains("IsolatedAll") && text.contains(member),
            "{text}"
        );
    }
    let (status, _, text) = sim.raw(put(r#"{"IsolatedAll": true}"#).as_bytes()).await;
    assert_eq!((status, text.as_str()), (200, "{}"));
}

#[tokio::test]
async fn the_other_region_sees_an_update_after_the_lag() {
    let sim = start_replicated("small", serde_json::json!({"crossRegionLagSeconds": 20})).await;
    let both = vec![SOURCE.to_string(), REPLICA.to_string()];
    assert_eq!(isolate(&sim, REPLICA, INSTANCE, true).await, Ok(()));
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(both.clone()));
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(vec![]));
    let state = sim.state().await;
    let views = &state.instance(SOURCE, INSTANCE).unwrap().isolated_regions;
    assert_eq!(views[REPLICA], both);
    assert!(views[SOURCE].is_empty());
    sim.advance(19.0).await;
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(vec![]));
    sim.advance(1.0).await;
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(both.clone()));
    let state = sim.state().await;
    assert_eq!(
        state.instance(REPLICA, INSTANCE).unwrap().isolated_regions[SOURCE],
        both
    );
    // And back, from the source.
    assert_eq!(isolate(&sim, SOURCE, INSTANCE, false).await, Ok(()));
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(vec![]));
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(both));
    sim.advance(20.0).await;
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(vec![]));
}

#[tokio::test]
async fn an_outage_refuses_calls_in_its_region_while_the_other_answers() {
    let sim = replicated(400.0).await;
    set_outage(&sim, SOURCE, Some(Outage::Unavailable)).await;
    assert_eq!(
        isolated(&sim, SOURCE, INSTANCE).await,
        Err("ServiceUnavailableException".into())
    );
    assert_eq!(
        isolate(&sim, SOURCE, INSTANCE, true).await,
        Err("ServiceUnavailableException".into())
    );
    assert_eq!(isolate(&sim, REPLICA, INSTANCE, true).await, Ok(()));
    assert_eq!(
        isolated(&sim, REPLICA, INSTANCE).await,
        Ok(vec![SOURCE.to_string(), REPLICA.to_string()])
    );
    let refused = sim.calls("UpdateCrossRegionRouting").await;
    assert_eq!(refused[0].status, 503);
    assert_eq!(refused[1].status, 200);
}

#[tokio::test]
async fn access_policies_apply_to_each_action_on_the_calling_regions_instance() {
    let sim = replicated(400.0).await;
    let allow = |action: &str, region: &str| AccessPolicy {
        principal: None,
        statements: vec![Statement {
            actions: vec![format!("connect:{action}")],
            resources: vec![arn(region)],
        }],
    };
    let client = |region: &str| {
        let conf = sim
            .client(region)
            .config()
            .to_builder()
            .credentials_provider(Credentials::new("AKIDROUTING", "x", None, None, "t"))
            .build();
        aws_sdk_connect::Client::from_conf(conf)
    };
    let get = |region: &'static str, id: String| {
        let c = client(region);
        async move { refused(c.get_cross_region_routing().instance_id(id).send().await) }
    };
    let update = |region: &'static str| {
        let c = client(region);
        async move {
            refused(
                c.update_cross_region_routing()
                    .instance_id(INSTANCE)
                    .isolated_all(true)
                    .send()
                    .await,
            )
        }
    };
    sim.control
        .set_access_policy("AKIDROUTING", &allow("GetCrossRegionRouting", SOURCE))
        .await
        .unwrap();
    assert_eq!(get(SOURCE, INSTANCE.into()).await, Ok(()));
    // The resource is the calling region's instance ARN, even when the other region's is named.
    assert_eq!(get(SOURCE, arn(REPLICA)).await, Ok(()));
    let denied = Err("AccessDeniedException".to_string());
    assert_eq!(get(REPLICA, arn(SOURCE)).await, denied);
    assert_eq!(update(SOURCE).await, denied);
    let err = client(SOURCE)
        .update_cross_region_routing()
        .instance_id(INSTANCE)
        .isolated_all(true)
        .send()
        .await
        .unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("connect:UpdateCrossRegionRouting") && text.contains(&arn(SOURCE)),
        "{text}"
    );
    assert!(err.into_service_error().is_access_denied_exception());

    sim.control
        .set_access_policy("AKIDROUTING", &allow("UpdateCrossRegionRouting", REPLICA))
        .await
        .unwrap();
    assert_eq!(update(REPLICA).await, Ok(()));
    assert_eq!(update(SOURCE).await, denied);
    assert_eq!(get(REPLICA, INSTANCE.into()).await, denied);
    let logged = sim.calls("GetCrossRegionRouting").await;
    assert_eq!(
        logged.last().unwrap().error_type.as_deref(),
        Some("AccessDeniedException")
    );
}

#[tokio::test]
async fn a_granted_account_migrates_an_older_instance_by_replicating_it_again() {
    let sim = start_replicated("legacy", serde_json::json!({"migrationSeconds": 120})).await;
    assert_eq!(
        replication_statuses(&sim).await,
        [
            "INSTANCE_REPLICATION_COMPLETE",
            "INSTANCE_REPLICATION_COMPLETE"
        ]
    );
    // Not granted: already replicated, and global routing not enabled for the account.
    let (code, text) = replicate_again(&sim, None).await.unwrap_err();
    assert_eq!(code, "InvalidRequestException");
    assert!(
        text.contains("already replicated") && text.contains("global routing is not enabled"),
        "{text}"
    );
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            global_routing_granted: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(settings.global_routing_granted);
    assert_eq!(settings.migration_seconds, 120.0);

    let answer = replicate_again(&sim, Some("migrate-1"))
        .await
        .expect("migration");
    assert_eq!(answer, arn(REPLICA));
    // The same token again: the first answer, nothing new.
    assert_eq!(
        replicate_again(&sim, Some("migrate-1")).await,
        Ok(arn(REPLICA))
    );
    assert_eq!(
        replication_statuses(&sim).await,
        [
            "INSTANCE_REPLICATION_IN_PROGRESS",
            "INSTANCE_REPLICATION_IN_PROGRESS"
        ]
    );
    let state = sim.state().await;
    let inst = state.instance(REPLICA, INSTANCE).unwrap();
    let migration = inst.migration.expect("a migration");
    assert_eq!(migration.until - migration.started_at, 120.0);
    assert!(!inst.global_routing);
    let (code, text) = replicate_again(&sim, None).await.unwrap_err();
    assert_eq!(code, "InvalidRequestException");
    assert!(text.contains("in progress"), "{text}");
    assert_eq!(
        isolated(&sim, SOURCE, INSTANCE).await,
        Err("InvalidRequestException".into())
    );
    let err = sim
        .client(REPLICA)
        .update_cross_region_routing()
        .instance_id(INSTANCE)
        .isolated_all(true)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_conflict_exception());

    sim.advance(119.0).await;
    assert_eq!(
        replication_statuses(&sim).await[0],
        "INSTANCE_REPLICATION_IN_PROGRESS"
    );
    sim.advance(1.0).await;
    assert_eq!(
        replication_statuses(&sim).await,
        [
            "INSTANCE_REPLICATION_COMPLETE",
            "INSTANCE_REPLICATION_COMPLETE"
        ]
    );
    let state = sim.state().await;
    let inst = state.instance(SOURCE, INSTANCE).unwrap();
    assert!(inst.global_routing && inst.migration.is_none());
    for region in [SOURCE, REPLICA] {
        let (url, _) = url_and_created(&sim, region).await;
        assert_eq!(url, format!("https://{region}.acme-contact.my.connect.aws"));
    }
    assert_eq!(isolated(&sim, REPLICA, INSTANCE).await, Ok(vec![]));
    assert_eq!(isolate(&sim, REPLICA, INSTANCE, true).await, Ok(()));
    let (code, text) = replicate_again(&sim, None).await.unwrap_err();
    assert_eq!(code, "InvalidRequestException");
    assert!(
        text.contains("already replicated") && !text.contains("global routing"),
        "{text}"
    );
}

#[tokio::test]
async fn a_granted_account_replicates_an_older_instance_with_global_routing() {
    let sim = start_replicated("legacy", serde_json::json!({"globalRoutingGranted": true})).await;
    assert!(sim.control.settings().await.unwrap().global_routing_granted);
    assert_eq!(isolated(&sim, SOURCE, INSTANCE).await, Ok(vec![]));
    let state = sim.state().await;
    assert!(state.instance(SOURCE, INSTANCE).unwrap().global_routing);
}
