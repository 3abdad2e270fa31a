//! Listings of the mirrored resources, a page of users, and replication findings.

use super::convert::summary;
use super::SdkConnect;
use crate::connect::{
    list_operation, max_page_size, Finding, Findings, ReplicationOperation, ResourceSummary,
    UserPage, FINDINGS_PAGE_SIZE,
};
use crate::domain::Kind;
use crate::error::ConnectError;

/// Every item of a kind's listing, in pages of the largest size it accepts.
macro_rules! list_all {
    ($connect:ident, $kind:expr, $call:ident, $instance:ident, |$x:ident| $map:expr) => {{
        let kind: Kind = $kind;
        let items = $connect
            .client
            .$call()
            .instance_id($instance)
            .into_paginator()
            .page_size(max_page_size(kind))
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| $connect.error(list_operation(kind), e))?;
        Ok(items.iter().filter_map(|$x| $map).collect())
    }};
}

pub(super) async fn list_resources(
    connect: &SdkConnect,
    instance_id: &str,
    kind: Kind,
) -> Result<Vec<ResourceSummary>, ConnectError> {
    let i = instance_id;
    match kind {
        Kind::HoursOfOperations => {
            list_all!(connect, kind, list_hours_of_operations, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::AgentStatuses => {
            list_all!(connect, kind, list_agent_statuses, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::PredefinedAttributes => {
            list_all!(connect, kind, list_predefined_attributes, i, |x| summary(
                None,
                x.name()
            ))
        }
        Kind::SecurityProfiles => {
            list_all!(connect, kind, list_security_profiles, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::Prompts => list_all!(connect, kind, list_prompts, i, |x| summary(
            x.id(),
            x.name()
        )),
        Kind::UserHierarchyGroups => {
            list_all!(connect, kind, list_user_hierarchy_groups, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::ContactFlowModules => {
            list_all!(connect, kind, list_contact_flow_modules, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::ContactFlows => {
            list_all!(connect, kind, list_contact_flows, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::Queues => list_all!(connect, kind, list_queues, i, |x| summary(x.id(), x.name())),
        Kind::QuickConnects => {
            list_all!(connect, kind, list_quick_connects, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::RoutingProfiles => {
            list_all!(connect, kind, list_routing_profiles, i, |x| summary(
                x.id(),
                x.name()
            ))
        }
        Kind::Users => list_all!(connect, kind, list_users, i, |x| summary(
            x.id(),
            x.username()
        )),
    }
}

pub(super) async fn list_users_page(
    connect: &SdkConnect,
    instance_id: &str,
    next_token: Option<&str>,
    page_size: i32,
) -> Result<UserPage, ConnectError> {
    let out = connect
        .client
        .list_users()
        .instance_id(instance_id)
        .set_next_token(next_token.map(String::from))
        .max_results(page_size)
        .send()
        .await
        .map_err(|e| connect.error("ListUsers", e))?;
    Ok(UserPage {
        users: out
            .user_summary_list()
            .iter()
            .filter_map(|u| summary(u.id(), u.username()))
            .collect(),
        next_token: out.next_token().filter(|t| !t.is_empty()).map(String::from),
    })
}

pub(super) async fn list_findings(
    connect: &SdkConnect,
    instance_id: &str,
    resource_type: &str,
) -> Result<Findings, ConnectError> {
    let mut out = Findings::default();
    let mut token: Option<String> = None;
    loop {
        let page = connect
            .client
            .list_replication_findings()
            .instance_id(instance_id)
            .resource_type(resource_type)
            .max_results(FINDINGS_PAGE_SIZE)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| connect.error("ListReplicationFindings", e))?;
        out.findings
            .extend(page.replication_findings_list().iter().map(|f| {
                Finding {
                    id: f.id().to_string(),
                    resource_type: Some(f.resource_type().to_string()),
                    name: f.name().map(String::from),
                    region: f.region().map(String::from),
                    message: f.message().map(String::from),
                    // The model documents create, update and delete without their spelling.
                    operation: f
                        .operation()
                        .map(|o| ReplicationOperation::from(o.to_ascii_uppercase())),
                    reference_code: f.reference_code().map(String::from),
                }
            }));
        if out.drift.is_empty() {
            out.drift = page
                .approximate_drifted_resource_counts()
                .iter()
                .map(|d| (d.region().to_string(), d.count()))
                .collect();
            out.statuses = page
                .resource_replication_statuses()
                .iter()
                .map(|s| (s.region().to_string(), s.status().to_string()))
                .collect();
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SdkConnect;
    use crate::connect::{Connect, ReplicationOperation};
    use crate::domain::{Kind, Region};
    use aws_sdk_connect::config::retry::RetryConfig;
    use aws_sdk_connect::operation::list_predefined_attributes::ListPredefinedAttributesOutput;
    use aws_sdk_connect::operation::list_replication_findings::ListReplicationFindingsOutput;
    use aws_sdk_connect::operation::list_users::ListUsersOutput;
    use aws_sdk_connect::types::{PredefinedAttributeSummary, ReplicationFinding, UserSummary};
    use aws_sdk_connect::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn users(ids: &[&str], next: Option<&str>) -> ListUsersOutput {
        let mut out = ListUsersOutput::builder().set_next_token(next.map(String::from));
        for id in ids {
            out = out.user_summary_list(UserSummary::builder().id(*id).username(*id).build());
        }
        out.build()
    }

    #[tokio::test]
    async fn listings_ask_for_the_largest_page_connect_allows() {
        let listed = mock!(Client::list_users)
            .match_requests(|r| r.max_results() == Some(1000))
            .sequence()
            .output(|| users(&["u1", "u2"], Some("t1")))
            .output(|| users(&["u3"], None))
            .build();
        let attributes = mock!(Client::list_predefined_attributes)
            .match_requests(|r| r.max_results() == Some(100))
            .then_output(|| {
                ListPredefinedAttributesOutput::builder()
                    .predefined_attribute_summary_list(
                        PredefinedAttributeSummary::builder().name("tier").build(),
                    )
                    .build()
            });
        let findings = mock!(Client::list_replication_findings)
            .match_requests(|r| r.max_results() == Some(100) && r.resource_type() == Some("AGENT"))
            .then_output(|| {
                let finding = ReplicationFinding::builder()
                    .arn("arn:aws:connect:us-east-1:1:instance/i-1/agent/u1")
                    .id("u1")
                    .resource_type("AGENT")
                    .operation("create")
                    .reference_code("RESOURCE_NAME_CONFLICT")
                    .build()
                    .unwrap();
                ListReplicationFindingsOutput::builder()
                    .set_replication_findings_list(Some(vec![finding]))
                    .build()
                    .unwrap()
            });
        let client = mock_client!(
            aws_sdk_connect,
            RuleMode::MatchAny,
            &[&listed, &attributes, &findings],
            |c| c.retry_config(RetryConfig::disabled())
        );
        let connect = SdkConnect::new(client, Region::parse("us-east-1").unwrap());

        let all = connect.list_resources("i-1", Kind::Users).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(listed.num_calls(), 2, "one call per page of 1000");
        let attrs = connect
            .list_resources("i-1", Kind::PredefinedAttributes)
            .await
            .unwrap();
        assert_eq!(attrs[0].name, "tier");
        assert_eq!(attributes.num_calls(), 1);
        let found = connect
            .list_findings("i-1", Kind::Users.finding_type())
            .await
            .unwrap();
        assert_eq!(findings.num_calls(), 1);
        let f = &found.findings[0];
        assert_eq!(
            f.operation,
            Some(ReplicationOperation::Create),
            "read in any case"
        );
        assert_eq!(f.reference_code.as_deref(), Some("RESOURCE_NAME_CONFLICT"));
    }
}
