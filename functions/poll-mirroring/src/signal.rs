//! What ListReplicationFindings says of one kind: the drift, and its findings by class. Name
//! conflicts go to the conflict ledger; the other classes are reported with their fixes.

use acgr::connect::findings::{FindingClass, ReportedFinding};
use acgr::connect::{Findings, ResourceSummary};
use acgr::domain::Kind;
use acgr::mirroring::conflicts::Conflict;
use acgr::mirroring::{RegionCount, RegionState};

use crate::KindProgress;

pub(crate) struct Signal {
    /// Drifted in the replica and not explained by a finding.
    pub missing: u64,
    /// The findings that name a name conflict.
    pub conflicts: Vec<Conflict>,
    /// Every other finding, classified.
    pub others: Vec<ReportedFinding>,
    /// The drift counts and replication statuses of every region, as Connect gave them.
    pub drift: Vec<RegionCount>,
    pub statuses: Vec<RegionState>,
}

impl Signal {
    pub fn read(kind: Kind, f: &Findings, replica_region: &str) -> Signal {
        let drift = f
            .drift
            .iter()
            .filter(|(r, _)| r == replica_region)
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum::<u64>();
        let mut conflicts = Vec::new();
        let mut others = Vec::new();
        for finding in &f.findings {
            let reported = ReportedFinding::new(kind.finding_type(), finding, replica_region);
            if reported.class == FindingClass::NameConflict {
                conflicts.push(Conflict {
                    kind,
                    name: reported.label().to_string(),
                    source_id: Some(finding.id.clone()),
                    replica_id: None,
                    region: finding.region.clone(),
                });
            } else {
                others.push(reported);
            }
        }
        Signal {
            missing: drift.saturating_sub(f.findings.len() as u64),
            conflicts,
            others,
            drift: region_counts(f),
            statuses: region_states(f),
        }
    }

    pub fn count(&self, class: FindingClass) -> u64 {
        self.others.iter().filter(|f| f.class == class).count() as u64
    }

    /// Nothing drifted, nothing blocked (a resource not mirrored by design blocks nothing).
    pub fn clear(&self) -> bool {
        self.missing == 0
            && self.conflicts.is_empty()
            && self.others.iter().all(|f| !f.class.blocks_completion())
    }

    pub fn progress(&self) -> KindProgress {
        self.with_findings(KindProgress {
            source: None,
            replica: None,
            missing: self.missing,
            conflicting: self.conflicts.len() as u64,
            ..Default::default()
        })
    }

    /// The listing `k` on record still stands: nothing drifts, no finding names a conflict, and
    /// the blocking findings are as many as when it was made (one that clears is confirmed by
    /// listing again).
    pub fn keeps(&self, k: &KindProgress) -> bool {
        k.source.is_some()
            && self.missing == 0
            && self.conflicts.is_empty()
            && k.missing_dependencies == self.count(FindingClass::MissingDependency)
            && k.sync_failures == self.count(FindingClass::SyncFailure)
    }

    /// `k` with this signal's counts of the classes beside name conflicts.
    pub fn with_findings(&self, k: KindProgress) -> KindProgress {
        KindProgress {
            missing_dependencies: self.count(FindingClass::MissingDependency),
            sync_failures: self.count(FindingClass::SyncFailure),
            not_mirrored: self.count(FindingClass::NotMirrored),
            unknown: self.count(FindingClass::Unknown),
            ..k
        }
    }

    /// A source resource that a finding says is absent from the replica for a reason of its
    /// own (a missing dependency, or not mirrored by design): the listing diff leaves it out, so
    /// it is neither missing nor, once recreated by hand, a look-alike. Matched by ID, or by
    /// name for kinds without IDs.
    pub fn explains(&self, r: &ResourceSummary) -> bool {
        self.others
            .iter()
            .filter(|f| {
                matches!(
                    f.class,
                    FindingClass::MissingDependency | FindingClass::NotMirrored
                )
            })
            .any(|f| match &r.id {
                Some(id) => *id == f.id,
                None => f.label() == r.name,
            })
    }

    /// A failed sync whose name the listing found held by a look-alike is a name conflict (the
    /// listing's word on names is final): it leaves the other findings.
    pub fn adopt(&mut self, listed: &[Conflict]) {
        self.others.retain(|f| {
            f.class != FindingClass::SyncFailure || !listed.iter().any(|c| c.name == f.label())
        });
    }
}

/// `ApproximateDriftedResourceCounts` as the record keeps them.
pub(crate) fn region_counts(f: &Findings) -> Vec<RegionCount> {
    f.drift
        .iter()
        .map(|(region, count)| RegionCount {
            region: region.clone(),
            count: *count,
        })
        .collect()
}

/// `ResourceReplicationStatuses` as the record keeps them.
pub(crate) fn region_states(f: &Findings) -> Vec<RegionState> {
    f.statuses
        .iter()
        .map(|(region, status)| RegionState {
            region: region.clone(),
            status: status.clone(),
        })
        .collect()
}
