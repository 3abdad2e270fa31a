//! Hostile input ([`acgr::hostile`]): every generated invalid input is refused by member, and
//! nothing is written.

use super::*;

#[tokio::test]
async fn hostile_inputs_are_refused_by_member_and_change_nothing() {
    let spec = acgr::hostile::Spec {
        example: serde_json::json!({
            "runId": "run-1", "instanceId": ID,
            "executionArn": "arn:aws:states:us-east-1:123456789012:execution:replication:run-1"
        }),
        required: vec!["instanceId", "runId"],
        identifiers: vec!["runId", "instanceId", "executionArn"],
        ..Default::default()
    };
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    acgr::hostile::check_step(STEP, &spec, 0x5eed_0003, &ctx, |payload| {
        handler(
            &ctx,
            LambdaEvent::new(payload, lambda_runtime::Context::default()),
        )
    })
    .await;
}
