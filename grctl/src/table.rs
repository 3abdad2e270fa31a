//! The run table of one region, read: the store's own queries, and the runs (newest first).

use acgr::records::RunRecord;
use acgr::store::dynamo::DynamoRunStore;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::target::Clients;

pub struct Table {
    pub store: DynamoRunStore,
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    pub fn new(clients: &Clients, name: &str) -> Table {
        Table {
            store: DynamoRunStore::new(clients.dynamodb.clone(), name),
            client: clients.dynamodb.clone(),
            name: name.to_string(),
        }
    }

    /// The instance's runs, newest first.
    pub async fn runs(&self, instance_id: &str) -> Result<Vec<RunRecord>, String> {
        let items = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND begins_with(sk, :run)")
            .expression_attribute_values(":pk", AttributeValue::S(acgr::store::pk(instance_id)))
            .expression_attribute_values(":run", AttributeValue::S("RUN#".into()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        let mut runs: Vec<RunRecord> = items
            .iter()
            .filter_map(|i| i.get("data")?.as_s().ok())
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        runs.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
        Ok(runs)
    }
}
