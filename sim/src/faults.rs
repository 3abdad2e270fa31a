//! Injected faults: an error rate and added latency per operation, changeable at run time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::ops::Operation;

/// What to do to calls of one operation (or of every operation, under the key `*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Share of calls, from 0 to 1, answered with 500 InternalServiceException.
    #[serde(default)]
    pub error_rate: f64,
    /// Milliseconds added before the answer.
    #[serde(default)]
    pub latency_ms: u64,
}

/// Faults by operation name (`ListUsers`, ...), or `*` for every operation without its own
/// entry: the scenario's `faults` and the body of `/_sim/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Faults(pub HashMap<String, Fault>);

impl Faults {
    pub fn validate(&self) -> Result<(), SimError> {
        for (op, f) in &self.0 {
            if !(0.0..=1.0).contains(&f.error_rate) {
                return Err(SimError::BadRequest(format!(
                    "errorRate for {op} must be between 0 and 1"
                )));
            }
            if f.latency_ms > 60_000 {
                return Err(SimError::BadRequest(format!(
                    "latencyMs for {op} must be at most 60000"
                )));
            }
        }
        Ok(())
    }

    /// The fault for an operation: its own entry, else the `*` entry.
    pub fn for_operation(&self, op: Operation) -> Fault {
        self.0
            .get(op.name())
            .or_else(|| self.0.get("*"))
            .copied()
            .unwrap_or_default()
    }
}
