//! What a shift asks for: the input checked before anything is read or written, and each
//! group's plan (the failover split, the operator's plan, or the group's failback point).

use std::collections::BTreeMap;

use acgr::connect::GroupSummary;
use acgr::domain::{GroupRef, Region, RegionPair, Split, TrafficPlan};
use acgr::error::StepError;
use acgr::run::RunKind;
use acgr::traffic::steady::failback_point;
use acgr::traffic::{Episode, GroupRecord};

use crate::{Input, Preset};

pub(crate) enum Intent {
    Plan(TrafficPlan),
    FailoverTo(Region),
    Failback,
}

impl Intent {
    pub(crate) fn kind(&self) -> RunKind {
        match self {
            Intent::Failback => RunKind::Failback,
            _ => RunKind::Failover,
        }
    }

    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Intent::Plan(_) => "plan",
            Intent::FailoverTo(_) => "failover",
            Intent::Failback => "failback",
        }
    }
}

fn entries<T: Copy>(map: &BTreeMap<String, T>) -> Result<Vec<(Region, T)>, StepError> {
    map.iter()
        .map(|(r, v)| Ok((Region::parse(r)?, *v)))
        .collect()
}

/// Names the input member an error is about.
fn member(name: &'static str) -> impl Fn(StepError) -> StepError {
    move |e| StepError::InvalidInput(format!("{name}: {e}"))
}

/// Everything checked before anything is read or written.
pub(crate) struct Checked {
    pub(crate) id: String,
    pub(crate) intent: Intent,
    pub(crate) named: Vec<String>,
    pub(crate) break_reason: Option<String>,
    /// `requestedAt`, in epoch milliseconds.
    pub(crate) requested_at: Option<i64>,
    /// A plan declared part of an incident.
    pub(crate) incident_plan: bool,
}

impl Checked {
    /// A failover, or a plan that is a step of an incident: it opens episodes and records no
    /// steady state.
    pub(crate) fn in_incident(&self) -> bool {
        matches!(self.intent, Intent::FailoverTo(_)) || self.incident_plan
    }
}

pub(crate) fn check(input: &Input, pair: &RegionPair) -> Result<Checked, StepError> {
    let id = input.header.any_region_instance(pair)?;
    let intent = match (&input.plan, &input.preset) {
        (Some(p), None) => {
            let telephony = entries(&p.telephony).map_err(member("plan.telephony"))?;
            Split::new(pair, &telephony).map_err(member("plan.telephony"))?;
            let agents = entries(&p.agents).map_err(member("plan.agents"))?;
            Split::new(pair, &agents).map_err(member("plan.agents"))?;
            let sign_in = p
                .sign_in
                .as_ref()
                .map(entries)
                .transpose()
                .map_err(member("plan.signIn"))?;
            // (the splits are valid: what is left to refuse is signIn)
            Intent::Plan(
                TrafficPlan::new(pair, &telephony, &agents, sign_in.as_deref())
                    .map_err(member("plan.signIn"))?,
            )
        }
        (None, Some(Preset::FailoverTo { failover_to })) => {
            let target = Region::parse_member("preset.failoverTo", failover_to)?;
            TrafficPlan::failover_to(pair, &target, true)?;
            Intent::FailoverTo(target)
        }
        (None, Some(Preset::Named(n))) if n == "failback" => Intent::Failback,
        (None, Some(Preset::Named(n))) => {
            return Err(StepError::InvalidInput(format!(
                "preset '{n}' is not known: use \"failback\" or {{\"failoverTo\": REGION}}"
            )))
        }
        _ => {
            return Err(StepError::InvalidInput(
                "give exactly one of plan and preset".into(),
            ))
        }
    };
    let mut named: Vec<String> = input.traffic_distribution_group.iter().cloned().collect();
    named.extend(input.traffic_distribution_groups.iter().flatten().cloned());
    for n in &named {
        GroupRef::parse(n)?;
    }
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    acgr::run::request::check_reason(reason).map_err(StepError::InvalidInput)?;
    let break_reason = match (input.break_lock, reason) {
        (false, _) => None,
        (true, Some(r)) => Some(r.to_string()),
        (true, None) => {
            return Err(StepError::InvalidInput(
                "breakLock needs a reason: say why the lock is broken".into(),
            ))
        }
    };
    let requested_at = input
        .requested_at
        .as_deref()
        .or(input.started_at.as_deref())
        .map(|t| {
            acgr::run::request::parse_rfc3339(t).ok_or_else(|| {
                StepError::InvalidInput(format!(
                    "requestedAt '{}' is not an RFC 3339 date and time",
                    acgr::error::shown(t)
                ))
            })
        })
        .transpose()?;
    if input.isolate.is_some() && !matches!(intent, Intent::FailoverTo(_)) {
        return Err(StepError::InvalidInput(
            "isolate goes with a failover only (a failback restores the routing its failover \
             found; a plan leaves routing alone)"
                .into(),
        ));
    }
    if input.incident && input.plan.is_none() {
        return Err(StepError::InvalidInput(
            "incident goes with plan only (a failover is always part of an incident)".into(),
        ));
    }
    Ok(Checked {
        id,
        intent,
        named,
        break_reason,
        requested_at,
        incident_plan: input.incident,
    })
}

/// The plan of one group: the failover split, the operator's plan (sign-in only on the default
/// group), or the group's failback point.
pub(crate) fn group_plan(
    intent: &Intent,
    pair: &RegionPair,
    group: &GroupSummary,
    record: Option<&GroupRecord>,
    episode: Option<&Episode>,
) -> Result<TrafficPlan, StepError> {
    match intent {
        Intent::FailoverTo(target) => TrafficPlan::failover_to(pair, target, group.is_default),
        Intent::Plan(p) if group.is_default => Ok(p.clone()),
        Intent::Plan(p) => Ok(p.clone().without_sign_in()),
        Intent::Failback => {
            let point = failback_point(record, episode).ok_or_else(|| {
                StepError::InvalidInput(format!(
                    "no failback point is on record for group {} ({}): no steady state was \
                     recorded by a replication or agent-sync run and no failover episode is open",
                    group.name, group.arn
                ))
            })?;
            TrafficPlan::new(
                pair,
                &point.telephony,
                &point.agents,
                if group.is_default {
                    point.sign_in.as_deref()
                } else {
                    None
                },
            )
            .map_err(|e| {
                StepError::Rejected(format!(
                    "the failback point of group {} is not a usable distribution: {e}",
                    group.name
                ))
            })
        }
    }
}
