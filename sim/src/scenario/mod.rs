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
use crate::model::{
    default_region_pairs, lambda_name, stable_uuid, Instance, Integration, PhoneNumber,
    ReplicaSetup, Routing, Settings, World, GLOBAL_ROUTING_SINCE,
};

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
    /// The Lex V2 aliases deployed per region (alias ARNs); a region left out has every alias.
    #[serde(default)]
    pub lex_aliases: BTreeMap<String, Vec<String>>,
    /// Identity-based policies by access key ID; keys without one may do everything.
    #[serde(default)]
    pub access_policies: BTreeMap<String, AccessPolicy>,
    /// Whether AWS granted global routing to the account (a ReplicateInstance re-run then
    /// migrates an older instance to it).
    #[serde(default)]
    pub global_routing_granted: bool,
    /// ListReplicationFindings resource types accepted beyond the documented ones.
    #[serde(default)]
    pub extra_finding_types: Vec<String>,
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
    pub migration_seconds: Option<f64>,
    pub test_case_seconds: Option<f64>,
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
    /// When the instance was created: an RFC 3339 date or date-time, or epoch seconds
    /// (default: a day before the scenario starts).
    pub created_at: Option<CreatedAt>,
    /// Whether it is enabled for global routing (default: created on or after 2026-09-01).
    pub global_routing: Option<bool>,
    /// Approved origins of the instance.
    #[serde(default)]
    pub approved_origins: Vec<String>,
    /// Third-party applications (integration associations of type `APPLICATION`).
    #[serde(default)]
    pub applications: Vec<ApplicationFile>,
    /// What the team sets up in the replica region when the replica is created.
    pub replica: Option<ReplicaFile>,
    /// Test cases of the instance.
    #[serde(default)]
    pub test_cases: Vec<TestCaseFile>,
}

/// A third-party application integrated with an instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationFile {
    pub name: String,
    pub namespace: String,
}

/// An instance's `replica`: the integrations set up in the replica when it is created.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicaFile {
    #[serde(default)]
    pub lambda_functions: Vec<String>,
    #[serde(default)]
    pub lex_v2_bots: Vec<String>,
    #[serde(default)]
    pub approved_origins: Vec<String>,
    #[serde(default)]
    pub applications: Vec<ApplicationFile>,
}

/// A test case: `entryPoint` is `{"flow": NAME}` or `{"phoneNumber": E164}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestCaseFile {
    pub name: String,
    pub id: Option<String>,
    pub entry_point: Option<EntryPointFile>,
    /// `PUBLISHED` (default) or `SAVED`.
    pub status: Option<String>,
    #[serde(default)]
    pub tags: Map<String, Value>,
    pub description: Option<String>,
    /// The test case's content, kept as given (a string, or an object sent as its JSON text).
    pub content: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryPointFile {
    pub flow: Option<String>,
    pub phone_number: Option<String>,
    /// `VOICE_CALL` (default) or `CHAT`.
    pub r#type: Option<String>,
}

/// An instance's `createdAt`: epoch seconds, or an RFC 3339 date or date-time.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CreatedAt {
    Seconds(f64),
    Text(String),
}

impl CreatedAt {
    fn seconds(&self) -> Result<f64, SimError> {
        match self {
            CreatedAt::Seconds(s) if s.is_finite() => Ok(*s),
            CreatedAt::Seconds(s) => {
                Err(SimError::BadRequest(format!("createdAt {s} is not a time")))
            }
            CreatedAt::Text(t) => {
                parse_time(t).map_err(|e| SimError::BadRequest(format!("createdAt '{t}': {e}")))
            }
        }
    }
}

/// Epoch seconds of an RFC 3339 date (`2025-03-01`, midnight UTC) or date-time
/// (`2025-03-01T12:30:00Z`, `...T12:30:00.5+02:00`).
pub fn parse_time(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not an RFC 3339 date or date-time");
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let num = |s: &str, len: usize| -> Result<i64, String> {
        if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    if !(1..=12).contains(&m) || !(1..=days_in_month(y, m)).contains(&d) {
        return Err(bad());
    }
    let mut seconds = (days_from_civil(y, m, d) * 86_400) as f64;
    if let Some(time) = time {
        let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let at = time.rfind(['+', '-']).ok_or_else(bad)?;
            let (c, o) = time.split_at(at);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':').ok_or_else(bad)?;
            (c, sign * (num(oh, 2)? * 3600 + num(om, 2)? * 60))
        };
        let (whole, fraction) = match clock.split_once('.') {
            Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                (w, format!("0.{f}").parse::<f64>().map_err(|_| bad())?)
            }
            Some(_) => return Err(bad()),
            None => (clock, 0.0),
        };
        let hms: Vec<&str> = whole.split(':').collect();
        let [h, mi, s] = hms.as_slice() else {
            return Err(bad());
        };
        let (h, mi, s) = (num(h, 2)?, num(mi, 2)?, num(s, 2)?);
        if h > 23 || mi > 59 || s > 60 {
            return Err(bad());
        }
        seconds += (h * 3600 + mi * 60 + s - offset) as f64 + fraction;
    }
    Ok(seconds)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            global_routing_granted: self.global_routing_granted,
            migration_seconds: s.migration_seconds.unwrap_or(d.migration_seconds),
            extra_finding_types: self.extra_finding_types.clone(),
            test_case_seconds: s.test_case_seconds.unwrap_or(d.test_case_seconds),
        };
        if !(settings.test_case_seconds >= 0.0 && settings.test_case_seconds.is_finite()) {
            return Err(SimError::BadRequest(
                "testCaseSeconds must be a number of seconds, 0 or more".to_string(),
            ));
        }
        crate::model::check_finding_types(&settings.extra_finding_types)?;
        let migration = settings.migration_seconds;
        if !(migration >= 0.0 && migration.is_finite()) {
            return Err(SimError::BadRequest(
                "migrationSeconds must be a number of seconds, 0 or more".to_string(),
            ));
        }
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
        for (region, aliases) in &self.lex_aliases {
            if !crate::wire::is_region(region) {
                return Err(SimError::BadRequest(format!(
                    "lexAliases: '{region}' is not a region"
                )));
            }
            world.lex_aliases.insert(region.clone(), aliases.clone());
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
        let created = match &f.created_at {
            Some(at) => at
                .seconds()
                .map_err(|e| SimError::BadRequest(format!("instance {id}: {e}")))?,
            None => now - 86_400.0,
        };
        let global_routing = f.global_routing.unwrap_or(created >= GLOBAL_ROUTING_SINCE);
        world.routing.insert(
            id.clone(),
            Routing {
                enabled: global_routing,
                ..Routing::default()
            },
        );
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
            created,
            ready_at: now,
            attributes,
            lambda_functions: f.lambda_functions.clone(),
            lex_v1: f
                .lex_bots
                .iter()
                .map(|b| (b.name.clone(), b.region.clone()))
                .collect(),
            lex_v2: f.lex_v2_bots.clone(),
            approved_origins: f.approved_origins.clone(),
            integrations: applications(world, &f.region, &id, &f.applications, now),
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
        for (i, t) in f.test_cases.iter().enumerate() {
            let r = test_case_from(world, &inst, &f.phone_numbers, t, i, now)?;
            if inst
                .set(Kind::TestCases)
                .and_then(|s| s.by_name(&r.name))
                .is_some()
            {
                return Err(SimError::BadRequest(format!(
                    "test case '{}' appears twice",
                    r.name
                )));
            }
            inst.set_mut(Kind::TestCases).insert(r);
        }
        if let Some(r) = &f.replica {
            world.replica_setups.insert(
                id.clone(),
                ReplicaSetup {
                    lambda_functions: r.lambda_functions.clone(),
                    lex_v2: r.lex_v2_bots.clone(),
                    approved_origins: r.approved_origins.clone(),
                    applications: r
                        .applications
                        .iter()
                        .map(|a| (a.name.clone(), a.namespace.clone()))
                        .collect(),
                },
            );
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

/// The integration associations of an instance's applications.
pub fn applications(
    world: &World,
    region: &str,
    instance_id: &str,
    apps: &[ApplicationFile],
    now: f64,
) -> Vec<Integration> {
    apps.iter()
        .map(|a| application(world, region, instance_id, &a.name, &a.namespace, now))
        .collect()
}

/// One application's integration association (IDs derived from region, instance and namespace).
pub fn application(
    world: &World,
    region: &str,
    instance_id: &str,
    name: &str,
    namespace: &str,
    now: f64,
) -> Integration {
    let app_id = stable_uuid(&format!("application|{region}|{namespace}"));
    Integration {
        id: stable_uuid(&format!("integration|{region}|{instance_id}|{namespace}")),
        integration_type: "APPLICATION".into(),
        integration_arn: format!(
            "arn:aws:app-integrations:{region}:{}:application/{app_id}",
            world.account
        ),
        name: name.to_string(),
        namespace: namespace.to_string(),
        last_modified: now,
    }
}

/// A scenario test case as a resource.
fn test_case_from(
    world: &mut World,
    inst: &Instance,
    numbers: &[PhoneNumberFile],
    t: &TestCaseFile,
    index: usize,
    now: f64,
) -> Result<crate::model::Resource, SimError> {
    let mut attrs = Map::new();
    let status = t.status.clone().unwrap_or_else(|| "PUBLISHED".into());
    if status != "PUBLISHED" && status != "SAVED" {
        return Err(SimError::BadRequest(format!(
            "test case '{}': status must be PUBLISHED or SAVED",
            t.name
        )));
    }
    attrs.insert("Status".into(), status.into());
    let content = match &t.content {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => r#"{"Version":"2025-06-21","Metadata":{},"Observations":[]}"#.to_string(),
    };
    attrs.insert("Content".into(), content.into());
    if let Some(e) = &t.entry_point {
        let kind = e.r#type.clone().unwrap_or_else(|| "VOICE_CALL".into());
        let params_key = match kind.as_str() {
            "VOICE_CALL" => "VoiceCallEntryPointParameters",
            "CHAT" => "ChatEntryPointParameters",
            _ => {
                return Err(SimError::BadRequest(format!(
                    "test case '{}': entryPoint type must be VOICE_CALL or CHAT",
                    t.name
                )))
            }
        };
        let mut params = Map::new();
        match (&e.flow, &e.phone_number) {
            (Some(flow), None) => {
                params.insert(
                    "FlowId".into(),
                    lookup(inst, Kind::ContactFlows, flow)?.into(),
                );
            }
            (None, Some(number)) if kind == "VOICE_CALL" => {
                if !numbers.iter().any(|n| &n.number == number) {
                    return Err(SimError::BadRequest(format!(
                        "test case '{}': phone number {number} is not one of the instance's",
                        t.name
                    )));
                }
                params.insert("DestinationPhoneNumber".into(), number.clone().into());
            }
            _ => {
                return Err(SimError::BadRequest(format!(
                    "test case '{}': entryPoint takes a flow or (for VOICE_CALL) a phoneNumber",
                    t.name
                )))
            }
        }
        let mut entry = Map::new();
        entry.insert("Type".into(), kind.into());
        entry.insert(params_key.into(), Value::Object(params));
        attrs.insert("EntryPoint".into(), Value::Object(entry));
    }
    if let Some(d) = &t.description {
        attrs.insert("Description".into(), d.clone().into());
    }
    attrs.insert("Tags".into(), Value::Object(t.tags.clone()));
    let id =
        t.id.clone()
            .unwrap_or_else(|| stable_uuid(&format!("test-case|{}|{index}|{}", inst.id, t.name)));
    let _ = world;
    Ok(crate::model::Resource {
        id,
        name: t.name.clone(),
        attrs,
        last_modified: now,
        last_modified_region: inst.region.clone(),
        default: false,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_rfc_3339_dates_and_date_times() {
        assert_eq!(parse_time("1970-01-01"), Ok(0.0));
        assert_eq!(parse_time("2025-03-01"), Ok(1_740_787_200.0));
        assert_eq!(parse_time("2025-03-01T00:00:00Z"), Ok(1_740_787_200.0));
        assert_eq!(parse_time("2025-03-01T02:00:00+02:00"), Ok(1_740_787_200.0));
        assert_eq!(
            parse_time("2025-02-28T19:00:00.5-05:00"),
            Ok(1_740_787_200.5)
        );
        assert!(parse_time("2025-02-29").is_err());
        assert!(parse_time("2025-3-1").is_err());
        assert!(parse_time("2025-03-01T25:00:00Z").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
