//! A payload read as a type: the one rule for how a malformed member is reported.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::StepError;

/// Parses a payload: unknown members and malformed values are `InvalidInput` naming the member
/// (by its path: `plan.telephony.us-east-1`). A step's input goes through [`parse`].
pub fn parse_input<T: DeserializeOwned>(payload: Value) -> Result<T, StepError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let at = e.path().to_string();
        let e = e.into_inner();
        if at == "." || at.is_empty() {
            StepError::InvalidInput(format!("invalid input: {e}"))
        } else {
            StepError::InvalidInput(format!("invalid input: {at}: {e}"))
        }
    })
}
