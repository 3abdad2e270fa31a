//! Flow and flow module contents, and the Lambda functions and Lex bots flows can call.

use aws_sdk_connect::types::LexVersion;

use super::SdkConnect;
use crate::connect::LexBotRef;
use crate::error::{ConnectError, ConnectErrorClass};

pub(super) async fn flow_content(
    connect: &SdkConnect,
    instance_id: &str,
    flow_id: &str,
) -> Result<Option<String>, ConnectError> {
    match connect
        .client
        .describe_contact_flow()
        .instance_id(instance_id)
        .contact_flow_id(flow_id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .contact_flow()
            .and_then(|f| f.content())
            .map(String::from)),
        Err(e) => {
            let e = connect.error("DescribeContactFlow", e);
            if e.code == "ContactFlowNotPublishedException" {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub(super) async fn module_content(
    connect: &SdkConnect,
    instance_id: &str,
    module_id: &str,
) -> Result<Option<String>, ConnectError> {
    match connect
        .client
        .describe_contact_flow_module()
        .instance_id(instance_id)
        .contact_flow_module_id(module_id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .contact_flow_module()
            .and_then(|m| m.content())
            .map(String::from)),
        Err(e) => {
            let e = connect.error("DescribeContactFlowModule", e);
            if e.class == ConnectErrorClass::NotFound {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub(super) async fn list_lambda_functions(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<String>, ConnectError> {
    let items = connect
        .client
        .list_lambda_functions()
        .instance_id(instance_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| connect.error("ListLambdaFunctions", e))?;
    Ok(items)
}

pub(super) async fn list_lex_bots(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<LexBotRef>, ConnectError> {
    let mut bots = Vec::new();
    for version in [LexVersion::V1, LexVersion::V2] {
        let items = connect
            .client
            .list_bots()
            .instance_id(instance_id)
            .lex_version(version)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| connect.error("ListBots", e))?;
        for b in items {
            if let Some(v1) = b.lex_bot() {
                bots.push(LexBotRef {
                    name: v1.name().to_string(),
                    region: Some(v1.lex_region().to_string()),
                });
            }
            if let Some(alias) = b.lex_v2_bot().and_then(|v2| v2.alias_arn()) {
                bots.push(LexBotRef {
                    name: alias.to_string(),
                    region: crate::domain::Arn::parse(alias).map(|a| a.region.to_string()),
                });
            }
        }
    }
    Ok(bots)
}
