//! What each region sees of a traffic distribution group's distribution. Connect is eventually
//! consistent between the two regions: an update is applied in the region it was made in after
//! `tdgUpdateSeconds`, and reaches the other region `crossRegionLagSeconds` later. A group keeps
//! the updates not yet seen by both regions; a region's view is computed from them at a given
//! simulated time, and two regions may disagree for a while.
//!
//! Concurrent updates made in different regions converge last-writer-wins: of the updates a
//! region has applied, the one applied last (where it was made) is the distribution it shows.

use std::cmp::Ordering;

use super::{Distribution, Tdg};

pub const ACTIVE: &str = "ACTIVE";
pub const UPDATE_IN_PROGRESS: &str = "UPDATE_IN_PROGRESS";

/// A distribution every region has applied: where the group's history is folded.
#[derive(Debug, Clone)]
pub struct Settled {
    pub distribution: Distribution,
    /// Epoch seconds of the last update that changed the split.
    pub last_failover: Option<f64>,
    pub applied_at: f64,
    pub seq: u64,
}

impl Settled {
    /// A new group's first distribution: older than any update.
    pub fn new(distribution: Distribution) -> Settled {
        Settled {
            distribution,
            last_failover: None,
            applied_at: f64::NEG_INFINITY,
            seq: 0,
        }
    }

    fn key(&self) -> (f64, u64) {
        (self.applied_at, self.seq)
    }
}

/// One update of a group's distribution, as made in one region.
#[derive(Debug, Clone)]
pub struct Version {
    /// The new distribution; `None` for a window without a change (a staged
    /// `updateInProgress`: the group is busy as if another client had just updated it).
    pub distribution: Option<Distribution>,
    pub last_failover: Option<f64>,
    /// The region the update was made in.
    pub region: String,
    pub called_at: f64,
    /// When it is applied in `region`; the other region sees everything `lag` seconds later.
    pub applied_at: f64,
    pub lag: f64,
    /// Orders updates applied at the same time: the later call wins.
    pub seq: u64,
}

impl Version {
    fn shift(&self, region: &str) -> f64 {
        if self.region == region {
            0.0
        } else {
            self.lag
        }
    }

    fn applied_in(&self, region: &str, now: f64) -> bool {
        self.applied_at + self.shift(region) <= now
    }

    fn seen_in(&self, region: &str, now: f64) -> bool {
        self.called_at + self.shift(region) <= now
    }

    /// Whether both regions have applied it by `now`.
    fn applied_everywhere(&self, now: f64) -> bool {
        self.applied_at + self.lag <= now
    }

    fn key(&self) -> (f64, u64) {
        (self.applied_at, self.seq)
    }
}

fn later(a: (f64, u64), b: (f64, u64)) -> bool {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)) == Ordering::Greater
}

/// What one region sees of a group at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct View<'a> {
    /// The lifecycle status, or `UPDATE_IN_PROGRESS` while an update is being applied there.
    pub status: &'a str,
    pub distribution: &'a Distribution,
    pub last_failover: Option<f64>,
}

impl Tdg {
    /// The group as `region` sees it at simulated time `now`.
    pub fn view(&self, region: &str, now: f64) -> View<'_> {
        let mut distribution = &self.settled.distribution;
        let mut last_failover = self.settled.last_failover;
        let mut key = self.settled.key();
        let mut updating = false;
        for v in &self.versions {
            if !v.applied_in(region, now) {
                updating |= v.seen_in(region, now);
                continue;
            }
            if let Some(d) = &v.distribution {
                if later(v.key(), key) {
                    distribution = d;
                    last_failover = v.last_failover;
                    key = v.key();
                }
            }
        }
        let status = if self.lifecycle == ACTIVE && updating {
            UPDATE_IN_PROGRESS
        } else {
            self.lifecycle.as_str()
        };
        View {
            status,
            distribution,
            last_failover,
        }
    }

    /// The group as its home region sees it: what the calls that act at home only (users,
    /// numbers, deletion) go by.
    pub fn home_view(&self, now: f64) -> View<'_> {
        self.view(&self.home, now)
    }

    /// Records an update made in `version.region`.
    pub fn push_version(&mut self, version: Version) {
        self.versions.push(version);
    }

    /// Folds into the settled distribution the updates both regions have applied by `now`.
    pub fn prune_versions(&mut self, now: f64) {
        let (done, pending): (Vec<Version>, Vec<Version>) = std::mem::take(&mut self.versions)
            .into_iter()
            .partition(|v| v.applied_everywhere(now));
        self.versions = pending;
        for v in done {
            let key = v.key();
            let Some(d) = v.distribution else {
                continue;
            };
            if later(key, self.settled.key()) {
                self.settled = Settled {
                    distribution: d,
                    last_failover: v.last_failover,
                    applied_at: v.applied_at,
                    seq: v.seq,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";

    fn split(east: i64) -> Distribution {
        Distribution {
            telephony: vec![(EAST.into(), east), (WEST.into(), 100 - east)],
            agents: vec![(EAST.into(), 100), (WEST.into(), 0)],
            sign_in: None,
        }
    }

    fn group() -> Tdg {
        Tdg {
            seq: 1,
            id: "g".into(),
            name: "g".into(),
            description: None,
            instance_id: "i".into(),
            home: EAST.into(),
            other: WEST.into(),
            is_default: false,
            lifecycle: ACTIVE.into(),
            until: 0.0,
            settled: Settled::new(split(100)),
            versions: Vec::new(),
            users: Default::default(),
            tags: Default::default(),
            fail_creation: false,
            fail_deletion: false,
        }
    }

    fn update(region: &str, east: i64, at: f64, seq: u64) -> Version {
        Version {
            distribution: Some(split(east)),
            last_failover: Some(at),
            region: region.into(),
            called_at: at,
            applied_at: at + 3.0,
            lag: 10.0,
            seq,
        }
    }

    fn east_share(t: &Tdg, region: &str, now: f64) -> i64 {
        t.view(region, now).distribution.telephony[0].1
    }

    #[test]
    fn the_other_region_sees_an_update_a_lag_later() {
        let mut t = group();
        t.push_version(update(EAST, 0, 100.0, 1));
        assert_eq!(t.view(EAST, 100.0).status, UPDATE_IN_PROGRESS);
        assert_eq!(t.view(WEST, 100.0).status, ACTIVE);
        assert_eq!(east_share(&t, EAST, 103.0), 0);
        assert_eq!(east_share(&t, WEST, 103.0), 100);
        assert_eq!(t.view(WEST, 110.0).status, UPDATE_IN_PROGRESS);
        assert_eq!(t.view(WEST, 110.0).last_failover, None);
        assert_eq!(east_share(&t, WEST, 113.0), 0);
        assert_eq!(t.view(WEST, 113.0).last_failover, Some(100.0));
        t.prune_versions(112.0);
        assert_eq!(t.versions.len(), 1, "not yet applied in the other region");
        t.prune_versions(113.0);
        assert!(t.versions.is_empty());
        assert_eq!(east_share(&t, WEST, 113.0), 0);
        assert_eq!(t.view(WEST, 113.0).last_failover, Some(100.0));
    }

    #[test]
    fn concurrent_updates_converge_on_the_last_applied() {
        let mut t = group();
        t.push_version(update(EAST, 0, 100.0, 1)); // applied in east at 103, west at 113
        t.push_version(update(WEST, 50, 105.0, 2)); // applied in west at 108, east at 118
        assert_eq!(east_share(&t, WEST, 108.0), 50);
        assert_eq!(east_share(&t, EAST, 108.0), 0);
        // West's update was applied later: the east one arriving in the west does not win.
        assert_eq!(east_share(&t, WEST, 114.0), 50);
        assert_eq!(east_share(&t, EAST, 118.0), 50);
        t.prune_versions(200.0);
        assert_eq!(east_share(&t, EAST, 200.0), 50);
        assert_eq!(east_share(&t, WEST, 200.0), 50);
        assert_eq!(t.view(EAST, 200.0).last_failover, Some(105.0));
    }

    #[test]
    fn a_window_without_a_change_keeps_the_split() {
        let mut t = group();
        t.push_version(Version {
            distribution: None,
            ..update(EAST, 0, 100.0, 1)
        });
        assert_eq!(t.view(EAST, 101.0).status, UPDATE_IN_PROGRESS);
        assert_eq!(east_share(&t, EAST, 104.0), 100);
        assert_eq!(t.view(EAST, 104.0).last_failover, None);
    }
}
