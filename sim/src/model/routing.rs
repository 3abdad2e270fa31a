//! Global routing (cross-region routing) of an ACGR instance: whether the instance is enabled
//! for it, a migration that enables it (a ReplicateInstance re-run), and whether cross-region
//! routing is isolated, as each region sees it.
//!
//! Global routing is a property of the instance ID, shared by the source and its replica; it
//! matters only once the instance is replicated. An UpdateCrossRegionRouting made in one region
//! is seen there at once and in the other region `crossRegionLagSeconds` later, as traffic
//! distribution updates are ([`super::traffic`]); concurrent updates converge last-writer-wins
//! (the later call wins, ties by sequence).

use std::cmp::Ordering;

use super::World;

/// 2026-09-01T00:00:00Z: ACGR instances created on or after it have global routing on by
/// default (admin guide, "Global routing across ACGR Regions").
pub const GLOBAL_ROUTING_SINCE: f64 = 1_788_220_800.0;

/// An instance's global routing.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    /// Enabled for global routing (effective once the instance is replicated).
    pub enabled: bool,
    /// A migration under way: a ReplicateInstance re-run that enables global routing.
    pub migration: Option<Migration>,
    /// The isolation both regions have applied, with its (call time, sequence).
    pub settled: (bool, f64, u64),
    /// Updates not yet seen by both regions, in the order they were made.
    pub updates: Vec<IsolationUpdate>,
}

/// A migration to global routing: replication is `INSTANCE_REPLICATION_IN_PROGRESS` in both
/// regions from `started_at` until `until`, then global routing is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Migration {
    pub started_at: f64,
    pub until: f64,
}

/// One UpdateCrossRegionRouting, as made in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct IsolationUpdate {
    pub isolated_all: bool,
    /// The region it was made in: it sees it at once, the other `lag` seconds later.
    pub region: String,
    pub called_at: f64,
    pub lag: f64,
    pub seq: u64,
}

impl IsolationUpdate {
    fn seen_in(&self, region: &str, now: f64) -> bool {
        let shift = if self.region == region { 0.0 } else { self.lag };
        self.called_at + shift <= now
    }
}

fn later(a: (f64, u64), b: (f64, u64)) -> bool {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)) == Ordering::Greater
}

impl Routing {
    /// Whether `region` sees cross-region routing isolated at `now`.
    pub fn isolated_in(&self, region: &str, now: f64) -> bool {
        let (mut isolated, mut key) = (self.settled.0, (self.settled.1, self.settled.2));
        for u in self.updates.iter().filter(|u| u.seen_in(region, now)) {
            if later((u.called_at, u.seq), key) {
                isolated = u.isolated_all;
                key = (u.called_at, u.seq);
            }
        }
        isolated
    }

    /// Folds away the updates both regions have seen by `now`.
    fn prune(&mut self, now: f64) {
        let (done, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.updates)
            .into_iter()
            .partition(|u| u.called_at + u.lag <= now);
        self.updates = pending;
        for u in done {
            if later((u.called_at, u.seq), (self.settled.1, self.settled.2)) {
                self.settled = (u.isolated_all, u.called_at, u.seq);
            }
        }
    }

    /// Whether a migration is under way (one that fell due is ended by [`World::advance`]).
    pub fn migrating(&self) -> bool {
        self.migration.is_some()
    }
}

impl World {
    /// Whether global routing is in effect for instance `id`: enabled, and replicated.
    pub fn routing_on(&self, id: &str) -> bool {
        self.replications.contains_key(id) && self.routing.get(id).is_some_and(|r| r.enabled)
    }

    /// Whether instance `id` is being migrated to global routing.
    pub fn migrating(&self, id: &str) -> bool {
        self.routing.get(id).is_some_and(Routing::migrating)
    }

    /// The regions `region` sees isolated for instance `id` at `now`: both regions of the pair
    /// (source first) when isolated, else none.
    pub fn isolated_regions(&self, id: &str, region: &str, now: f64) -> Vec<String> {
        let (Some(rep), Some(r)) = (self.replications.get(id), self.routing.get(id)) else {
            return Vec::new();
        };
        if r.isolated_in(region, now) {
            vec![rep.source.clone(), rep.replica.clone()]
        } else {
            Vec::new()
        }
    }

    /// Starts a migration of instance `id` to global routing at `now`, for `migrationSeconds`.
    pub fn start_migration(&mut self, id: &str, now: f64) {
        let until = now + self.settings.migration_seconds;
        self.routing.entry(id.to_string()).or_default().migration = Some(Migration {
            started_at: now,
            until,
        });
        self.advance_routing(now);
    }

    /// Records an UpdateCrossRegionRouting made in `region` at `now`.
    pub fn isolate(&mut self, id: &str, region: &str, isolated_all: bool, now: f64) {
        let seq = self.next_seq();
        let lag = self.settings.cross_region_lag_seconds;
        self.routing
            .entry(id.to_string())
            .or_default()
            .updates
            .push(IsolationUpdate {
                isolated_all,
                region: region.to_string(),
                called_at: now,
                lag,
                seq,
            });
    }

    /// Ends the migrations due by `now` (global routing on) and folds away seen updates.
    pub(super) fn advance_routing(&mut self, now: f64) {
        for r in self.routing.values_mut() {
            if r.migration.is_some_and(|m| m.until <= now) {
                r.migration = None;
                r.enabled = true;
            }
            r.prune(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(region: &str, isolated_all: bool, at: f64, seq: u64) -> IsolationUpdate {
        IsolationUpdate {
            isolated_all,
            region: region.into(),
            called_at: at,
            lag: 10.0,
            seq,
        }
    }

    #[test]
    fn the_other_region_sees_an_isolation_a_lag_later() {
        let mut r = Routing::default();
        r.updates.push(update("us-east-1", true, 100.0, 1));
        assert!(r.isolated_in("us-east-1", 100.0));
        assert!(!r.isolated_in("us-west-2", 109.0));
        assert!(r.isolated_in("us-west-2", 110.0));
        r.prune(109.0);
        assert_eq!(r.updates.len(), 1);
        r.prune(110.0);
        assert!(r.updates.is_empty());
        assert!(r.isolated_in("us-west-2", 110.0));
    }

    #[test]
    fn concurrent_updates_converge_on_the_later_call() {
        let mut r = Routing::default();
        r.updates.push(update("us-east-1", true, 100.0, 1));
        r.updates.push(update("us-west-2", false, 105.0, 2));
        assert!(r.isolated_in("us-east-1", 105.0));
        assert!(!r.isolated_in("us-west-2", 105.0));
        // The east update arrives in the west later, but was called earlier: it does not win.
        assert!(!r.isolated_in("us-west-2", 112.0));
        assert!(!r.isolated_in("us-east-1", 115.0));
        r.prune(200.0);
        assert!(!r.isolated_in("us-east-1", 200.0));
    }

    #[test]
    fn the_default_date_is_the_first_of_september_2026() {
        assert_eq!(
            crate::scenario::parse_time("2026-09-01T00:00:00Z"),
            Ok(GLOBAL_ROUTING_SINCE)
        );
    }
}
