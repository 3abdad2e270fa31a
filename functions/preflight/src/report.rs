//! The report: each check's verdict, message and fix.

use std::collections::HashMap;

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One check's outcome. `id` is stable; several entries may share one (one per flow, say).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub id: String,
    pub verdict: Verdict,
    pub message: String,
    pub fix: String,
}

impl Check {
    pub(crate) fn new(
        id: &str,
        verdict: Verdict,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            id: id.to_string(),
            verdict,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub(crate) fn pass(id: &str, message: impl Into<String>) -> Self {
        Check::new(id, Verdict::Pass, message, "Nothing to do.")
    }

    pub(crate) fn warn(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(id, Verdict::Warn, message, fix)
    }

    pub(crate) fn fail(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(id, Verdict::Fail, message, fix)
    }

    /// A check that did not run because something it depends on is not known.
    pub(crate) fn not_checked(id: &str, why: &str) -> Self {
        Check::warn(
            id,
            format!("not checked: {why}"),
            "Fix the checks this one depends on, then run again.",
        )
    }
}

/// What the step returns and stores under `steps.preflight`: bounded however large the
/// instance (each check lists its first findings and counts the rest; every flow that hardcodes
/// a region is in the run table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// No check failed.
    pub ok: bool,
    /// False while flows are left to scan: invoke preflight again with the same `runId` (the
    /// replication machine does), and it goes on where this invocation stopped.
    pub done: bool,
    pub run_id: String,
    pub checks: Vec<Check>,
    /// The flow scan in numbers, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<FlowCounts>,
}

/// The flow scan so far, in numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowCounts {
    /// Flows and flow modules read.
    pub scanned: u64,
    /// Of those, the ones that name a region.
    pub hardcoded: u64,
    pub unpublished: u64,
    /// Flows and modules that could not be read, and listings refused.
    pub unreadable: u64,
    /// Flows and flow modules left, while the scan is not done (absent: not listed yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows_left: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules_left: Option<u64>,
    /// The sort key prefix of the run table's items that list every finding.
    pub findings_key: String,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }

    pub(crate) fn count(&self, v: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == v).count()
    }
}

/// The order of the report, by check ID.
const ORDER: &[&str] = &[
    "pair-supported",
    "regions-differ",
    "replica-region-deployed",
    "replica-alias",
    "instance-active",
    "instance-alias",
    "identity-saml",
    "not-replicated",
    "global-routing-alias",
    "name-conflicts",
    "flows-scanned",
    "hardcoded-region",
    "lambda-in-replica",
    "lex-bots",
    "connect-kms-key",
];

/// Puts checks in the report's order (stable: a check's entries keep theirs).
pub(crate) fn in_order(mut checks: Vec<Check>) -> Vec<Check> {
    checks.sort_by_key(|c| {
        ORDER
            .iter()
            .position(|id| *id == c.id)
            .unwrap_or(ORDER.len())
    });
    checks
}

/// At most `n` entries per check ID, failures first, then warnings, then passes; the entries
/// left out are counted in one more entry with the worst verdict among them.
pub(crate) fn capped(checks: Vec<Check>, n: usize) -> Vec<Check> {
    let mut ids: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Vec<Check>> = HashMap::new();
    for c in checks {
        if !by_id.contains_key(&c.id) {
            ids.push(c.id.clone());
        }
        by_id.entry(c.id.clone()).or_default().push(c);
    }
    let mut out = Vec::new();
    for id in ids {
        let mut group = by_id.remove(&id).unwrap_or_default();
        if group.len() <= n {
            out.extend(group);
            continue;
        }
        group.sort_by_key(|c| std::cmp::Reverse(severity(c.verdict)));
        let rest = group.split_off(n);
        out.extend(group);
        let count = |v| rest.iter().filter(|c| c.verdict == v).count();
        let worst = rest
            .iter()
            .max_by_key(|c| severity(c.verdict))
            .map(|c| (c.verdict, c.fix.clone()));
        if let Some((verdict, fix)) = worst {
            out.push(Check::new(
                &id,
                verdict,
                format!(
                    "{} more results of this check not listed: {} fail, {} warn, {} pass",
                    rest.len(),
                    count(Verdict::Fail),
                    count(Verdict::Warn),
                    count(Verdict::Pass)
                ),
                fix,
            ));
        }
    }
    out
}

fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Fail => 2,
    }
}

/// The first `n` of `items` joined, then how many more there are.
pub(crate) fn first(items: &[String], total: usize, n: usize, sep: &str) -> String {
    let shown: Vec<&str> = items.iter().take(n).map(String::as_str).collect();
    let more = total.saturating_sub(shown.len());
    if more == 0 {
        shown.join(sep)
    } else {
        format!("{}{sep}and {more} more", shown.join(sep))
    }
}

/// A Connect call failed: throttling, transient errors and the invocation's deadline end the
/// step (the state machine retries it), and so do rejected credentials (no other check could run
/// either: the step fails once, by name); anything else makes this one check a warn that says it
/// could not run.
pub(crate) fn could_not_run(id: &str, e: ConnectError) -> Result<Check, StepError> {
    if e.class.ends_the_invocation() || e.class == ConnectErrorClass::CredentialsRejected {
        return Err(e.into());
    }
    Ok(Check::warn(
        id,
        format!("could not check: {e}"),
        format!(
            "Allow this function's role connect:{} in {}, then run again.",
            e.operation, e.region
        ),
    ))
}
