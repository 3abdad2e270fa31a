//! Conflicts, snapshots and the other resource types in the table.

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

    async fn put_types(&self, types: &TypesRecord) -> Result<(), StoreError> {
        let ttl = types.at + RUN_TTL_SECONDS;
        self.put(item(
            &types.instance_id,
            "TYPES".to_string(),
            types,
            Some(ttl),
        )?)
        .await
    }

    async fn types(&self, instance_id: &str) -> Result<Option<TypesRecord>, StoreError> {
        self.get(instance_id, "TYPES")
            .await?
            .map(|i| decode::<TypesRecord>(&i))
            .transpose()
    }
}
