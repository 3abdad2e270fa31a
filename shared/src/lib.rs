//! What the ACGR step functions share: the domain, the ports to Connect and to the run store
//! with their adapters and in-memory fakes, the errors the state machines act on, and the
//! context each Lambda builds once per cold start.

pub mod conflicts;
pub mod connect;
pub mod context;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod records;
pub mod runs;
pub mod steady;
pub mod step;
pub mod store;

pub use context::{init_tracing, now, Context};
pub use error::StepError;

/// Parses a step's payload: unknown fields and malformed values are `InvalidInput` naming the field.
pub fn parse_input<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, StepError> {
    serde_json::from_value(payload)
        .map_err(|e| StepError::InvalidInput(format!("invalid input: {e}")))
}
