//! Readiness over the in-memory Connect: test cases run where the check runs, dependencies read
//! there, the other region compared with.

use super::*;
use crate::connect::fake::{FakeConnect, FakeWorld};
use crate::connect::LexBotRef;
use crate::store::memory::MemoryRunStore;
use crate::Context;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

fn ctx() -> Context<FakeConnect, MemoryRunStore> {
    let mut w = FakeWorld::replicated(ID, EAST, WEST, "INSTANCE_REPLICATION_COMPLETE");
    for region in [EAST, WEST] {
        w.lambdas.insert(
            ID.into(),
            vec![format!("arn:aws:lambda:{EAST}:1:function:lookup")],
        );
        w.test_cases.insert(
            (region.into(), ID.into()),
            vec![
                TestCase {
                    id: "tc-1".into(),
                    name: "Main inbound answers".into(),
                    status: "PUBLISHED".into(),
                    tags: [(READINESS_TAG.0.into(), READINESS_TAG.1.into())].into(),
                },
                TestCase {
                    id: "tc-2".into(),
                    name: "draft".into(),
                    status: "SAVED".into(),
                    tags: [(READINESS_TAG.0.into(), READINESS_TAG.1.into())].into(),
                },
                TestCase {
                    id: "tc-3".into(),
                    name: "untagged".into(),
                    status: "PUBLISHED".into(),
                    tags: Default::default(),
                },
            ],
        );
    }
    w.context(EAST, WEST).unwrap()
}

fn run(token: &str) -> Run<'_> {
    Run {
        token,
        poll: Duration::from_millis(1),
        until: Instant::now() + Duration::from_secs(5),
    }
}

fn needs() -> Needs {
    Needs {
        lambda_functions: vec!["lookup".into()],
        lex_aliases: vec![],
    }
}

#[tokio::test]
async fn only_published_tagged_test_cases_run_in_the_region_checked() {
    let ctx = ctx();
    let r = check(
        &ctx.source,
        Some(&ctx.replica),
        ID,
        &needs(),
        &[],
        run("r1"),
    )
    .await
    .unwrap();
    assert!(r.ready, "{r:#?}");
    assert_eq!(r.region, EAST);
    let ran: Vec<&str> = r.tests.iter().map(|t| t.test_case_id.as_str()).collect();
    assert_eq!(ran, ["tc-1"]);
    assert_eq!(r.tests[0].status, "PASSED");
    let w = ctx.source.world();
    let starts = w.calls_of("StartTestCaseExecution");
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].region, EAST);
}

#[tokio::test]
async fn a_failed_test_and_an_unassociated_function_name_what_to_fix() {
    let ctx = ctx();
    {
        let mut w = ctx.replica.world();
        w.test_outcomes.insert(
            (WEST.into(), "tc-1".into()),
            (
                "FAILED".into(),
                vec!["flow 'Main inbound' block 'lookup': Lambda function lookup is not associated with the instance in us-west-2".into()],
            ),
        );
    }
    // the only association is us-east-1's ARN: not usable in us-west-2
    let r = check(
        &ctx.replica,
        Some(&ctx.source),
        ID,
        &needs(),
        &[],
        run("r1"),
    )
    .await
    .unwrap();
    assert!(!r.ready);
    assert_eq!(r.tests[0].status, "FAILED");
    assert!(r.tests[0].failures[0].contains("block 'lookup'"));
    let f = &r.findings[0];
    assert_eq!(
        (f.check.as_str(), f.subject.as_str()),
        ("lambda-associated", "lookup")
    );
    assert!(
        f.message.contains("us-west-2") && f.fix.contains("AssociateLambdaFunction"),
        "{f:?}"
    );

    // associated under its us-west-2 ARN: that finding is gone
    ctx.replica.world().lambdas.insert(
        ID.into(),
        vec![format!("arn:aws:lambda:{WEST}:1:function:lookup")],
    );
    let r = check(&ctx.replica, None, ID, &needs(), &[], run("r2"))
        .await
        .unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[tokio::test]
async fn lex_aliases_origins_applications_and_numbers_are_compared_with_the_other_region() {
    let ctx = ctx();
    {
        let mut w = ctx.source.world();
        w.lex_bots.insert(
            ID.into(),
            vec![LexBotRef {
                name: format!("arn:aws:lex:{EAST}:1:bot-alias/BOT1/ALIAS1"),
                region: Some(EAST.into()),
            }],
        );
        w.approved_origins.insert(
            (EAST.into(), ID.into()),
            vec!["https://crm.example.com".into()],
        );
        w.applications
            .insert((EAST.into(), ID.into()), vec!["Acme CRM".into()]);
        w.number_flows
            .insert(EAST.into(), vec![("+15550100".into(), "flow-1".into())]);
    }
    let needs = Needs {
        lambda_functions: vec![],
        lex_aliases: vec!["BOT1/ALIAS1".into()],
    };
    // the fake's Lex associations are per instance, not per region: the us-east-1 ARN is what
    // us-west-2 reads, and it is not a us-west-2 ARN
    let r = check(
        &ctx.replica,
        Some(&ctx.source),
        ID,
        &needs,
        &["+15550100".into()],
        run("r"),
    )
    .await
    .unwrap();
    let checks: Vec<&str> = r.findings.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(
        checks,
        [
            "lex-associated",
            "approved-origin",
            "application",
            "number-flow"
        ],
        "{:#?}",
        r.findings
    );
    assert!(!r.ready);
    assert_eq!(r.findings[2].subject, "Acme CRM");
}

#[tokio::test]
async fn a_test_still_running_when_the_time_is_up_is_reported_as_running() {
    let ctx = ctx();
    let r = check(
        &ctx.source,
        None,
        ID,
        &Needs::default(),
        &[],
        Run {
            token: "r1",
            poll: Duration::from_millis(1),
            until: Instant::now(),
        },
    )
    .await
    .unwrap();
    assert_eq!(r.tests[0].status, "INITIATED");
    assert!(!r.ready, "not proven");
}
