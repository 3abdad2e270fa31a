//! The failback point: the steady-state distribution of every traffic distribution group,
//! recorded routinely by the runs that end replication and agent sync (long before any
//! incident), and the rule that picks what a failback restores.

use crate::connect::{Connect, CurrentDistribution};
use crate::error::StepError;
use crate::records::{Episode, GroupRecord};
use crate::store::RunStore;

/// Agents associated with one group by the run that records the steady state.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentCounts {
    pub group_arn: String,
    pub associated: u64,
    pub total: u64,
    /// When the run's check of the group's members started, if it made one.
    pub members_checked_at: Option<i64>,
}

/// Records every group of the instance as `client`'s region sees it: ARN, name, and the live
/// distribution as the steady state unless a failover episode is open for the group (then the
/// steady state on record stays: it is what the episode will restore). Agent counts replace
/// those on record for the group they name. One ListTrafficDistributionGroups page per ten
/// groups and one GetTrafficDistribution per ACTIVE group.
pub async fn record_steady_state<C: Connect, S: RunStore>(
    client: &C,
    store: &S,
    instance_id: &str,
    run_id: &str,
    agents: Option<&AgentCounts>,
    now: i64,
) -> Result<Vec<GroupRecord>, StepError> {
    let on_record = store.groups(instance_id).await?;
    let mut recorded = Vec::new();
    for group in client.list_groups(instance_id).await? {
        if !group.belongs_to(instance_id) {
            continue;
        }
        let previous = on_record.iter().find(|g| g.group_arn == group.arn);
        let episode = store.episode(instance_id, &group.arn).await?;
        let live = if group.is_active() && episode.is_none() {
            Some(client.get_distribution(&group.arn).await?)
        } else {
            None
        };
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
            steady: live
                .clone()
                .or_else(|| previous.and_then(|p| p.steady.clone())),
            steady_at: if live.is_some() {
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
        };
        store.put_group(&record).await?;
        recorded.push(record);
    }
    Ok(recorded)
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
}
