//! The shift as planned under the lock, before anything is written: the groups reached by ARN
//! in the region taking the traffic, each group's plan and live split, and the gates.

use acgr::connect::{Connect, CurrentDistribution, GroupSummary};
use acgr::domain::{Isolate, Region, RegionPair, TrafficPlan};
use acgr::error::StepError;
use acgr::traffic::steady::failback_point;
use acgr::traffic::{Episode, GroupRecord};
use acgr::Context;

use tracing::{info, warn};

use crate::intent::{group_plan, Checked, Intent};
use crate::routing::{self, RoutingPlan};
use crate::{gates, Gate, Settings, ShiftStore};

/// How long a failback waits for the other region's table to answer.
const PEER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// What the table says about the groups before the shift: records and open episodes.
struct OnRecord {
    groups: Vec<GroupRecord>,
    episodes: Vec<Episode>,
    /// Closed episodes (tombstones): a failback here since an episode the other region holds.
    closed: Vec<Episode>,
}

impl OnRecord {
    async fn load<S: ShiftStore>(store: &S, id: &str) -> Result<OnRecord, StepError> {
        let groups = store.groups(id).await?;
        let (mut episodes, mut closed) = (Vec::new(), Vec::new());
        for g in &groups {
            match store.episode_record(id, &g.group_arn).await? {
                Some(e) if e.is_open() => episodes.push(e),
                Some(e) => closed.push(e),
                None => {}
            }
        }
        Ok(OnRecord {
            groups,
            episodes,
            closed,
        })
    }

    /// What the other region's replica of the table recorded that this one has not received
    /// yet (a failback run as soon as the source region is back, while the table's replication
    /// still lags): an open episode there that is older than this region's (or that this region
    /// does not have) is the failback point. A replica that does not answer at once is not
    /// waited for.
    async fn merge_peer<S: ShiftStore>(&mut self, peer: &S, id: &str) {
        for g in self.groups.iter().filter(|g| g.gone_at.is_none()) {
            let read = tokio::time::timeout(PEER_WAIT, peer.episode(id, &g.group_arn)).await;
            let theirs = match read {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => {
                    warn!(error = %e, "the other region's table did not answer: this region's record stands");
                    return;
                }
                Err(_) => {
                    warn!("the other region's table did not answer in time: this region's record stands");
                    return;
                }
            };
            let Some(theirs) = theirs else { continue };
            // closed here after it was opened there: that failback's tombstone is on its way
            let closed_since = self.closed.iter().any(|c| {
                c.group_arn == g.group_arn && c.closed_at.is_some_and(|t| t >= theirs.opened_at)
            });
            if closed_since {
                continue;
            }
            let ours = self
                .episodes
                .iter()
                .position(|e| e.group_arn == g.group_arn);
            match ours {
                Some(i) if self.episodes[i].opened_at <= theirs.opened_at => {}
                Some(i) => self.episodes[i] = theirs,
                None => {
                    info!(group = %g.group_arn, opened_by = %theirs.opened_by, "the other region's table holds an episode this one has not received yet: its failback point is used");
                    self.episodes.push(theirs);
                }
            }
        }
    }

    fn record(&self, arn: &str) -> Option<&GroupRecord> {
        self.groups.iter().find(|g| g.group_arn == arn)
    }

    fn episode(&self, arn: &str) -> Option<&Episode> {
        self.episodes.iter().find(|e| e.group_arn == arn)
    }

    /// A failback goes where the default group's failback point puts (most of) the telephony.
    fn failback_target(&self, pair: &RegionPair) -> Region {
        self.groups
            .iter()
            .filter(|r| r.is_default)
            .find_map(|r| failback_point(Some(r), self.episode(&r.group_arn)))
            .and_then(|p| p.telephony.iter().max_by_key(|(_, pct)| *pct))
            .map_or(pair.source.clone(), |(r, _)| r.clone())
    }
}

/// The shift as planned, before anything is written: groups, plans, gates, live splits.
pub(crate) struct Planned {
    pub(crate) target: Region,
    pub(crate) groups: Vec<(GroupSummary, TrafficPlan, CurrentDistribution)>,
    /// Groups on record that Connect reports gone: skipped.
    pub(crate) gone: Vec<String>,
    /// Each group's LastFailoverTime, read with its live split (the shift's fence).
    pub(crate) fences: Vec<(String, Option<i64>)>,
    pub(crate) gates: Vec<Gate>,
    /// The groups on record, as read under the lock.
    pub(crate) records: Vec<GroupRecord>,
    /// The episodes open for the planned groups, as read under the lock.
    pub(crate) episodes: Vec<Episode>,
    /// Cross-region routing: what the shift does to it (`None`: a plan, which leaves it alone).
    pub(crate) routing: Option<RoutingPlan>,
}

impl Planned {
    pub(crate) fn record(&self, arn: &str) -> Option<&GroupRecord> {
        self.records.iter().find(|g| g.group_arn == arn)
    }

    pub(crate) fn episode(&self, arn: &str) -> Option<&Episode> {
        self.episodes.iter().find(|e| e.group_arn == arn)
    }

    pub(crate) fn fence(&self, arn: &str) -> Option<i64> {
        self.fences
            .iter()
            .find(|(a, _)| a == arn)
            .and_then(|(_, f)| *f)
    }
}

pub(crate) async fn plan<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    checked: &Checked,
    isolate: Isolate,
    force: bool,
    dry_run: bool,
) -> Result<Planned, StepError> {
    let pair = ctx.pair();
    let id = &checked.id;
    let mut known = OnRecord::load(&ctx.store, id).await?;
    if let (Intent::Failback, Some(peer)) = (&checked.intent, &ctx.peer) {
        known.merge_peer(&peer.store, id).await;
    }
    let target = match &checked.intent {
        Intent::FailoverTo(t) => t.clone(),
        Intent::Plan(p) => p.telephony_target().clone(),
        Intent::Failback => known.failback_target(&pair),
    };
    let client = ctx.connect(&target)?;
    let to_move =
        acgr::traffic::groups::groups_to_move(client, id, &checked.named, &known.groups).await?;
    let info = client.describe_instance(id).await?;
    let mut gates = gates::instance_gates(info.as_ref(), &target, id);
    let routing = routing::plan(
        ctx,
        checked,
        isolate,
        &target,
        info.as_ref(),
        settings.impaired_probe,
        dry_run,
    )
    .await?;
    gates.extend(routing.as_ref().and_then(|r| r.gate.clone()));
    let mut planned = Vec::new();
    let mut episodes = Vec::new();
    let mut fences = Vec::new();
    for group in to_move.groups {
        let record = known.record(&group.arn);
        // A group created after the last routine run has no record: its episode may still exist.
        let episode = match known.episode(&group.arn) {
            Some(e) => Some(e.clone()),
            None if record.is_none() => ctx.store.episode(id, &group.arn).await?,
            None => None,
        };
        let plan = group_plan(&checked.intent, &pair, &group, record, episode.as_ref())?;
        let read = acgr::traffic::groups::live_distribution(client, &group).await?;
        fences.push((group.arn.clone(), read.last_failover));
        let live = read.split;
        gates.extend(gates::group_gates(
            &group,
            &plan,
            &live,
            record,
            settings.min_agent_share,
            force,
        ));
        episodes.extend(episode);
        planned.push((group, plan, live));
    }
    if let (Intent::Plan(p), [(g, _, _)]) = (&checked.intent, planned.as_slice()) {
        if p.sign_in().is_some() && !g.is_default {
            return Err(StepError::InvalidInput(format!(
                "signIn can only change on the default group; {} is a custom group",
                g.name
            )));
        }
    }
    Ok(Planned {
        target,
        groups: planned,
        gone: to_move.gone,
        fences,
        gates,
        records: known.groups,
        episodes,
        routing,
    })
}
