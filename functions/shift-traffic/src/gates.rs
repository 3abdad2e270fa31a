//! The health gates of a shift, read in the region that takes the traffic. None lists users:
//! the agents gate reads the association counts on record (from the last agent sync).

use acgr::connect::{CurrentDistribution, GroupSummary, InstanceInfo};
use acgr::domain::{region_of_arn, Region, TrafficPlan};
use acgr::error::StepError;
use acgr::traffic::GroupRecord;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    pub id: String,
    pub ok: bool,
    /// A gate that `force` may override.
    pub overridable: bool,
    pub message: String,
}

impl Gate {
    pub(crate) fn new(id: &str, ok: bool, overridable: bool, message: String) -> Gate {
        Gate {
            id: id.into(),
            ok,
            overridable,
            message,
        }
    }
}

/// The gates of the target region's instance (`info`, as it describes it there): ACTIVE, and
/// mirroring complete.
pub fn instance_gates(
    info: Option<&InstanceInfo>,
    target: &Region,
    instance_id: &str,
) -> Vec<Gate> {
    let status = info
        .and_then(|i| i.status.as_ref())
        .map_or("missing", |s| s.as_str());
    let replication = info.and_then(|i| i.replication.as_ref());
    vec![
        Gate::new(
            "target-instance-active",
            info.is_some_and(InstanceInfo::is_active),
            false,
            format!("instance {instance_id} in {target} is {status}"),
        ),
        Gate::new(
            "mirroring-complete",
            replication.is_some_and(|r| r.complete()),
            true,
            match replication {
                None => "the instance is not replicated".into(),
                Some(r) => r
                    .statuses
                    .iter()
                    .map(|s| format!("{} {}", s.region, s.status))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        ),
    ]
}

/// The gates of one group's plan: calls land where agents work, and (unless forced, when it is
/// not computed at all) enough agents are associated before agents move away from home.
pub fn group_gates(
    group: &GroupSummary,
    plan: &TrafficPlan,
    live: &CurrentDistribution,
    record: Option<&GroupRecord>,
    min_agent_share: f64,
    force: bool,
) -> Vec<Gate> {
    let mut gates = Vec::new();
    let sign_in = plan
        .sign_in()
        .map(<[_]>::to_vec)
        .or_else(|| live.sign_in.clone());
    let stranded: Vec<String> = plan
        .telephony()
        .entries()
        .iter()
        .filter(|(_, p)| *p > 0)
        .filter_map(|(r, p)| {
            let agents = plan.agents().percent(r);
            let signs_in = sign_in
                .as_ref()
                .is_none_or(|s| s.iter().any(|(x, on)| x == r && *on));
            (agents == 0 || !signs_in).then(|| {
                format!(
                    "{r} takes {p}% of calls with {agents}% of agents{}",
                    if signs_in {
                        ""
                    } else {
                        " and sign-in disabled"
                    }
                )
            })
        })
        .collect();
    gates.push(Gate::new(
        "agents-follow-telephony",
        stranded.is_empty(),
        true,
        if stranded.is_empty() {
            format!("{}: agents and sign-in follow telephony", group.name)
        } else {
            format!("{}: {}", group.name, stranded.join("; "))
        },
    ));

    let home = region_of_arn(&group.arn);
    let moving_away = plan
        .agents()
        .entries()
        .iter()
        .any(|(r, p)| *p > 0 && Some(r) != home.as_ref());
    // Agents are associated with the default group; a group nobody associated agents with
    // carries telephony only.
    let counted = record.is_some_and(|r| r.agents_total > 0);
    if moving_away && !force && (group.is_default || counted) {
        let (ok, message) = match record.filter(|r| r.agents_total > 0) {
            None => (
                false,
                format!(
                    "{}: no agent association is on record; run agent sync first",
                    group.name
                ),
            ),
            Some(r) => {
                let share = r.agents_associated as f64 / r.agents_total as f64;
                (
                    share >= min_agent_share,
                    format!(
                        "{}: {} of {} agents ({:.0}%) are associated with the group as of {}; at least {:.0}% needed",
                        group.name,
                        r.agents_associated,
                        r.agents_total,
                        share * 100.0,
                        r.agents_at,
                        min_agent_share * 100.0
                    ),
                )
            }
        };
        gates.push(Gate::new("agents-associated", ok, true, message));
    }
    gates
}

/// `Unsafe` naming every gate that refuses (a forced shift passes the overridable ones).
pub fn refuse(gates: &[Gate], force: bool) -> Result<(), StepError> {
    let refused: Vec<String> = gates
        .iter()
        .filter(|g| !(g.ok || (force && g.overridable)))
        .map(|g| format!("{}: {}", g.id, g.message))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(StepError::Unsafe(format!(
            "shift refused by health gates: {}",
            refused.join("; ")
        )))
    }
}
