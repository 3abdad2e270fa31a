//! The run table in a region's moto: created at start, read back by the tests (every page,
//! through the SDK's paginators).

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::Value;

pub const TABLE_NAME: &str = "acgr-runs-e2e";

/// One item of the run table, with its `data` JSON parsed.
#[derive(Debug, Clone)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// The `data` attribute, parsed (Null when absent).
    pub data: Value,
    pub attributes: HashMap<String, AttributeValue>,
}

impl Item {
    pub(crate) fn from_map(attributes: HashMap<String, AttributeValue>) -> Item {
        let s = |k: &str| {
            attributes
                .get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let data = serde_json::from_str(&s("data")).unwrap_or(Value::Null);
        Item {
            pk: s("pk"),
            sk: s("sk"),
            data,
            attributes,
        }
    }
}

/// The run table's key schema (`pk`, `sk`), on demand.
pub(crate) async fn create(client: &aws_sdk_dynamodb::Client) -> Result<()> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    client
        .create_table()
        .table_name(TABLE_NAME)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| anyhow!("CreateTable: {}", DisplayErrorContext(e)))?;
    Ok(())
}

/// Every item of `table`, as stored.
pub(crate) async fn scan_raw(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    consistent_read: bool,
) -> Result<Vec<HashMap<String, AttributeValue>>> {
    client
        .scan()
        .table_name(table)
        .consistent_read(consistent_read)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| anyhow!("scan {table}: {}", DisplayErrorContext(e)))
}

/// Every item of the run table, in key order.
pub(crate) async fn scan(client: &aws_sdk_dynamodb::Client) -> Result<Vec<Item>> {
    let mut items: Vec<Item> = scan_raw(client, TABLE_NAME, false)
        .await?
        .into_iter()
        .map(Item::from_map)
        .collect();
    items.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
    Ok(items)
}

/// The items of one instance (`pk = INSTANCE#{id}`), in sort-key order.
pub(crate) async fn instance_items(
    client: &aws_sdk_dynamodb::Client,
    instance_id: &str,
) -> Result<Vec<Item>> {
    let items = client
        .query()
        .table_name(TABLE_NAME)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("INSTANCE#{instance_id}")))
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| anyhow!("query {TABLE_NAME}: {}", DisplayErrorContext(e)))?;
    Ok(items.into_iter().map(Item::from_map).collect())
}
