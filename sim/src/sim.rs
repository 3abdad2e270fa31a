//! The control plane: the world, and what surrounds it (the clock, quotas, faults, the call log
//! and regional outages).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::clock::Clock;
use crate::control::{
    ApplicationState, BlockedState, CallRecord, GroupState, GroupView, InstanceState,
    MigrationState, NumberState, RegionOutage, RegionStatus, ReplicationState, SimState,
};
use crate::error::SimError;
use crate::faults::Faults;
use crate::kinds::Kind;
use crate::model::{IdGen, View, World};
use crate::scenario::Scenario;
use crate::throttle::Throttle;

/// How the control plane was started.
#[derive(Debug, Clone)]
pub struct Options {
    pub time_scale: f64,
    pub quota_factor: Option<f64>,
    pub seed: Option<u64>,
}

/// The control plane: the world and everything around it.
pub struct Sim {
    scenario: Scenario,
    options: Options,
    pub clock: Clock,
    pub world: World,
    pub throttle: Throttle,
    pub faults: Faults,
    /// Request IDs and the fault dice.
    pub dice: IdGen,
    /// The per-call latency's jitter (its own, so that turning it on does not move the faults).
    latency_dice: IdGen,
    calls: Vec<CallRecord>,
    /// Regions in an outage, with the simulated time it began.
    outages: BTreeMap<String, (RegionOutage, f64)>,
    /// Bumped whenever an outage changes or the server stops: held calls look again.
    outage_changed: watch::Sender<u64>,
    stopping: bool,
}

/// The control plane as the server shares it between requests.
pub type Shared = Arc<Mutex<Sim>>;

/// Locks the control plane. A panic while holding the lock leaves consistent data behind:
/// keep serving.
pub fn lock(sim: &Shared) -> MutexGuard<'_, Sim> {
    sim.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    pub fn new(scenario: Scenario, options: Options) -> Result<Sim, SimError> {
        let clock = Clock::new(options.time_scale);
        let seed = options.seed.or(scenario.seed).unwrap_or(1);
        let world = scenario.build(seed, clock.now())?;
        scenario.faults.validate()?;
        let factor = options
            .quota_factor
            .or(scenario.quota_factor())
            .unwrap_or(1.0);
        if !(factor > 0.0 && factor.is_finite()) {
            return Err(SimError::BadRequest(
                "the quota factor must be a positive number".to_string(),
            ));
        }
        Ok(Sim {
            faults: scenario.faults.clone(),
            throttle: Throttle::new(factor),
            dice: IdGen::new(seed.wrapping_add(0xfa17)),
            latency_dice: IdGen::new(seed.wrapping_add(0x1a7e)),
            calls: Vec::new(),
            outages: BTreeMap::new(),
            outage_changed: watch::channel(0).0,
            stopping: false,
            clock,
            world,
            scenario,
            options,
        })
    }

    /// Back to the scenario's start: state, log, faults, buckets, outages (held calls answer).
    pub fn reset(&mut self) -> Result<(), SimError> {
        let seed = self.options.seed.or(self.scenario.seed).unwrap_or(1);
        self.world = self.scenario.build(seed, self.clock.now())?;
        self.faults = self.scenario.faults.clone();
        self.throttle = Throttle::new(self.throttle.factor());
        self.dice = IdGen::new(seed.wrapping_add(0xfa17));
        self.latency_dice = IdGen::new(seed.wrapping_add(0x1a7e));
        self.calls.clear();
        self.outages.clear();
        self.outage_changed.send_modify(|g| *g += 1);
        Ok(())
    }

    /// Simulated now, with the world moved forward to it.
    pub fn catch_up(&mut self) -> f64 {
        let now = self.clock.now();
        self.world.advance(now);
        now
    }

    /// The regions the control plane plays: those of the region pairs and of the instances.
    pub fn regions(&self) -> Vec<String> {
        let w = &self.world;
        let mut set: BTreeSet<&String> = BTreeSet::new();
        for (a, b) in &w.settings.region_pairs {
            set.insert(a);
            set.insert(b);
        }
        set.extend(w.instances.keys().map(|(r, _)| r));
        set.into_iter().cloned().collect()
    }

    pub fn region_status(&self, region: &str) -> RegionStatus {
        let outage = self.outages.get(region);
        RegionStatus {
            region: region.to_string(),
            outage: outage.map(|(o, _)| o.clone()),
            since: outage.map(|(_, since)| *since),
        }
    }

    /// The outage `region` is in, if any.
    pub fn outage(&self, region: &str) -> Option<&RegionOutage> {
        self.outages.get(region).map(|(o, _)| o)
    }

    /// Starts, changes or ends (`None`) an outage of `region`. Mirroring to and from it pauses
    /// while it answers nothing (`unavailable`, `timeout`, `reset`), not while it answers some.
    pub fn set_outage(&mut self, region: &str, outage: Option<RegionOutage>) {
        let now = self.catch_up();
        let down = outage.as_ref().is_some_and(RegionOutage::takes_region_down);
        match outage {
            Some(o) => {
                let since = self.outages.get(region).map_or(now, |(_, s)| *s);
                self.outages.insert(region.to_string(), (o, since));
            }
            None => {
                self.outages.remove(region);
            }
        }
        if down {
            self.world.pause(region);
        } else {
            self.world.resume(region, now);
        }
        self.outage_changed.send_modify(|g| *g += 1);
    }

    /// The wall-clock latency of one call: `callLatencyMs` plus up to `callLatencyJitterMs`.
    pub fn call_latency(&mut self) -> Duration {
        let s = &self.world.settings;
        let (base, jitter) = (s.call_latency_ms, s.call_latency_jitter_ms);
        let extra = if jitter > 0 {
            (self.latency_dice.next_f64() * jitter as f64) as u64
        } else {
            0
        };
        Duration::from_millis(base + extra)
    }

    /// Answers every held call (the server is stopping).
    pub fn release_held_calls(&mut self) {
        self.stopping = true;
        self.outage_changed.send_modify(|g| *g += 1);
    }

    /// Whether a call to `region` is still to be held.
    pub fn holds(&self, region: &str) -> bool {
        !self.stopping && self.outage(region) == Some(&RegionOutage::Timeout)
    }

    /// Tells when to look at [`Sim::holds`] again.
    pub fn outage_changes(&self) -> watch::Receiver<u64> {
        self.outage_changed.subscribe()
    }

    /// Logs one API call.
    pub fn record(&mut self, call: Logged) {
        tracing::debug!(operation = call.operation, status = call.status, "call");
        self.calls.push(CallRecord {
            seq: self.calls.len() as u64 + 1,
            time: wall_now(),
            sim_time: call.sim_time,
            region: call.region,
            operation: call.operation.to_string(),
            access_key_id: call.access_key_id,
            status: call.status,
            error_type: call.error_type,
        });
    }

    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }

    pub fn clear_calls(&mut self) {
        self.calls.clear();
    }

    /// A summary of everything, for tests and people.
    pub fn state(&self) -> SimState {
        let w = &self.world;
        let now = self.clock.now();
        let instances = w
            .instances
            .values()
            .map(|i| InstanceState {
                region: i.region.clone(),
                id: i.id.clone(),
                alias: i.alias.clone(),
                status: i.status.clone(),
                identity_management_type: i.identity.clone(),
                replica_of: i.replica_of.clone(),
                counts: Kind::all()
                    .map(|k| (k, i.set(k).map_or(0, |s| s.len())))
                    .collect(),
                global_routing: w.routing.get(&i.id).is_some_and(|r| r.enabled),
                isolated_regions: w
                    .replications
                    .get(&i.id)
                    .map(|r| {
                        [&r.source, &r.replica]
                            .into_iter()
                            .map(|region| (region.clone(), w.isolated_regions(&i.id, region, now)))
                            .collect()
                    })
                    .unwrap_or_default(),
                migration: w
                    .routing
                    .get(&i.id)
                    .and_then(|r| r.migration)
                    .map(|m| MigrationState {
                        started_at: m.started_at,
                        until: m.until,
                    }),
                lambda_functions: i.lambda_functions.clone(),
                lex_v2_bots: i.lex_v2.clone(),
                approved_origins: i.approved_origins.clone(),
                applications: i
                    .integrations
                    .iter()
                    .filter(|a| a.integration_type == "APPLICATION")
                    .map(|a| ApplicationState {
                        name: a.name.clone(),
                        namespace: a.namespace.clone(),
                        integration_arn: a.integration_arn.clone(),
                    })
                    .collect(),
                test_cases: i.set(Kind::TestCases).map_or(0, |s| s.len()),
            })
            .collect();
        let replications = w
            .replications
            .values()
            .map(|r| ReplicationState {
                instance_id: r.instance_id.clone(),
                source: r.source.clone(),
                replica: r.replica.clone(),
                requested_at: r.requested_at,
                replica_ready_at: r.replica_ready_at,
                initial_pending: r.initial_pending,
                resync_pending: r.resync_pending,
                blocked: r
                    .blocked
                    .iter()
                    .map(|b| BlockedState {
                        kind: b.kind,
                        name: b.name.clone(),
                        from: b.from.clone(),
                        to: b.to.clone(),
                        source_id: b.source_id.clone(),
                        target_id: b.target_id.clone(),
                    })
                    .collect(),
                phase: r.phase.name().to_string(),
                staged: r.plan.clone(),
                failed_syncs: r.failed_syncs.len(),
            })
            .collect();
        let mut groups: Vec<&crate::model::Tdg> = w.tdgs.values().collect();
        groups.sort_by_key(|t| t.seq);
        let traffic_distribution_groups = groups
            .into_iter()
            .map(|t| {
                let views: BTreeMap<String, GroupView> = [&t.home, &t.other]
                    .into_iter()
                    .map(|r| (r.clone(), group_view(t.view(r, now))))
                    .collect();
                let home = group_view(t.home_view(now));
                GroupState {
                    id: t.id.clone(),
                    arn: w.tdg_arn(t),
                    name: t.name.clone(),
                    instance_id: t.instance_id.clone(),
                    home: t.home.clone(),
                    other: t.other.clone(),
                    is_default: t.is_default,
                    status: home.status,
                    telephony: home.telephony,
                    agents: home.agents,
                    sign_in: home.sign_in,
                    last_failover_time: home.last_failover_time,
                    users: t.users.iter().cloned().collect(),
                    views,
                    pending_updates: t.versions.len(),
                }
            })
            .collect();
        let phone_numbers = w
            .numbers
            .values()
            .map(|n| NumberState {
                id: n.id.clone(),
                number: n.number.clone(),
                region: n.region.clone(),
                target_arn: n.target_arn.clone(),
            })
            .collect();
        SimState {
            now,
            time_scale: self.clock.scale(),
            quota_factor: self.throttle.factor(),
            instances,
            replications,
            traffic_distribution_groups,
            phone_numbers,
            pending_tasks: w.tasks.len(),
            outages: self
                .outages
                .iter()
                .map(|(r, (o, _))| (r.clone(), o.clone()))
                .collect(),
        }
    }
}

/// What the call log keeps of one call.
pub struct Logged {
    pub sim_time: f64,
    pub region: String,
    pub operation: &'static str,
    pub access_key_id: String,
    pub status: u16,
    pub error_type: Option<String>,
}

fn group_view(v: View<'_>) -> GroupView {
    let d = v.distribution;
    GroupView {
        status: v.status.to_string(),
        telephony: d.telephony.iter().cloned().collect(),
        agents: d.agents.iter().cloned().collect(),
        sign_in: d.sign_in.as_ref().map(|s| s.iter().cloned().collect()),
        last_failover_time: v.last_failover,
    }
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
