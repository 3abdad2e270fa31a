//! The listing diff: both regions' listings of some kinds, compared by name and ID, and the
//! emergency-access check that can reuse them.

use std::collections::{BTreeMap, HashMap};

use crate::PollStore;
use acgr::connect::{Connect, ResourceSummary};
use acgr::domain::{Kind, DEFAULT_QUEUE, DEFAULT_ROUTING_PROFILE};
use acgr::error::{ConnectError, StepError};
use acgr::mirroring::conflicts::{self, Conflict};
use acgr::Context;

use crate::measure::out_of_time;
use crate::signal::Signal;
use crate::KindProgress;

/// What a listing diff of some kinds found.
#[derive(Default)]
pub(crate) struct Listing {
    pub kinds: BTreeMap<Kind, KindProgress>,
    pub conflicts: Vec<Conflict>,
    /// The replica's listings, for the emergency-access check.
    pub replica: HashMap<Kind, Vec<ResourceSummary>>,
    /// The deadline stopped it before every kind was listed.
    pub cut: bool,
}

impl Listing {
    pub fn has_defaults_listed(&self) -> bool {
        self.replica.contains_key(&Kind::Queues)
            && self.replica.contains_key(&Kind::RoutingProfiles)
    }
}

/// Both regions' listings of `kinds`, compared by name and ID, until the deadline. The diff also
/// finds the replica-side ID of each look-alike, which the operator needs in order to delete it.
/// Resources a finding explains (a missing dependency, not mirrored by design) are left out of
/// the diff, and counted by class from the findings.
pub(crate) async fn list_and_diff<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    id: &str,
    kinds: &[Kind],
    replica_region: &str,
    signals: &mut BTreeMap<Kind, Signal>,
) -> Result<Listing, StepError> {
    let mut listing = Listing::default();
    for &kind in kinds {
        let listed = async {
            Ok::<_, ConnectError>((
                ctx.source.list_resources(id, kind).await?,
                ctx.replica.list_resources(id, kind).await?,
            ))
        }
        .await;
        let (src, rep) = match listed {
            Ok(both) => both,
            Err(e) if out_of_time(&e) => {
                listing.cut = true;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(signal) = signals.get_mut(&kind) else {
            continue;
        };
        let compared: Vec<ResourceSummary> = src
            .iter()
            .filter(|r| !signal.explains(r))
            .cloned()
            .collect();
        let diff = conflicts::diff(kind, &compared, &rep, replica_region);
        signal.adopt(&diff.conflicts);
        listing.kinds.insert(
            kind,
            signal.with_findings(KindProgress {
                source: Some(src.len() as u64),
                replica: Some(rep.len() as u64),
                missing: diff.missing,
                conflicting: diff.conflicts.len() as u64,
                ..Default::default()
            }),
        );
        listing.conflicts.extend(diff.conflicts);
        if matches!(kind, Kind::Queues | Kind::RoutingProfiles) {
            listing.replica.insert(kind, rep);
        }
    }
    Ok(listing)
}

/// Agents can use emergency access once the default queue and routing profile are mirrored: from
/// this poll's listings of the replica where it made them, else by listing.
pub(crate) async fn emergency_ready<C: Connect>(
    replica: &C,
    id: &str,
    listed: &HashMap<Kind, Vec<ResourceSummary>>,
) -> Result<bool, ConnectError> {
    for (kind, name) in [
        (Kind::Queues, DEFAULT_QUEUE),
        (Kind::RoutingProfiles, DEFAULT_ROUTING_PROFILE),
    ] {
        let found = match listed.get(&kind) {
            Some(list) => list.iter().any(|r| r.name == name),
            None => replica
                .list_resources(id, kind)
                .await?
                .iter()
                .any(|r| r.name == name),
        };
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The conflicts of a listing diff, completed by what the findings said (the region that failed)
/// and followed by any finding the diff did not see (a predefined attribute has no ID).
pub(crate) fn merge_conflicts(findings: Vec<Conflict>, listed: Vec<Conflict>) -> Vec<Conflict> {
    let mut out: Vec<Conflict> = listed
        .into_iter()
        .map(|mut c| {
            if let Some(f) = findings
                .iter()
                .find(|f| f.kind == c.kind && f.name == c.name)
            {
                c.region = f.region.clone().or(c.region);
            }
            c
        })
        .collect();
    for f in findings {
        if !out.iter().any(|c| c.kind == f.kind && c.name == f.name) {
            out.push(f);
        }
    }
    out
}
