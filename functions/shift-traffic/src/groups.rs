//! Which traffic distribution groups a shift moves, reached by ARN from the region that takes
//! the traffic: the groups on record (recorded routinely, so the replica region can reach them
//! with the source region down) and the groups that region lists, each described by ARN.

use acgr::connect::{Connect, GroupSummary};
use acgr::error::{ConnectErrorClass, StepError};
use acgr::records::GroupRecord;
use tracing::warn;

/// The groups to move: every group of the instance, or the ones named (ID or ARN). Refuses,
/// naming them, groups that cannot move; `NotReady` while one is being created or updated.
pub async fn resolve<C: Connect>(
    client: &C,
    instance_id: &str,
    named: &[String],
    on_record: &[GroupRecord],
) -> Result<Vec<GroupSummary>, StepError> {
    let listed = match client.list_groups(instance_id).await {
        Ok(groups) => groups,
        // The groups on record still name every group the routine runs saw.
        Err(e)
            if !on_record.is_empty()
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
                // From the replica region only the ARN works: a bare unknown ID cannot be reached.
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

    let mut groups = Vec::new();
    let mut unmovable = Vec::new();
    let mut settling = Vec::new();
    for arn in &arns {
        match client.describe_group(arn).await {
            Ok(g) if !g.belongs_to(instance_id) => {
                return Err(StepError::InvalidInput(format!(
                    "traffic distribution group {arn} belongs to {}, not to instance {instance_id}",
                    g.instance_arn
                )))
            }
            Ok(g) if g.is_active() => groups.push(g),
            Ok(g) if g.is_settling() => settling.push(format!("{} ({})", g.name, g.status)),
            Ok(g) => unmovable.push(format!("{} {} is {}", g.name, g.arn, g.status)),
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
    // The default group first: it carries sign-in.
    groups.sort_by_key(|g| !g.is_default);
    Ok(groups)
}
