//! The run store in memory, for unit tests. Same rules as the DynamoDB adapter.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{AgentLedger, Listing, MirroringLedger, RunLedger, ScanLedger, TrafficLedger};
use crate::agents::{Association, AssociationProgress};
use crate::error::StoreError;
use crate::flows::{FlowScan, HardcodedPage};
use crate::mirroring::{ConflictRecord, SnapshotRecord, TypesRecord};
use crate::run::{lock_allows, newest_first, Lock, LockOutcome, RunRecord};
use crate::traffic::{Episode, GroupRecord, RoutingEpisode, ShiftRecord};

#[derive(Default, Debug)]
pub struct MemoryState {
    pub runs: BTreeMap<(String, String), RunRecord>,
    pub locks: BTreeMap<String, Lock>,
    pub conflicts: BTreeMap<(String, String), ConflictRecord>,
    pub snapshots: BTreeMap<(String, String), SnapshotRecord>,
    /// Keyed by instance ID.
    pub types: BTreeMap<String, TypesRecord>,
    pub associations: BTreeMap<(String, String, String), Association>,
    pub progress: BTreeMap<(String, String), AssociationProgress>,
    pub shifts: Vec<ShiftRecord>,
    pub groups: BTreeMap<(String, String), GroupRecord>,
    pub episodes: BTreeMap<(String, String), Episode>,
    /// Keyed by instance ID.
    pub routing: BTreeMap<String, RoutingEpisode>,
    /// Keyed by (instance ID, run ID).
    pub flow_scans: BTreeMap<(String, String), FlowScan>,
    /// Keyed by (instance ID, sort key).
    pub hardcoded_pages: BTreeMap<(String, String), HardcodedPage>,
    /// Every write, in order, as "KIND#key": lets tests check intent-before-action.
    pub writes: Vec<String>,
}

#[derive(Default, Debug)]
pub struct MemoryRunStore {
    state: Mutex<MemoryState>,
}

impl MemoryRunStore {
    pub fn state(&self) -> MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RunLedger for MemoryRunStore {
    async fn runs(&self, instance_id: &str) -> Result<Listing<RunRecord>, StoreError> {
        let mut records: Vec<RunRecord> = self
            .state()
            .runs
            .iter()
            .filter(|((i, _), _)| i == instance_id)
            .map(|(_, r)| r.clone())
            .collect();
        newest_first(&mut records);
        Ok(Listing {
            records,
            unreadable: Vec::new(),
        })
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push(format!("RUN#{}#{}", run.run_id, run.step));
        s.runs
            .insert((run.instance_id.clone(), run.run_id.clone()), run.clone());
        Ok(())
    }

    async fn get_run(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .state()
            .runs
            .get(&(instance_id.to_string(), run_id.to_string()))
            .cloned())
    }

    async fn acquire_lock(&self, lock: &Lock, now: i64) -> Result<LockOutcome, StoreError> {
        let mut s = self.state();
        let existing = s.locks.get(&lock.instance_id).cloned();
        if !lock_allows(existing.as_ref(), lock, now) {
            return Ok(LockOutcome::Held(existing.unwrap_or_else(|| lock.clone())));
        }
        s.writes.push(format!("LOCK#{}", lock.run_id));
        s.locks.insert(lock.instance_id.clone(), lock.clone());
        let took_over = existing
            .filter(|l| l.run_id != lock.run_id && l.lease_until > now)
            .map(|l| l.run_id);
        Ok(LockOutcome::Acquired { took_over })
    }

    async fn break_lock(&self, lock: &Lock) -> Result<Option<Lock>, StoreError> {
        let mut s = self.state();
        s.writes.push(format!("LOCK#{}#broken", lock.run_id));
        Ok(s.locks.insert(lock.instance_id.clone(), lock.clone()))
    }

    async fn release_lock(&self, instance_id: &str, run_id: &str) -> Result<(), StoreError> {
        let mut s = self.state();
        if s.locks.get(instance_id).is_some_and(|l| l.run_id == run_id) {
            s.locks.remove(instance_id);
            s.writes.push(format!("UNLOCK#{run_id}"));
        }
        Ok(())
    }

    async fn get_lock(&self, instance_id: &str) -> Result<Option<Lock>, StoreError> {
        Ok(self.state().locks.get(instance_id).cloned())
    }
}

impl MirroringLedger for MemoryRunStore {
    async fn conflicts(&self, instance_id: &str) -> Result<Vec<ConflictRecord>, StoreError> {
        Ok(self
            .state()
            .conflicts
            .values()
            .filter(|c| c.instance_id == instance_id)
            .cloned()
            .collect())
    }

    async fn put_conflict(&self, c: &ConflictRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes
            .push(format!("CONFLICT#{}#{}", c.kind.key(), c.name));
        s.conflicts.insert(
            (
                c.instance_id.clone(),
                format!("{}#{}", c.kind.key(), c.name),
            ),
            c.clone(),
        );
        Ok(())
    }

    async fn put_snapshot(&self, snap: &SnapshotRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push(format!("SNAPSHOT#{}", snap.kind.key()));
        s.snapshots.insert(
            (snap.instance_id.clone(), snap.kind.key().to_string()),
            snap.clone(),
        );
        Ok(())
    }

    async fn snapshots(&self, instance_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        Ok(self
            .state()
            .snapshots
            .values()
            .filter(|s| s.instance_id == instance_id)
            .cloned()
            .collect())
    }

    async fn put_types(&self, types: &TypesRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push("TYPES".into());
        s.types.insert(types.instance_id.clone(), types.clone());
        Ok(())
    }

    async fn types(&self, instance_id: &str) -> Result<Option<TypesRecord>, StoreError> {
        Ok(self.state().types.get(instance_id).cloned())
    }
}

impl AgentLedger for MemoryRunStore {
    async fn associations(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> Result<Vec<Association>, StoreError> {
        Ok(self
            .state()
            .associations
            .values()
            .filter(|a| a.instance_id == instance_id && a.group_arn == group_arn)
            .cloned()
            .collect())
    }

    async fn put_associations(&self, records: &[Association]) -> Result<(), StoreError> {
        let mut s = self.state();
        for a in records {
            s.writes.push(format!("AGENT#{}", a.user_id));
            s.associations.insert(
                (
                    a.instance_id.clone(),
                    a.group_arn.clone(),
                    a.user_id.clone(),
                ),
                a.clone(),
            );
        }
        Ok(())
    }

    async fn get_progress(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<AssociationProgress>, StoreError> {
        Ok(self
            .state()
            .progress
            .get(&(instance_id.to_string(), run_id.to_string()))
            .cloned())
    }

    async fn put_progress(&self, p: &AssociationProgress) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push(format!("PROGRESS#{}", p.run_id));
        s.progress
            .insert((p.instance_id.clone(), p.run_id.clone()), p.clone());
        Ok(())
    }
}

impl TrafficLedger for MemoryRunStore {
    async fn put_shift(&self, shift: &ShiftRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes
            .push(format!("SHIFT#{}#{:?}", shift.run_id, shift.status));
        match s
            .shifts
            .iter_mut()
            .find(|x| super::shift_key(x) == super::shift_key(shift))
        {
            Some(x) => *x = shift.clone(),
            None => s.shifts.push(shift.clone()),
        }
        Ok(())
    }

    async fn shifts(&self, instance_id: &str) -> Result<Vec<ShiftRecord>, StoreError> {
        let mut v: Vec<ShiftRecord> = self
            .state()
            .shifts
            .iter()
            .filter(|s| s.instance_id == instance_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| b.at.cmp(&a.at).then(b.run_id.cmp(&a.run_id)));
        Ok(v)
    }

    async fn put_group(&self, g: &GroupRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push(format!("GROUP#{}", g.group_arn));
        s.groups
            .insert((g.instance_id.clone(), g.group_arn.clone()), g.clone());
        Ok(())
    }

    async fn groups(&self, instance_id: &str) -> Result<Vec<GroupRecord>, StoreError> {
        Ok(self
            .state()
            .groups
            .values()
            .filter(|g| g.instance_id == instance_id)
            .cloned()
            .collect())
    }

    async fn open_episode(&self, e: &Episode) -> Result<Episode, StoreError> {
        let mut s = self.state();
        let key = (e.instance_id.clone(), e.group_arn.clone());
        if let Some(open) = s.episodes.get(&key).filter(|e| e.is_open()) {
            return Ok(open.clone());
        }
        s.writes.push(format!("EPISODE#{}", e.group_arn));
        s.episodes.insert(key, e.clone());
        Ok(e.clone())
    }

    async fn episode_record(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> Result<Option<Episode>, StoreError> {
        Ok(self
            .state()
            .episodes
            .get(&(instance_id.to_string(), group_arn.to_string()))
            .cloned())
    }

    async fn close_episode(&self, closed: &Episode) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes
            .push(format!("EPISODE#{}#closed", closed.group_arn));
        s.episodes.insert(
            (closed.instance_id.clone(), closed.group_arn.clone()),
            closed.clone(),
        );
        Ok(())
    }

    async fn open_routing(&self, e: &RoutingEpisode) -> Result<RoutingEpisode, StoreError> {
        let mut s = self.state();
        if let Some(open) = s.routing.get(&e.instance_id).filter(|e| e.is_open()) {
            return Ok(open.clone());
        }
        s.writes.push("ROUTING#EPISODE".into());
        s.routing.insert(e.instance_id.clone(), e.clone());
        Ok(e.clone())
    }

    async fn routing_record(
        &self,
        instance_id: &str,
    ) -> Result<Option<RoutingEpisode>, StoreError> {
        Ok(self.state().routing.get(instance_id).cloned())
    }

    async fn close_routing(&self, closed: &RoutingEpisode) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push("ROUTING#EPISODE#closed".into());
        s.routing.insert(closed.instance_id.clone(), closed.clone());
        Ok(())
    }
}

impl ScanLedger for MemoryRunStore {
    async fn get_flow_scan(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<FlowScan>, StoreError> {
        Ok(self
            .state()
            .flow_scans
            .get(&(instance_id.to_string(), run_id.to_string()))
            .cloned())
    }

    async fn put_flow_scan(&self, scan: &FlowScan) -> Result<(), StoreError> {
        let mut s = self.state();
        s.writes.push(format!("SCAN#{}", scan.run_id));
        s.flow_scans.insert(
            (scan.instance_id.clone(), scan.run_id.clone()),
            scan.clone(),
        );
        Ok(())
    }

    async fn put_hardcoded_page(&self, page: &HardcodedPage) -> Result<(), StoreError> {
        let mut s = self.state();
        let key = super::hardcoded_key(page);
        s.writes.push(key.clone());
        s.hardcoded_pages
            .insert((page.instance_id.clone(), key), page.clone());
        Ok(())
    }

    async fn hardcoded_pages(
        &self,
        instance_id: &str,
        run_id: &str,
        generation: u32,
    ) -> Result<Vec<HardcodedPage>, StoreError> {
        let prefix = super::hardcoded_prefix(run_id, generation);
        Ok(self
            .state()
            .hardcoded_pages
            .iter()
            .filter(|((i, k), _)| i == instance_id && k.starts_with(&prefix))
            .map(|(_, p)| p.clone())
            .collect())
    }
}
