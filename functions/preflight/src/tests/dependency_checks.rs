//! What flows depend on in the source region: hardcoded regions, Lambda functions, Lex bots,
//! and Connect's KMS key in the replica region.

use super::*;
use acgr::connect::LexBotRef;

#[tokio::test]
async fn a_flow_that_hardcodes_a_region_is_a_warn_naming_it_and_the_strings() {
    let (ctx, probe) = ctx();
    {
        let mut w = ctx.source.world();
        w.resources
            .get_mut(&(EAST.into(), ID.into(), Kind::ContactFlows))
            .unwrap()
            .push(res("f-3", "Main inbound"));
        w.flows.insert(
            (EAST.into(), ID.into(), "f-3".into()),
            format!(r#"{{"Actions":[{{"Parameters":{{"LambdaFunctionARN":"{LOOKUP}"}}}},{{"Parameters":{{"ComparisonValue":"us-east-1"}}}}]}}"#),
        );
        w.modules.insert(
            (EAST.into(), ID.into(), "m-1".into()),
            r#"{"AliasArn":"arn:aws:lex:us-east-1:123456789012:bot-alias/B/A"}"#.into(),
        );
    }
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert!(report.ok, "a warn does not fail the step");
    let warns: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "hardcoded-region")
        .collect();
    assert_eq!(warns.len(), 2, "{warns:#?}");
    assert!(warns.iter().all(|c| c.verdict == Verdict::Warn));
    let flow = warns
        .iter()
        .find(|c| c.message.contains("flow 'Main inbound'"))
        .unwrap();
    assert!(flow.message.contains(LOOKUP), "{}", flow.message);
    assert!(flow.message.contains(", us-east-1"), "{}", flow.message);
    assert!(flow.fix.contains("$.AwsRegion") && flow.fix.contains("$['AwsRegion']"));
    assert!(warns
        .iter()
        .any(|c| c.message.contains("flow module 'Order status'")
            && c.message.contains("arn:aws:lex:us-east-1:")));
    assert!(!report
        .checks
        .iter()
        .any(|c| c.message.contains("'Regional greeting' hardcodes")));
}

#[tokio::test]
async fn a_missing_lambda_function_fails_and_one_that_cannot_be_checked_warns() {
    let (ctx, probe) = ctx();
    ctx.source.world().lambdas.insert(
        ID.into(),
        vec![
            LOOKUP.into(),
            "arn:aws:lambda:us-east-1:123456789012:function:acme-callback".into(),
            "arn:aws:lambda:us-east-1:123456789012:function:acme-survey:live".into(),
        ],
    );
    let mut probe = probe;
    probe.errors.insert(
        "acme-survey".into(),
        "the endpoint did not answer (connection refused)".into(),
    );
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let lambdas: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "lambda-in-replica")
        .collect();
    assert_eq!(lambdas.len(), 3);
    let of = |name: &str| lambdas.iter().find(|c| c.message.contains(name)).unwrap();
    assert_eq!(of("acme-customer-lookup").verdict, Verdict::Pass);
    let missing = of("acme-callback");
    assert_eq!(missing.verdict, Verdict::Fail);
    assert!(missing.message.contains("does not exist in us-west-2"));
    let unknown = of("acme-survey");
    assert_eq!(unknown.verdict, Verdict::Warn);
    assert!(unknown.message.contains("could not check"));
    assert!(unknown.message.contains("connection refused"));
    assert_eq!(report.failed().count(), 1);
}

#[tokio::test]
async fn lex_bots_warn_with_both_documented_options() {
    let (ctx, probe) = ctx();
    ctx.source.world().lex_bots.insert(
        ID.into(),
        vec![LexBotRef {
            name: "AcmeOrderBot".into(),
            region: Some(EAST.into()),
        }],
    );
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "lex-bots");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("AcmeOrderBot (us-east-1)"));
    assert!(check.fix.contains("Lex Global Resiliency") && check.fix.contains("$.AwsRegion"));
}

#[tokio::test]
async fn a_missing_connect_key_fails_and_an_unanswered_question_warns() {
    let (ctx, mut probe) = ctx();
    probe.key = Probe::NotFound;
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "connect-kms-key");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(check.message.contains("alias/aws/connect"));
    assert!(check
        .fix
        .contains("temporary Amazon Connect instance in us-west-2"));

    probe.key = Probe::Unknown("AccessDeniedException: no kms:DescribeKey".into());
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "connect-kms-key");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("could not check") && check.message.contains("AccessDenied"));
}

#[tokio::test]
async fn many_lambda_functions_are_listed_up_to_twenty_worst_first_and_counted() {
    let (ctx, mut probe) = ctx();
    let arns: Vec<String> = (0..60)
        .map(|i| format!("arn:aws:lambda:us-east-1:123456789012:function:fn-{i:02}"))
        .collect();
    for i in (0..60).step_by(2) {
        probe.functions.insert(format!("fn-{i:02}"));
    }
    ctx.source.world().lambdas.insert(ID.into(), arns);
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let lambdas: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "lambda-in-replica")
        .collect();
    assert_eq!(lambdas.len(), 21);
    assert!(lambdas[..20].iter().all(|c| c.verdict == Verdict::Fail));
    let rest = lambdas[20];
    assert_eq!(rest.verdict, Verdict::Fail);
    assert!(
        rest.message
            .contains("40 more results of this check not listed: 10 fail, 0 warn, 30 pass"),
        "{}",
        rest.message
    );
}
