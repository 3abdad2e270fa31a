//! Shifts, groups and episodes in the table.

use super::*;

impl TrafficLedger for DynamoRunStore {
    async fn put_shift(&self, shift: &ShiftRecord) -> Result<(), StoreError> {
        let ttl = shift.at + SHIFT_TTL_SECONDS;
        self.put(item(
            &shift.instance_id,
            shift_key(shift),
            shift,
            Some(ttl),
        )?)
        .await
    }

    async fn shifts(&self, instance_id: &str) -> Result<Vec<ShiftRecord>, StoreError> {
        self.query(instance_id, "SHIFT#", true).await
    }

    async fn put_group(&self, g: &GroupRecord) -> Result<(), StoreError> {
        self.put(item(
            &g.instance_id,
            format!("GROUP#{}", g.group_arn),
            g,
            None,
        )?)
        .await
    }

    async fn groups(&self, instance_id: &str) -> Result<Vec<GroupRecord>, StoreError> {
        self.query(instance_id, "GROUP#", false).await
    }

    async fn open_episode(&self, e: &Episode) -> Result<Episode, StoreError> {
        let sk = format!("EPISODE#{}", e.group_arn);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(&e.instance_id, sk.clone(), e, None)?))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(closedAt)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(e.clone()),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => {
                match self.get(&e.instance_id, &sk).await? {
                    Some(i) => decode(&i),
                    None => Ok(e.clone()),
                }
            }
            Err(err) => Err(self.failed("PutItem")(err)),
        }
    }

    async fn episode_record(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> Result<Option<Episode>, StoreError> {
        self.get(instance_id, &format!("EPISODE#{group_arn}"))
            .await?
            .map(|i| decode::<Episode>(&i))
            .transpose()
    }

    async fn close_episode(&self, closed: &Episode) -> Result<(), StoreError> {
        let sk = format!("EPISODE#{}", closed.group_arn);
        let mut tombstone = item(&closed.instance_id, sk, closed, None)?;
        tombstone.insert("closedAt".into(), n(closed.closed_at.unwrap_or_default()));
        self.put(tombstone).await
    }
}
