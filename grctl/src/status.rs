//! `grctl status`: everything each reachable region knows of the instance, read at once, with the
//! regions that did not answer named.

use acgr::connect::findings::FindingClass;
use acgr::connect::{Connect, CurrentDistribution, GroupSummary, InstanceInfo};
use acgr::mirroring::{MirroringLedger, SnapshotRecord};
use acgr::run::{Lock, RunLedger, RunRecord};
use acgr::store::Unreadable;
use acgr::traffic::TrafficLedger;
use serde::Serialize;

use crate::target::{Clients, Target};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub instance_id: String,
    pub source_region: String,
    pub replica_region: String,
    /// Each region: whether Connect and the run table answered, and the instance there.
    pub regions: Vec<RegionView>,
    /// The region whose run table the rest was read from (the source's when it answers).
    pub table_read_from: Option<String>,
    /// The latest snapshot of each kind.
    pub mirroring: Vec<SnapshotRecord>,
    /// Every other resource type the last poll read (views, data tables, test cases, ...).
    pub types: Vec<acgr::mirroring::TypeSnapshot>,
    pub conflicts: Vec<ConflictView>,
    pub agents: Option<AgentsView>,
    pub groups: Vec<GroupView>,
    pub lock: Option<Lock>,
    /// The last runs, newest first.
    pub runs: Vec<RunView>,
    /// Run items of the table this version of grctl cannot read (written by a newer version,
    /// or damaged by hand): named, never silently left out.
    pub unreadable_runs: Vec<UnreadableView>,
    /// The open routing episode: the routing a failover found, which failback restores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_episode: Option<acgr::traffic::RoutingEpisode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableView {
    pub sk: String,
    pub error: String,
}

impl From<&Unreadable> for UnreadableView {
    fn from(u: &Unreadable) -> UnreadableView {
        UnreadableView {
            sk: u.sk.clone(),
            error: u.error.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionView {
    pub region: String,
    pub connect: Reach,
    pub table: Reach,
    pub instance: Option<InstanceView>,
    /// Cross-region routing as this region answers it (absent when Connect did not answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingView>,
}

/// Cross-region routing as one region answers GetCrossRegionRouting.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum RoutingView {
    /// The instance is not named as global-routing instances are (no call made), or the region
    /// answered that it is not enabled for global routing.
    Off,
    /// Global routing, with the regions isolated (none: contacts cross regions).
    #[serde(rename_all = "camelCase")]
    On { isolated_regions: Vec<String> },
    /// Not read: the error.
    NotRead { error: String },
}

impl RoutingView {
    pub fn describe(&self) -> String {
        match self {
            RoutingView::Off => "no global routing".into(),
            RoutingView::On { isolated_regions } if isolated_regions.is_empty() => {
                "on (contacts cross regions)".into()
            }
            RoutingView::On { isolated_regions } => {
                format!("ISOLATED ({})", isolated_regions.join(", "))
            }
            RoutingView::NotRead { error } => {
                format!("not read: {}", error.chars().take(60).collect::<String>())
            }
        }
    }
}

/// Whether a service of a region answered.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", tag = "state", content = "error")]
pub enum Reach {
    Ok,
    Unreachable(String),
}

impl Reach {
    pub fn ok(&self) -> bool {
        *self == Reach::Ok
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    pub status: Option<String>,
    pub alias: Option<String>,
    pub status_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_url: Option<String>,
    /// The replication status of each region, as Connect reports it.
    pub replication: Vec<acgr::connect::RegionStatus>,
}

impl From<InstanceInfo> for InstanceView {
    fn from(i: InstanceInfo) -> Self {
        InstanceView {
            status: i.status.map(|s| s.to_string()),
            alias: i.alias,
            status_reason: i.status_reason,
            access_url: i.access_url,
            replication: i.replication.map(|r| r.statuses).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictView {
    pub kind: String,
    pub name: String,
    pub region: Option<String>,
    pub source_id: Option<String>,
    pub replica_id: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentsView {
    /// Users associated with the default group, of the source instance's users.
    pub associated: u64,
    pub total: u64,
    /// Users not associated yet (most wait for the replica to mirror them).
    pub waiting: u64,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub name: String,
    pub arn: String,
    pub is_default: bool,
    pub status: Option<String>,
    /// The live distribution, read from Connect (`readFrom`).
    pub live: Option<CurrentDistribution>,
    pub read_from: Option<String>,
    /// What failback restores: the open episode's split, else the steady state on record.
    pub failback_point: Option<CurrentDistribution>,
    pub episode_open: bool,
    /// On record, but Connect no longer has it: deleted since a routine run recorded it
    /// (skipped by shifts).
    pub missing: bool,
    /// A live split the last routine run could not explain from the record (a change outside
    /// the tool, or a shift whose record had not replicated yet): not taken as the steady state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexplained: Option<CurrentDistribution>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub run_id: String,
    pub kind: String,
    pub status: String,
    pub step: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub error: Option<String>,
}

impl From<&RunRecord> for RunView {
    fn from(r: &RunRecord) -> Self {
        RunView {
            run_id: r.run_id.clone(),
            kind: r.kind.wire(),
            status: r.status.wire(),
            step: r.step.clone(),
            started_at: r.started_at,
            updated_at: r.updated_at,
            error: r
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.error_type, e.message)),
        }
    }
}

/// A serializable enum's wire name.
pub trait WireName {
    fn wire(&self) -> String;
}

impl<T: Serialize> WireName for T {
    fn wire(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        }
    }
}

fn unreachable(e: impl std::fmt::Display) -> Reach {
    Reach::Unreachable(e.to_string())
}

impl GroupView {
    /// A group as Connect lists it in `region`, with its live distribution when read.
    fn listed(g: &GroupSummary, live: Option<CurrentDistribution>, region: &str) -> GroupView {
        GroupView {
            name: g.name.clone(),
            arn: g.arn.clone(),
            is_default: g.is_default,
            status: Some(g.status.to_string()),
            read_from: live.as_ref().map(|_| region.to_string()),
            live,
            failback_point: None,
            episode_open: false,
            missing: false,
            unexplained: None,
        }
    }
}

/// Every group of the instance with its live distribution, read in `c`'s region (none when
/// Connect does not answer there), default group first.
pub async fn live_groups(c: &Clients, instance_id: &str) -> Vec<GroupView> {
    let Ok(list) = c.connect.list_groups(instance_id).await else {
        return Vec::new();
    };
    let mut groups = Vec::new();
    for g in &list {
        let live = c.connect.get_distribution(&g.arn).await.ok();
        groups.push(GroupView::listed(g, live, c.region.as_str()));
    }
    groups.sort_by_key(|g| (!g.is_default, g.name.clone()));
    groups
}

/// Connect's view of one region: the instance, its cross-region routing, and the groups with
/// their live distributions.
async fn connect_view(c: &Clients, instance_id: &str) -> ConnectView {
    match c.connect.describe_instance(instance_id).await {
        Err(e) => (unreachable(e), None, None, Vec::new()),
        Ok(None) => (Reach::Ok, None, None, Vec::new()),
        Ok(Some(i)) => {
            let routing = routing_view(c, &i).await;
            let groups = live_groups(c, instance_id).await;
            (Reach::Ok, Some(i), Some(routing), groups)
        }
    }
}

type ConnectView = (
    Reach,
    Option<InstanceInfo>,
    Option<RoutingView>,
    Vec<GroupView>,
);

/// GetCrossRegionRouting in `c`'s region, for an instance named as global-routing instances
/// are; no call for another.
pub async fn routing_view(c: &Clients, info: &InstanceInfo) -> RoutingView {
    if !info.global_routing_named() {
        return RoutingView::Off;
    }
    match c.connect.get_routing(&info.id).await {
        Ok(None) => RoutingView::Off,
        Ok(Some(r)) => RoutingView::On {
            isolated_regions: r.isolated_regions,
        },
        Err(e) => RoutingView::NotRead {
            error: e.to_string(),
        },
    }
}

/// What one region's run table holds.
struct TableView {
    reach: Reach,
    lock: Option<Lock>,
    runs: Vec<RunRecord>,
    unreadable_runs: Vec<Unreadable>,
    mirroring: Vec<SnapshotRecord>,
    types: Vec<acgr::mirroring::TypeSnapshot>,
    conflicts: Vec<ConflictView>,
    groups: Vec<acgr::traffic::GroupRecord>,
    episodes: Vec<acgr::traffic::Episode>,
    routing: Option<acgr::traffic::RoutingEpisode>,
}

async fn table_view(t: &Target, c: &Clients) -> TableView {
    let id = &t.deployment.instance_id;
    let table = c.run_table(&t.deployment.run_table_name);
    let read = async {
        let lock = table.get_lock(id).await.map_err(|e| e.to_string())?;
        let runs = table.runs(id).await.map_err(|e| e.to_string())?;
        let mirroring = table.snapshots(id).await.map_err(|e| e.to_string())?;
        let types = table
            .types(id)
            .await
            .map_err(|e| e.to_string())?
            .map(|t| t.types)
            .unwrap_or_default();
        let conflicts = table.conflicts(id).await.map_err(|e| e.to_string())?;
        let groups = table.groups(id).await.map_err(|e| e.to_string())?;
        let mut episodes = Vec::new();
        for g in &groups {
            episodes.extend(
                table
                    .episode(id, &g.group_arn)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        let routing = table
            .routing_record(id)
            .await
            .map_err(|e| e.to_string())?
            .filter(acgr::traffic::RoutingEpisode::is_open);
        Ok::<_, String>((
            lock,
            runs,
            (mirroring, types),
            conflicts,
            groups,
            episodes,
            routing,
        ))
    };
    match read.await {
        Ok((lock, runs, (mirroring, types), conflicts, groups, episodes, routing)) => TableView {
            reach: Reach::Ok,
            lock,
            runs: runs.records,
            unreadable_runs: runs.unreadable,
            mirroring,
            types,
            conflicts: conflicts
                .into_iter()
                .filter(|c| !c.resolved)
                .map(|c| {
                    let region = c
                        .region
                        .clone()
                        .unwrap_or(t.deployment.replica_region.clone());
                    ConflictView {
                        kind: c.kind.wire(),
                        name: c.name,
                        fix: FindingClass::NameConflict.fix(&region),
                        region: c.region,
                        source_id: c.source_id,
                        replica_id: c.replica_id,
                        first_seen: c.first_seen,
                        last_seen: c.last_seen,
                    }
                })
                .collect(),
            groups,
            episodes,
            routing,
        },
        Err(e) => TableView {
            reach: unreachable(e),
            lock: None,
            runs: Vec::new(),
            unreadable_runs: Vec::new(),
            mirroring: Vec::new(),
            types: Vec::new(),
            conflicts: Vec::new(),
            groups: Vec::new(),
            episodes: Vec::new(),
            routing: None,
        },
    }
}

/// Reads both regions at once.
pub async fn status(t: &Target, last_runs: usize) -> Status {
    let id = &t.deployment.instance_id;
    let ((sc, si, sr, sg), (rc, ri, rr, rg), st, rt) = tokio::join!(
        connect_view(&t.source, id),
        connect_view(&t.replica, id),
        table_view(t, &t.source),
        table_view(t, &t.replica),
    );
    let regions = vec![
        RegionView {
            region: t.source.region.to_string(),
            connect: sc.clone(),
            table: st.reach.clone(),
            instance: si.map(Into::into),
            routing: sr,
        },
        RegionView {
            region: t.replica.region.to_string(),
            connect: rc.clone(),
            table: rt.reach.clone(),
            instance: ri.map(Into::into),
            routing: rr,
        },
    ];
    // Connect's groups from the source region when it answers (the groups are its resources),
    // else from the replica region (GetTrafficDistribution answers there by ARN)
    let mut groups = if sc.ok() && !sg.is_empty() { sg } else { rg };
    let (table, table_read_from) = if st.reach.ok() {
        (st, Some(t.source.region.to_string()))
    } else if rt.reach.ok() {
        (rt, Some(t.replica.region.to_string()))
    } else {
        (st, None)
    };
    // groups the table knows and Connect did not list (its region down): from the record
    for r in &table.groups {
        if !groups.iter().any(|g| g.arn == r.group_arn) {
            groups.push(GroupView {
                name: r.name.clone(),
                arn: r.group_arn.clone(),
                is_default: r.is_default,
                status: None,
                live: None,
                read_from: None,
                failback_point: None,
                episode_open: false,
                missing: false,
                unexplained: None,
            });
        }
    }
    for g in &mut groups {
        let episode = table.episodes.iter().find(|e| e.group_arn == g.arn);
        let record = table.groups.iter().find(|r| r.group_arn == g.arn);
        g.episode_open = episode.is_some();
        // listed by Connect when it answered; else what the recorder found
        g.missing = record.is_some_and(|r| r.gone_at.is_some()) && g.live.is_none();
        g.unexplained = record.and_then(|r| r.unexplained.clone());
        g.failback_point = episode
            .map(|e| e.before.clone())
            .or_else(|| record.and_then(|r| r.steady.clone()));
    }
    groups.sort_by_key(|g| (!g.is_default, g.name.clone()));
    let agents = table
        .groups
        .iter()
        .find(|r| r.is_default)
        .map(|r| AgentsView {
            associated: r.agents_associated,
            total: r.agents_total,
            waiting: r.agents_total.saturating_sub(r.agents_associated),
            at: r.agents_at,
        });
    Status {
        instance_id: id.clone(),
        source_region: t.deployment.source_region.clone(),
        replica_region: t.deployment.replica_region.clone(),
        regions,
        table_read_from,
        mirroring: table.mirroring,
        types: table.types,
        conflicts: table.conflicts,
        agents,
        groups,
        lock: table.lock,
        runs: table
            .runs
            .iter()
            .take(last_runs)
            .map(RunView::from)
            .collect(),
        unreadable_runs: table.unreadable_runs.iter().map(Into::into).collect(),
        routing_episode: table.routing,
    }
}

impl Status {
    /// True when every region answered on every service.
    pub fn all_reachable(&self) -> bool {
        self.regions.iter().all(|r| r.connect.ok() && r.table.ok())
    }
}

/// A run's record, from the source region's table, else the replica's.
pub async fn status_run(t: &Target, run_id: &str) -> Option<RunRecord> {
    for c in t.regions_from(&t.deployment.source_region) {
        let table = c.run_table(&t.deployment.run_table_name);
        if let Ok(Some(r)) = table.get_run(&t.deployment.instance_id, run_id).await {
            return Some(r);
        }
    }
    None
}
