//! Hostile input ([`acgr::hostile`]): every generated invalid input, and plans that cannot be, are
//! refused by member; no distribution is updated and nothing is written.

use super::*;

#[tokio::test]
async fn hostile_inputs_are_refused_by_member_and_change_nothing() {
    let group = format!("arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/{ID}");
    let example = serde_json::json!({
        "runId": "shift-1", "instanceId": ID,
        "trafficDistributionGroups": [group],
        "plan": {
            "telephony": {"us-east-1": 50, "us-west-2": 50},
            "agents": {"us-east-1": 50, "us-west-2": 50},
            "signIn": {"us-east-1": true, "us-west-2": true}
        },
        "force": false, "dryRun": false, "breakLock": true, "reason": "INC-1 drill"
    });
    let with = |path: &[&str], value: serde_json::Value| {
        let mut e = example.clone();
        let mut at = &mut e;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at[path[path.len() - 1]] = value;
        e
    };
    let extra = vec![
        (
            "telephony".to_string(),
            with(
                &["plan", "telephony"],
                serde_json::json!({"us-east-1": 60, "us-west-2": 30}),
            ),
        ),
        (
            "agents".into(),
            with(
                &["plan", "agents"],
                serde_json::json!({"us-east-1": 60, "us-west-2": 50}),
            ),
        ),
        (
            "eu-west-1".into(),
            with(
                &["plan", "telephony"],
                serde_json::json!({"us-east-1": 0, "eu-west-1": 100}),
            ),
        ),
        (
            "signIn".into(),
            with(
                &["plan", "signIn"],
                serde_json::json!({"us-east-1": false, "us-west-2": false}),
            ),
        ),
        (
            "preset".into(),
            with(&["preset"], serde_json::json!("failsideways")),
        ),
        ("reason".into(), with(&["reason"], serde_json::Value::Null)),
    ];
    let spec = acgr::hostile::Spec {
        example: example.clone(),
        required: vec!["instanceId", "plan.telephony", "plan.agents"],
        identifiers: vec!["runId", "instanceId"],
        texts: vec!["reason"],
        extra,
        ..Default::default()
    };
    let ctx = ctx_at(100);
    let settings = Settings::default();
    acgr::hostile::check_step(STEP, &spec, 0x5eed_0005, &ctx, |payload| {
        handler(
            &ctx,
            &settings,
            LambdaEvent::new(payload, lambda_runtime::Context::default()),
        )
    })
    .await;
}
