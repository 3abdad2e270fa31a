//! The run store over DynamoDB: one table, layout in `store/mod.rs`.

use std::collections::HashMap;

mod agents;
mod errors;
mod flows;
mod mirroring;
mod run;
mod traffic;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::warn;

use super::{
    hardcoded_key, hardcoded_prefix, pk, shift_key, AgentLedger, Listing, MirroringLedger,
    RunLedger, ScanLedger, TrafficLedger, Unreadable, RUN_TTL_SECONDS, SHIFT_TTL_SECONDS,
};
use crate::agents::{Association, AssociationProgress};
use crate::error::StoreError;
use crate::flows::{FlowScan, HardcodedPage};
use crate::mirroring::{ConflictRecord, SnapshotRecord, TypesRecord};
use crate::run::{newest_first, Lock, LockOutcome, RunRecord};
use crate::traffic::{Episode, GroupRecord, RoutingEpisode, ShiftRecord};

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

    /// Every item of the instance under `prefix`, decoded item by item: one item this version
    /// cannot read (written by a newer version during a deploy, or damaged by hand) is listed as
    /// unreadable, never fails the query.
    async fn listing<T: DeserializeOwned>(
        &self,
        instance_id: &str,
        prefix: &str,
        newest_first: bool,
    ) -> Result<Listing<T>, StoreError> {
        let mut out = Listing {
            records: Vec::new(),
            unreadable: Vec::new(),
        };
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
            for i in page.items() {
                match decode(i) {
                    Ok(record) => out.records.push(record),
                    Err(e) => {
                        let sk = i.get("sk").and_then(|v| v.as_s().ok());
                        out.unreadable.push(Unreadable {
                            sk: sk.cloned().unwrap_or_default(),
                            error: e.to_string(),
                        });
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// [`Self::listing`] for a step: an item it cannot read is logged, counted and skipped.
    async fn query<T: DeserializeOwned>(
        &self,
        instance_id: &str,
        prefix: &str,
        newest_first: bool,
    ) -> Result<Vec<T>, StoreError> {
        let listing = self.listing(instance_id, prefix, newest_first).await?;
        for u in &listing.unreadable {
            warn!(table = %self.table, sk = %u.sk, error = %u.error, "skipped an item this version cannot read");
            crate::metrics::unreadable_item();
        }
        Ok(listing.records)
    }
}
