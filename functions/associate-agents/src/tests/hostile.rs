//! Hostile input ([`acgr::hostile`]): every generated invalid input is refused by member, and
//! nothing is associated or written.

use super::*;

#[tokio::test]
async fn hostile_inputs_are_refused_by_member_and_change_nothing() {
    let spec = acgr::hostile::Spec {
        example: serde_json::json!({
            "runId": "run-1", "instanceId": ID,
            "trafficDistributionGroup": group_arn(DEFAULT_GROUP),
            "cursor": "token-1", "checkMembers": true
        }),
        required: vec!["instanceId"],
        identifiers: vec!["runId", "instanceId", "trafficDistributionGroup"],
        ..Default::default()
    };
    let ctx = ctx(5, 5);
    acgr::hostile::check_step(STEP, &spec, 0x5eed_0002, &ctx, |payload| {
        handler(
            &ctx,
            LambdaEvent::new(payload, lambda_runtime::Context::default()),
        )
    })
    .await;
}
