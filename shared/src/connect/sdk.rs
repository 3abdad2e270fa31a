//! The `Connect` port over `aws-sdk-connect`: one client per region.

use aws_sdk_connect::config::http::HttpResponse;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connect::types::{
    AgentConfig, Distribution, LexVersion, SignInConfig, SignInDistribution, TelephonyConfig,
};
use aws_sdk_connect::Client;
use tracing::instrument;

use super::{
    list_operation, max_page_size, Connect, CurrentDistribution, Finding, Findings, GroupStatus,
    GroupSummary, InstanceInfo, LexBotRef, RegionStatus, ReplicationInfo, ReplicationStatus,
    ResourceSummary, UserPage, FINDINGS_PAGE_SIZE,
};
use crate::domain::{Kind, Region, Split, TrafficPlan};
use crate::error::{ConnectError, ConnectErrorClass};

/// Connect in one region.
#[derive(Clone, Debug)]
pub struct SdkConnect {
    client: Client,
    region: Region,
}

impl SdkConnect {
    pub fn new(client: Client, region: Region) -> Self {
        SdkConnect { client, region }
    }

    fn error<E>(&self, operation: &'static str, e: SdkError<E, HttpResponse>) -> ConnectError
    where
        E: ProvideErrorMetadata + std::fmt::Debug,
    {
        classify(operation, &self.region, e)
    }
}

/// Classifies an SDK error by its modeled code; transport failures are transient.
pub fn classify<E>(
    operation: &'static str,
    region: &Region,
    e: SdkError<E, HttpResponse>,
) -> ConnectError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    let region = region.to_string();
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("").to_string();
            let status = se.raw().status().as_u16();
            let class = if !code.is_empty() {
                ConnectErrorClass::from_code(&code)
            } else if status == 429 {
                ConnectErrorClass::Throttled
            } else if status >= 500 {
                ConnectErrorClass::Transient
            } else {
                ConnectErrorClass::Other
            };
            ConnectError {
                operation,
                region,
                class,
                message: err.message().unwrap_or("").to_string(),
                code: if code.is_empty() {
                    "Unknown".into()
                } else {
                    code
                },
            }
        }
        SdkError::DispatchFailure(d) if out_of_time(d).is_some() => ConnectError {
            operation,
            region,
            class: ConnectErrorClass::OutOfTime,
            code: "OutOfTime".into(),
            message: out_of_time(d).map(ToString::to_string).unwrap_or_default(),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ConnectError {
                operation,
                region,
                class: ConnectErrorClass::Transient,
                code: "Transport".into(),
                message: format!("{e:?}"),
            }
        }
        _ => ConnectError {
            operation,
            region,
            class: ConnectErrorClass::Other,
            code: "Construction".into(),
            message: format!("{e:?}"),
        },
    }
}

/// The pacer's refusal inside a dispatch failure.
fn out_of_time(
    d: &aws_smithy_runtime_api::client::result::DispatchFailure,
) -> Option<&crate::pace::OutOfTime> {
    let mut source = std::error::Error::source(d.as_connector_error()?);
    while let Some(e) = source {
        if let Some(o) = e.downcast_ref::<crate::pace::OutOfTime>() {
            return Some(o);
        }
        source = e.source();
    }
    None
}

fn build_error(
    operation: &'static str,
    region: &Region,
    e: impl std::fmt::Display,
) -> ConnectError {
    ConnectError {
        operation,
        region: region.to_string(),
        class: ConnectErrorClass::Other,
        code: "Build".into(),
        message: e.to_string(),
    }
}

fn distributions(split: &Split) -> Result<Vec<Distribution>, aws_sdk_connect::error::BuildError> {
    split
        .entries()
        .iter()
        .map(|(r, p)| {
            Distribution::builder()
                .region(r.as_str())
                .percentage(i32::from(*p))
                .build()
        })
        .collect()
}

fn read_split(d: &[Distribution]) -> Vec<(Region, u8)> {
    d.iter()
        .filter_map(|d| {
            Some((
                Region::parse(d.region()).ok()?,
                u8::try_from(d.percentage()).ok()?,
            ))
        })
        .collect()
}

/// A group as both ListTrafficDistributionGroups and DescribeTrafficDistributionGroup give it.
fn group_summary(
    [id, arn, name, instance_arn]: [Option<&str>; 4],
    status: Option<&aws_sdk_connect::types::TrafficDistributionGroupStatus>,
    is_default: bool,
) -> GroupSummary {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    GroupSummary {
        id: text(id),
        arn: text(arn),
        name: text(name),
        instance_arn: text(instance_arn),
        status: status.map_or(GroupStatus::Other(String::new()), |s| s.as_str().into()),
        is_default,
    }
}

fn summary(id: Option<&str>, name: Option<&str>) -> Option<ResourceSummary> {
    Some(ResourceSummary {
        id: id.map(String::from),
        name: name?.to_string(),
    })
}

/// Every item of a kind's listing, in pages of the largest size it accepts.
macro_rules! list_all {
    ($self:ident, $kind:expr, $call:ident, $instance:ident, |$x:ident| $map:expr) => {{
        let kind: Kind = $kind;
        let items = $self
            .client
            .$call()
            .instance_id($instance)
            .into_paginator()
            .page_size(max_page_size(kind))
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| $self.error(list_operation(kind), e))?;
        Ok(items.iter().filter_map(|$x| $map).collect())
    }};
}

impl Connect for SdkConnect {
    fn region(&self) -> &Region {
        &self.region
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn describe_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceInfo>, ConnectError> {
        let out = match self
            .client
            .describe_instance()
            .instance_id(instance_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = self.error("DescribeInstance", e);
                return if e.class == ConnectErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let Some(i) = out.instance() else {
            return Ok(None);
        };
        let replication = out.replication_configuration().map(|rc| ReplicationInfo {
            source_region: rc.source_region().and_then(|r| Region::parse(r).ok()),
            statuses: rc
                .replication_status_summary_list()
                .iter()
                .map(|s| RegionStatus {
                    region: s.region().unwrap_or_default().to_string(),
                    status: s
                        .replication_status()
                        .map_or(ReplicationStatus::Other(String::new()), |x| {
                            x.as_str().into()
                        }),
                    reason: s.replication_status_reason().map(String::from),
                })
                .collect(),
            global_sign_in_endpoint: rc.global_sign_in_endpoint().map(String::from),
        });
        Ok(Some(InstanceInfo {
            id: i.id().unwrap_or(instance_id).to_string(),
            arn: i.arn().unwrap_or_default().to_string(),
            alias: i.instance_alias().map(String::from),
            identity: i.identity_management_type().map(|t| t.as_str().into()),
            status: i.instance_status().map(|s| s.as_str().into()),
            replication,
        }))
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn replicate_instance(
        &self,
        instance_id: &str,
        replica: &Region,
        replica_alias: Option<&str>,
        client_token: &str,
    ) -> Result<String, ConnectError> {
        let out = self
            .client
            .replicate_instance()
            .instance_id(instance_id)
            .replica_region(replica.as_str())
            .set_replica_alias(replica_alias.map(String::from))
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| self.error("ReplicateInstance", e))?;
        Ok(out.arn().unwrap_or_default().to_string())
    }

    async fn list_groups(&self, instance_id: &str) -> Result<Vec<GroupSummary>, ConnectError> {
        let items = self
            .client
            .list_traffic_distribution_groups()
            .instance_id(instance_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.error("ListTrafficDistributionGroups", e))?;
        Ok(items
            .iter()
            .map(|g| {
                group_summary(
                    [g.id(), g.arn(), g.name(), g.instance_arn()],
                    g.status(),
                    g.is_default(),
                )
            })
            .collect())
    }

    async fn describe_group(&self, group: &str) -> Result<GroupSummary, ConnectError> {
        let out = self
            .client
            .describe_traffic_distribution_group()
            .traffic_distribution_group_id(group)
            .send()
            .await
            .map_err(|e| self.error("DescribeTrafficDistributionGroup", e))?;
        let g = out.traffic_distribution_group().ok_or_else(|| {
            build_error(
                "DescribeTrafficDistributionGroup",
                &self.region,
                "empty answer",
            )
        })?;
        Ok(group_summary(
            [g.id(), g.arn(), g.name(), g.instance_arn()],
            g.status(),
            g.is_default(),
        ))
    }

    async fn get_distribution(&self, group: &str) -> Result<CurrentDistribution, ConnectError> {
        let out = self
            .client
            .get_traffic_distribution()
            .id(group)
            .send()
            .await
            .map_err(|e| self.error("GetTrafficDistribution", e))?;
        Ok(CurrentDistribution {
            telephony: out
                .telephony_config()
                .map(|c| read_split(c.distributions()))
                .unwrap_or_default(),
            agents: out
                .agent_config()
                .map(|c| read_split(c.distributions()))
                .unwrap_or_default(),
            sign_in: out.sign_in_config().map(|c| {
                c.distributions()
                    .iter()
                    .filter_map(|d| Some((Region::parse(d.region()).ok()?, d.enabled())))
                    .collect()
            }),
        })
    }

    #[instrument(skip(self, plan), fields(region = %self.region))]
    async fn update_distribution(
        &self,
        group: &str,
        plan: &TrafficPlan,
    ) -> Result<(), ConnectError> {
        let op = "UpdateTrafficDistribution";
        let be = |e| build_error(op, &self.region, e);
        let telephony = TelephonyConfig::builder()
            .set_distributions(Some(distributions(plan.telephony()).map_err(be)?))
            .build()
            .map_err(be)?;
        let agents = AgentConfig::builder()
            .set_distributions(Some(distributions(plan.agents()).map_err(be)?))
            .build()
            .map_err(be)?;
        let sign_in = match plan.sign_in() {
            None => None,
            Some(list) => {
                let ds = list
                    .iter()
                    .map(|(r, on)| {
                        SignInDistribution::builder()
                            .region(r.as_str())
                            .enabled(*on)
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(be)?;
                Some(
                    SignInConfig::builder()
                        .set_distributions(Some(ds))
                        .build()
                        .map_err(be)?,
                )
            }
        };
        self.client
            .update_traffic_distribution()
            .id(group)
            .telephony_config(telephony)
            .agent_config(agents)
            .set_sign_in_config(sign_in)
            .send()
            .await
            .map_err(|e| self.error(op, e))?;
        Ok(())
    }

    async fn associate_user(
        &self,
        group: &str,
        user_id: &str,
        instance_id: &str,
    ) -> Result<(), ConnectError> {
        self.client
            .associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(group)
            .user_id(user_id)
            .instance_id(instance_id)
            .send()
            .await
            .map_err(|e| self.error("AssociateTrafficDistributionGroupUser", e))?;
        Ok(())
    }

    async fn list_group_users(&self, group: &str) -> Result<Vec<String>, ConnectError> {
        let items = self
            .client
            .list_traffic_distribution_group_users()
            .traffic_distribution_group_id(group)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.error("ListTrafficDistributionGroupUsers", e))?;
        Ok(items
            .iter()
            .filter_map(|u| u.user_id().map(String::from))
            .collect())
    }

    async fn list_resources(
        &self,
        instance_id: &str,
        kind: Kind,
    ) -> Result<Vec<ResourceSummary>, ConnectError> {
        let i = instance_id;
        match kind {
            Kind::HoursOfOperations => {
                list_all!(self, kind, list_hours_of_operations, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::AgentStatuses => {
                list_all!(self, kind, list_agent_statuses, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::PredefinedAttributes => {
                list_all!(self, kind, list_predefined_attributes, i, |x| summary(
                    None,
                    x.name()
                ))
            }
            Kind::SecurityProfiles => {
                list_all!(self, kind, list_security_profiles, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::Prompts => list_all!(self, kind, list_prompts, i, |x| summary(x.id(), x.name())),
            Kind::UserHierarchyGroups => {
                list_all!(self, kind, list_user_hierarchy_groups, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::ContactFlowModules => {
                list_all!(self, kind, list_contact_flow_modules, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::ContactFlows => {
                list_all!(self, kind, list_contact_flows, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::Queues => list_all!(self, kind, list_queues, i, |x| summary(x.id(), x.name())),
            Kind::QuickConnects => {
                list_all!(self, kind, list_quick_connects, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::RoutingProfiles => {
                list_all!(self, kind, list_routing_profiles, i, |x| summary(
                    x.id(),
                    x.name()
                ))
            }
            Kind::Users => list_all!(self, kind, list_users, i, |x| summary(x.id(), x.username())),
        }
    }

    async fn list_users_page(
        &self,
        instance_id: &str,
        next_token: Option<&str>,
        page_size: i32,
    ) -> Result<UserPage, ConnectError> {
        let out = self
            .client
            .list_users()
            .instance_id(instance_id)
            .set_next_token(next_token.map(String::from))
            .max_results(page_size)
            .send()
            .await
            .map_err(|e| self.error("ListUsers", e))?;
        Ok(UserPage {
            users: out
                .user_summary_list()
                .iter()
                .filter_map(|u| summary(u.id(), u.username()))
                .collect(),
            next_token: out.next_token().filter(|t| !t.is_empty()).map(String::from),
        })
    }

    async fn list_findings(&self, instance_id: &str, kind: Kind) -> Result<Findings, ConnectError> {
        let mut out = Findings::default();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_replication_findings()
                .instance_id(instance_id)
                .resource_type(kind.finding_type())
                .max_results(FINDINGS_PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.error("ListReplicationFindings", e))?;
            out.findings
                .extend(page.replication_findings_list().iter().map(|f| Finding {
                    id: f.id().to_string(),
                    name: f.name().map(String::from),
                    region: f.region().map(String::from),
                    message: f.message().map(String::from),
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

    async fn flow_content(
        &self,
        instance_id: &str,
        flow_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        match self
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
                let e = self.error("DescribeContactFlow", e);
                if e.code == "ContactFlowNotPublishedException" {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn module_content(
        &self,
        instance_id: &str,
        module_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        match self
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
                let e = self.error("DescribeContactFlowModule", e);
                if e.class == ConnectErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn list_lambda_functions(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        let items = self
            .client
            .list_lambda_functions()
            .instance_id(instance_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.error("ListLambdaFunctions", e))?;
        Ok(items)
    }

    async fn list_lex_bots(&self, instance_id: &str) -> Result<Vec<LexBotRef>, ConnectError> {
        let mut bots = Vec::new();
        for version in [LexVersion::V1, LexVersion::V2] {
            let items = self
                .client
                .list_bots()
                .instance_id(instance_id)
                .lex_version(version)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| self.error("ListBots", e))?;
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
                        region: alias.split(':').nth(3).map(String::from),
                    });
                }
            }
        }
        Ok(bots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::config::retry::RetryConfig;
    use aws_sdk_connect::operation::list_predefined_attributes::ListPredefinedAttributesOutput;
    use aws_sdk_connect::operation::list_replication_findings::ListReplicationFindingsOutput;
    use aws_sdk_connect::operation::list_users::ListUsersOutput;
    use aws_sdk_connect::types::{PredefinedAttributeSummary, UserSummary};
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
                ListReplicationFindingsOutput::builder()
                    .set_replication_findings_list(Some(vec![]))
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
        connect.list_findings("i-1", Kind::Users).await.unwrap();
        assert_eq!(findings.num_calls(), 1);
    }
}
