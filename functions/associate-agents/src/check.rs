//! The input checked before anything is called: the run, the instance, the group, the cursor.

use super::*;

/// Validates the input without calling anything; returns the instance ID.
pub(crate) fn check<C: Connect, S: SyncStore>(
    ctx: &Context<C, S>,
    input: &Input,
) -> Result<String, StepError> {
    let id = input.header.source_instance(ctx.source.region())?;
    let source = ctx.source.region();
    if let Some(g) = &input.traffic_distribution_group {
        check_group_ref(g, source)?;
    }
    if let Some(c) = &input.cursor {
        if c.is_empty() || c.len() > 8192 {
            return Err(StepError::InvalidInput(
                "cursor must be a ListUsers token (1 to 8192 characters)".into(),
            ));
        }
    }
    Ok(id)
}

/// A group ID, or a group ARN naming `source` (groups live in their instance's source region).
pub(crate) fn check_group_ref(g: &str, source: &Region) -> Result<(), StepError> {
    match GroupRef::parse(g)?.region {
        Some(r) if &r != source => Err(StepError::InvalidInput(format!(
            "trafficDistributionGroup names {r}; users are associated in the group's home \
             region, and this deployment's source region is {source}"
        ))),
        _ => Ok(()),
    }
}
