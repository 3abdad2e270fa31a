//! Shifts, groups, episodes and routing episodes in the table.

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
        self.open_once(&e.instance_id, format!("EPISODE#{}", e.group_arn), e)
            .await
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

    async fn open_routing(&self, e: &RoutingEpisode) -> Result<RoutingEpisode, StoreError> {
        self.open_once(&e.instance_id, ROUTING_SK.to_string(), e)
            .await
    }

    async fn routing_record(
        &self,
        instance_id: &str,
    ) -> Result<Option<RoutingEpisode>, StoreError> {
        self.get(instance_id, ROUTING_SK)
            .await?
            .map(|i| decode::<RoutingEpisode>(&i))
            .transpose()
    }

    async fn close_routing(&self, closed: &RoutingEpisode) -> Result<(), StoreError> {
        let mut tombstone = item(&closed.instance_id, ROUTING_SK.to_string(), closed, None)?;
        tombstone.insert("closedAt".into(), n(closed.closed_at.unwrap_or_default()));
        self.put(tombstone).await
    }
}

/// The routing episode's sort key: one per instance.
const ROUTING_SK: &str = "ROUTING#EPISODE";

impl DynamoRunStore {
    /// Puts `value` unless an open record (one without `closedAt`) is at `sk`: Ok(the open one,
    /// new or not).
    async fn open_once<T>(&self, instance_id: &str, sk: String, value: &T) -> Result<T, StoreError>
    where
        T: Serialize + DeserializeOwned + Clone,
    {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(instance_id, sk.clone(), value, None)?))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(closedAt)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(value.clone()),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => {
                match self.get(instance_id, &sk).await? {
                    Some(i) => decode(&i),
                    None => Ok(value.clone()),
                }
            }
            Err(err) => Err(self.failed("PutItem")(err)),
        }
    }
}
