//! What a poll knows before it calls anything: this run's previous poll, or, for an agent sync's
//! first, the snapshot on record (what the last run's listings confirmed).

use std::collections::BTreeMap;

use crate::PollStore;
use acgr::domain::Kind;
use acgr::error::StepError;
use acgr::mirroring::SnapshotRecord;
use acgr::run::RunKind;
use serde_json::Value;

use crate::{KindProgress, Output};

#[derive(Debug, Default)]
pub(crate) struct Prior {
    pub kinds: BTreeMap<String, KindProgress>,
    pub listed_at: Option<i64>,
    pub emergency_access_ready: bool,
    pub emergency_checked_at: Option<i64>,
}

impl Prior {
    pub(crate) async fn load<S: PollStore>(
        store: &S,
        instance_id: &str,
        run_kind: RunKind,
        previous: Option<&Value>,
    ) -> Result<Prior, StepError> {
        if let Some(out) = previous.and_then(|p| serde_json::from_value::<Output>(p.clone()).ok()) {
            return Ok(Prior::from_previous(out));
        }
        // A replication confirms with its own listings; an agent sync trusts the record.
        if run_kind == RunKind::AgentSync {
            return Ok(Prior::from_record(&store.snapshots(instance_id).await?));
        }
        Ok(Prior::default())
    }

    fn from_previous(out: Output) -> Prior {
        Prior {
            kinds: out.kinds,
            listed_at: out.listed_at,
            emergency_access_ready: out.emergency_access_ready,
            emergency_checked_at: out.emergency_checked_at,
        }
    }

    /// The snapshot on record. Queues and routing profiles that a listing found mirrored in full
    /// include the defaults that emergency access needs.
    pub(crate) fn from_record(snapshots: &[SnapshotRecord]) -> Prior {
        let kinds: BTreeMap<String, KindProgress> = snapshots
            .iter()
            .map(|s| {
                (
                    s.kind.key().to_string(),
                    KindProgress {
                        source: s.source,
                        replica: s.replica,
                        missing: s.missing,
                        conflicting: s.conflicting,
                        missing_dependencies: s.missing_dependencies,
                        sync_failures: s.sync_failures,
                        not_mirrored: s.not_mirrored,
                        unknown: s.unknown,
                    },
                )
            })
            .collect();
        let confirmed = |k: Kind| kinds.get(k.key()).is_some_and(KindProgress::confirmed);
        Prior {
            emergency_access_ready: confirmed(Kind::Queues) && confirmed(Kind::RoutingProfiles),
            kinds,
            listed_at: None,
            emergency_checked_at: None,
        }
    }
}
