//! Runs and the instance lock in the table.

use super::*;

impl RunLedger for DynamoRunStore {
    async fn runs(&self, instance_id: &str) -> Result<Listing<RunRecord>, StoreError> {
        let mut listing = self.listing(instance_id, "RUN#", false).await?;
        newest_first(&mut listing.records);
        Ok(listing)
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let ttl = run.updated_at + RUN_TTL_SECONDS;
        let mut it = item(
            &run.instance_id,
            format!("RUN#{}", run.run_id),
            run,
            Some(ttl),
        )?;
        // What the machines' RecordFailure condition reads: a machine records only its own runs.
        if let Some(machine) = &run.machine {
            it.insert("machine".into(), s(machine));
        }
        self.put(it).await
    }

    async fn get_run(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        self.get(instance_id, &format!("RUN#{run_id}"))
            .await?
            .map(|i| decode(&i))
            .transpose()
    }

    async fn acquire_lock(&self, lock: &Lock, now: i64) -> Result<LockOutcome, StoreError> {
        let before = self.get_lock(&lock.instance_id).await?;
        let it = lock_item(lock)?;
        let mut values = HashMap::from([
            (":now".to_string(), n(now)),
            (":run".to_string(), s(&lock.run_id)),
            (":prio".to_string(), n(i64::from(lock.kind.priority()))),
        ]);
        // The same run renews its lock; the same run ID from another machine is another run
        // (`records::lock_allows`).
        let mut names = HashMap::from([("#p".to_string(), "priority".to_string())]);
        let same_run = match &lock.machine {
            Some(machine) => {
                values.insert(":machine".into(), s(machine));
                names.insert("#m".into(), "machine".into());
                "(runId = :run AND (attribute_not_exists(#m) OR #m = :machine))"
            }
            None => "runId = :run",
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .condition_expression(format!(
                "attribute_not_exists(pk) OR leaseUntil <= :now OR {same_run} OR #p < :prio"
            ))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(LockOutcome::Acquired {
                took_over: before
                    .filter(|l| l.run_id != lock.run_id && l.lease_until > now)
                    .map(|l| l.run_id),
            }),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let held = self
                    .get_lock(&lock.instance_id)
                    .await?
                    .unwrap_or_else(|| lock.clone());
                Ok(LockOutcome::Held(held))
            }
            Err(e) => Err(self.failed("PutItem")(e)),
        }
    }

    async fn break_lock(&self, lock: &Lock) -> Result<Option<Lock>, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(lock_item(lock)?))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(self.failed("PutItem"))?;
        out.attributes.map(|i| decode(&i)).transpose()
    }

    async fn release_lock(&self, instance_id: &str, run_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(instance_id)))
            .key("sk", s("LOCK"))
            .condition_expression("runId = :run")
            .expression_attribute_values(":run", s(run_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(self.failed("DeleteItem")(e)),
        }
    }

    async fn get_lock(&self, instance_id: &str) -> Result<Option<Lock>, StoreError> {
        self.get(instance_id, "LOCK")
            .await?
            .map(|i| decode(&i))
            .transpose()
    }
}

/// The lock item: the record, plus the attributes its condition (and the machines' ReleaseLock)
/// reads.
fn lock_item(lock: &Lock) -> Result<Item, StoreError> {
    let mut it = item(&lock.instance_id, "LOCK".into(), lock, None)?;
    it.insert("runId".into(), s(&lock.run_id));
    if let Some(machine) = &lock.machine {
        it.insert("machine".into(), s(machine));
    }
    it.insert("priority".into(), n(i64::from(lock.kind.priority())));
    it.insert("leaseUntil".into(), n(lock.lease_until));
    Ok(it)
}
