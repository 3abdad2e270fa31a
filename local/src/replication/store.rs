//! The replicator's reads and writes of a regional table: a whole-table scan, and writes that
//! only land if the target still holds what the pass read.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::state::{key_of, Item, Table, Write};

/// The whole table (consistent reads).
pub async fn scan(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Table> {
    let items = crate::table::scan_raw(client, table, true).await?;
    Ok(items
        .into_iter()
        .filter_map(|item| Some((key_of(&item)?, item)))
        .collect())
}

/// A condition that holds while the item is still `expected`: its scalar attributes equal (the
/// others present), or no item.
fn condition(expected: Option<&Item>) -> (String, Item, HashMap<String, String>) {
    let mut names = HashMap::new();
    let mut values = Item::new();
    let Some(item) = expected else {
        names.insert("#pk".to_string(), "pk".to_string());
        return ("attribute_not_exists(#pk)".into(), values, names);
    };
    let mut terms = Vec::new();
    let mut attrs: Vec<(&String, &AttributeValue)> = item.iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, value)) in attrs.into_iter().enumerate() {
        names.insert(format!("#a{i}"), name.clone());
        match value {
            AttributeValue::S(_)
            | AttributeValue::N(_)
            | AttributeValue::B(_)
            | AttributeValue::Bool(_) => {
                values.insert(format!(":v{i}"), value.clone());
                terms.push(format!("#a{i} = :v{i}"));
            }
            _ => terms.push(format!("attribute_exists(#a{i})")),
        }
    }
    (terms.join(" AND "), values, names)
}

/// Makes one write; Ok(false) when the target changed since it was read.
pub(super) async fn write(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    w: &Write,
) -> Result<bool> {
    let (expression, values, names) = condition(w.expected.as_ref());
    let values = (!values.is_empty()).then_some(values);
    let failed = |what: &str, e: &dyn std::error::Error| {
        anyhow!("{what} {:?} in {table}: {}", w.key, DisplayErrorContext(e))
    };
    // Err((whether the condition failed, the error)).
    let result = match &w.value {
        Some(item) => client
            .put_item()
            .table_name(table)
            .set_item(Some(item.clone()))
            .condition_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                let raced = e
                    .as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception);
                (raced, failed("put", &e))
            }),
        None => client
            .delete_item()
            .table_name(table)
            .key("pk", AttributeValue::S(w.key.0.clone()))
            .key("sk", AttributeValue::S(w.key.1.clone()))
            .condition_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                let raced = e
                    .as_service_error()
                    .is_some_and(DeleteItemError::is_conditional_check_failed_exception);
                (raced, failed("delete", &e))
            }),
    };
    match result {
        Ok(()) => Ok(true),
        Err((true, _)) => Ok(false),
        Err((false, e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pk: &str, sk: &str, data: &str) -> Item {
        Item::from([
            ("pk".to_string(), AttributeValue::S(pk.into())),
            ("sk".to_string(), AttributeValue::S(sk.into())),
            ("data".to_string(), AttributeValue::S(data.into())),
        ])
    }

    #[test]
    fn conditions_name_every_attribute() {
        let (expr, values, names) = condition(Some(&item("A", "1", "x")));
        assert_eq!(expr, "#a0 = :v0 AND #a1 = :v1 AND #a2 = :v2");
        assert_eq!(names["#a0"], "data");
        assert_eq!(values.len(), 3);
        let (expr, values, _) = condition(None);
        assert_eq!(expr, "attribute_not_exists(#pk)");
        assert!(values.is_empty());
    }
}
