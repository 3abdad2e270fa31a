//! Hostile input ([`acgr::hostile`]): every generated invalid input is refused by member, and
//! nothing is written.

use super::*;

#[tokio::test]
async fn hostile_inputs_are_refused_by_member_and_change_nothing() {
    let spec = acgr::hostile::Spec {
        example: serde_json::json!({
            "runId": "run-1", "instanceId": ID, "replicaRegion": "us-west-2",
            "replicaAlias": "acme-replica", "failOnError": false
        }),
        required: vec!["instanceId", "replicaRegion"],
        identifiers: vec!["runId", "instanceId", "replicaRegion", "replicaAlias"],
        ..Default::default()
    };
    let (ctx, probe) = ctx();
    acgr::hostile::check_step(STEP, &spec, 0x5eed_0004, &ctx, |payload| {
        handler(
            &ctx,
            &probe,
            LambdaEvent::new(payload, lambda_runtime::Context::default()),
        )
    })
    .await;
}
