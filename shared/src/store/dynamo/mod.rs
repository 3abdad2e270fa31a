//! The run store over DynamoDB: one table, layout in `store/mod.rs`.

use std::collections::HashMap;

mod errors;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::warn;

use super::{
    hardcoded_key, hardcoded_prefix, pk, shift_key, RunStore, RUN_TTL_SECONDS, SHIFT_TTL_SECONDS,
};
use crate::error::StoreError;
use crate::records::{
    Association, AssociationProgress, ConflictRecord, Episode, FlowScan, GroupRecord,
    HardcodedPage, Lock, LockOutcome, RunRecord, ShiftRecord, SnapshotRecord,
};

#[derive(Clone, Debug)]
pub struct DynamoRunStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let data = item
        .get("data")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("item without data".into()))?;
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn item<T: Serialize>(
    instance_id: &str,
    sk: String,
    data: &T,
    expires_at: Option<i64>,
) -> Result<Item, StoreError> {
    let json = serde_json::to_string(data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = HashMap::from([
        ("pk".to_string(), s(pk(instance_id))),
        ("sk".to_string(), s(sk)),
        ("data".to_string(), s(json)),
    ]);
    if let Some(t) = expires_at {
        item.insert("expiresAt".into(), n(t));
    }
    Ok(item)
}

impl DynamoRunStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoRunStore {
            client,
            table: table.into(),
        }
    }

    /// Classifies a failed call of `operation` on this table.
    fn failed<E>(
        &self,
        operation: &'static str,
    ) -> impl FnOnce(SdkError<E, HttpResponse>) -> StoreError + '_
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        move |e| errors::classify(operation, &self.table, e)
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(self.failed("PutItem"))?;
        Ok(())
    }

    async fn get(&self, instance_id: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(instance_id)))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(self.failed("GetItem"))?;
        Ok(out.item)
    }

    async fn query<T: DeserializeOwned>(
        &self,
        instance_id: &str,
        prefix: &str,
        newest_first: bool,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk(instance_id)))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(self.failed("Query"))?;
            // Item by item: one item this version cannot read (written by a newer version during
            // a deploy, or damaged by hand) is logged and skipped, never fails the query.
            for i in page.items() {
                match decode(i) {
                    Ok(record) => out.push(record),
                    Err(e) => {
                        let sk = i.get("sk").and_then(|v| v.as_s().ok());
                        warn!(table = %self.table, sk = sk.map_or("?", String::as_str), error = %e, "skipped an item this version cannot read");
                        crate::metrics::unreadable_item();
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

impl RunStore for DynamoRunStore {
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
                tokio::time::sleep(crate::pace::Policy::backoff(attempt)).await;
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

    async fn get_flow_scan(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<FlowScan>, StoreError> {
        self.get(instance_id, &format!("SCAN#{run_id}"))
            .await?
            .map(|i| decode(&i))
            .transpose()
    }

    async fn put_flow_scan(&self, scan: &FlowScan) -> Result<(), StoreError> {
        let ttl = scan.updated_at + RUN_TTL_SECONDS;
        self.put(item(
            &scan.instance_id,
            format!("SCAN#{}", scan.run_id),
            scan,
            Some(ttl),
        )?)
        .await
    }

    async fn put_hardcoded_page(&self, page: &HardcodedPage) -> Result<(), StoreError> {
        let ttl = page.at + RUN_TTL_SECONDS;
        self.put(item(
            &page.instance_id,
            hardcoded_key(page),
            page,
            Some(ttl),
        )?)
        .await
    }

    async fn hardcoded_pages(
        &self,
        instance_id: &str,
        run_id: &str,
        generation: u32,
    ) -> Result<Vec<HardcodedPage>, StoreError> {
        self.query(instance_id, &hardcoded_prefix(run_id, generation), false)
            .await
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
