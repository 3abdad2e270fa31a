//! Name conflicts with an existing replica, recorded in the conflict ledger.

use super::*;
use crate::report::first;

/// Same name, different ID, in an existing replica: ReplicateInstance would not mirror it.
/// Each conflict is also upserted into the run store. Linear in the listings (one index by
/// name per kind) and in the conflicts on record; the message names the first few.
pub(crate) async fn conflict_check<C: Connect, S: PreflightStore>(
    ctx: &Context<C, S>,
    id: &str,
    now: i64,
) -> Result<Check, StepError> {
    let check = "name-conflicts";
    let replica = ctx.replica.region();
    match ctx.replica.describe_instance(id).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Ok(Check::pass(
                check,
                format!("no replica in {replica} yet, so nothing to collide with"),
            ))
        }
        Err(e) => return could_not_run(check, e),
    }
    let mut seen = Vec::new();
    for kind in Kind::ALL {
        let listed = async {
            Ok::<_, ConnectError>((
                ctx.source.list_resources(id, kind).await?,
                ctx.replica.list_resources(id, kind).await?,
            ))
        };
        let (source, there) = match listed.await {
            Ok(both) => both,
            Err(e) => return could_not_run(check, e),
        };
        seen.extend(conflicts::diff(kind, &source, &there, replica.as_str()).conflicts);
    }
    conflicts::upsert(&ctx.store, id, &seen, now).await?;
    let found: Vec<String> = seen
        .iter()
        .map(|c| {
            format!(
                "{} '{}' is {} in {} but {} in {replica}",
                c.kind.key(),
                c.name,
                c.source_id.as_deref().unwrap_or("?"),
                ctx.source.region(),
                c.replica_id.as_deref().unwrap_or("?"),
            )
        })
        .collect();
    info!(instance_id = %id, conflicts = found.len(), "name conflicts with the replica");
    Ok(if found.is_empty() {
        Check::pass(
            check,
            format!("the replica in {replica} has no resource named like a source resource with another ID"),
        )
    } else {
        Check::fail(
            check,
            format!(
                "{} name conflicts: {}",
                found.len(),
                first(&found, found.len(), LISTED, "; ")
            ),
            format!("Delete or rename each resource in {replica} (it was created there outside replication), then run again: every conflict is a CONFLICT# item of the run table."),
        )
    })
}
