//! The report: each check's verdict, message and fix.

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

/// What the step returns and stores under `steps.preflight`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// No check failed.
    pub ok: bool,
    pub run_id: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }

    pub(crate) fn count(&self, v: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == v).count()
    }
}

/// A Connect call failed: throttling and transient errors end the step (the state machine
/// retries it); anything else makes this one check a warn that says it could not run.
pub(crate) fn could_not_run(id: &str, e: ConnectError) -> Result<Check, StepError> {
    match e.class {
        ConnectErrorClass::Throttled | ConnectErrorClass::Transient => Err(e.into()),
        _ => Ok(Check::warn(
            id,
            format!("could not check: {e}"),
            format!(
                "Allow this function's role connect:{} in {}, then run again.",
                e.operation, e.region
            ),
        )),
    }
}
