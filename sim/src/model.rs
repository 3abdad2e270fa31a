//! The state of both regions: instances, mirrored resources, replication, traffic distribution
//! groups and phone numbers, and how they move forward in simulated time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use crate::kinds::Kind;

/// Deterministic IDs: the same scenario and seed give the same IDs.
#[derive(Debug, Clone)]
pub struct IdGen(u64);

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// One configuration resource of an instance in one region.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The resource ID; kinds without IDs use their name.
    pub id: String,
    pub name: String,
    /// Kind-specific members, keyed by their wire names.
    pub attrs: Map<String, Value>,
    pub last_modified: f64,
    pub last_modified_region: String,
    /// The instance's default queue or routing profile (mirrored first).
    pub default: bool,
}

/// The resources of one kind, in creation order, found by ID or by name.
#[derive(Debug, Default, Clone)]
pub struct ResourceSet {
    next: u64,
    by_pos: BTreeMap<u64, Resource>,
    by_id: HashMap<String, u64>,
    by_name: HashMap<String, u64>,
}

impl ResourceSet {
    pub fn insert(&mut self, r: Resource) {
        self.next += 1;
        self.by_id.insert(r.id.clone(), self.next);
        self.by_name.insert(r.name.clone(), self.next);
        self.by_pos.insert(self.next, r);
    }

    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.by_id.get(id).and_then(|p| self.by_pos.get(p))
    }

    pub fn by_name(&self, name: &str) -> Option<&Resource> {
        self.by_name.get(name).and_then(|p| self.by_pos.get(p))
    }

    pub fn replace(&mut self, r: Resource) {
        let Some(&pos) = self.by_id.get(&r.id) else {
            return self.insert(r);
        };
        if let Some(old) = self.by_pos.get(&pos) {
            if old.name != r.name {
                self.by_name.remove(&old.name);
                self.by_name.insert(r.name.clone(), pos);
            }
        }
        self.by_pos.insert(pos, r);
    }

    pub fn remove(&mut self, id: &str) -> Option<Resource> {
        let pos = self.by_id.remove(id)?;
        let r = self.by_pos.remove(&pos)?;
        self.by_name.remove(&r.name);
        Some(r)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Resource)> {
        self.by_pos.iter().map(|(p, r)| (*p, r))
    }

    pub fn len(&self) -> usize {
        self.by_pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pos.is_empty()
    }
}

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
    pub status: String,
    /// When the current transitional status ends.
    pub until: f64,
    pub current: Distribution,
    pub pending: Option<Distribution>,
    pub last_failover: Option<f64>,
    pub users: BTreeSet<String>,
    pub tags: Map<String, Value>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOp {
    Upsert,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskClass {
    /// The first copy made by ReplicateInstance.
    Initial,
    /// A retry of a blocked resource after a repeat ReplicateInstance.
    Resync,
    /// Continuous sync of a later change.
    Sync,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub instance_id: String,
    pub from: String,
    pub to: String,
    pub kind: Kind,
    pub id: String,
    pub op: TaskOp,
    pub class: TaskClass,
}

/// Timing and quota knobs, from the scenario's `settings`.
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
    pub tokens: HashMap<(String, &'static str, String), (String, Value)>,
    /// Replica-side look-alikes to create when an instance's replica comes up.
    pub pending_conflicts: HashMap<String, Vec<(Kind, String)>>,
    /// Regions in a simulated outage: mirroring to or from them waits until they are back.
    pub paused: BTreeSet<String>,
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

    pub fn schedule(&mut self, due: f64, task: Task) {
        let seq = self.next_seq();
        self.tasks
            .insert(((due.max(0.0) * 1000.0) as u64, seq), task);
    }

    /// Queues the mirroring of a change made in `region` to the instance's other side, if any.
    pub fn sync_change(
        &mut self,
        now: f64,
        region: &str,
        instance_id: &str,
        kind: Kind,
        id: &str,
        op: TaskOp,
    ) {
        let Some(rep) = self.replications.get(instance_id) else {
            return;
        };
        let Some(to) = rep.other(region).map(str::to_string) else {
            return;
        };
        let due = (now + self.settings.sync_delay_seconds).max(rep.replica_ready_at + 0.001);
        self.schedule(
            due,
            Task {
                instance_id: instance_id.to_string(),
                from: region.to_string(),
                to,
                kind,
                id: id.to_string(),
                op,
                class: TaskClass::Sync,
            },
        );
    }

    /// Moves simulated time forward to `now`: status transitions, then mirroring work due.
    pub fn advance(&mut self, now: f64) {
        self.advance_instances(now);
        self.advance_tdgs(now);
        let cutoff = (now * 1000.0) as u64;
        if self.paused.is_empty() {
            while let Some(entry) = self.tasks.first_entry() {
                if entry.key().0 > cutoff {
                    break;
                }
                let ((due_ms, _), task) = entry.remove_entry();
                self.apply(due_ms as f64 / 1000.0, task);
            }
            return;
        }
        // Work that touches a region in an outage stays queued; the rest runs in order.
        let due: Vec<(u64, u64)> = self
            .tasks
            .range(..(cutoff + 1, 0))
            .filter(|(_, t)| !self.touches_paused(t))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(task) = self.tasks.remove(&key) {
                self.apply(key.0 as f64 / 1000.0, task);
            }
        }
    }

    fn touches_paused(&self, t: &Task) -> bool {
        self.paused.contains(&t.from) || self.paused.contains(&t.to)
    }

    /// Stops mirroring to and from `region` (a simulated outage begins).
    pub fn pause(&mut self, region: &str) {
        self.paused.insert(region.to_string());
    }

    /// Resumes mirroring to and from `region` at `now`: the work held back while it was down,
    /// and not held by another outage, becomes due at `now`, in the order it was queued.
    pub fn resume(&mut self, region: &str, now: f64) {
        if !self.paused.remove(region) {
            return;
        }
        let now_ms = (now.max(0.0) * 1000.0) as u64;
        let held: Vec<(u64, u64)> = self
            .tasks
            .range(..(now_ms, 0))
            .filter(|(_, t)| (t.from == region || t.to == region) && !self.touches_paused(t))
            .map(|(k, _)| *k)
            .collect();
        for key in held {
            if let Some(task) = self.tasks.remove(&key) {
                self.tasks.insert((now_ms, key.1), task);
            }
        }
        self.advance(now);
    }

    fn advance_instances(&mut self, now: f64) {
        let ready: Vec<(String, String)> = self
            .instances
            .iter()
            .filter(|(_, i)| i.status == "CREATION_IN_PROGRESS" && i.ready_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            let Some(inst) = self.instances.get_mut(&key) else {
                continue;
            };
            inst.status = "ACTIVE".into();
            let ready_at = inst.ready_at;
            if inst.replica_of.is_some() {
                self.seed_conflicts(&key.0, &key.1, ready_at);
            }
        }
    }

    /// Creates the replica-side look-alikes a scenario asks for, as if made by hand.
    fn seed_conflicts(&mut self, region: &str, instance_id: &str, at: f64) {
        let Some(rep) = self.replications.get_mut(instance_id) else {
            return;
        };
        if rep.seeded {
            return;
        }
        rep.seeded = true;
        let seeds = rep.conflict_seeds.clone();
        for (kind, name) in seeds {
            let id = self.ids.uuid();
            let Some(inst) = self.instance_mut(region, instance_id) else {
                return;
            };
            if inst.set(kind).and_then(|s| s.by_name(&name)).is_some() {
                continue;
            }
            let attrs = default_attrs(kind);
            inst.set_mut(kind).insert(Resource {
                id: if kind.has_id() { id } else { name.clone() },
                name,
                attrs,
                last_modified: at,
                last_modified_region: region.to_string(),
                default: false,
            });
        }
    }

    fn advance_tdgs(&mut self, now: f64) {
        let mut activated = Vec::new();
        let mut gone = Vec::new();
        for tdg in self.tdgs.values_mut() {
            if tdg.until > now {
                continue;
            }
            match tdg.status.as_str() {
                "CREATION_IN_PROGRESS" => {
                    tdg.status = "ACTIVE".into();
                    activated.push(tdg.id.clone());
                }
                "UPDATE_IN_PROGRESS" => {
                    if let Some(next) = tdg.pending.take() {
                        tdg.current = next;
                    }
                    tdg.status = "ACTIVE".into();
                }
                "PENDING_DELETION" => gone.push(tdg.id.clone()),
                _ => {}
            }
        }
        for id in gone {
            self.tdgs.remove(&id);
        }
        for id in activated {
            self.claim_numbers(&id);
        }
    }

    /// When a group becomes ACTIVE, the instance's phone numbers in no group move into it: into
    /// the default group those without a scenario group, into a named group those that name it.
    fn claim_numbers(&mut self, tdg_id: &str) {
        let Some(tdg) = self.tdgs.get(tdg_id) else {
            return;
        };
        let instance_arn = self.instance_arn(&tdg.home, &tdg.instance_id);
        let tdg_arn = self.tdg_arn(tdg);
        let home = tdg.home.clone();
        let wanted = (!tdg.is_default).then(|| tdg.name.clone());
        for n in self.numbers.values_mut() {
            if n.region == home && n.target_arn == instance_arn && n.group == wanted {
                n.target_arn = tdg_arn.clone();
            }
        }
    }

    fn apply(&mut self, at: f64, task: Task) {
        match task.class {
            TaskClass::Initial => {
                if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                    rep.initial_pending = rep.initial_pending.saturating_sub(1);
                }
            }
            TaskClass::Resync => {
                if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                    rep.resync_pending = rep.resync_pending.saturating_sub(1);
                }
            }
            TaskClass::Sync => {}
        }
        match task.op {
            TaskOp::Upsert => self.apply_upsert(at, &task),
            TaskOp::Delete => {
                if let Some(inst) = self.instance_mut(&task.to, &task.instance_id) {
                    inst.set_mut(task.kind).remove(&task.id);
                }
                if task.kind == Kind::Users {
                    for tdg in self.tdgs.values_mut() {
                        if tdg.instance_id == task.instance_id {
                            tdg.users.remove(&task.id);
                        }
                    }
                }
            }
        }
    }

    fn apply_upsert(&mut self, at: f64, task: &Task) {
        let Some(src) = self
            .instance(&task.from, &task.instance_id)
            .and_then(|i| i.set(task.kind))
            .and_then(|s| s.get(&task.id))
            .cloned()
        else {
            return; // deleted before its turn came
        };
        let Some(dst) = self.instance_mut(&task.to, &task.instance_id) else {
            return;
        };
        let set = dst.set_mut(task.kind);
        let twin = set
            .by_name(&src.name)
            .filter(|r| r.id != src.id)
            .map(|r| r.id.clone());
        if let Some(target_id) = twin {
            let blocked = Blocked {
                kind: task.kind,
                from: task.from.clone(),
                to: task.to.clone(),
                source_id: src.id.clone(),
                target_id,
                name: src.name.clone(),
                since: at,
            };
            if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                if !rep.blocked.iter().any(|b| {
                    b.kind == blocked.kind && b.source_id == blocked.source_id && b.to == blocked.to
                }) {
                    rep.blocked.push(blocked);
                }
            }
            return;
        }
        set.replace(src);
    }

    /// Resources of `kind` still waiting to be mirrored into `region`, plus those blocked there.
    pub fn drift(&self, instance_id: &str, kind: Kind, region: &str) -> usize {
        let pending = self
            .tasks
            .values()
            .filter(|t| t.instance_id == instance_id && t.kind == kind && t.to == region)
            .count();
        let blocked = self.replications.get(instance_id).map_or(0, |r| {
            r.blocked
                .iter()
                .filter(|b| b.kind == kind && b.to == region)
                .count()
        });
        pending + blocked
    }
}

/// Attributes a resource of this kind carries when a scenario says nothing more.
pub fn default_attrs(kind: Kind) -> Map<String, Value> {
    let v = match kind {
        Kind::AgentStatuses => json!({"Type": "CUSTOM"}),
        Kind::ContactFlowModules => json!({"State": "ACTIVE"}),
        Kind::ContactFlows => json!({
            "ContactFlowType": "CONTACT_FLOW",
            "ContactFlowState": "ACTIVE",
            "ContactFlowStatus": "PUBLISHED",
        }),
        Kind::Queues => json!({"QueueType": "STANDARD"}),
        Kind::QuickConnects => json!({"QuickConnectType": "QUEUE"}),
        _ => json!({}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_uuids_and_deterministic() {
        let mut a = IdGen::new(7);
        let mut b = IdGen::new(7);
        let id = a.uuid();
        assert!(crate::wire::is_uuid(&id), "{id}");
        assert_eq!(id, b.uuid());
        assert_ne!(a.uuid(), id);
    }

    #[test]
    fn resource_sets_find_by_id_and_name_and_forget_removed_ones() {
        let mut set = ResourceSet::default();
        let r = |id: &str, name: &str| Resource {
            id: id.into(),
            name: name.into(),
            attrs: Map::new(),
            last_modified: 0.0,
            last_modified_region: "us-east-1".into(),
            default: false,
        };
        set.insert(r("1", "Billing"));
        set.insert(r("2", "Sales"));
        assert_eq!(set.by_name("Sales").map(|r| r.id.as_str()), Some("2"));
        set.replace(r("2", "Sales EU"));
        assert!(set.by_name("Sales").is_none());
        assert_eq!(set.get("2").map(|r| r.name.as_str()), Some("Sales EU"));
        assert!(set.remove("1").is_some());
        assert!(set.by_name("Billing").is_none());
        assert_eq!(set.len(), 1);
    }
}
