//! A payload read as a type: the one rule for how a malformed member is reported.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::StepError;

/// Parses a payload: unknown members and malformed values are `InvalidInput` naming the member
/// (by its path: `plan.telephony.us-east-1`). A step's input goes through [`parse`].
pub fn parse_input<T: DeserializeOwned>(payload: Value) -> Result<T, StepError> {
    parse_member(payload, "")
}

/// [`parse_input`] for a member of a larger payload: paths in errors start with `at`
/// (`detail.force`).
pub fn parse_member<T: DeserializeOwned>(payload: Value, at: &str) -> Result<T, StepError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let path = match (at, path.as_str()) {
            (_, "." | "") => at.to_string(),
            ("", p) => p.to_string(),
            (a, p) => format!("{a}.{p}"),
        };
        if path.is_empty() {
            StepError::InvalidInput(format!("invalid input: {e}"))
        } else {
            StepError::InvalidInput(format!("invalid input: {path}: {e}"))
        }
    })
}
