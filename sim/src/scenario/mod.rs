//! Scenario files: the instances, resources and settings the control plane starts from.
//! The format is documented in `sim/README.md`.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::SimError;
use crate::faults::Faults;
use crate::kinds::Kind;
use crate::model::staging::{
    AccessPolicy, GroupFailure, GroupFailureKind, RefusalCode, ReplicaFailure, SyncFailure,
    ThrottleCode,
};
use crate::model::{default_region_pairs, lambda_name, Instance, PhoneNumber, Settings, World};

mod entries;

use entries::{lookup, resource_from};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_account")]
    pub account: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub settings: SettingsFile,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub instances: Vec<InstanceFile>,
    /// The Lambda functions deployed per region (names or ARNs); a region left out has every
    /// function the flows name.
    #[serde(default)]
    pub lambda_functions: BTreeMap<String, Vec<String>>,
    /// Identity-based policies by access key ID; keys without one may do everything.
    #[serde(default)]
    pub access_policies: BTreeMap<String, AccessPolicy>,
}

fn default_account() -> String {
    "123456789012".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsFile {
    pub replica_creation_seconds: Option<f64>,
    pub mirror_per_second: Option<f64>,
    #[serde(default)]
    pub mirror_per_second_by_kind: HashMap<Kind, f64>,
    pub sync_delay_seconds: Option<f64>,
    pub tdg_creation_seconds: Option<f64>,
    pub tdg_update_seconds: Option<f64>,
    pub tdg_deletion_seconds: Option<f64>,
    pub cross_region_lag_seconds: Option<f64>,
    pub instances_per_region: Option<usize>,
    pub quota_factor: Option<f64>,
    pub region_pairs: Option<Vec<(String, String)>>,
    pub update_in_progress_answer: Option<RefusalCode>,
    pub name_conflict_answer: Option<RefusalCode>,
    pub global_resiliency_enabled: Option<bool>,
    pub throttling_answer: Option<ThrottleCode>,
    pub error_type_suffix: Option<bool>,
    pub call_latency_ms: Option<u64>,
    pub call_latency_jitter_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceFile {
    pub id: Option<String>,
    pub region: String,
    pub alias: Option<String>,
    #[serde(default = "saml")]
    pub identity_management_type: String,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub lambda_functions: Vec<String>,
    #[serde(default)]
    pub lex_bots: Vec<LexBotFile>,
    #[serde(default)]
    pub lex_v2_bots: Vec<String>,
    #[serde(default)]
    pub resources: HashMap<Kind, Vec<Map<String, Value>>>,
    #[serde(default)]
    pub generate: HashMap<Kind, Generate>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumberFile>,
    #[serde(default)]
    pub replica_conflicts: Vec<ConflictFile>,
    /// A failure of the replica, armed for the instance's first ReplicateInstance.
    pub replica_failure: Option<ReplicaFailure>,
    /// Failures of the instance's traffic distribution groups, by name, armed for the groups
    /// made with the replica or created later.
    #[serde(default)]
    pub group_failures: Vec<GroupFailure>,
    /// Resources whose next mirroring into the replica region (or `region`) fails.
    #[serde(default)]
    pub sync_failures: Vec<SyncFailure>,
}

fn saml() -> String {
    "SAML".into()
}
fn active() -> String {
    "ACTIVE".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexBotFile {
    pub name: String,
    pub region: String,
}

/// `count` resources named `{prefix}{n:05}`, each shaped like `template`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub count: usize,
    pub prefix: String,
    #[serde(default)]
    pub template: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneNumberFile {
    pub number: String,
    #[serde(default = "did")]
    pub r#type: String,
    #[serde(default = "us")]
    pub country: String,
    pub description: Option<String>,
    pub flow: Option<String>,
    /// A non-default traffic distribution group, by name, made when the instance is
    /// replicated; the number is claimed to it instead of to the default group.
    pub group: Option<String>,
}

fn did() -> String {
    "DID".into()
}
fn us() -> String {
    "US".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictFile {
    pub kind: Kind,
    pub name: String,
}

const DEFAULT_ATTRIBUTES: &[(&str, &str)] = &[
    ("INBOUND_CALLS", "true"),
    ("OUTBOUND_CALLS", "true"),
    ("CONTACTFLOW_LOGS", "true"),
    ("CONTACT_LENS", "false"),
    ("AUTO_RESOLVE_BEST_VOICES", "false"),
    ("USE_CUSTOM_TTS_VOICES", "false"),
    ("EARLY_MEDIA", "true"),
    ("MULTI_PARTY_CONFERENCE", "false"),
    ("HIGH_VOLUME_OUTBOUND", "false"),
    ("ENHANCED_CONTACT_MONITORING", "false"),
];

impl Scenario {
    pub fn parse(text: &str) -> Result<Scenario, SimError> {
        serde_json::from_str(text)
            .map_err(|e| SimError::BadRequest(format!("scenario is not valid: {e}")))
    }

    pub fn quota_factor(&self) -> Option<f64> {
        self.settings.quota_factor
    }

    /// Builds the world this scenario describes, at simulated time `now`.
    pub fn build(&self, seed: u64, now: f64) -> Result<World, SimError> {
        let s = &self.settings;
        let d = Settings::default();
        let settings = Settings {
            replica_creation_seconds: s
                .replica_creation_seconds
                .unwrap_or(d.replica_creation_seconds),
            mirror_per_second: positive(
                s.mirror_per_second.unwrap_or(d.mirror_per_second),
                "mirrorPerSecond",
            )?,
            mirror_per_second_by_kind: s.mirror_per_second_by_kind.clone(),
            sync_delay_seconds: s.sync_delay_seconds.unwrap_or(d.sync_delay_seconds),
            tdg_creation_seconds: s.tdg_creation_seconds.unwrap_or(d.tdg_creation_seconds),
            tdg_update_seconds: s.tdg_update_seconds.unwrap_or(d.tdg_update_seconds),
            tdg_deletion_seconds: s.tdg_deletion_seconds.unwrap_or(d.tdg_deletion_seconds),
            cross_region_lag_seconds: s
                .cross_region_lag_seconds
                .unwrap_or(d.cross_region_lag_seconds),
            instances_per_region: s.instances_per_region.unwrap_or(d.instances_per_region),
            region_pairs: s.region_pairs.clone().unwrap_or_else(default_region_pairs),
            update_in_progress_answer: s
                .update_in_progress_answer
                .unwrap_or(RefusalCode::InvalidRequest),
            name_conflict_answer: s.name_conflict_answer.unwrap_or_default(),
            global_resiliency_enabled: s.global_resiliency_enabled.unwrap_or(true),
            throttling_answer: s.throttling_answer.unwrap_or_default(),
            error_type_suffix: s.error_type_suffix.unwrap_or(true),
            call_latency_ms: s.call_latency_ms.unwrap_or(d.call_latency_ms),
            call_latency_jitter_ms: s.call_latency_jitter_ms.unwrap_or(d.call_latency_jitter_ms),
        };
        settings.check_latency()?;
        let lag = settings.cross_region_lag_seconds;
        if !(lag >= 0.0 && lag.is_finite()) {
            return Err(SimError::BadRequest(
                "crossRegionLagSeconds must be a number of seconds, 0 or more".to_string(),
            ));
        }
        for rate in settings.mirror_per_second_by_kind.values() {
            positive(*rate, "mirrorPerSecondByKind")?;
        }
        let mut world = World::new(self.account.clone(), settings, seed);
        for (key, policy) in &self.access_policies {
            policy
                .validate()
                .map_err(|e| SimError::BadRequest(format!("accessPolicies: {key}: {e}")))?;
            world.access_policies.insert(key.clone(), policy.clone());
        }
        for (region, functions) in &self.lambda_functions {
            if !crate::wire::is_region(region) {
                return Err(SimError::BadRequest(format!(
                    "lambdaFunctions: '{region}' is not a region"
                )));
            }
            world.lambda_functions.insert(
                region.clone(),
                functions.iter().map(|f| lambda_name(f)).collect(),
            );
        }
        for file in &self.instances {
            self.add_instance(&mut world, file, now)?;
        }
        Ok(world)
    }

    fn add_instance(&self, world: &mut World, f: &InstanceFile, now: f64) -> Result<(), SimError> {
        if !crate::wire::is_region(&f.region) {
            return Err(SimError::BadRequest(format!(
                "instance region '{}' is not a region",
                f.region
            )));
        }
        let id = f.id.clone().unwrap_or_else(|| world.ids.uuid());
        let mut attributes: Vec<(String, String)> = DEFAULT_ATTRIBUTES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in &f.attributes {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match attributes.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v,
                None => attributes.push((k.clone(), v)),
            }
        }
        let mut inst = Instance {
            seq: world.next_seq(),
            id: id.clone(),
            region: f.region.clone(),
            alias: f.alias.clone(),
            identity: f.identity_management_type.clone(),
            status: f.status.clone(),
            created: now - 86_400.0,
            ready_at: now,
            attributes,
            lambda_functions: f.lambda_functions.clone(),
            lex_v1: f
                .lex_bots
                .iter()
                .map(|b| (b.name.clone(), b.region.clone()))
                .collect(),
            lex_v2: f.lex_v2_bots.clone(),
            resources: Default::default(),
            replica_of: None,
        };
        for kind in Kind::all() {
            let mut entries: Vec<Map<String, Value>> =
                f.resources.get(&kind).cloned().unwrap_or_default();
            if let Some(g) = f.generate.get(&kind) {
                for n in 1..=g.count {
                    let mut e = g.template.clone();
                    e.insert("name".into(), Value::String(format!("{}{n:05}", g.prefix)));
                    entries.push(e);
                }
            }
            for entry in entries {
                let r = resource_from(world, &inst, kind, &entry, now)?;
                if inst.set(kind).and_then(|s| s.by_name(&r.name)).is_some() {
                    return Err(SimError::BadRequest(format!(
                        "{kind:?} '{}' appears twice",
                        r.name
                    )));
                }
                inst.set_mut(kind).insert(r);
            }
        }
        for n in &f.phone_numbers {
            let flow_id = match &n.flow {
                Some(name) => Some(lookup(&inst, Kind::ContactFlows, name)?),
                None => None,
            };
            if let Some(g) = &n.group {
                let len = g.chars().count();
                if !(1..=128).contains(&len) || g.trim() != g {
                    return Err(SimError::BadRequest(format!(
                        "phone number {}: group '{g}' must be 1 to 128 characters, without white space at either end",
                        n.number
                    )));
                }
                if f.alias
                    .as_ref()
                    .is_some_and(|a| *g == format!("{a}-default"))
                {
                    return Err(SimError::BadRequest(format!(
                        "phone number {}: group '{g}' is the default group's name; leave out `group` for the default group",
                        n.number
                    )));
                }
            }
            let pid = world.ids.uuid();
            let number = PhoneNumber {
                seq: world.next_seq(),
                id: pid,
                number: n.number.clone(),
                country: n.country.clone(),
                number_type: n.r#type.clone(),
                description: n.description.clone(),
                region: f.region.clone(),
                instance_id: id.clone(),
                target_arn: world.instance_arn(&f.region, &id),
                flow_id,
                group: n.group.clone(),
            };
            world.numbers.insert(number.id.clone(), number);
        }
        if !f.replica_conflicts.is_empty() {
            world.pending_conflicts.insert(
                id.clone(),
                f.replica_conflicts
                    .iter()
                    .map(|c| (c.kind, c.name.clone()))
                    .collect(),
            );
        }
        if let Some(failure) = &f.replica_failure {
            failure
                .validate()
                .map_err(|e| SimError::BadRequest(format!("instance {id}: replicaFailure: {e}")))?;
            world.replica_plans.insert(id.clone(), failure.clone());
        }
        for g in &f.group_failures {
            if g.failure == GroupFailureKind::UpdateInProgress || g.instance_id.is_some() {
                return Err(SimError::BadRequest(format!(
                    "instance {id}: groupFailures take a group name and creationFailed or deletionFailed (updateInProgress is staged at run time)"
                )));
            }
            world.group_plans.push(GroupFailure {
                instance_id: Some(id.clone()),
                ..g.clone()
            });
        }
        for s in &f.sync_failures {
            if s.instance_id.is_some() {
                return Err(SimError::BadRequest(format!(
                    "instance {id}: syncFailures take no instanceId"
                )));
            }
            if inst
                .set(s.kind)
                .and_then(|set| set.by_name(&s.name))
                .is_none()
            {
                return Err(SimError::BadRequest(format!(
                    "instance {id}: syncFailures: {:?} '{}' is not defined",
                    s.kind, s.name
                )));
            }
            world.sync_plans.push(SyncFailure {
                instance_id: Some(id.clone()),
                ..s.clone()
            });
        }
        world.instances.insert((f.region.clone(), id), inst);
        Ok(())
    }
}

fn positive(v: f64, name: &str) -> Result<f64, SimError> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(SimError::BadRequest(format!(
            "{name} must be a positive number"
        )))
    }
}
