//! Conflicts and snapshots in the table.

use super::*;

impl MirroringLedger for DynamoRunStore {
    async fn conflicts(&self, instance_id: &str) -> Result<Vec<ConflictRecord>, StoreError> {
        self.query(instance_id, "CONFLICT#", false).await
    }

    async fn put_conflict(&self, c: &ConflictRecord) -> Result<(), StoreError> {
        let ttl = c.resolved_at.map(|t| t + RUN_TTL_SECONDS);
        self.put(item(
            &c.instance_id,
            format!("CONFLICT#{}#{}", c.kind.key(), c.name),
            c,
            ttl,
        )?)
        .await
    }

    async fn put_snapshot(&self, snap: &SnapshotRecord) -> Result<(), StoreError> {
        let ttl = snap.at + RUN_TTL_SECONDS;
        self.put(item(
            &snap.instance_id,
            format!("SNAPSHOT#{}", snap.kind.key()),
            snap,
            Some(ttl),
        )?)
        .await
    }

    async fn snapshots(&self, instance_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        self.query(instance_id, "SNAPSHOT#", false).await
    }
}
