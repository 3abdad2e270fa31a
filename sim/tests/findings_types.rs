//! ListReplicationFindings accepts exactly the resource types the model documents (plus the
//! `extraFindingTypes` "added later"), answers drift counts and statuses for both regions for
//! each, and lists findings staged for tests of any of them.

mod common;

use common::*;
use connect_sim::control::{ClientError, SettingsChange, StagedFinding};
use connect_sim::kinds::FINDING_TYPES;
use serde_json::Value;

const DOCUMENTED: &[&str] = &[
    "AGENT",
    "AGENT_GROUP",
    "AGENT_GROUP_LEVEL",
    "AGENT_STATE",
    "ATTRIBUTE",
    "CONTACT_FLOW",
    "DATA_TABLE",
    "DATA_TABLE_ATTRIBUTE",
    "DATA_TABLE_RECORD",
    "DATA_TABLE_VALUE",
    "FLOW_MODULE",
    "FLOW_MODULE_ALIAS",
    "FLOW_MODULE_VERSION",
    "METRIC",
    "NOTIFICATION",
    "OPERATING_HOURS",
    "PHONE_NUMBER",
    "PROMPT",
    "QUEUE",
    "REPORT",
    "ROUTING_PROFILE",
    "SECURITY_PROFILE",
    "TASK_TEMPLATE",
    "TEST_CASE",
    "TRANSFER_DESTINATION",
    "VIEW",
    "WORKSPACE",
];

/// (findings as (ResourceType, Id, Arn, Region, ReferenceCode), drift by region, status by
/// region) of one page.
type Page = (
    Vec<(String, String, String, String, Option<String>)>,
    Vec<(String, i64)>,
    Vec<(String, String)>,
    Option<String>,
);

async fn list(
    sim: &Harness,
    region: &str,
    resource_type: &str,
    page: Option<(i32, Option<String>)>,
) -> Result<Page, String> {
    let (max, token) = page.unwrap_or((100, None));
    let out = sim
        .client(region)
        .list_replication_findings()
        .instance_id(INSTANCE)
        .resource_type(resource_type)
        .max_results(max)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| code(&e))?;
    Ok((
        out.replication_findings_list()
            .iter()
            .map(|f| {
                (
                    f.resource_type().to_string(),
                    f.id().to_string(),
                    f.arn().to_string(),
                    f.region().unwrap_or_default().to_string(),
                    f.reference_code().map(String::from),
                )
            })
            .collect(),
        out.approximate_drifted_resource_counts()
            .iter()
            .map(|d| (d.region().to_string(), d.count()))
            .collect(),
        out.resource_replication_statuses()
            .iter()
            .map(|s| (s.region().to_string(), s.status().to_string()))
            .collect(),
        out.next_token().map(String::from),
    ))
}

fn both(east: impl Into<String>, west: impl Into<String>) -> Vec<(String, String)> {
    vec![(SOURCE.into(), east.into()), (REPLICA.into(), west.into())]
}

fn staged(resource_type: &str, name: &str) -> StagedFinding {
    StagedFinding {
        instance_id: INSTANCE.into(),
        resource_type: resource_type.into(),
        name: name.into(),
        id: None,
        region: None,
        operation: None,
        reference_code: None,
        message: None,
        blocking: false,
    }
}

fn refused_with(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Refused {
            status, message, ..
        } => (status, message),
        other => panic!("not a refusal: {other}"),
    }
}

#[tokio::test]
async fn every_documented_type_is_accepted_with_counts_and_statuses_for_both_regions() {
    assert_eq!(FINDING_TYPES, DOCUMENTED);
    let sim = replicated(400.0).await;
    for t in DOCUMENTED {
        let (findings, drift, statuses, _) = list(&sim, REPLICA, t, None).await.expect(t);
        assert!(findings.is_empty(), "{t}: {findings:?}");
        assert_eq!(
            drift,
            vec![(SOURCE.to_string(), 0), (REPLICA.to_string(), 0)],
            "{t}"
        );
        assert_eq!(statuses, both("ENABLED", "ENABLED"), "{t}");
    }
    for t in ["SAVED_REPORT", "queue", "USER", "FUTURE_TYPE"] {
        assert_eq!(
            list(&sim, SOURCE, t, None).await.map(drop),
            Err("InvalidRequestException".into()),
            "{t}"
        );
    }
}

#[tokio::test]
async fn an_extra_type_is_accepted_only_when_configured() {
    let sim = replicated(400.0).await;
    assert_eq!(
        list(&sim, SOURCE, "FUTURE_TYPE", None).await.map(drop),
        Err("InvalidRequestException".into())
    );
    let e = sim
        .control
        .stage_finding(&staged("FUTURE_TYPE", "x"))
        .await
        .unwrap_err();
    assert_eq!(refused_with(e).0, 400);
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            extra_finding_types: Some(vec!["FUTURE_TYPE".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(settings.extra_finding_types, ["FUTURE_TYPE"]);
    let id = sim
        .control
        .stage_finding(&StagedFinding {
            reference_code: Some("SOMETHING_AWS_ADDED".into()),
            ..staged("FUTURE_TYPE", "Gadget")
        })
        .await
        .unwrap();
    let (findings, drift, statuses, _) = list(&sim, SOURCE, "FUTURE_TYPE", None).await.unwrap();
    assert_eq!(
        findings,
        vec![(
            "FUTURE_TYPE".to_string(),
            id.clone(),
            format!("arn:aws:connect:{REPLICA}:123456789012:instance/{INSTANCE}/future-type/{id}"),
            REPLICA.to_string(),
            Some("SOMETHING_AWS_ADDED".to_string())
        )]
    );
    assert_eq!(drift[1], (REPLICA.to_string(), 1));
    assert_eq!(statuses, both("ENABLED", "ENABLED"));

    // From the scenario, too; a reset keeps the scenario's and drops the staged finding.
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["extraFindingTypes"] = serde_json::json!(["ANOTHER_TYPE"]);
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    assert!(list(&sim, SOURCE, "ANOTHER_TYPE", None).await.is_ok());
    assert_eq!(
        sim.control.settings().await.unwrap().extra_finding_types,
        ["ANOTHER_TYPE"]
    );
}

#[tokio::test]
async fn staged_findings_appear_count_block_and_clear() {
    let sim = replicated(400.0).await;
    let view = sim
        .control
        .stage_finding(&StagedFinding {
            blocking: true,
            id: Some("view-1".into()),
            ..staged("VIEW", "Agent workspace view")
        })
        .await
        .unwrap();
    assert_eq!(view, "view-1");
    let (findings, drift, statuses, _) = list(&sim, SOURCE, "VIEW", None).await.unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].2,
        format!("arn:aws:connect:{REPLICA}:123456789012:instance/{INSTANCE}/view/view-1")
    );
    assert_eq!(findings[0].4, None, "no reference code unless given");
    assert_eq!(
        drift,
        vec![(SOURCE.to_string(), 0), (REPLICA.to_string(), 1)]
    );
    assert_eq!(statuses, both("ENABLED", "BLOCKED"));

    // A phone number's ARN is not under the instance.
    let number = sim
        .control
        .stage_finding(&StagedFinding {
            region: Some(SOURCE.into()),
            ..staged("PHONE_NUMBER", "+12065550100")
        })
        .await
        .unwrap();
    let (findings, drift, statuses, _) = list(&sim, REPLICA, "PHONE_NUMBER", None).await.unwrap();
    assert_eq!(
        findings[0].2,
        format!("arn:aws:connect:{SOURCE}:123456789012:phone-number/{number}")
    );
    assert_eq!(drift[0], (SOURCE.to_string(), 1));
    assert_eq!(statuses, both("ENABLED", "ENABLED"));

    // Of a mirrored kind: after the computed findings, paginated with them.
    for n in 0..3 {
        sim.control
            .stage_finding(&staged("QUEUE", &format!("Queue {n}")))
            .await
            .unwrap();
    }
    let (first, drift, _, token) = list(&sim, SOURCE, "QUEUE", Some((2, None))).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(drift[1], (REPLICA.to_string(), 3));
    let (second, _, _, token) = list(&sim, SOURCE, "QUEUE", Some((2, token))).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(token, None);

    // Refused: unknown instance, type not accepted, no name, a region outside the pair.
    let bad = [
        StagedFinding {
            instance_id: "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d".into(),
            ..staged("QUEUE", "q")
        },
        staged("SAVED_REPORT", "r"),
        staged("QUEUE", ""),
        StagedFinding {
            region: Some("eu-west-2".into()),
            ..staged("QUEUE", "q")
        },
    ];
    for f in bad {
        let e = sim.control.stage_finding(&f).await.unwrap_err();
        assert_eq!(refused_with(e).0, 400, "{f:?}");
    }
    let body = format!(r#"{{"instanceId": "{INSTANCE}", "resourceType": "QUEUE"}}"#);
    let request = format!(
        "POST /_sim/findings HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, text) = sim.raw(request.as_bytes()).await;
    assert_eq!(status, 400);
    assert!(text.contains("name"), "{text}");

    assert_eq!(sim.control.clear_findings().await.unwrap(), 5);
    let (findings, drift, statuses, _) = list(&sim, SOURCE, "VIEW", None).await.unwrap();
    assert!(findings.is_empty());
    assert_eq!(drift[1].1, 0);
    assert_eq!(statuses, both("ENABLED", "ENABLED"));

    sim.control
        .stage_finding(&staged("WORKSPACE", "w"))
        .await
        .unwrap();
    sim.control.reset().await.unwrap();
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    let (findings, _, _, _) = list(&sim, SOURCE, "WORKSPACE", None).await.unwrap();
    assert!(findings.is_empty(), "a reset clears staged findings");
}

#[tokio::test]
async fn computed_findings_come_before_staged_ones_and_statuses_keep_blocked() {
    let sim = Harness::start("conflict").await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .unwrap();
    sim.advance(400.0).await;
    let (before, drift_before, statuses, _) = list(&sim, SOURCE, "QUEUE", None).await.unwrap();
    assert!(!before.is_empty(), "the Billing conflict");
    assert_eq!(statuses, both("ENABLED", "BLOCKED"));
    let id = sim
        .control
        .stage_finding(&StagedFinding {
            region: Some(SOURCE.into()),
            blocking: true,
            ..staged("QUEUE", "Escalations")
        })
        .await
        .unwrap();
    let (after, drift, statuses, _) = list(&sim, SOURCE, "QUEUE", None).await.unwrap();
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.last().unwrap().1, id);
    assert_eq!(drift[0].1, drift_before[0].1 + 1);
    assert_eq!(statuses, both("BLOCKED", "BLOCKED"));
}
