//! Resolving traffic distribution groups, one rule for every step: a group is named by ID or
//! ARN (or is the instance's default), it must belong to the instance, users are associated in
//! its home region, and it moves or takes users only when ACTIVE (a group being created or
//! updated becomes ACTIVE by itself: `NotReady`; any other status cannot be waited out:
//! `Rejected` when taking users, `Unsafe` when moving).

use tracing::warn;

use crate::connect::{Connect, GroupSummary, LiveDistribution};
use crate::domain::region_of_arn;
use crate::error::{ConnectError, ConnectErrorClass, StepError};
use crate::traffic::GroupRecord;

/// The group must belong to the instance.
fn check_owner(group: &GroupSummary, instance_id: &str) -> Result<(), StepError> {
    if group.belongs_to(instance_id) {
        Ok(())
    } else {
        Err(StepError::InvalidInput(format!(
            "traffic distribution group {} belongs to {}, not to instance {instance_id}",
            group.arn, group.instance_arn
        )))
    }
}

/// One group to associate users with, from its home region (`client`'s): the one named (ID or
/// ARN), else the instance's default. It must belong to the instance, have that region as its
/// home, and be ACTIVE.
pub async fn home_group<C: Connect>(
    client: &C,
    instance_id: &str,
    named: Option<&str>,
) -> Result<GroupSummary, StepError> {
    let home = client.region();
    let group = match named {
        Some(name) => match client.describe_group(name).await {
            Ok(g) => g,
            Err(e) if e.class == ConnectErrorClass::NotFound => {
                return Err(StepError::InvalidInput(format!(
                    "trafficDistributionGroup {name} does not exist in {home}"
                )))
            }
            Err(e) => return Err(e.into()),
        },
        None => client
            .list_groups(instance_id)
            .await?
            .into_iter()
            .find(|g| g.is_default && g.belongs_to(instance_id))
            .ok_or_else(|| {
                StepError::NotReady(format!(
                    "instance {instance_id} has no default traffic distribution group in \
                     {home} yet: is it replicated?"
                ))
            })?,
    };
    check_owner(&group, instance_id)?;
    if region_of_arn(&group.arn).as_ref() != Some(home) {
        return Err(StepError::InvalidInput(format!(
            "traffic distribution group {} does not have {home} as its home region",
            group.arn
        )));
    }
    if group.is_settling() {
        return Err(StepError::NotReady(format!(
            "traffic distribution group {} is {}, not ACTIVE",
            group.arn, group.status
        )));
    }
    if !group.is_active() {
        // CREATION_FAILED, PENDING_DELETION, DELETION_FAILED: no wait makes it take users.
        return Err(StepError::Rejected(format!(
            "traffic distribution group {} is {}: it cannot take users; delete it and create \
             it again (the default group is made with the replica: replicate again), or name \
             an ACTIVE group (trafficDistributionGroup)",
            group.arn, group.status
        )));
    }
    Ok(group)
}

/// The groups a shift moves, and the groups on record that Connect reports gone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToMove {
    /// ACTIVE, the default group first (it carries sign-in).
    pub groups: Vec<GroupSummary>,
    /// Groups on record (never named, never listed) that Connect answers NotFound for by ARN:
    /// deleted since a routine run recorded them. Skipped, and reported.
    pub gone: Vec<String>,
}

/// The groups a shift moves, reached by ARN from the region that takes the traffic (`client`'s):
/// every group of the instance (listed there, and on record: recorded routinely so that the
/// replica region reaches them with the source region down), or the ones named (ID or ARN).
/// A group only on record that Connect no longer has is skipped and reported ([`ToMove::gone`]);
/// one the recorder already marked gone is not asked about again. Refuses (`Unsafe`), naming
/// them, groups that cannot move (a named one not found among them); `NotReady` while one is
/// being created or updated.
pub async fn groups_to_move<C: Connect>(
    client: &C,
    instance_id: &str,
    named: &[String],
    on_record: &[GroupRecord],
) -> Result<ToMove, StepError> {
    let present: Vec<GroupRecord> = on_record
        .iter()
        .filter(|g| g.gone_at.is_none())
        .cloned()
        .collect();
    let listed = match client.list_groups(instance_id).await {
        Ok(groups) => groups,
        // The groups on record still name every group the routine runs saw.
        Err(e)
            if !present.is_empty()
                && matches!(
                    e.class,
                    ConnectErrorClass::Transient | ConnectErrorClass::Throttled
                ) =>
        {
            warn!(region = %client.region(), error = %e, "listing groups failed; using the groups on record");
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let records = if named.is_empty() {
        &present
    } else {
        on_record
    };
    let arns = arns_to_move(client, instance_id, named, &listed, records)?;
    let only_on_record = |arn: &str| named.is_empty() && !listed.iter().any(|g| g.arn == arn);

    let mut out = ToMove {
        gone: on_record
            .iter()
            .filter(|g| named.is_empty() && g.gone_at.is_some())
            .filter(|g| !listed.iter().any(|l| l.arn == g.group_arn))
            .map(|g| g.group_arn.clone())
            .collect(),
        ..ToMove::default()
    };
    let mut unmovable = Vec::new();
    let mut settling = Vec::new();
    for arn in &arns {
        match client.describe_group(arn).await {
            Ok(g) => {
                check_owner(&g, instance_id)?;
                if g.is_active() {
                    out.groups.push(g);
                } else if g.is_settling() {
                    settling.push(format!("{} ({})", g.name, g.status));
                } else {
                    unmovable.push(format!("{} {} is {}", g.name, g.arn, g.status));
                }
            }
            Err(e) if e.class == ConnectErrorClass::NotFound && only_on_record(arn) => {
                warn!(group = %arn, region = %client.region(), "a group on record is gone: skipped");
                out.gone.push(arn.clone());
            }
            Err(e) if e.class == ConnectErrorClass::NotFound => {
                unmovable.push(format!("{arn} is not found in {}", client.region()))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !unmovable.is_empty() {
        return Err(StepError::Unsafe(format!(
            "cannot move every traffic distribution group: {}; name the groups to move \
             (trafficDistributionGroups) to leave these behind deliberately",
            unmovable.join("; ")
        )));
    }
    if !settling.is_empty() {
        return Err(StepError::NotReady(format!(
            "traffic distribution groups still applying a change: {}",
            settling.join(", ")
        )));
    }
    if out.groups.is_empty() {
        return Err(StepError::NotReady(format!(
            "instance {instance_id} has no traffic distribution group in {} (on record, gone: {})",
            client.region(),
            out.gone.join(", ")
        )));
    }
    out.groups.sort_by_key(|g| !g.is_default);
    Ok(out)
}

/// GetTrafficDistribution as Connect answers it: a group that is not ACTIVE is refused with
/// `InvalidRequestException` (the admin guide), so that answer is read with the group's status.
pub async fn live_distribution<C: Connect>(
    client: &C,
    group: &GroupSummary,
) -> Result<LiveDistribution, StepError> {
    match client.get_live(&group.arn).await {
        Ok(d) => Ok(d),
        Err(e) if e.class == ConnectErrorClass::InvalidRequest => {
            Err(refused_by_group(client, group, e, None).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// What an `InvalidRequestException` about a group means: the admin guide's answer to a Get or
/// Update of a group that is not ACTIVE. The group is described: being updated or created →
/// `NotReady` (retried: nothing was applied). ACTIVE again: for a Get (`fence` None), it was
/// updating when read → `NotReady`; for an Update, another update was applied meanwhile when
/// the group's LastFailoverTime moved from `fence` (→ `NotReady`: the retry reads the moved
/// split and decides), else Connect refused the request itself (→ `Rejected`, its message).
/// Any other status → `Rejected`.
pub async fn refused_by_group<C: Connect>(
    client: &C,
    group: &GroupSummary,
    e: ConnectError,
    fence: Option<Option<i64>>,
) -> StepError {
    let busy = |status: &str| {
        StepError::NotReady(format!(
            "group {} is {status} in {}: another change is being applied ({})",
            group.name,
            client.region(),
            e.message
        ))
    };
    let described = match client.describe_group(&group.arn).await {
        Ok(g) => g,
        Err(d)
            if matches!(
                d.class,
                ConnectErrorClass::Transient | ConnectErrorClass::Throttled
            ) =>
        {
            return StepError::from(d)
        }
        Err(_) => return StepError::Rejected(format!("group {}: {}", group.name, e.message)),
    };
    if described.is_settling() {
        return busy(described.status.as_str());
    }
    if described.is_active() {
        let Some(fence) = fence else {
            return busy("ACTIVE again");
        };
        match client.get_live(&group.arn).await {
            Ok(now) if now.last_failover != fence => {
                return busy("ACTIVE again, updated meanwhile")
            }
            Ok(_) => {}
            Err(_) => return busy("ACTIVE again"),
        }
    }
    StepError::Rejected(format!(
        "group {} ({} in {}): {}",
        described.name,
        described.status,
        client.region(),
        e.message
    ))
}

/// The ARNs to describe: named ones through what is listed or on record (from the replica region
/// only an ARN reaches a group), or all of the instance's.
fn arns_to_move<C: Connect>(
    client: &C,
    instance_id: &str,
    named: &[String],
    listed: &[GroupSummary],
    on_record: &[GroupRecord],
) -> Result<Vec<String>, StepError> {
    let mut arns: Vec<String> = Vec::new();
    let mut add = |arn: &str| {
        if !arns.iter().any(|a| a == arn) {
            arns.push(arn.to_string());
        }
    };
    if named.is_empty() {
        listed
            .iter()
            .filter(|g| g.belongs_to(instance_id))
            .for_each(|g| add(&g.arn));
        on_record.iter().for_each(|g| add(&g.group_arn));
    } else {
        for n in named {
            let known = listed
                .iter()
                .map(|g| (g.arn.as_str(), g.id.as_str()))
                .chain(
                    on_record
                        .iter()
                        .map(|g| (g.group_arn.as_str(), g.group_id.as_str())),
                )
                .find(|(arn, id)| arn == n || id == n)
                .map(|(arn, _)| arn.to_string());
            match known {
                Some(arn) => add(&arn),
                None if n.starts_with("arn:") => add(n),
                None => {
                    return Err(StepError::InvalidInput(format!(
                        "traffic distribution group {n} is not a group of instance {instance_id} \
                         on record or listed in {}; name it by ARN",
                        client.region()
                    )))
                }
            }
        }
    }
    if arns.is_empty() {
        return Err(StepError::NotReady(format!(
            "instance {instance_id} has no traffic distribution group in {} yet",
            client.region()
        )));
    }
    Ok(arns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::fake::{group, FakeWorld};
    use crate::connect::GroupStatus;

    const ID: &str = "i-1";
    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";

    fn world() -> FakeWorld {
        FakeWorld::replicated(ID, EAST, WEST, "INSTANCE_REPLICATION_COMPLETE")
            .with_group(EAST, WEST, group(EAST, ID, "g1", true))
            .with_group(EAST, WEST, group(EAST, ID, "g2", false))
    }

    fn record(g: &GroupSummary) -> GroupRecord {
        GroupRecord {
            group_id: g.id.clone(),
            recorded_by: "sync".into(),
            ..GroupRecord::new(ID, &g.arn, &g.name, g.is_default)
        }
    }

    #[tokio::test]
    async fn a_home_group_is_the_named_or_default_one_of_the_instance_active_at_home() {
        let ctx = world().context(EAST, WEST).unwrap();
        assert_eq!(home_group(&ctx.source, ID, None).await.unwrap().id, "g1");
        let by_id = home_group(&ctx.source, ID, Some("g2")).await.unwrap();
        let by_arn = home_group(&ctx.source, ID, Some(&by_id.arn)).await.unwrap();
        assert_eq!(by_id, by_arn);

        let refused = |e: StepError| e.error_type().to_string();
        // not at home in the replica region
        let e = home_group(&ctx.replica, ID, Some("g1")).await.unwrap_err();
        assert_eq!(refused(e), "InvalidInput");
        // another instance's group
        let e = home_group(&ctx.source, "i-2", Some("g1"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not to instance i-2"), "{e}");
        assert_eq!(refused(e), "InvalidInput");
        // unknown
        let e = home_group(&ctx.source, ID, Some("g9")).await.unwrap_err();
        assert_eq!(refused(e), "InvalidInput");
        // no default yet, or not ACTIVE: wait
        let e = home_group(&ctx.source, "i-2", None).await.unwrap_err();
        assert_eq!(refused(e), "NotReady");
        ctx.source.world().groups[1].2.status = GroupStatus::UpdateInProgress;
        let e = home_group(&ctx.source, ID, Some("g2")).await.unwrap_err();
        assert_eq!(refused(e), "NotReady");
        // a status no wait changes: refused for good, named
        for status in ["CREATION_FAILED", "PENDING_DELETION", "DELETION_FAILED"] {
            ctx.source.world().groups[1].2.status = GroupStatus::from(status);
            let e = home_group(&ctx.source, ID, Some("g2")).await.unwrap_err();
            assert!(e.to_string().contains(status), "{e}");
            assert_eq!(refused(e), "Rejected", "{status}");
        }
    }

    #[tokio::test]
    async fn groups_to_move_are_every_group_listed_or_on_record_default_first() {
        let ctx = world().context(EAST, WEST).unwrap();
        let all = groups_to_move(&ctx.replica, ID, &[], &[]).await.unwrap();
        let ids: Vec<&str> = all.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["g1", "g2"]);

        // the listing fails (the source region is down): the groups on record are reached by ARN
        let on_record: Vec<GroupRecord> = all.groups.iter().map(record).collect();
        ctx.replica.world().fail_next(
            "ListTrafficDistributionGroups",
            "ServiceUnavailableException",
            1,
        );
        let again = groups_to_move(&ctx.replica, ID, &[], &on_record)
            .await
            .unwrap();
        assert_eq!(again, all);

        // named by ID (known) or ARN; an unknown bare ID cannot be reached
        let named = groups_to_move(&ctx.replica, ID, &["g2".into()], &[])
            .await
            .unwrap();
        assert_eq!(named.groups.len(), 1);
        let e = groups_to_move(&ctx.replica, ID, &["g9".into()], &[])
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "InvalidInput");

        // one group that cannot move refuses the whole shift, naming it; settling ones wait
        ctx.source.world().groups[1].2.status = GroupStatus::from("DELETION_FAILED");
        let e = groups_to_move(&ctx.replica, ID, &[], &[])
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "Unsafe");
        assert!(e.to_string().contains("g2"), "{e}");
        ctx.source.world().groups[1].2.status = GroupStatus::CreationInProgress;
        let e = groups_to_move(&ctx.replica, ID, &[], &[])
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "NotReady");
        // none at all yet
        let e = groups_to_move(&ctx.replica, "i-2", &[], &[])
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "NotReady");
    }

    #[tokio::test]
    async fn a_group_on_record_that_connect_no_longer_has_is_skipped_and_reported() {
        let ctx = world().context(EAST, WEST).unwrap();
        let all = groups_to_move(&ctx.replica, ID, &[], &[]).await.unwrap();
        let mut on_record: Vec<GroupRecord> = all.groups.iter().map(record).collect();
        // g2 is deleted after a routine run recorded it
        ctx.source.world().groups.remove(1);
        let got = groups_to_move(&ctx.replica, ID, &[], &on_record)
            .await
            .unwrap();
        let ids: Vec<&str> = got.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["g1"]);
        assert_eq!(got.gone, [on_record[1].group_arn.clone()]);
        // named, it is still refused by name
        let e = groups_to_move(
            &ctx.replica,
            ID,
            &[on_record[1].group_arn.clone()],
            &on_record,
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "Unsafe");
        // marked gone by the recorder: not asked about again, still reported
        on_record[1].gone_at = Some(5);
        ctx.replica.world().calls.clear();
        let got = groups_to_move(&ctx.replica, ID, &[], &on_record)
            .await
            .unwrap();
        assert_eq!(got.gone.len(), 1);
        let describes = ctx
            .replica
            .world()
            .calls
            .iter()
            .filter(|c| c.operation == "DescribeTrafficDistributionGroup")
            .count();
        assert_eq!(describes, 1, "only g1 is described");
    }

    #[tokio::test]
    async fn connects_invalid_request_for_a_group_is_read_with_its_status() {
        let ctx = world().context(EAST, WEST).unwrap();
        let g = groups_to_move(&ctx.replica, ID, &[], &[])
            .await
            .unwrap()
            .groups[0]
            .clone();
        let refused = || ConnectError {
            operation: "UpdateTrafficDistribution",
            region: WEST.into(),
            class: ConnectErrorClass::InvalidRequest,
            code: "InvalidRequestException".into(),
            message: "the group must be ACTIVE".into(),
        };
        // an ACTIVE group whose LastFailoverTime did not move: the request itself was refused
        let fence = ctx.replica.get_live(&g.arn).await.unwrap().last_failover;
        let e = refused_by_group(&ctx.replica, &g, refused(), Some(fence)).await;
        assert_eq!(e.error_type(), "Rejected", "{e}");
        // ACTIVE again after another update was applied meanwhile: read again
        ctx.source.world().moved(&g.arn);
        let e = refused_by_group(&ctx.replica, &g, refused(), Some(fence)).await;
        assert_eq!(e.error_type(), "NotReady", "{e}");
        // updating (another client's update began after it was described): wait, nothing applied
        ctx.source.world().groups[0].2.status = GroupStatus::UpdateInProgress;
        let e = refused_by_group(&ctx.replica, &g, refused(), Some(fence)).await;
        assert_eq!(e.error_type(), "NotReady", "{e}");
        assert!(e.to_string().contains("UPDATE_IN_PROGRESS"), "{e}");
        // and a Get of it answers the same way
        let e = live_distribution(&ctx.replica, &g).await.unwrap_err();
        assert_eq!(e.error_type(), "NotReady", "{e}");
    }
}
