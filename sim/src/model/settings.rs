//! Timing and quota knobs, from the scenario's `settings`.

use std::collections::HashMap;

use super::staging::{RefusalCode, SettingsChange, SimSettings, ThrottleCode};
use crate::error::SimError;
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
    /// How much later the other region sees a traffic distribution update (0: at once).
    pub cross_region_lag_seconds: f64,
    pub instances_per_region: usize,
    /// Directed (source, replica) pairs ReplicateInstance accepts.
    pub region_pairs: Vec<(String, String)>,
    pub update_in_progress_answer: RefusalCode,
    pub name_conflict_answer: RefusalCode,
    pub global_resiliency_enabled: bool,
    pub throttling_answer: ThrottleCode,
    pub error_type_suffix: bool,
    /// Every API call's answer waits this long (wall clock)...
    pub call_latency_ms: u64,
    /// ... plus up to this much more, drawn from seeded dice.
    pub call_latency_jitter_ms: u64,
    /// Whether AWS granted global routing to the account (scenario `globalRoutingGranted`):
    /// a ReplicateInstance re-run then migrates an older instance to it.
    pub global_routing_granted: bool,
    /// How long (simulated seconds) such a migration keeps replication `IN_PROGRESS`.
    pub migration_seconds: f64,
    /// ListReplicationFindings resource types beyond the documented ones (scenario
    /// `extraFindingTypes`): types "AWS added later".
    pub extra_finding_types: Vec<String>,
    /// How long (simulated seconds) a test case execution runs before its outcome.
    pub test_case_seconds: f64,
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
            cross_region_lag_seconds: 0.0,
            instances_per_region: 100,
            region_pairs: default_region_pairs(),
            update_in_progress_answer: RefusalCode::InvalidRequest,
            name_conflict_answer: RefusalCode::default(),
            global_resiliency_enabled: true,
            throttling_answer: ThrottleCode::default(),
            error_type_suffix: true,
            call_latency_ms: 0,
            call_latency_jitter_ms: 0,
            global_routing_granted: false,
            migration_seconds: 300.0,
            extra_finding_types: Vec::new(),
            test_case_seconds: 30.0,
        }
    }
}

impl Settings {
    /// The settings the control API shows and changes.
    pub fn view(&self) -> SimSettings {
        SimSettings {
            replica_creation_seconds: self.replica_creation_seconds,
            mirror_per_second: self.mirror_per_second,
            sync_delay_seconds: self.sync_delay_seconds,
            tdg_creation_seconds: self.tdg_creation_seconds,
            tdg_update_seconds: self.tdg_update_seconds,
            tdg_deletion_seconds: self.tdg_deletion_seconds,
            cross_region_lag_seconds: self.cross_region_lag_seconds,
            instances_per_region: self.instances_per_region,
            update_in_progress_answer: self.update_in_progress_answer,
            name_conflict_answer: self.name_conflict_answer,
            global_resiliency_enabled: self.global_resiliency_enabled,
            throttling_answer: self.throttling_answer,
            error_type_suffix: self.error_type_suffix,
            call_latency_ms: self.call_latency_ms,
            call_latency_jitter_ms: self.call_latency_jitter_ms,
            global_routing_granted: self.global_routing_granted,
            migration_seconds: self.migration_seconds,
            extra_finding_types: self.extra_finding_types.clone(),
            test_case_seconds: self.test_case_seconds,
        }
    }

    /// Applies a change: all of it, or nothing when a member is out of range.
    pub fn change(&mut self, c: &SettingsChange) -> Result<SimSettings, SimError> {
        let mut next = self.clone();
        let seconds = |v: Option<f64>, name: &str, slot: &mut f64| match v {
            Some(v) if v >= 0.0 && v.is_finite() => {
                *slot = v;
                Ok(())
            }
            Some(_) => Err(SimError::BadRequest(format!(
                "{name} must be a number of seconds, 0 or more"
            ))),
            None => Ok(()),
        };
        seconds(
            c.replica_creation_seconds,
            "replicaCreationSeconds",
            &mut next.replica_creation_seconds,
        )?;
        seconds(
            c.sync_delay_seconds,
            "syncDelaySeconds",
            &mut next.sync_delay_seconds,
        )?;
        seconds(
            c.tdg_creation_seconds,
            "tdgCreationSeconds",
            &mut next.tdg_creation_seconds,
        )?;
        seconds(
            c.tdg_update_seconds,
            "tdgUpdateSeconds",
            &mut next.tdg_update_seconds,
        )?;
        seconds(
            c.tdg_deletion_seconds,
            "tdgDeletionSeconds",
            &mut next.tdg_deletion_seconds,
        )?;
        seconds(
            c.cross_region_lag_seconds,
            "crossRegionLagSeconds",
            &mut next.cross_region_lag_seconds,
        )?;
        seconds(
            c.migration_seconds,
            "migrationSeconds",
            &mut next.migration_seconds,
        )?;
        seconds(
            c.test_case_seconds,
            "testCaseSeconds",
            &mut next.test_case_seconds,
        )?;
        if let Some(on) = c.global_routing_granted {
            next.global_routing_granted = on;
        }
        if let Some(types) = &c.extra_finding_types {
            check_finding_types(types)?;
            next.extra_finding_types = types.clone();
        }
        if let Some(rate) = c.mirror_per_second {
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(SimError::BadRequest(
                    "mirrorPerSecond must be a positive number".to_string(),
                ));
            }
            next.mirror_per_second = rate;
        }
        if let Some(n) = c.instances_per_region {
            next.instances_per_region = n;
        }
        if let Some(a) = c.update_in_progress_answer {
            next.update_in_progress_answer = a;
        }
        if let Some(a) = c.name_conflict_answer {
            next.name_conflict_answer = a;
        }
        if let Some(on) = c.global_resiliency_enabled {
            next.global_resiliency_enabled = on;
        }
        if let Some(code) = c.throttling_answer {
            next.throttling_answer = code;
        }
        if let Some(on) = c.error_type_suffix {
            next.error_type_suffix = on;
        }
        if let Some(ms) = c.call_latency_ms {
            next.call_latency_ms = ms;
        }
        if let Some(ms) = c.call_latency_jitter_ms {
            next.call_latency_jitter_ms = ms;
        }
        next.check_latency()?;
        *self = next;
        Ok(self.view())
    }
}

impl Settings {
    /// The per-call latency is at most a minute, base and jitter each.
    pub fn check_latency(&self) -> Result<(), SimError> {
        if self.call_latency_ms > MAX_LATENCY_MS || self.call_latency_jitter_ms > MAX_LATENCY_MS {
            return Err(SimError::BadRequest(format!(
                "callLatencyMs and callLatencyJitterMs must be at most {MAX_LATENCY_MS}"
            )));
        }
        Ok(())
    }
}

const MAX_LATENCY_MS: u64 = 60_000;

/// Extra finding types are strings of 1 to 128 characters, as the model's
/// `ReplicationFindingResourceType`.
pub fn check_finding_types(types: &[String]) -> Result<(), SimError> {
    match types
        .iter()
        .find(|t| !(1..=128).contains(&t.chars().count()))
    {
        Some(bad) => Err(SimError::BadRequest(format!(
            "extraFindingTypes: '{bad}' must be 1 to 128 characters long"
        ))),
        None => Ok(()),
    }
}

impl Settings {
    /// Whether ListReplicationFindings accepts `resource_type`: a documented type, or one of
    /// `extraFindingTypes`.
    pub fn accepts_finding_type(&self, resource_type: &str) -> bool {
        crate::kinds::FINDING_TYPES.contains(&resource_type)
            || self.extra_finding_types.iter().any(|t| t == resource_type)
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
