//! Cross-region routing of an instance enabled for global routing: decided with the groups'
//! plans under the lock, applied once they moved, by calls to the region taking the traffic
//! only.
//!
//! - A failover reads the routing there and records it in the instance's routing episode (the
//!   failback point of routing, kept by repeated failovers), then isolates every region when
//!   the request says `always`, or `auto` and the region being left is impaired (it does not
//!   answer DescribeInstance within the probe window). A planned shift with both regions up
//!   keeps routing on: contacts already queued in the region left are still answered by the
//!   agents who moved.
//! - A failback restores the routing its episode recorded, then closes the episode.
//! - An instance not named as global-routing instances are (its access URL is not
//!   region-subdomained) gets no routing call at all; neither does a plan.

use std::time::Duration;

use acgr::connect::{Connect, InstanceInfo};
use acgr::domain::{Isolate, Region, RoutingState};
use acgr::error::StepError;
use acgr::traffic::RoutingEpisode;
use acgr::Context;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::intent::{Checked, Intent};
use crate::{Gate, PlannedCall, ShiftStore};

/// What a shift does to cross-region routing, as the output and the dry run show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingShift {
    /// Whether the instance is enabled for global routing, as the region taking the traffic
    /// names and answers it.
    pub global_routing: bool,
    /// The routing read in the region taking the traffic before the shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<RoutingState>,
    /// The `IsolatedAll` the shift sets; absent: no UpdateCrossRegionRouting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated_all: Option<bool>,
    /// Read back after the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<RoutingState>,
    /// Why, in words: the request, what the region left answered, the episode on record.
    pub why: String,
}

/// The routing half of a planned shift.
pub(crate) struct RoutingPlan {
    pub(crate) shown: RoutingShift,
    /// A failback: the open routing episode it restores and closes.
    pub(crate) episode: Option<RoutingEpisode>,
    pub(crate) gate: Option<Gate>,
    /// A failover's `auto` decision, made once the groups moved.
    pub(crate) pending: bool,
}

impl RoutingPlan {
    fn untouched(global_routing: bool, why: String) -> RoutingPlan {
        RoutingPlan {
            shown: RoutingShift {
                global_routing,
                before: None,
                isolated_all: None,
                after: None,
                why,
            },
            episode: None,
            gate: None,
            pending: false,
        }
    }

    /// The plan with its gate: the refusing one of an unreadable routing, else an open one that
    /// says what the shift does to routing (the gates are what an operator reads before a shift).
    fn with_gate(mut self) -> RoutingPlan {
        if self.gate.is_none() {
            self.gate = Some(Gate::new(
                "cross-region-routing",
                true,
                true,
                self.shown.why.clone(),
            ));
        }
        self
    }

    /// The UpdateCrossRegionRouting the shift makes, if any.
    pub(crate) fn call(&self, target: &Region, id: &str) -> Option<PlannedCall> {
        self.shown.isolated_all.map(|all| PlannedCall {
            region: target.to_string(),
            operation: "UpdateCrossRegionRouting".into(),
            id: id.to_string(),
            body: serde_json::json!({ "IsolatedAll": all }),
        })
    }
}

/// Plans the routing half of a shift towards `target`, whose instance reads `info`.
pub(crate) async fn plan<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    checked: &Checked,
    isolate: Isolate,
    target: &Region,
    info: Option<&InstanceInfo>,
    probe: Duration,
    dry_run: bool,
) -> Result<Option<RoutingPlan>, StepError> {
    let id = &checked.id;
    let named = info.is_some_and(InstanceInfo::global_routing_named);
    let plan = match &checked.intent {
        Intent::Plan(_) => return Ok(None),
        Intent::FailoverTo(_) if !named => RoutingPlan::untouched(false, not_named(info)),
        Intent::FailoverTo(_) => {
            let before = match read(ctx, id, target).await? {
                Ok(state) => state,
                Err(failed) => return Ok(Some(failed)),
            };
            let Some(before) = before else {
                return Ok(Some(not_enabled(target).with_gate()));
            };
            // The incident path moves the traffic first: an `auto` decision waits until the
            // groups moved (the probe of the region left, up to `probe`, is not on the way to
            // the update); a dry run decides at once, to show it.
            if isolate == Isolate::Auto && !dry_run {
                let left = ctx
                    .pair()
                    .other(target)
                    .map_or("?".into(), |r| r.to_string());
                RoutingPlan {
                    shown: RoutingShift {
                        global_routing: true,
                        before: Some(before),
                        isolated_all: None,
                        after: None,
                        why: format!(
                            "isolate=auto: decided once the traffic moved, by whether {left} \
                             answers (isolated if not)"
                        ),
                    },
                    episode: None,
                    gate: None,
                    pending: true,
                }
            } else {
                let impaired = match isolate {
                    Isolate::Auto => impaired(ctx, id, target, probe).await,
                    _ => None,
                };
                let (all, why) = decide(isolate, &before, impaired, target);
                RoutingPlan {
                    shown: RoutingShift {
                        global_routing: true,
                        before: Some(before),
                        isolated_all: all,
                        after: None,
                        why,
                    },
                    episode: None,
                    gate: None,
                    pending: false,
                }
            }
        }
        Intent::Failback => {
            let Some(episode) = on_record(ctx, id).await? else {
                return Ok(Some(
                    RoutingPlan::untouched(
                        named,
                        "no routing episode is on record: routing left as it is".into(),
                    )
                    .with_gate(),
                ));
            };
            let live = match read(ctx, id, target).await? {
                Ok(state) => state,
                Err(failed) => {
                    return Ok(Some(RoutingPlan {
                        episode: Some(episode),
                        ..failed
                    }))
                }
            };
            let Some(live) = live else {
                return Ok(Some(not_enabled(target).with_gate()));
            };
            // An isolation of ours is undone whatever this region reads: its view of an update
            // made in the other region may still be on its way (the regions see each other's
            // changes late), and setting what stands already changes nothing.
            let restore = episode.isolated || live.isolated() != episode.before.isolated();
            let why = format!(
                "the failover found routing {} (run {}){}",
                episode.before.describe(),
                episode.opened_by,
                if restore {
                    ": restored"
                } else {
                    "; it reads so again: no call"
                }
            );
            RoutingPlan {
                shown: RoutingShift {
                    global_routing: true,
                    before: Some(live),
                    isolated_all: restore.then_some(episode.before.isolated()),
                    after: None,
                    why,
                },
                episode: Some(episode),
                gate: None,
                pending: false,
            }
        }
    };
    Ok(Some(plan.with_gate()))
}

fn not_named(info: Option<&InstanceInfo>) -> String {
    let url = info
        .and_then(|i| i.access_url.as_deref())
        .unwrap_or("(none)");
    format!(
        "global routing is off for this instance (its access URL {url} is not \
         region-subdomained): no routing call"
    )
}

fn not_enabled(target: &Region) -> RoutingPlan {
    RoutingPlan::untouched(
        false,
        format!(
            "{target} answers that the instance is not enabled for global routing: no routing call"
        ),
    )
}

/// GetCrossRegionRouting in `target` (`None`: an instance not enabled for global routing), or
/// the plan when it could not be read: a refusing gate that `force` overrides (the traffic then
/// moves and routing is left as it is).
async fn read<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    id: &str,
    target: &Region,
) -> Result<Result<Option<RoutingState>, RoutingPlan>, StepError> {
    let e = match ctx.connect(target)?.get_routing(id).await {
        Ok(state) => return Ok(Ok(state)),
        Err(e) => e,
    };
    warn!(error = %e, "cross-region routing could not be read");
    let why = format!(
        "GetCrossRegionRouting in {target} failed ({e}); force shifts the traffic and leaves \
         routing as it is"
    );
    Ok(Err(RoutingPlan {
        gate: Some(Gate::new("cross-region-routing", false, true, why.clone())),
        ..RoutingPlan::untouched(true, why)
    }))
}

/// What a failover does to routing found `before`: `IsolatedAll` to set (or none) and why.
/// `impaired` says how the region left is impaired, if it is (read for `auto` only).
fn decide(
    isolate: Isolate,
    before: &RoutingState,
    impaired: Option<String>,
    target: &Region,
) -> (Option<bool>, String) {
    let (isolate_now, why) = match isolate {
        Isolate::Never => (false, "isolate=never: routing left as it is".to_string()),
        Isolate::Always => (true, "isolate=always".to_string()),
        Isolate::Auto => match impaired {
            Some(how) => (true, format!("isolate=auto and {how}")),
            None => (
                false,
                "isolate=auto and the region left answers (a planned shift): routing stays on, \
                 so contacts queued there are answered by the agents who moved"
                    .to_string(),
            ),
        },
    };
    let call = isolate_now && !before.isolated();
    let why = match (isolate_now, before.isolated()) {
        (true, true) => format!("{why}; already isolated: no call"),
        (true, false) => format!("{why}: every region isolated from {target}"),
        (false, _) => why,
    };
    (call.then_some(true), why)
}

/// How the region being left is impaired, if it is: its DescribeInstance of the instance fails
/// or takes longer than `probe`.
async fn impaired<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    id: &str,
    target: &Region,
    probe: Duration,
) -> Option<String> {
    let left = ctx.pair().other(target)?.clone();
    let client = ctx.connect(&left).ok()?;
    match tokio::time::timeout(probe, client.describe_instance(id)).await {
        Ok(Ok(Some(i))) if i.is_active() => None,
        Ok(Ok(Some(i))) => Some(format!(
            "the instance in {left} is {}",
            i.status.as_ref().map_or("of no status", |s| s.as_str())
        )),
        Ok(Ok(None)) => Some(format!("{left} does not find the instance")),
        Ok(Err(e)) => Some(format!("{left} is impaired ({})", e.code)),
        Err(_) => Some(format!(
            "{left} is impaired (no answer within {} ms)",
            probe.as_millis()
        )),
    }
}

/// The open routing episode: this region's, else the other region's replica of the table when
/// it holds a newer open one this region has not received (a failback right after the source
/// region came back), unless this region closed one since it was opened.
async fn on_record<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    id: &str,
) -> Result<Option<RoutingEpisode>, StepError> {
    let here = ctx.store.routing_record(id).await?;
    let Some(peer) = &ctx.peer else {
        return Ok(here.filter(RoutingEpisode::is_open));
    };
    let wait = Duration::from_secs(3);
    let theirs = match tokio::time::timeout(wait, peer.store.routing_record(id)).await {
        Ok(Ok(e)) => e.filter(RoutingEpisode::is_open),
        _ => None,
    };
    Ok(match (here, theirs) {
        (Some(h), _) if h.is_open() => Some(h),
        (Some(closed), Some(t)) if closed.closed_at.is_some_and(|c| c >= t.opened_at) => None,
        (_, Some(t)) => {
            info!(opened_by = %t.opened_by, "the other region's table holds a routing episode this one has not received yet: it is restored");
            Some(t)
        }
        (_, None) => None,
    })
}

/// Where and when the routing half is applied.
pub(crate) struct Applying<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) id: &'a str,
    pub(crate) now: i64,
    pub(crate) failback: bool,
    /// How long the region left has to answer (`auto`).
    pub(crate) probe: Duration,
    /// The region left did not answer the reads that confirm the shift there: impaired, no need
    /// to ask again.
    pub(crate) other_silent: bool,
}

/// Applies the routing half after the groups moved: a failover decides `auto`, records the
/// episode (before it calls), then isolates; a failback restores, then closes the episode.
pub(crate) async fn apply<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    client: &C,
    plan: &RoutingPlan,
    at: Applying<'_>,
) -> Result<RoutingShift, StepError> {
    let Applying {
        run_id,
        id,
        now,
        failback,
        ..
    } = at;
    let mut shown = plan.shown.clone();
    let store = &ctx.store;
    if let (true, Some(before)) = (plan.pending, &shown.before) {
        let target = client.region();
        let impaired = if at.other_silent {
            let left = ctx
                .pair()
                .other(target)
                .map_or("?".into(), |r| r.to_string());
            Some(format!(
                "{left} is impaired (it did not answer the confirming reads)"
            ))
        } else {
            impaired(ctx, id, target, at.probe).await
        };
        (shown.isolated_all, shown.why) = decide(Isolate::Auto, before, impaired, target);
    }
    if !failback {
        if let Some(before) = &shown.before {
            let episode = store
                .open_routing(&RoutingEpisode {
                    instance_id: id.to_string(),
                    opened_by: run_id.to_string(),
                    opened_at: now,
                    before: before.clone(),
                    isolated: shown.isolated_all == Some(true),
                    decision: shown.why.clone(),
                    closed_at: None,
                    closed_by: None,
                })
                .await?;
            if episode.opened_by != run_id {
                info!(opened_by = %episode.opened_by, "routing episode already open: its routing stands as the failback point");
            }
        }
    }
    if let Some(all) = shown.isolated_all {
        client.update_routing(id, all).await?;
        shown.after = client.get_routing(id).await?;
    }
    // closed only once the routing was read and restored: a forced failback that could not
    // read it leaves the episode for the next one
    if let (true, Some(open), true) = (failback, &plan.episode, shown.before.is_some()) {
        store
            .close_routing(&RoutingEpisode {
                closed_at: Some(now),
                closed_by: Some(run_id.to_string()),
                ..open.clone()
            })
            .await?;
    }
    Ok(shown)
}
