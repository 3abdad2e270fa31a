//! What readiness reads: test cases and their executions, approved origins, third-party
//! applications, and the flow each number points at.

use aws_sdk_connect::types::{
    ExecutionRecordStatus, IntegrationType, ListFlowAssociationResourceType,
    TestCaseExecutionStatus,
};

use super::SdkConnect;
use crate::connect::{TestCase, TestCaseRun};
use crate::error::{ConnectError, ConnectErrorClass};

pub(super) async fn list_test_cases(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<TestCase>, ConnectError> {
    let items = connect
        .client
        .list_test_cases()
        .instance_id(instance_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| connect.error("ListTestCases", e))?;
    Ok(items
        .into_iter()
        .map(|t| TestCase {
            id: t.id().unwrap_or_default().to_string(),
            name: t.name().unwrap_or_default().to_string(),
            status: t
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            tags: Default::default(),
        })
        .collect())
}

pub(super) async fn describe_test_case(
    connect: &SdkConnect,
    instance_id: &str,
    test_case_id: &str,
) -> Result<Option<TestCase>, ConnectError> {
    let out = match connect
        .client
        .describe_test_case()
        .instance_id(instance_id)
        .test_case_id(test_case_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = connect.error("DescribeTestCase", e);
            return if e.class == ConnectErrorClass::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    Ok(out.test_case().map(|t| TestCase {
        id: t.id().unwrap_or(test_case_id).to_string(),
        name: t.name().unwrap_or_default().to_string(),
        status: t
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        tags: t
            .tags()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }))
}

pub(super) async fn start_test_case(
    connect: &SdkConnect,
    instance_id: &str,
    test_case_id: &str,
    client_token: &str,
) -> Result<String, ConnectError> {
    let out = connect
        .client
        .start_test_case_execution()
        .instance_id(instance_id)
        .test_case_id(test_case_id)
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| connect.error("StartTestCaseExecution", e))?;
    Ok(out.test_case_execution_id().unwrap_or_default().to_string())
}

pub(super) async fn test_case_run(
    connect: &SdkConnect,
    instance_id: &str,
    test_case_id: &str,
    execution_id: &str,
) -> Result<TestCaseRun, ConnectError> {
    let out = connect
        .client
        .get_test_case_execution_summary()
        .instance_id(instance_id)
        .test_case_id(test_case_id)
        .test_case_execution_id(execution_id)
        .send()
        .await
        .map_err(|e| connect.error("GetTestCaseExecutionSummary", e))?;
    let count = |n: Option<i32>| u32::try_from(n.unwrap_or(0)).unwrap_or(0);
    let summary = out.observation_summary();
    Ok(TestCaseRun {
        status: out
            .status()
            .map_or(TestCaseExecutionStatus::Initiated.as_str(), |s| s.as_str())
            .to_string(),
        observations: count(summary.and_then(|s| s.total_observations())),
        observations_failed: count(summary.and_then(|s| s.observations_failed())),
    })
}

pub(super) async fn test_case_failures(
    connect: &SdkConnect,
    instance_id: &str,
    test_case_id: &str,
    execution_id: &str,
) -> Result<Vec<String>, ConnectError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = connect
            .client
            .list_test_case_execution_records()
            .instance_id(instance_id)
            .test_case_id(test_case_id)
            .test_case_execution_id(execution_id)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| connect.error("ListTestCaseExecutionRecords", e))?;
        out.extend(
            page.execution_records()
                .iter()
                .filter(|r| r.status() == Some(&ExecutionRecordStatus::Failed))
                .filter_map(|r| r.record().map(String::from)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

pub(super) async fn list_approved_origins(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<String>, ConnectError> {
    connect
        .client
        .list_approved_origins()
        .instance_id(instance_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| connect.error("ListApprovedOrigins", e))
}

pub(super) async fn list_applications(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<String>, ConnectError> {
    let items = connect
        .client
        .list_integration_associations()
        .instance_id(instance_id)
        .integration_type(IntegrationType::Application)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| connect.error("ListIntegrationAssociations", e))?;
    // an application has its own ARN in each region: its name is what the regions share
    Ok(items
        .into_iter()
        .filter_map(|i| {
            i.source_application_name()
                .or(i.integration_arn())
                .map(String::from)
        })
        .collect())
}

pub(super) async fn flow_associations(
    connect: &SdkConnect,
    instance_id: &str,
    numbers: &[String],
) -> Result<Vec<(String, String)>, ConnectError> {
    let mut out = Vec::new();
    for chunk in numbers.chunks(100) {
        let answer = connect
            .client
            .batch_get_flow_association()
            .instance_id(instance_id)
            .set_resource_ids(Some(chunk.to_vec()))
            .resource_type(ListFlowAssociationResourceType::VoicePhoneNumber)
            .send()
            .await
            .map_err(|e| connect.error("BatchGetFlowAssociation", e))?;
        out.extend(
            answer
                .flow_association_summary_list()
                .iter()
                .filter_map(|f| Some((f.resource_id()?.to_string(), f.flow_id()?.to_string()))),
        );
    }
    Ok(out)
}
