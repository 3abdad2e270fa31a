//! The conflict ledger: a resource that exists in both regions under one name and two IDs
//! blocks its mirroring. One diff finds them, one rule records them (`CONFLICT#` items), one rule
//! resolves them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::MirroringLedger;
use crate::connect::ResourceSummary;
use crate::domain::Kind;
use crate::error::StepError;
use crate::mirroring::ConflictRecord;

/// One sighting of a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub kind: Kind,
    pub name: String,
    pub source_id: Option<String>,
    pub replica_id: Option<String>,
    /// The region where mirroring is blocked.
    pub region: Option<String>,
}

/// How one kind's listings compare.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Source resources with no resource of that name in the replica.
    pub missing: u64,
    /// Source resources whose name the replica holds under another ID.
    pub conflicts: Vec<Conflict>,
}

/// Compares a kind's source and replica listings by name, then ID (linear in both).
pub fn diff(
    kind: Kind,
    source: &[ResourceSummary],
    replica: &[ResourceSummary],
    replica_region: &str,
) -> Diff {
    let by_name: HashMap<&str, &ResourceSummary> =
        replica.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut d = Diff::default();
    for s in source {
        match by_name.get(s.name.as_str()) {
            None => d.missing += 1,
            Some(r) if r.id != s.id => d.conflicts.push(Conflict {
                kind,
                name: s.name.clone(),
                source_id: s.id.clone(),
                replica_id: r.id.clone(),
                region: Some(replica_region.to_string()),
            }),
            Some(_) => {}
        }
    }
    d
}

/// Records each sighting: `first_seen` stays while the conflict is unresolved (one seen again
/// after it was resolved starts anew), `last_seen` is now, and IDs a sighting lacks are kept
/// from the record. Linear in the sightings and the records (one index by kind and name).
pub async fn upsert<S: MirroringLedger>(
    store: &S,
    instance_id: &str,
    seen: &[Conflict],
    now: i64,
) -> Result<(), StepError> {
    let known = store.conflicts(instance_id).await?;
    let known: HashMap<(Kind, &str), &ConflictRecord> = known
        .iter()
        .map(|k| ((k.kind, k.name.as_str()), k))
        .collect();
    for c in seen {
        let prev = known.get(&(c.kind, c.name.as_str())).copied();
        store
            .put_conflict(&ConflictRecord {
                instance_id: instance_id.to_string(),
                kind: c.kind,
                name: c.name.clone(),
                source_id: c
                    .source_id
                    .clone()
                    .or_else(|| prev.and_then(|p| p.source_id.clone())),
                replica_id: c
                    .replica_id
                    .clone()
                    .or_else(|| prev.and_then(|p| p.replica_id.clone())),
                region: c
                    .region
                    .clone()
                    .or_else(|| prev.and_then(|p| p.region.clone())),
                first_seen: prev.filter(|p| !p.resolved).map_or(now, |p| p.first_seen),
                last_seen: now,
                resolved: false,
                resolved_at: None,
            })
            .await?;
    }
    Ok(())
}

/// Resolves every unresolved conflict that is not among `seen`: only a caller that looked at
/// every kind may say a conflict is gone.
pub async fn resolve_absent<S: MirroringLedger>(
    store: &S,
    instance_id: &str,
    seen: &[Conflict],
    now: i64,
) -> Result<(), StepError> {
    for k in store.conflicts(instance_id).await? {
        if !k.resolved && !seen.iter().any(|c| c.kind == k.kind && c.name == k.name) {
            let mut resolved = k;
            resolved.resolved = true;
            resolved.resolved_at = Some(now);
            store.put_conflict(&resolved).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryRunStore;

    fn r(id: Option<&str>, name: &str) -> ResourceSummary {
        ResourceSummary {
            id: id.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn the_diff_finds_missing_and_look_alikes_by_name_then_id() {
        let source = [
            r(Some("q1"), "Billing"),
            r(Some("q2"), "Sales"),
            r(None, "Language"),
        ];
        let replica = [r(Some("x9"), "Billing"), r(None, "Language")];
        let d = diff(Kind::Queues, &source, &replica, "us-west-2");
        assert_eq!(d.missing, 1, "Sales");
        assert_eq!(d.conflicts.len(), 1);
        let c = &d.conflicts[0];
        assert_eq!(
            (
                c.name.as_str(),
                c.source_id.as_deref(),
                c.replica_id.as_deref()
            ),
            ("Billing", Some("q1"), Some("x9"))
        );
    }

    #[tokio::test]
    async fn first_seen_holds_until_resolved_and_ids_are_kept() {
        let store = MemoryRunStore::default();
        let billing = Conflict {
            kind: Kind::Queues,
            name: "Billing".into(),
            source_id: Some("q1".into()),
            replica_id: Some("x9".into()),
            region: Some("us-west-2".into()),
        };
        upsert(&store, "i", std::slice::from_ref(&billing), 10)
            .await
            .unwrap();
        // a finding names it without the replica-side ID
        let finding = Conflict {
            replica_id: None,
            ..billing.clone()
        };
        upsert(&store, "i", &[finding], 20).await.unwrap();
        let c = &store.conflicts("i").await.unwrap()[0];
        assert_eq!((c.first_seen, c.last_seen), (10, 20));
        assert_eq!(c.replica_id.as_deref(), Some("x9"));

        resolve_absent(&store, "i", &[], 30).await.unwrap();
        let c = &store.conflicts("i").await.unwrap()[0];
        assert!(c.resolved);
        assert_eq!(c.resolved_at, Some(30));

        upsert(&store, "i", &[billing], 40).await.unwrap();
        let c = &store.conflicts("i").await.unwrap()[0];
        assert_eq!(
            (c.first_seen, c.resolved),
            (40, false),
            "seen again: a new conflict"
        );
    }
}
