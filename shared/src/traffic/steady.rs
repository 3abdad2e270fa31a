//! The failback point: the steady-state distribution of every traffic distribution group,
//! recorded routinely by the runs that end replication and agent sync (long before any
//! incident), and the rule that picks what a failback restores.

use super::TrafficLedger;
use crate::connect::{Connect, CurrentDistribution};
use crate::error::StepError;
use crate::traffic::{Episode, GroupRecord, ShiftRecord, ShiftStatus};
use tracing::warn;

/// Agents associated with one group by the run that records the steady state.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentCounts {
    pub group_arn: String,
    pub associated: u64,
    pub total: u64,
    /// When the run's check of the group's members started, if it made one.
    pub members_checked_at: Option<i64>,
}

/// Records every group of the instance as `client`'s region (the groups' home) sees it: ARN,
/// name, and the live distribution as the steady state, when the record explains it (see
/// [`explained`]); a split the record does not explain is kept as `unexplained` and the steady
/// state on record stands. Agent counts replace those on record for the group they name. A group
/// on record that the home region no longer lists is marked gone (`goneAt`), never deleted. One
/// ListTrafficDistributionGroups page per ten groups, one GetTrafficDistribution per ACTIVE
/// group, one Query of the instance's shifts.
pub async fn record_steady_state<C: Connect, S: TrafficLedger>(
    client: &C,
    store: &S,
    instance_id: &str,
    run_id: &str,
    agents: Option<&AgentCounts>,
    now: i64,
) -> Result<Vec<GroupRecord>, StepError> {
    let on_record = store.groups(instance_id).await?;
    let shifts = store.shifts(instance_id).await?;
    let listed = client.list_groups(instance_id).await?;
    let mut recorded = Vec::new();
    for group in listed.iter().filter(|g| g.belongs_to(instance_id)) {
        let previous = on_record.iter().find(|g| g.group_arn == group.arn);
        let episode = store.episode(instance_id, &group.arn).await?;
        let live = if group.is_active() && episode.is_none() {
            Some(client.get_distribution(&group.arn).await?)
        } else {
            None
        };
        let newest = shifts
            .iter()
            .find(|s| s.group_arn == group.arn && s.status == ShiftStatus::Done);
        let steady = live
            .clone()
            .filter(|l| explained(l, previous.and_then(|p| p.steady.as_ref()), newest));
        if let (Some(l), None) = (&live, &steady) {
            warn!(group = %group.arn, live = ?l, "the live split is not explained by the record (a change outside the tool, or a shift whose record has not replicated yet): the steady state on record stands");
        }
        let (associated, total, agents_at) = match agents {
            Some(a) if a.group_arn == group.arn => (a.associated, a.total, now),
            _ => previous.map_or((0, 0, 0), |p| {
                (p.agents_associated, p.agents_total, p.agents_at)
            }),
        };
        let record = GroupRecord {
            instance_id: instance_id.to_string(),
            group_arn: group.arn.clone(),
            group_id: group.id.clone(),
            name: group.name.clone(),
            is_default: group.is_default,
            steady: steady
                .clone()
                .or_else(|| previous.and_then(|p| p.steady.clone())),
            steady_at: if steady.is_some() {
                now
            } else {
                previous.map_or(0, |p| p.steady_at)
            },
            recorded_by: run_id.to_string(),
            agents_associated: associated,
            agents_total: total,
            agents_at,
            members_checked_at: agents
                .filter(|a| a.group_arn == group.arn)
                .and_then(|a| a.members_checked_at)
                .or_else(|| previous.and_then(|p| p.members_checked_at)),
            gone_at: None,
            unexplained: live.filter(|_| steady.is_none()),
        };
        store.put_group(&record).await?;
        recorded.push(record);
    }
    for gone in on_record
        .iter()
        .filter(|r| r.gone_at.is_none() && !listed.iter().any(|g| g.arn == r.group_arn))
    {
        warn!(group = %gone.group_arn, "a group on record is no longer listed in its home region: marked gone");
        let mut r = gone.clone();
        r.gone_at = Some(now);
        r.recorded_by = run_id.to_string();
        store.put_group(&r).await?;
    }
    let missing = on_record
        .iter()
        .filter(|r| !listed.iter().any(|g| g.arn == r.group_arn))
        .count();
    crate::metrics::groups_missing(instance_id, missing as u64);
    Ok(recorded)
}

/// Whether the record explains a live split, so that it may become the steady state: nothing is
/// on record yet (the first run), it is the steady state on record, or it is what the group's
/// newest completed shift of ours applied, unless that shift was a failover (its episode keeps the
/// failback point; when the episode has not replicated here yet, the failed-over split must not
/// become the steady state). Anything else (a change in the console, a shift whose record has not
/// arrived) is not explained.
pub fn explained(
    live: &CurrentDistribution,
    steady: Option<&CurrentDistribution>,
    newest_shift: Option<&ShiftRecord>,
) -> bool {
    match (steady, newest_shift) {
        (None, None) => true,
        (Some(s), _) if s == live => true,
        (_, Some(shift)) => shift.reason != "failover" && live.matches(&shift.after),
        (Some(_), None) => false,
    }
}

/// What a failback of a group restores: the split from before the open episode's first shift,
/// else the steady state on record.
pub fn failback_point<'a>(
    record: Option<&'a GroupRecord>,
    episode: Option<&'a Episode>,
) -> Option<&'a CurrentDistribution> {
    episode
        .map(|e| &e.before)
        .or_else(|| record.and_then(|r| r.steady.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::fake::{FakeConnect, FakeWorld};
    use crate::connect::GroupSummary;
    use crate::domain::Region;
    use crate::store::memory::MemoryRunStore;
    use std::sync::{Arc, Mutex};

    const ARN: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1";

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    fn split(east: u8) -> CurrentDistribution {
        CurrentDistribution {
            telephony: vec![(r("us-east-1"), east), (r("us-west-2"), 100 - east)],
            agents: vec![(r("us-east-1"), east), (r("us-west-2"), 100 - east)],
            sign_in: None,
        }
    }

    fn world() -> FakeConnect {
        let world = Arc::new(Mutex::new(FakeWorld::default()));
        {
            let mut w = world.lock().unwrap();
            w.groups.push((
                "us-east-1".into(),
                "us-west-2".into(),
                GroupSummary {
                    id: "g1".into(),
                    arn: ARN.into(),
                    name: "default".into(),
                    instance_arn: "arn:aws:connect:us-east-1:1:instance/i".into(),
                    status: "ACTIVE".into(),
                    is_default: true,
                },
            ));
            w.distributions.insert(ARN.into(), split(70));
        }
        FakeConnect::new(r("us-east-1"), world)
    }

    #[tokio::test]
    async fn the_steady_state_is_recorded_except_during_an_episode() {
        let client = world();
        let store = MemoryRunStore::default();
        let counts = AgentCounts {
            group_arn: ARN.into(),
            associated: 9,
            total: 10,
            members_checked_at: Some(5),
        };
        let got = record_steady_state(&client, &store, "i", "sync-1", Some(&counts), 10)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].steady, Some(split(70)));
        assert_eq!((got[0].agents_associated, got[0].agents_total), (9, 10));

        // a failover opened an episode and moved traffic: the next sync keeps the steady state
        store
            .open_episode(&Episode {
                instance_id: "i".into(),
                group_arn: ARN.into(),
                opened_by: "f1".into(),
                opened_at: 20,
                before: split(70),
                closed_at: None,
                closed_by: None,
            })
            .await
            .unwrap();
        client.world().distributions.insert(ARN.into(), split(0));
        let got = record_steady_state(&client, &store, "i", "sync-2", None, 30)
            .await
            .unwrap();
        assert_eq!(got[0].steady, Some(split(70)), "not the failed-over split");
        assert_eq!(got[0].steady_at, 10);
        assert_eq!(got[0].agents_associated, 9, "counts on record are kept");
        assert_eq!(
            got[0].members_checked_at,
            Some(5),
            "and the last members check"
        );
        let episode = store.episode("i", ARN).await.unwrap();
        assert_eq!(
            failback_point(Some(&got[0]), episode.as_ref()),
            Some(&split(70))
        );
        assert_eq!(failback_point(Some(&got[0]), None), Some(&split(70)));
        assert_eq!(failback_point(None, None), None);
    }

    fn shift(reason: &str, after_east: u8) -> ShiftRecord {
        let r = |s: &str| Region::parse(s).unwrap();
        let after = crate::domain::TrafficPlan::new(
            &crate::domain::RegionPair::new(r("us-east-1"), r("us-west-2")),
            &[
                (r("us-east-1"), after_east),
                (r("us-west-2"), 100 - after_east),
            ],
            &[
                (r("us-east-1"), after_east),
                (r("us-west-2"), 100 - after_east),
            ],
            None,
        )
        .unwrap();
        ShiftRecord {
            instance_id: "i".into(),
            run_id: "r".into(),
            group_arn: ARN.into(),
            status: ShiftStatus::Done,
            reason: reason.into(),
            before: split(100),
            after,
            called_in: "us-east-1".into(),
            at: 1,
            completed_at: Some(1),
            completed_at_ms: Some(1000),
            reconciled_by: None,
            fence: None,
            applied_fence: None,
        }
    }

    #[test]
    fn a_live_split_becomes_the_steady_state_only_when_the_record_explains_it() {
        // the first record, the steady state again, a plan or failback of ours
        assert!(explained(&split(70), None, None));
        assert!(explained(&split(70), Some(&split(70)), None));
        assert!(explained(
            &split(70),
            Some(&split(100)),
            Some(&shift("plan", 70))
        ));
        assert!(explained(
            &split(100),
            Some(&split(0)),
            Some(&shift("failback", 100))
        ));
        // a change in the console, or a failover whose episode has not arrived
        assert!(!explained(&split(50), Some(&split(70)), None));
        assert!(!explained(
            &split(50),
            Some(&split(70)),
            Some(&shift("plan", 70))
        ));
        assert!(!explained(
            &split(0),
            Some(&split(70)),
            Some(&shift("failover", 0))
        ));
    }

    #[tokio::test]
    async fn an_unexplained_split_is_kept_aside_and_a_group_no_longer_listed_is_marked_gone() {
        let client = world();
        let store = MemoryRunStore::default();
        record_steady_state(&client, &store, "i", "sync-1", None, 10)
            .await
            .unwrap();
        // someone moves the group in the console
        client.world().distributions.insert(ARN.into(), split(50));
        let got = record_steady_state(&client, &store, "i", "sync-2", None, 20)
            .await
            .unwrap();
        assert_eq!(got[0].steady, Some(split(70)), "the steady state stands");
        assert_eq!(
            got[0].unexplained,
            Some(split(50)),
            "and the drift is shown"
        );
        // back where the record says: explained again
        client.world().distributions.insert(ARN.into(), split(70));
        let got = record_steady_state(&client, &store, "i", "sync-3", None, 30)
            .await
            .unwrap();
        assert_eq!(got[0].unexplained, None);

        // the group is deleted: kept on record, marked gone once
        client.world().groups.clear();
        let got = record_steady_state(&client, &store, "i", "sync-4", None, 40)
            .await
            .unwrap();
        assert!(got.is_empty());
        let groups = store.groups("i").await.unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].gone_at, Some(40));
        record_steady_state(&client, &store, "i", "sync-5", None, 50)
            .await
            .unwrap();
        assert_eq!(store.groups("i").await.unwrap()[0].gone_at, Some(40));
    }
}
