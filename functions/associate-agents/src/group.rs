//! The group users are associated with, and whether it is still there.

use super::*;

/// The group to associate with: named (by ID or ARN) or the instance's default; its home must be
/// the source region, it must belong to the instance and be ACTIVE.
pub(crate) async fn resolve_group<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    id: &str,
    named: Option<&str>,
    stop_at: Option<Instant>,
) -> Result<GroupSummary, StepError> {
    let source = ctx.source.region();
    let group = match named {
        Some(name) => match call(pacing, false, stop_at, move || {
            ctx.source.describe_group(name)
        })
        .await
        {
            Ok(g) => g,
            Err(Halt::Failed(e)) if e.class == ConnectErrorClass::NotFound => {
                return Err(StepError::InvalidInput(format!(
                    "trafficDistributionGroup {name} does not exist in {source}"
                )))
            }
            Err(h) => return Err(h.into()),
        },
        None => call(pacing, false, stop_at, move || ctx.source.list_groups(id))
            .await?
            .into_iter()
            .find(|g| g.is_default && g.belongs_to(id))
            .ok_or_else(|| {
                StepError::NotReady(format!(
                    "instance {id} has no default traffic distribution group in {source} \
                     yet: is it replicated?"
                ))
            })?,
    };
    if !group.belongs_to(id) {
        return Err(StepError::InvalidInput(format!(
            "traffic distribution group {} belongs to {}, not to instance {id}",
            group.arn, group.instance_arn
        )));
    }
    if region_of_arn(&group.arn).as_ref() != Some(source) {
        return Err(StepError::InvalidInput(format!(
            "traffic distribution group {} does not have {source} as its home region",
            group.arn
        )));
    }
    if !group.is_active() {
        return Err(StepError::NotReady(format!(
            "traffic distribution group {} is {}, not ACTIVE",
            group.arn, group.status
        )));
    }
    Ok(group)
}
