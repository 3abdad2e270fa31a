//! Timing and quota knobs, from the scenario's `settings`.

use std::collections::HashMap;

use crate::kinds::Kind;

#[derive(Debug, Clone)]
pub struct Settings {
    pub replica_creation_seconds: f64,
    pub mirror_per_second: f64,
    pub mirror_per_second_by_kind: HashMap<Kind, f64>,
    pub sync_delay_seconds: f64,
    pub tdg_creation_seconds: f64,
    pub tdg_update_seconds: f64,
    pub tdg_deletion_seconds: f64,
    pub instances_per_region: usize,
    /// Directed (source, replica) pairs ReplicateInstance accepts.
    pub region_pairs: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            replica_creation_seconds: 300.0,
            mirror_per_second: 1.0,
            mirror_per_second_by_kind: HashMap::new(),
            sync_delay_seconds: 10.0,
            tdg_creation_seconds: 60.0,
            tdg_update_seconds: 3.0,
            tdg_deletion_seconds: 30.0,
            instances_per_region: 100,
            region_pairs: default_region_pairs(),
        }
    }
}

/// The pairs in the replica-creation guide: both ways, and nothing else.
pub fn default_region_pairs() -> Vec<(String, String)> {
    [
        ("us-east-1", "us-west-2"),
        ("us-west-2", "us-east-1"),
        ("eu-central-1", "eu-west-2"),
        ("eu-west-2", "eu-central-1"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}
