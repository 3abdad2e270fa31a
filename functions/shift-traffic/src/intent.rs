//! What a shift asks for: the input checked before anything is read or written, and each
//! group's plan (the failover split, the operator's plan, or the group's failback point).

use std::collections::BTreeMap;

use acgr::connect::GroupSummary;
use acgr::domain::{GroupRef, Region, RegionPair, Split, TrafficPlan};
use acgr::error::StepError;
use acgr::records::{Episode, GroupRecord, RunKind};
use acgr::steady::failback_point;

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
    if reason.is_some_and(|r| r.len() > 1000) {
        return Err(StepError::InvalidInput(
            "reason is longer than 1000 characters".into(),
        ));
    }
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
        .map(|t| {
            epoch_millis(t).ok_or_else(|| {
                StepError::InvalidInput(format!(
                    "requestedAt '{}' is not an RFC 3339 date and time",
                    acgr::step::shown(t)
                ))
            })
        })
        .transpose()?;
    Ok(Checked {
        id,
        intent,
        named,
        break_reason,
        requested_at,
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

/// Milliseconds since the epoch of an RFC 3339 date and time, as Step Functions writes
/// `$$.Execution.StartTime` (`2026-12-02T12:59:11.515Z`) and moto does
/// (`2026-12-02T12:59:11.515265+00:00`): the offset applied, past milliseconds dropped.
pub(crate) fn epoch_millis(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = t.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        millis = format!("{:0<3}", &frac[..digits.min(3)]).parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    // days from the civil date (Howard Hinnant's algorithm)
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) * 1000 + millis)
}

#[cfg(test)]
mod time_tests {
    use super::epoch_millis;

    #[test]
    fn step_functions_and_moto_start_times_read_alike() {
        assert_eq!(epoch_millis("1970-01-01T00:01:40Z"), Some(100_000));
        assert_eq!(
            epoch_millis("2026-12-02T12:59:11.515Z"),
            Some(1_796_216_351_515)
        );
        assert_eq!(
            epoch_millis("2026-12-02T12:59:11.515265+00:00"),
            Some(1_796_216_351_515)
        );
        assert_eq!(
            epoch_millis("2026-12-02T14:59:11.5+02:00"),
            Some(1_796_216_351_500)
        );
        assert_eq!(epoch_millis("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        for bad in [
            "",
            "yesterday",
            "2026-13-02T00:00:00Z",
            "2026-12-02T12:59:11",
            "2026-12-02T12:59:11.Z",
            "2026-12-02T12:59:11+0200",
        ] {
            assert_eq!(epoch_millis(bad), None, "{bad}");
        }
    }
}
