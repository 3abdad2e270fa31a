//! Associations and association progress in the table.

use super::*;

impl AgentLedger for DynamoRunStore {
    async fn associations(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> Result<Vec<Association>, StoreError> {
        self.query(instance_id, &format!("AGENT#{group_arn}#"), false)
            .await
    }

    async fn put_associations(&self, records: &[Association]) -> Result<(), StoreError> {
        for chunk in records.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|a| {
                    let it = item(
                        &a.instance_id,
                        format!("AGENT#{}#{}", a.group_arn, a.user_id),
                        a,
                        None,
                    )?;
                    let put = PutRequest::builder()
                        .set_item(Some(it))
                        .build()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for attempt in 0..5 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(self.failed("BatchWriteItem"))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt == 4 {
                    return Err(StoreError::Throttled(format!(
                        "{} associations left unwritten",
                        requests.len()
                    )));
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    async fn get_progress(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<AssociationProgress>, StoreError> {
        self.get(instance_id, &format!("PROGRESS#{run_id}"))
            .await?
            .map(|i| decode(&i))
            .transpose()
    }

    async fn put_progress(&self, p: &AssociationProgress) -> Result<(), StoreError> {
        let ttl = p.updated_at + RUN_TTL_SECONDS;
        self.put(item(
            &p.instance_id,
            format!("PROGRESS#{}", p.run_id),
            p,
            Some(ttl),
        )?)
        .await
    }
}

/// The wait before retry number `attempt` (0-based) of a batch's unprocessed items, which the
/// SDK cannot retry for us: exponential from 50 ms, capped at 5 s, with equal jitter.
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::BuildHasher;
    use std::time::Duration;
    let ceiling = Duration::from_millis(50)
        .saturating_mul(1u32 << attempt.min(16))
        .min(Duration::from_secs(5));
    let half = ceiling / 2;
    let jitter = std::collections::hash_map::RandomState::new().hash_one(attempt)
        % (half.as_millis() as u64 + 1);
    half + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for attempt in 0..12 {
            let d = super::backoff(attempt);
            let ceiling =
                (Duration::from_millis(50) * 2u32.pow(attempt)).min(Duration::from_secs(5));
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
        }
    }
}
