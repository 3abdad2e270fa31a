//! The state of both regions: instances, mirrored resources, replication, traffic distribution
//! groups and phone numbers, and how they move forward in simulated time.

mod advance;
mod entities;
mod failures;
mod findings;
mod group_failures;
mod ids;
mod mirroring;
mod readiness;
mod resources;
mod routing;
mod settings;
mod staged_findings;
pub mod staging;
mod traffic;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::kinds::Kind;
use crate::ops::Operation;
use staging::{AccessPolicy, GroupFailure, ReplicaFailure, StagedFinding, SyncFailure};

pub use entities::{
    Blocked, Distribution, Execution, Instance, Integration, Observation, Outcome, Phase,
    PhoneNumber, ReplicaSetup, Replication, Tdg,
};
pub use findings::{lambda_name, lambda_names, FailedSync};
pub use ids::IdGen;
pub use mirroring::{Task, TaskClass, TaskOp};
pub use readiness::{lex_alias_parts, stable_uuid};
pub use resources::{default_attrs, Resource, ResourceSet};
pub use routing::{IsolationUpdate, Migration, Routing, GLOBAL_ROUTING_SINCE};
pub use settings::{check_finding_types, default_region_pairs, Settings};
pub use traffic::{Settled, Version, View, ACTIVE, UPDATE_IN_PROGRESS};

/// Everything the control plane knows.
#[derive(Debug, Clone)]
pub struct World {
    pub account: String,
    pub settings: Settings,
    pub ids: IdGen,
    pub seq: u64,
    pub instances: BTreeMap<(String, String), Instance>,
    pub replications: BTreeMap<String, Replication>,
    pub tdgs: BTreeMap<String, Tdg>,
    pub numbers: BTreeMap<String, PhoneNumber>,
    /// Mirroring work, keyed by (due time in ms of simulated time, sequence).
    pub tasks: BTreeMap<(u64, u64), Task>,
    /// Idempotency: (region, operation, token) -> (request fingerprint, first answer).
    pub tokens: HashMap<(String, Operation, String), (String, Value)>,
    /// Replica-side look-alikes to create when an instance's replica comes up.
    pub pending_conflicts: HashMap<String, Vec<(Kind, String)>>,
    /// Regions in a simulated outage: mirroring to or from them waits until they are back.
    pub paused: BTreeSet<String>,
    /// Replica failures staged for instances not replicated yet, by instance ID.
    pub replica_plans: HashMap<String, ReplicaFailure>,
    /// Group failures staged for groups not created yet, by name.
    pub group_plans: Vec<GroupFailure>,
    /// Sync failures staged for resources not mirrored yet.
    pub sync_plans: Vec<SyncFailure>,
    /// The Lambda functions deployed per region, by name; a region without an entry has them
    /// all.
    pub lambda_functions: BTreeMap<String, Vec<String>>,
    /// Identity-based policies by access key ID (the front door enforces them).
    pub access_policies: BTreeMap<String, AccessPolicy>,
    /// Global routing by instance ID (shared by the source and its replica).
    pub routing: BTreeMap<String, Routing>,
    /// Findings staged through the control API, in the order staged (IDs filled in).
    pub staged_findings: Vec<StagedFinding>,
    /// The Lex V2 aliases deployed per region, by alias ARN; a region without an entry has
    /// them all.
    pub lex_aliases: BTreeMap<String, Vec<String>>,
    /// Regions whose S3 buckets are unreachable (prompts stored in S3 fail there).
    pub s3_outages: BTreeSet<String>,
    /// What the team sets up in an instance's replica when it is created, by instance ID.
    pub replica_setups: HashMap<String, ReplicaSetup>,
    /// Test case executions, in the order started.
    pub executions: Vec<Execution>,
}

pub fn arn(account: &str, region: &str, resource: &str) -> String {
    format!("arn:aws:connect:{region}:{account}:{resource}")
}

impl World {
    pub fn new(account: String, settings: Settings, seed: u64) -> Self {
        World {
            account,
            settings,
            ids: IdGen::new(seed),
            seq: 0,
            instances: BTreeMap::new(),
            replications: BTreeMap::new(),
            tdgs: BTreeMap::new(),
            numbers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            tokens: HashMap::new(),
            pending_conflicts: HashMap::new(),
            paused: BTreeSet::new(),
            replica_plans: HashMap::new(),
            group_plans: Vec::new(),
            sync_plans: Vec::new(),
            lambda_functions: BTreeMap::new(),
            access_policies: BTreeMap::new(),
            routing: BTreeMap::new(),
            staged_findings: Vec::new(),
            lex_aliases: BTreeMap::new(),
            s3_outages: BTreeSet::new(),
            replica_setups: HashMap::new(),
            executions: Vec::new(),
        }
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn instance_arn(&self, region: &str, id: &str) -> String {
        arn(&self.account, region, &format!("instance/{id}"))
    }

    pub fn resource_arn(&self, region: &str, instance_id: &str, kind: Kind, id: &str) -> String {
        let segment = kind.spec().arn_segment.unwrap_or("attribute");
        arn(
            &self.account,
            region,
            &format!("instance/{instance_id}/{segment}/{id}"),
        )
    }

    pub fn tdg_arn(&self, tdg: &Tdg) -> String {
        arn(
            &self.account,
            &tdg.home,
            &format!("traffic-distribution-group/{}", tdg.id),
        )
    }

    pub fn instance(&self, region: &str, id: &str) -> Option<&Instance> {
        self.instances.get(&(region.to_string(), id.to_string()))
    }

    pub fn instance_mut(&mut self, region: &str, id: &str) -> Option<&mut Instance> {
        self.instances
            .get_mut(&(region.to_string(), id.to_string()))
    }
}
