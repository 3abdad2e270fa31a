//! Can a region serve a call? What a split read back cannot say: the instance's readiness test
//! cases (published, tagged [`READINESS_TAG`]) run as synthetic contacts in that region, and
//! the dependencies its flows need checked there: every Lambda function and Lex V2 alias they
//! invoke associated with that region's instance under that region's ARN, every approved origin
//! and third-party application of the other region present, every number that points at a flow
//! in the other region pointing at one here. Each finding names what to fix.

mod needs;

pub use needs::Needs;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::connect::{Connect, TestCase};
use crate::domain::{lambda_function_name, lex_alias_id, Arn};
use crate::error::ConnectError;

/// The tag that chooses a published test case for readiness.
pub const READINESS_TAG: (&str, &str) = ("acgr:readiness", "true");

/// One region's readiness, as one check found it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub region: String,
    /// Every readiness test case PASSED there and no dependency is missing.
    pub ready: bool,
    pub tests: Vec<TestResult>,
    pub findings: Vec<Finding>,
}

/// A readiness test case's execution in the region.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub test_case_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    /// `PASSED`, `FAILED`, `STOPPED`, or `INITIATED`/`IN_PROGRESS` when the check's time ran out.
    pub status: String,
    /// The failed observations, as Connect words them (the flow, the block, what is missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.status == "PASSED"
    }
}

/// A dependency the region lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `lambda-associated`, `lex-associated`, `approved-origin`, `application`, `number-flow`.
    pub check: String,
    /// What is missing: a function name, an alias, an origin, a number.
    pub subject: String,
    pub message: String,
    pub fix: String,
}

/// How a check runs its test cases.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// Identifies this check's executions (a run ID): the same token starts each test once.
    pub token: &'a str,
    /// How often an execution's summary is read.
    pub poll: Duration,
    /// No read after it: a test still running is reported as such.
    pub until: Instant,
}

/// The readiness of `here` (the client of the region checked); `other` is the other region's,
/// compared with for origins, applications and numbers (skipped when it does not answer).
pub async fn check<C: Connect>(
    here: &C,
    other: Option<&C>,
    instance_id: &str,
    needs: &Needs,
    numbers: &[String],
    run: Run<'_>,
) -> Result<Readiness, ConnectError> {
    let region = here.region().to_string();
    let mut findings = integrations(here, instance_id, needs).await?;
    if let Some(other) = other {
        findings.extend(against_other(here, other, instance_id, numbers).await);
    }
    let tests = test_cases(here, instance_id, run).await?;
    Ok(Readiness {
        ready: findings.is_empty() && tests.iter().all(TestResult::passed),
        region,
        tests,
        findings,
    })
}

/// Every function and alias the flows need, associated with this region's instance under this
/// region's ARN.
async fn integrations<C: Connect>(
    here: &C,
    instance_id: &str,
    needs: &Needs,
) -> Result<Vec<Finding>, ConnectError> {
    let region = here.region().as_str();
    let mut out = Vec::new();
    if !needs.lambda_functions.is_empty() {
        let associated = here.list_lambda_functions(instance_id).await?;
        for name in &needs.lambda_functions {
            let arns: Vec<&String> = associated
                .iter()
                .filter(|a| lambda_function_name(a) == name.as_str())
                .collect();
            if arns.iter().any(|a| region_of(a).as_deref() == Some(region)) {
                continue;
            }
            let elsewhere = arns
                .first()
                .map(|a| format!(" (associated: {a})"))
                .unwrap_or_default();
            out.push(Finding {
                check: "lambda-associated".into(),
                subject: name.clone(),
                message: format!(
                    "Lambda function {name} is not associated with instance {instance_id} in \
                     {region} under a {region} ARN{elsewhere}"
                ),
                fix: format!(
                    "deploy {name} in {region}, then associate it with the instance there \
                     (AssociateLambdaFunction, arn:aws:lambda:{region}:ACCOUNT:function:{name})"
                ),
            });
        }
    }
    if !needs.lex_aliases.is_empty() {
        let bots = here.list_lex_bots(instance_id).await?;
        for alias in &needs.lex_aliases {
            let ok = bots.iter().any(|b| {
                lex_alias_id(&b.name).as_deref() == Some(alias.as_str())
                    && region_of(&b.name).as_deref() == Some(region)
            });
            if !ok {
                out.push(Finding {
                    check: "lex-associated".into(),
                    subject: alias.clone(),
                    message: format!(
                        "Lex V2 bot alias {alias} is not associated with instance {instance_id} \
                         in {region} under a {region} ARN"
                    ),
                    fix: format!(
                        "replicate the bot alias to {region} (Lex Global Resiliency), then \
                         associate it with the instance there (AssociateBot)"
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// What the other region has and this one lacks: approved origins, third-party applications,
/// numbers pointing at a flow. A region that does not answer is not compared with.
async fn against_other<C: Connect>(
    here: &C,
    other: &C,
    instance_id: &str,
    numbers: &[String],
) -> Vec<Finding> {
    let region = here.region().to_string();
    let there = other.region().to_string();
    let mut out = Vec::new();
    let missing = |mine: &[String], theirs: &[String]| -> Vec<String> {
        theirs
            .iter()
            .filter(|x| !mine.contains(x))
            .cloned()
            .collect()
    };
    if let (Ok(mine), Ok(theirs)) = (
        here.list_approved_origins(instance_id).await,
        other.list_approved_origins(instance_id).await,
    ) {
        for o in missing(&mine, &theirs) {
            out.push(Finding {
                check: "approved-origin".into(),
                message: format!("approved origin {o} is allowed in {there}, not in {region}"),
                fix: format!("add {o} to the instance's approved origins in {region}"),
                subject: o,
            });
        }
    }
    if let (Ok(mine), Ok(theirs)) = (
        here.list_applications(instance_id).await,
        other.list_applications(instance_id).await,
    ) {
        for a in missing(&mine, &theirs) {
            out.push(Finding {
                check: "application".into(),
                message: format!(
                    "third-party application {a} is associated in {there}, not in {region}"
                ),
                fix: format!(
                    "associate the application with the instance in {region}, with its approved \
                     origins (global routing does not mirror it)"
                ),
                subject: a,
            });
        }
    }
    if !numbers.is_empty() {
        if let (Ok(mine), Ok(theirs)) = (
            here.flow_associations(instance_id, numbers).await,
            other.flow_associations(instance_id, numbers).await,
        ) {
            for (number, flow) in theirs {
                if !mine.iter().any(|(n, _)| *n == number) {
                    out.push(Finding {
                        check: "number-flow".into(),
                        message: format!(
                            "{number} points at flow {flow} in {there}; {region} reports no flow \
                             for it (not a proof: Connect does not document this answer for \
                             numbers claimed to a traffic distribution group)"
                        ),
                        fix: format!(
                            "check the number's flow in {region}'s console; associate it with \
                             the mirrored flow if it has none"
                        ),
                        subject: number,
                    });
                }
            }
        }
    }
    out
}

/// Runs every published readiness test case in the region and reads each to its end, or until
/// `run.until`.
async fn test_cases<C: Connect>(
    here: &C,
    instance_id: &str,
    run: Run<'_>,
) -> Result<Vec<TestResult>, ConnectError> {
    let mut chosen: Vec<TestCase> = Vec::new();
    for t in here.list_test_cases(instance_id).await? {
        if t.status != "PUBLISHED" {
            continue;
        }
        if let Some(full) = here.describe_test_case(instance_id, &t.id).await? {
            let (k, v) = READINESS_TAG;
            if full.tags.get(k).map(String::as_str) == Some(v) {
                chosen.push(full);
            }
        }
    }
    let mut results = Vec::new();
    for t in &chosen {
        let token = format!("{}-{}", run.token, t.id);
        let id = here.start_test_case(instance_id, &t.id, &token).await?;
        results.push(TestResult {
            test_case_id: t.id.clone(),
            name: t.name.clone(),
            execution_id: Some(id),
            status: "INITIATED".into(),
            failures: Vec::new(),
        });
    }
    // read every execution until each ended, or the time is up
    loop {
        let mut running = false;
        for r in results.iter_mut().filter(|r| !ended(&r.status)) {
            let id = r.execution_id.clone().unwrap_or_default();
            let read = here
                .test_case_run(instance_id, &r.test_case_id, &id)
                .await?;
            r.status = read.status.clone();
            if read.status == "FAILED" {
                r.failures = here
                    .test_case_failures(instance_id, &r.test_case_id, &id)
                    .await?;
            }
            running |= !read.ended();
        }
        if !running || Instant::now() + run.poll >= run.until {
            return Ok(results);
        }
        tokio::time::sleep(run.poll).await;
    }
}

fn ended(status: &str) -> bool {
    matches!(status, "PASSED" | "FAILED" | "STOPPED")
}

fn region_of(arn: &str) -> Option<String> {
    Arn::parse(arn).map(|a| a.region.to_string())
}

#[cfg(test)]
mod tests;
