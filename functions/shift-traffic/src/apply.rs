//! Applies a planned shift group by group, under the lock: settle earlier intents, open the
//! failover episode, record the intent, compare and apply, verify within the deadline, record
//! the outcome; then the steady state after a failback or a plan outside an episode.

use std::sync::atomic::{AtomicBool, Ordering};

use acgr::connect::{Connect, CurrentDistribution, GroupSummary};
use acgr::domain::TrafficPlan;
use acgr::error::{ConnectErrorClass, StepError};
use acgr::traffic::{Episode, GroupRecord, ShiftRecord, ShiftStatus};
use acgr::Context;
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::plan::Planned;
use crate::{GroupShift, Settings, ShiftStore};

/// Applies the plan group by group, under the lock.
pub(crate) struct Apply<'a, C, S> {
    pub(crate) ctx: &'a Context<C, S>,
    pub(crate) client: &'a C,
    pub(crate) settings: &'a Settings,
    pub(crate) run_id: &'a str,
    pub(crate) id: &'a str,
    pub(crate) reason: &'a str,
    /// A failover, or a plan declared part of an incident: opens episodes, never records a
    /// steady state.
    pub(crate) in_incident: bool,
    pub(crate) now: i64,
    pub(crate) deadline: Option<Instant>,
    /// What the plan read under the lock: the groups on record and their open episodes.
    pub(crate) planned: &'a Planned,
    /// The instance's shifts, read once under the lock (each group writes only its own).
    pub(crate) shifts: Vec<ShiftRecord>,
    /// The other region did not answer a confirming read: not asked again in this invocation.
    pub(crate) other_silent: AtomicBool,
}

impl<C: Connect, S: ShiftStore> Apply<'_, C, S> {
    /// Whether the other region did not answer a confirming read in this invocation.
    pub(crate) fn other_silent(&self) -> bool {
        self.other_silent.load(Ordering::Relaxed)
    }

    pub(crate) async fn group(
        &self,
        out: &mut GroupShift,
        group: &GroupSummary,
        plan: &TrafficPlan,
        live: &CurrentDistribution,
        fence: Option<i64>,
    ) -> Result<(), StepError> {
        let store = &self.ctx.store;
        let shifts: Vec<ShiftRecord> = self
            .shifts
            .iter()
            .filter(|s| s.group_arn == group.arn)
            .cloned()
            .collect();
        let mine = shifts.iter().find(|s| s.run_id == self.run_id).cloned();
        if let Some(m) = &mine {
            // A retry: its own intent stands unless another shift came after it.
            if let Some(newer) = shifts.iter().find(|s| {
                s.run_id != self.run_id && s.at >= m.at && s.status != ShiftStatus::Abandoned
            }) {
                if m.status != ShiftStatus::Done {
                    return Err(StepError::Unsafe(format!(
                        "shift {} ({}) of group {} was recorded after this run's intent; \
                         not re-applying an older plan over it",
                        newer.run_id, newer.reason, group.name
                    )));
                }
            }
            out.before = m.before.clone();
            if m.status == ShiftStatus::Done {
                return Ok(());
            }
            // Its own update, applied or not: anything else (another split, or the same split
            // with another LastFailoverTime) means another shift moved the group since this run
            // decided; its plan is not applied over that.
            let untouched = *live == m.before && (m.fence.is_none() || fence == m.fence);
            if !live.matches(plan) && !untouched {
                return Err(StepError::Unsafe(format!(
                    "group {} moved since this run recorded its intent (neither its plan nor the \
                     split it read before); not re-applying over a change that is not its own",
                    group.name
                )));
            }
        }
        self.settle_others(&shifts, live).await?;

        let mut record = mine.clone().unwrap_or(ShiftRecord {
            instance_id: self.id.to_string(),
            run_id: self.run_id.to_string(),
            group_arn: group.arn.clone(),
            status: ShiftStatus::Intent,
            reason: self.reason.to_string(),
            before: live.clone(),
            after: plan.clone(),
            called_in: self.client.region().to_string(),
            at: self.now,
            completed_at: None,
            completed_at_ms: None,
            reconciled_by: None,
            fence,
            applied_fence: None,
        });
        if live.matches(plan) {
            // nothing to call: already there, or this run's own update applied before a retry
            // (then it is read back like a fresh one); either way confirmed where the other
            // region's Connect can see it, so that a shift made there at the same time is seen
            self.open_episode(group, plan, &out.before).await?;
            if mine.is_some() {
                record.applied_fence = self.verify(group, plan).await?;
            } else {
                record.applied_fence = fence;
            }
            self.confirm_elsewhere(group, plan, record.applied_fence)
                .await?;
        } else {
            record.status = ShiftStatus::Intent;
            store.put_shift(&record).await?;
            // Compare and apply: the lock on the global table holds within a region; a shift
            // started from the other region's deployment shows up here as a moved split or a
            // moved LastFailoverTime (the fence both regions read).
            let now_live = acgr::traffic::groups::live_distribution(self.client, group).await?;
            if now_live.split != *live || now_live.last_failover != fence {
                record.status = ShiftStatus::Abandoned;
                store.put_shift(&record).await?;
                return Err(StepError::Unsafe(format!(
                    "group {} moved after it was read under the lock (a shift from the other \
                     region?); read it again and decide",
                    group.name
                )));
            }
            match self.client.update_distribution(&group.arn, plan).await {
                Ok(()) => {}
                // Busy applying another change (ResourceConflictException) or not ready
                // (ResourceNotReadyException): nothing was applied, wait.
                Err(e)
                    if matches!(
                        e.class,
                        ConnectErrorClass::Conflict | ConnectErrorClass::NotReady
                    ) =>
                {
                    return Err(StepError::NotReady(format!(
                        "group {} is busy applying another change: {}",
                        group.name, e.message
                    )))
                }
                // The admin guide's answer to an update of a group that is not ACTIVE (or to a
                // body it refuses): the group's status says which.
                Err(e) if e.class == ConnectErrorClass::InvalidRequest => {
                    let refused =
                        acgr::traffic::groups::refused_by_group(self.client, group, e, Some(fence))
                            .await;
                    if refused.error_type() != "NotReady" {
                        record.status = ShiftStatus::Failed;
                        store.put_shift(&record).await?;
                    }
                    return Err(refused);
                }
                Err(e) => {
                    record.status = ShiftStatus::Failed;
                    store.put_shift(&record).await?;
                    return Err(e.into());
                }
            }
            // Accepted: the episode opens now, not before (a refused update opens nothing).
            self.open_episode(group, plan, &out.before).await?;
            out.changed = true;
            info!(instance_id = %self.id, group = %group.arn, region = %self.client.region(), reason = self.reason, "traffic distribution updated");
            record.applied_fence = self.verify(group, plan).await?;
            if let Err(e) = self
                .confirm_elsewhere(group, plan, record.applied_fence)
                .await
            {
                if e.error_type() == "Unsafe" {
                    record.status = ShiftStatus::Abandoned;
                    store.put_shift(&record).await?;
                }
                return Err(e);
            }
        }
        record.status = ShiftStatus::Done;
        record.completed_at = Some(self.now);
        record.completed_at_ms = i64::try_from(acgr::run::handler::epoch_millis()).ok();
        store.put_shift(&record).await.map_err(StepError::from)
    }

    /// Confirms the shift where the other region's Connect can see it: both regions accept
    /// updates and see each other's late, so a shift made at the same time from the other
    /// region's deployment may win (the update applied last). Reads the group there until it
    /// shows this shift's LastFailoverTime with its split (confirmed), or a later one with
    /// another split (overwritten: `Unsafe`, this run did not end with its split), within the
    /// confirm window. A region that does not answer (down during an incident) or does not
    /// show the update in time leaves the shift confirmed where it was made only.
    async fn confirm_elsewhere(
        &self,
        group: &GroupSummary,
        plan: &TrafficPlan,
        applied: Option<i64>,
    ) -> Result<(), StepError> {
        let pair = self.ctx.pair();
        let Some(other) = pair.other(self.client.region()) else {
            return Ok(());
        };
        if self.other_silent.load(Ordering::Relaxed) {
            return Ok(());
        }
        let client = self.ctx.connect(other)?;
        let mut until = Instant::now() + self.settings.confirm_timeout;
        if let Some(d) = self.deadline {
            until = until.min(d);
        }
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let read = tokio::time::timeout(left, client.get_live(&group.arn)).await;
            match read {
                Ok(Ok(seen)) => {
                    let token = match (seen.last_failover, applied) {
                        (Some(t), Some(a)) => t.cmp(&a),
                        // without tokens the split alone says it
                        _ => std::cmp::Ordering::Equal,
                    };
                    let mine = seen.split.matches(plan);
                    match token {
                        // not there yet
                        std::cmp::Ordering::Less => {}
                        _ if mine => return Ok(()),
                        std::cmp::Ordering::Greater => {
                            return Err(StepError::Unsafe(format!(
                                "group {} was moved again from the other region right after \
                                 this shift ({other} reads a later update); the split that \
                                 stands is not this run's: read the groups and decide",
                                group.name
                            )))
                        }
                        std::cmp::Ordering::Equal => {}
                    }
                }
                // updating there (the admin guide's answer to a Get while not ACTIVE), or
                // throttled: ask again
                Ok(Err(e))
                    if matches!(
                        e.class,
                        ConnectErrorClass::InvalidRequest | ConnectErrorClass::Throttled
                    ) => {}
                Ok(Err(e)) => {
                    warn!(group = %group.arn, region = %other, error = %e, "the other region does not answer: the shift is confirmed where it was made only");
                    self.other_silent.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                Err(_) => {}
            }
            if Instant::now() + self.settings.verify_interval >= until {
                warn!(group = %group.arn, region = %other, "the other region has not shown the shift within the confirm window: confirmed where it was made only");
                return Ok(());
            }
            tokio::time::sleep(self.settings.verify_interval).await;
        }
    }

    /// Opens the group's failover episode (a failover, or a plan declared part of an incident),
    /// unless one is open: then its failback point stands.
    async fn open_episode(
        &self,
        group: &GroupSummary,
        plan: &TrafficPlan,
        before: &CurrentDistribution,
    ) -> Result<(), StepError> {
        if !self.in_incident {
            return Ok(());
        }
        let episode = self
            .ctx
            .store
            .open_episode(&Episode {
                instance_id: self.id.to_string(),
                group_arn: group.arn.clone(),
                opened_by: self.run_id.to_string(),
                opened_at: self.now,
                before: self.episode_start(group, plan, before),
                closed_at: None,
                closed_by: None,
            })
            .await?;
        if episode.opened_by != self.run_id {
            info!(group = %group.arn, opened_by = %episode.opened_by, "failover episode already open: its failback point stands");
        }
        Ok(())
    }

    /// The split an episode opened now keeps: the live one, unless the group already reads
    /// the plan (a failover recorded elsewhere and lost to replication lag): then the steady
    /// state on record.
    fn episode_start(
        &self,
        group: &GroupSummary,
        plan: &TrafficPlan,
        live: &CurrentDistribution,
    ) -> CurrentDistribution {
        if !live.matches(plan) {
            return live.clone();
        }
        self.planned
            .record(&group.arn)
            .and_then(|g| g.steady.clone())
            .unwrap_or_else(|| live.clone())
    }

    /// Intents of other runs that never recorded an outcome (a crash after the update): the
    /// live distribution says whether they were applied.
    async fn settle_others(
        &self,
        shifts: &[ShiftRecord],
        live: &CurrentDistribution,
    ) -> Result<(), StepError> {
        for s in shifts
            .iter()
            .filter(|s| s.run_id != self.run_id && s.status == ShiftStatus::Intent)
        {
            let mut settled = s.clone();
            settled.status = if live.matches(&s.after) {
                ShiftStatus::Done
            } else {
                ShiftStatus::Abandoned
            };
            settled.completed_at = Some(self.now);
            settled.reconciled_by = Some(self.run_id.to_string());
            warn!(run_id = %s.run_id, status = ?settled.status, group = %s.group_arn, "settled an intent left without an outcome");
            self.ctx.store.put_shift(&settled).await?;
        }
        Ok(())
    }

    /// Waits until the group is ACTIVE again and reads back `plan`, within the verify timeout
    /// and never past the invocation's deadline: then `NotReady`, and the retry settles it.
    /// Answers the LastFailoverTime it read back with the split.
    async fn verify(
        &self,
        group: &GroupSummary,
        plan: &TrafficPlan,
    ) -> Result<Option<i64>, StepError> {
        let mut until = Instant::now() + self.settings.verify_timeout;
        if let Some(d) = self.deadline {
            until = until.min(d);
        }
        loop {
            let g = self.client.describe_group(&group.arn).await?;
            if g.is_active() {
                match acgr::traffic::groups::live_distribution(self.client, group).await {
                    Ok(d) if d.split.matches(plan) => return Ok(d.last_failover),
                    Ok(_) => {}
                    // updating again between the Describe and the Get: read once more
                    Err(e) if e.error_type() == "NotReady" => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() + self.settings.verify_interval >= until {
                return Err(StepError::NotReady(format!(
                    "group {} has not read back the new distribution yet (status {}); the \
                     intent is recorded and the retry settles it",
                    group.name, g.status
                )));
            }
            tokio::time::sleep(self.settings.verify_interval).await;
        }
    }

    /// The run reports success only for a split that still stands when it ends: each group of
    /// the run (moved, or found there already) is read once more where it was shifted; one moved
    /// since (another shift got in after this one) ends the run `Unsafe`, naming it. One call per
    /// group.
    pub(crate) async fn still_standing(&self, groups: &[GroupShift]) -> Result<(), StepError> {
        let mut moved = Vec::new();
        for g in groups {
            let now = self.client.get_live(&g.group_arn).await;
            match now {
                Ok(l) if l.split.matches(&g.after) => {}
                Ok(_) => moved.push(g.name.clone()),
                // updating again: another shift is being applied over this one
                Err(e) if e.class == ConnectErrorClass::InvalidRequest => {
                    moved.push(g.name.clone())
                }
                Err(e) => return Err(e.into()),
            }
        }
        if moved.is_empty() {
            Ok(())
        } else {
            Err(StepError::Unsafe(format!(
                "moved again by another shift before this run ended: {}; the split that stands \
                 is not this run's: read the groups and decide",
                moved.join(", ")
            )))
        }
    }

    /// After a failback, the episodes end and the restored split is the steady state; after a
    /// plan outside an episode, the plan is the new steady state (within an episode, a plan is a
    /// step of the incident and the failback point stands).
    pub(crate) async fn record_steady(&self, groups: &[GroupShift]) -> Result<(), StepError> {
        let store = &self.ctx.store;
        for g in groups {
            if self.reason == "failback" {
                let open = self.planned.episode(&g.group_arn);
                store
                    .close_episode(&Episode {
                        instance_id: self.id.to_string(),
                        group_arn: g.group_arn.clone(),
                        opened_by: open.map_or_else(String::new, |e| e.opened_by.clone()),
                        opened_at: open.map_or(0, |e| e.opened_at),
                        before: open.map_or_else(
                            || CurrentDistribution::from(&g.after),
                            |e| e.before.clone(),
                        ),
                        closed_at: Some(self.now),
                        closed_by: Some(self.run_id.to_string()),
                    })
                    .await?;
            } else if self.in_incident || self.planned.episode(&g.group_arn).is_some() {
                continue;
            }
            let mut r = self
                .planned
                .record(&g.group_arn)
                .cloned()
                .unwrap_or_else(|| GroupRecord::new(self.id, &g.group_arn, &g.name, g.is_default));
            r.steady = Some(CurrentDistribution::from(&g.after));
            r.steady_at = self.now;
            r.recorded_by = self.run_id.to_string();
            store.put_group(&r).await?;
        }
        Ok(())
    }
}

pub(crate) fn update_body(plan: &TrafficPlan) -> Value {
    let split = |s: &acgr::domain::Split| json!({"Distributions": s.entries().iter().map(|(r, p)| json!({"Region": r, "Percentage": p})).collect::<Vec<_>>()});
    let mut body =
        json!({"TelephonyConfig": split(plan.telephony()), "AgentConfig": split(plan.agents())});
    if let Some(s) = plan.sign_in() {
        body["SignInConfig"] = json!({"Distributions": s.iter().map(|(r, e)| json!({"Region": r, "Enabled": e})).collect::<Vec<_>>()});
    }
    body
}
