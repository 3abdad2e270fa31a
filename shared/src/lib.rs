//! What the ACGR step functions share: the domain, the ports to Connect and to the run store
//! with their adapters and in-memory fakes, the errors the state machines act on, and the
//! context each Lambda builds once per cold start.

pub mod conflicts;
pub mod connect;
pub mod context;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod error_codes;
pub mod groups;
#[cfg(any(test, feature = "test-util"))]
pub mod hostile;
pub mod members;
pub mod metrics;
pub mod pace;
pub mod records;
pub mod replication;
pub mod request;
pub mod run_ids;
pub mod runs;
pub mod steady;
pub mod step;
pub mod store;

pub use context::{now, Context, Peer};
pub use error::StepError;

/// Parses a payload: unknown members and malformed values are `InvalidInput` naming the member
/// (by its path: `plan.telephony.us-east-1`). A step's input goes through [`step::parse`].
pub fn parse_input<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, StepError> {
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
