//! Traffic distribution groups: their listing and state, the distribution they apply, and the
//! users associated with them.

use aws_sdk_connect::types::{AgentConfig, SignInConfig, SignInDistribution, TelephonyConfig};

use super::convert::{distributions, group_summary, read_split};
use super::errors::build_error;
use super::SdkConnect;
use crate::connect::{
    CurrentDistribution, GroupSummary, GroupUserPage, LiveDistribution, GROUP_USERS_PAGE_SIZE,
};
use crate::domain::{Region, TrafficPlan};
use crate::error::ConnectError;

pub(super) async fn list_groups(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Vec<GroupSummary>, ConnectError> {
    let items = connect
        .client
        .list_traffic_distribution_groups()
        .instance_id(instance_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| connect.error("ListTrafficDistributionGroups", e))?;
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

pub(super) async fn describe_group(
    connect: &SdkConnect,
    group: &str,
) -> Result<GroupSummary, ConnectError> {
    let out = connect
        .client
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(group)
        .send()
        .await
        .map_err(|e| connect.error("DescribeTrafficDistributionGroup", e))?;
    let g = out.traffic_distribution_group().ok_or_else(|| {
        build_error(
            "DescribeTrafficDistributionGroup",
            &connect.region,
            "empty answer",
        )
    })?;
    Ok(group_summary(
        [g.id(), g.arn(), g.name(), g.instance_arn()],
        g.status(),
        g.is_default(),
    ))
}

pub(super) async fn get_live(
    connect: &SdkConnect,
    group: &str,
) -> Result<LiveDistribution, ConnectError> {
    let out = connect
        .client
        .get_traffic_distribution()
        .id(group)
        .send()
        .await
        .map_err(|e| connect.error("GetTrafficDistribution", e))?;
    let split = CurrentDistribution {
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
    };
    Ok(LiveDistribution {
        split,
        last_failover: out.last_failover_time().and_then(|t| t.to_millis().ok()),
    })
}

pub(super) async fn update_distribution(
    connect: &SdkConnect,
    group: &str,
    plan: &TrafficPlan,
) -> Result<(), ConnectError> {
    let op = "UpdateTrafficDistribution";
    let be = |e| build_error(op, &connect.region, e);
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
    connect
        .client
        .update_traffic_distribution()
        .id(group)
        .telephony_config(telephony)
        .agent_config(agents)
        .set_sign_in_config(sign_in)
        .send()
        .await
        .map_err(|e| connect.error(op, e))?;
    Ok(())
}

pub(super) async fn associate_user(
    connect: &SdkConnect,
    group: &str,
    user_id: &str,
    instance_id: &str,
) -> Result<(), ConnectError> {
    connect
        .client
        .associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(group)
        .user_id(user_id)
        .instance_id(instance_id)
        .send()
        .await
        .map_err(|e| connect.error("AssociateTrafficDistributionGroupUser", e))?;
    Ok(())
}

pub(super) async fn list_group_users_page(
    connect: &SdkConnect,
    group: &str,
    next_token: Option<&str>,
) -> Result<GroupUserPage, ConnectError> {
    let out = connect
        .client
        .list_traffic_distribution_group_users()
        .traffic_distribution_group_id(group)
        .max_results(GROUP_USERS_PAGE_SIZE)
        .set_next_token(next_token.map(String::from))
        .send()
        .await
        .map_err(|e| connect.error("ListTrafficDistributionGroupUsers", e))?;
    Ok(GroupUserPage {
        user_ids: out
            .traffic_distribution_group_user_summary_list()
            .iter()
            .filter_map(|u| u.user_id().map(String::from))
            .collect(),
        next_token: out.next_token().filter(|t| !t.is_empty()).map(String::from),
    })
}

#[cfg(test)]
mod tests {
    use super::super::SdkConnect;
    use crate::connect::Connect;
    use crate::domain::Region;
    use aws_sdk_connect::config::retry::RetryConfig;
    use aws_sdk_connect::operation::list_traffic_distribution_group_users::ListTrafficDistributionGroupUsersOutput;
    use aws_sdk_connect::types::TrafficDistributionGroupUserSummary;
    use aws_sdk_connect::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn page(ids: &[&str], next: Option<&str>) -> ListTrafficDistributionGroupUsersOutput {
        let mut out = ListTrafficDistributionGroupUsersOutput::builder()
            .set_next_token(next.map(String::from));
        for id in ids {
            out = out.traffic_distribution_group_user_summary_list(
                TrafficDistributionGroupUserSummary::builder()
                    .user_id(*id)
                    .build(),
            );
        }
        out.build()
    }

    #[tokio::test]
    async fn the_group_users_are_read_one_page_of_10_at_a_time() {
        let first = mock!(Client::list_traffic_distribution_group_users)
            .match_requests(|r| r.max_results() == Some(10) && r.next_token().is_none())
            .then_output(|| page(&["u1", "u2"], Some("t1")));
        let second = mock!(Client::list_traffic_distribution_group_users)
            .match_requests(|r| r.next_token() == Some("t1"))
            .then_output(|| page(&["u3"], Some("")));
        let client = mock_client!(
            aws_sdk_connect,
            RuleMode::MatchAny,
            &[&first, &second],
            |c| c.retry_config(RetryConfig::disabled())
        );
        let connect = SdkConnect::new(client, Region::parse("us-east-1").unwrap());
        let one = connect.list_group_users_page("g", None).await.unwrap();
        assert_eq!(one.user_ids, ["u1", "u2"]);
        assert_eq!(one.next_token.as_deref(), Some("t1"));
        let two = connect
            .list_group_users_page("g", Some("t1"))
            .await
            .unwrap();
        assert_eq!(two.user_ids, ["u3"]);
        assert_eq!(two.next_token, None, "an empty token ends the listing");
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }
}
