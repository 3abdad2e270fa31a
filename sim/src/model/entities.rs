//! What the world holds besides resources: instances, replications, traffic distribution
//! groups and phone numbers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::staging::ReplicaFailure;
use super::{FailedSync, ResourceSet, Settled, Version};
use crate::kinds::Kind;

#[derive(Debug, Clone)]
pub struct Instance {
    pub seq: u64,
    pub id: String,
    pub region: String,
    pub alias: Option<String>,
    pub identity: String,
    pub status: String,
    pub created: f64,
    /// When a CREATION_IN_PROGRESS instance becomes ACTIVE.
    pub ready_at: f64,
    pub attributes: Vec<(String, String)>,
    pub lambda_functions: Vec<String>,
    pub lex_v1: Vec<(String, String)>,
    pub lex_v2: Vec<String>,
    /// Approved origins (AssociateApprovedOrigin), in the order added.
    pub approved_origins: Vec<String>,
    /// Integration associations (ListIntegrationAssociations): third-party applications.
    pub integrations: Vec<Integration>,
    pub resources: BTreeMap<Kind, ResourceSet>,
    /// For a replica: its source region.
    pub replica_of: Option<String>,
}

impl Instance {
    pub fn set(&self, kind: Kind) -> Option<&ResourceSet> {
        self.resources.get(&kind)
    }

    pub fn set_mut(&mut self, kind: Kind) -> &mut ResourceSet {
        self.resources.entry(kind).or_default()
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An integration association of an instance in one region (not mirrored).
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub id: String,
    /// `IntegrationType` (`APPLICATION` for third-party applications).
    pub integration_type: String,
    pub integration_arn: String,
    /// The application's name and namespace (scenario `applications`).
    pub name: String,
    pub namespace: String,
    pub last_modified: f64,
}

/// What a team sets up in the replica region when the replica is created (scenario `replica`):
/// its Lambda functions, Lex V2 aliases, approved origins and applications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicaSetup {
    pub lambda_functions: Vec<String>,
    pub lex_v2: Vec<String>,
    pub approved_origins: Vec<String>,
    pub applications: Vec<(String, String)>,
}

/// One test case execution, in the region it was started in.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub seq: u64,
    pub id: String,
    pub instance_id: String,
    pub region: String,
    pub test_case_id: String,
    pub test_case_name: String,
    pub started: f64,
    /// When it completes (`testCaseSeconds` after the start, as set then).
    pub ends: f64,
    pub stopped: Option<f64>,
    /// Decided when it completes.
    pub outcome: Option<Outcome>,
}

/// A completed execution: how many observations were made, and the failed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub at: f64,
    pub total: usize,
    pub failures: Vec<Observation>,
}

/// A failed observation: the flow (or module), its block and what is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub flow: String,
    pub block: String,
    pub dependency: String,
    pub message: String,
}

impl Execution {
    /// The status at simulated time `now`.
    pub fn status(&self, now: f64) -> &'static str {
        if self.stopped.is_some() {
            "STOPPED"
        } else if let Some(o) = &self.outcome {
            if o.failures.is_empty() {
                "PASSED"
            } else {
                "FAILED"
            }
        } else if now < self.started + 1.0 {
            "INITIATED"
        } else {
            "IN_PROGRESS"
        }
    }

    pub fn end_time(&self) -> Option<f64> {
        self.stopped.or(self.outcome.as_ref().map(|o| o.at))
    }
}

/// A resource that could not be mirrored because the other side has one of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    pub source_id: String,
    pub target_id: String,
    pub name: String,
    pub since: f64,
}

#[derive(Debug, Clone)]
pub struct Replication {
    pub instance_id: String,
    pub source: String,
    pub replica: String,
    pub requested_at: f64,
    pub replica_ready_at: f64,
    pub initial_pending: usize,
    pub resync_pending: usize,
    pub blocked: Vec<Blocked>,
    /// Replica-side resources that someone creates by hand (scenario `replicaConflicts`).
    pub conflict_seeds: Vec<(Kind, String)>,
    pub seeded: bool,
    pub phase: Phase,
    /// A staged failure not applied yet, and when it falls due once that is known.
    pub plan: Option<ReplicaFailure>,
    pub plan_at: Option<f64>,
    /// Mirroring work dropped by a failed replication, per (kind, region it was going to):
    /// those resources stay drifted.
    pub stranded: BTreeMap<(Kind, String), usize>,
    /// Changes that could not be applied on the other side (staged).
    pub failed_syncs: Vec<FailedSync>,
}

/// Where a replication stands besides its mirroring work.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Creating the replica, mirroring, or done: as the work says.
    Running,
    CreationFailed {
        reason: String,
    },
    /// Mirroring into `region` (both regions when `None`) failed and stopped.
    ReplicationFailed {
        reason: String,
        region: Option<String>,
    },
    /// The replica is being deleted until `until`; then gone, or DELETION_FAILED with `fails`.
    Deleting {
        until: f64,
        fails: bool,
        reason: Option<String>,
    },
    DeletionFailed {
        reason: String,
    },
}

impl Phase {
    /// The phase as `/_sim/state` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::CreationFailed { .. } => "creationFailed",
            Phase::ReplicationFailed { .. } => "replicationFailed",
            Phase::Deleting { .. } => "deleting",
            Phase::DeletionFailed { .. } => "deletionFailed",
        }
    }

    /// Whether changes made in one region still reach `to`.
    pub fn syncs_to(&self, to: &str) -> bool {
        match self {
            Phase::Running => true,
            Phase::ReplicationFailed { region, .. } => region.as_deref().is_some_and(|r| r != to),
            _ => false,
        }
    }
}

impl Replication {
    pub fn other(&self, region: &str) -> Option<&str> {
        if region == self.source {
            Some(&self.replica)
        } else if region == self.replica {
            Some(&self.source)
        } else {
            None
        }
    }

    pub fn in_progress(&self) -> bool {
        self.initial_pending > 0 || self.resync_pending > 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub telephony: Vec<(String, i64)>,
    pub agents: Vec<(String, i64)>,
    pub sign_in: Option<Vec<(String, bool)>>,
}

#[derive(Debug, Clone)]
pub struct Tdg {
    pub seq: u64,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub instance_id: String,
    pub home: String,
    pub other: String,
    pub is_default: bool,
    /// `CREATION_IN_PROGRESS`, `ACTIVE`, `CREATION_FAILED`, `PENDING_DELETION` or
    /// `DELETION_FAILED`, the same from both regions. Never `UPDATE_IN_PROGRESS`: whether an
    /// update is being applied depends on the region asking (see [`Tdg::view`]).
    pub lifecycle: String,
    /// When the current transitional lifecycle status ends.
    pub until: f64,
    /// The distribution both regions have applied.
    pub settled: Settled,
    /// Updates not yet applied in both regions, in the order they were made.
    pub versions: Vec<Version>,
    pub users: BTreeSet<String>,
    pub tags: Map<String, Value>,
    /// Staged: its creation ends CREATION_FAILED; its next deletion ends DELETION_FAILED.
    pub fail_creation: bool,
    pub fail_deletion: bool,
}

#[derive(Debug, Clone)]
pub struct PhoneNumber {
    pub seq: u64,
    pub id: String,
    pub number: String,
    pub country: String,
    pub number_type: String,
    pub description: Option<String>,
    pub region: String,
    pub instance_id: String,
    pub target_arn: String,
    pub flow_id: Option<String>,
    /// The scenario's non-default group for this number (`phoneNumbers[].group`): the group
    /// that claims it when it becomes ACTIVE, instead of the default group.
    pub group: Option<String>,
}
