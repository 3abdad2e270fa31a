//! Injected faults: an error rate and added latency per operation, changeable at run time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults(pub HashMap<String, Fault>);

impl Faults {
    pub fn validate(map: &HashMap<String, Fault>) -> Result<(), String> {
        for (op, f) in map {
            if !(0.0..=1.0).contains(&f.error_rate) {
                return Err(format!("errorRate for {op} must be between 0 and 1"));
            }
            if f.latency_ms > 60_000 {
                return Err(format!("latencyMs for {op} must be at most 60000"));
            }
        }
        Ok(())
    }

    /// The fault for an operation: its own entry, else the `*` entry.
    pub fn for_operation(&self, op: &str) -> Fault {
        self.0
            .get(op)
            .or_else(|| self.0.get("*"))
            .copied()
            .unwrap_or_default()
    }
}
