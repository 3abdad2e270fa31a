//! `Connect` over the fake world: each operation as Connect answers it, from one region.

use super::FakeConnect;
use crate::connect::{
    self, Connect, Findings, GroupStatus, GroupSummary, GroupUserPage, InstanceInfo, LexBotRef,
    LiveDistribution, ResourceSummary, TestCase, TestCaseRun, UserPage,
};
use crate::domain::{Kind, Region, RoutingState, TrafficPlan};
use crate::error::ConnectError;

/// The pages a listing of `items` takes at `page_size`: at least one.
fn pages(items: usize, page_size: i32) -> usize {
    let size = usize::try_from(page_size.max(1)).unwrap_or(1);
    items.div_ceil(size).max(1)
}

impl Connect for FakeConnect {
    fn region(&self) -> &Region {
        &self.region
    }

    async fn describe_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceInfo>, ConnectError> {
        self.pace("DescribeInstance").await?;
        let w = self.call("DescribeInstance", instance_id)?;
        Ok(w.instances
            .get(&(self.region.to_string(), instance_id.to_string()))
            .cloned())
    }

    async fn replicate_instance(
        &self,
        instance_id: &str,
        replica: &Region,
        _alias: Option<&str>,
        token: &str,
    ) -> Result<String, ConnectError> {
        self.pace("ReplicateInstance").await?;
        let mut w = self.call("ReplicateInstance", instance_id)?;
        w.replicate_requests.push((
            instance_id.to_string(),
            replica.to_string(),
            token.to_string(),
        ));
        Ok(format!(
            "arn:aws:connect:{replica}:123456789012:instance/{instance_id}"
        ))
    }

    async fn list_groups(&self, instance_id: &str) -> Result<Vec<GroupSummary>, ConnectError> {
        self.pace("ListTrafficDistributionGroups").await?;
        let w = self.call("ListTrafficDistributionGroups", instance_id)?;
        let me = self.region.as_str();
        Ok(w.groups
            .iter()
            .filter(|(h, o, g)| {
                (h == me || o == me) && g.instance_arn.ends_with(&format!("/{instance_id}"))
            })
            .map(|(_, _, g)| g.clone())
            .collect())
    }

    async fn describe_group(&self, group: &str) -> Result<GroupSummary, ConnectError> {
        self.pace("DescribeTrafficDistributionGroup").await?;
        let mut w = self.call("DescribeTrafficDistributionGroup", group)?;
        let g = self
            .group(&w, group, "DescribeTrafficDistributionGroup")?
            .2
            .clone();
        let Some((left, next)) = w.pending.remove(&g.arn) else {
            return Ok(g);
        };
        if left > 0 {
            w.pending.insert(g.arn.clone(), (left - 1, next));
            return Ok(g);
        }
        w.moved(&g.arn);
        w.distributions.insert(g.arn.clone(), next);
        let (_, _, stored) = w
            .groups
            .iter_mut()
            .find(|(_, _, x)| x.arn == g.arn)
            .ok_or_else(|| {
                self.err(
                    "DescribeTrafficDistributionGroup",
                    "ResourceNotFoundException",
                    "gone",
                )
            })?;
        stored.status = GroupStatus::Active;
        Ok(stored.clone())
    }

    async fn get_live(&self, group: &str) -> Result<LiveDistribution, ConnectError> {
        self.pace("GetTrafficDistribution").await?;
        let mut w = self.call("GetTrafficDistribution", group)?;
        let (_, _, g) = self.group(&w, group, "GetTrafficDistribution")?;
        if g.status != GroupStatus::Active {
            return Err(self.err(
                "GetTrafficDistribution",
                "InvalidRequestException",
                "the traffic distribution group must be ACTIVE",
            ));
        }
        let arn = g.arn.clone();
        let read = LiveDistribution {
            split: w.distributions.get(&arn).cloned().unwrap_or_default(),
            last_failover: w.last_failover.get(&arn).copied(),
        };
        if let Some((left, next)) = w.moved_after_reads.remove(&arn) {
            if left <= 1 {
                w.moved(&arn);
                w.distributions.insert(arn, next);
            } else {
                w.moved_after_reads.insert(arn, (left - 1, next));
            }
        }
        Ok(read)
    }

    async fn update_distribution(
        &self,
        group: &str,
        plan: &TrafficPlan,
    ) -> Result<(), ConnectError> {
        self.pace("UpdateTrafficDistribution").await?;
        let mut w = self.call("UpdateTrafficDistribution", group)?;
        let (_, _, g) = self.group(&w, group, "UpdateTrafficDistribution")?;
        if plan.sign_in().is_some() && !g.is_default {
            return Err(self.err(
                "UpdateTrafficDistribution",
                "InvalidRequestException",
                "sign-in on a custom group",
            ));
        }
        if g.status != GroupStatus::Active {
            // the admin guide's answer (the model also lists ResourceConflictException)
            return Err(self.err(
                "UpdateTrafficDistribution",
                "InvalidRequestException",
                "the traffic distribution group must be ACTIVE",
            ));
        }
        let arn = g.arn.clone();
        let mut next = w.distributions.get(&arn).cloned().unwrap_or_default();
        next.telephony = plan.telephony().entries().to_vec();
        next.agents = plan.agents().entries().to_vec();
        if let Some(s) = plan.sign_in() {
            next.sign_in = Some(s.to_vec());
        }
        if w.settle_reads == 0 {
            w.moved(&arn);
            w.distributions.insert(arn, next);
            return Ok(());
        }
        let left = w.settle_reads - 1;
        w.pending.insert(arn.clone(), (left, next));
        if let Some((_, _, stored)) = w.groups.iter_mut().find(|(_, _, x)| x.arn == arn) {
            stored.status = GroupStatus::UpdateInProgress;
        }
        Ok(())
    }

    async fn associate_user(
        &self,
        group: &str,
        user_id: &str,
        instance_id: &str,
    ) -> Result<(), ConnectError> {
        self.pace("AssociateTrafficDistributionGroupUser").await?;
        let mut w = self.call("AssociateTrafficDistributionGroupUser", user_id)?;
        let (home, other, g) = self
            .group(&w, group, "AssociateTrafficDistributionGroupUser")?
            .clone();
        if home != self.region.as_str() {
            return Err(self.err(
                "AssociateTrafficDistributionGroupUser",
                "ResourceNotFoundException",
                "not the home region",
            ));
        }
        let name = w
            .users(&home, instance_id)
            .iter()
            .find(|u| u.id.as_deref() == Some(user_id))
            .map(|u| u.name.clone())
            .ok_or_else(|| {
                self.err(
                    "AssociateTrafficDistributionGroupUser",
                    "ResourceNotFoundException",
                    "no such user",
                )
            })?;
        if !w.users(&other, instance_id).iter().any(|u| u.name == name) {
            return Err(self.err(
                "AssociateTrafficDistributionGroupUser",
                "InvalidRequestException",
                "user not in the replica",
            ));
        }
        w.group_users
            .entry(g.arn)
            .or_default()
            .insert(user_id.to_string());
        Ok(())
    }

    /// Pages of [`connect::GROUP_USERS_PAGE_SIZE`] users in ID order; the token is an offset.
    async fn list_group_users_page(
        &self,
        group: &str,
        next_token: Option<&str>,
    ) -> Result<GroupUserPage, ConnectError> {
        const OPERATION: &str = "ListTrafficDistributionGroupUsers";
        self.pace(OPERATION).await?;
        let w = self.call(OPERATION, group)?;
        let arn = self.group(&w, group, OPERATION)?.2.arn.clone();
        let start: usize = match next_token {
            None => 0,
            Some(t) => t
                .parse()
                .map_err(|_| self.err(OPERATION, "InvalidRequestException", "bad token"))?,
        };
        let size = usize::try_from(connect::GROUP_USERS_PAGE_SIZE).unwrap_or(10);
        let all = w.group_users.get(&arn);
        let total = all.map_or(0, |s| s.len());
        let end = (start + size).min(total);
        Ok(GroupUserPage {
            user_ids: all
                .map(|s| s.iter().skip(start).take(size).cloned().collect())
                .unwrap_or_default(),
            next_token: (end < total).then(|| end.to_string()),
        })
    }

    /// One logged call per page of [`connect::max_page_size`] (`ListResources`, the kind as
    /// target), each paced as the kind's own operation: a listing costs what Connect's would.
    async fn list_resources(
        &self,
        instance_id: &str,
        kind: Kind,
    ) -> Result<Vec<ResourceSummary>, ConnectError> {
        let all = {
            let w = self.world();
            w.resources
                .get(&(self.region.to_string(), instance_id.to_string(), kind))
                .cloned()
                .unwrap_or_default()
        };
        for _ in 0..pages(all.len(), connect::max_page_size(kind)) {
            self.pace(connect::list_operation(kind)).await?;
            drop(self.call("ListResources", kind.key())?);
        }
        Ok(all)
    }

    async fn list_users_page(
        &self,
        instance_id: &str,
        next_token: Option<&str>,
        page_size: i32,
    ) -> Result<UserPage, ConnectError> {
        self.pace("ListUsers").await?;
        let w = self.call("ListUsers", next_token.unwrap_or(""))?;
        let all = w.users(self.region.as_str(), instance_id);
        let start: usize = match next_token {
            None => 0,
            Some(t) => t
                .parse()
                .map_err(|_| self.err("ListUsers", "InvalidParameterException", "bad token"))?,
        };
        let size = usize::try_from(page_size.clamp(1, 1000)).unwrap_or(100);
        let end = (start + size).min(all.len());
        Ok(UserPage {
            users: all.get(start..end).unwrap_or(&[]).to_vec(),
            next_token: (end < all.len()).then(|| end.to_string()),
        })
    }

    /// One logged call per page of [`connect::FINDINGS_PAGE_SIZE`] findings.
    async fn list_findings(
        &self,
        instance_id: &str,
        resource_type: &str,
    ) -> Result<Findings, ConnectError> {
        let found = {
            let w = self.world();
            w.findings
                .get(&(instance_id.to_string(), resource_type.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        for _ in 0..pages(found.findings.len(), connect::FINDINGS_PAGE_SIZE) {
            self.pace("ListReplicationFindings").await?;
            drop(self.call("ListReplicationFindings", resource_type)?);
        }
        let w = self.world();
        if !w.finding_types.is_empty() && !w.finding_types.iter().any(|t| t == resource_type) {
            return Err(self.err(
                "ListReplicationFindings",
                "InvalidRequestException",
                &format!("ResourceType '{resource_type}' is not supported"),
            ));
        }
        Ok(found)
    }

    async fn flow_content(
        &self,
        instance_id: &str,
        flow_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        self.pace("DescribeContactFlow").await?;
        let w = self.call("DescribeContactFlow", flow_id)?;
        Ok(w.flows
            .get(&(
                self.region.to_string(),
                instance_id.to_string(),
                flow_id.to_string(),
            ))
            .cloned())
    }

    async fn module_content(
        &self,
        instance_id: &str,
        module_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        self.pace("DescribeContactFlowModule").await?;
        let w = self.call("DescribeContactFlowModule", module_id)?;
        Ok(w.modules
            .get(&(
                self.region.to_string(),
                instance_id.to_string(),
                module_id.to_string(),
            ))
            .cloned())
    }

    async fn list_lambda_functions(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        self.pace("ListLambdaFunctions").await?;
        let w = self.call("ListLambdaFunctions", instance_id)?;
        Ok(w.lambdas.get(instance_id).cloned().unwrap_or_default())
    }

    async fn list_lex_bots(&self, instance_id: &str) -> Result<Vec<LexBotRef>, ConnectError> {
        self.pace("ListBots").await?;
        let w = self.call("ListBots", instance_id)?;
        Ok(w.lex_bots.get(instance_id).cloned().unwrap_or_default())
    }

    async fn list_test_cases(&self, instance_id: &str) -> Result<Vec<TestCase>, ConnectError> {
        self.pace("ListTestCases").await?;
        let w = self.call("ListTestCases", instance_id)?;
        Ok(w.test_cases
            .get(&(self.region.to_string(), instance_id.to_string()))
            .map(|all| {
                all.iter()
                    .map(|t| TestCase {
                        tags: Default::default(),
                        ..t.clone()
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn describe_test_case(
        &self,
        instance_id: &str,
        test_case_id: &str,
    ) -> Result<Option<TestCase>, ConnectError> {
        self.pace("DescribeTestCase").await?;
        let w = self.call("DescribeTestCase", test_case_id)?;
        Ok(w.test_cases
            .get(&(self.region.to_string(), instance_id.to_string()))
            .and_then(|all| all.iter().find(|t| t.id == test_case_id).cloned()))
    }

    /// The execution's ID is the token: the same token starts one execution.
    async fn start_test_case(
        &self,
        _instance_id: &str,
        test_case_id: &str,
        client_token: &str,
    ) -> Result<String, ConnectError> {
        self.pace("StartTestCaseExecution").await?;
        let mut w = self.call("StartTestCaseExecution", test_case_id)?;
        let id = format!("{}-{client_token}", self.region);
        w.test_runs.entry(id.clone()).or_insert((
            self.region.to_string(),
            test_case_id.to_string(),
            0,
        ));
        Ok(id)
    }

    /// INITIATED at the first read, IN_PROGRESS at the second, then the scripted outcome.
    async fn test_case_run(
        &self,
        _instance_id: &str,
        _test_case_id: &str,
        execution_id: &str,
    ) -> Result<TestCaseRun, ConnectError> {
        const OPERATION: &str = "GetTestCaseExecutionSummary";
        self.pace(OPERATION).await?;
        let mut w = self.call(OPERATION, execution_id)?;
        let Some((region, test_case, reads)) = w.test_runs.get_mut(execution_id) else {
            return Err(self.err(OPERATION, "ResourceNotFoundException", "no such execution"));
        };
        *reads += 1;
        let (reads, key) = (*reads, (region.clone(), test_case.clone()));
        let (status, failures) = w
            .test_outcomes
            .get(&key)
            .cloned()
            .unwrap_or_else(|| ("PASSED".into(), Vec::new()));
        let status = match reads {
            1 => "INITIATED".to_string(),
            2 => "IN_PROGRESS".to_string(),
            _ => status,
        };
        let failed = if status == "FAILED" {
            failures.len()
        } else {
            0
        };
        Ok(TestCaseRun {
            status,
            observations: u32::try_from(failures.len().max(1)).unwrap_or(1),
            observations_failed: u32::try_from(failed).unwrap_or(0),
        })
    }

    async fn test_case_failures(
        &self,
        _instance_id: &str,
        _test_case_id: &str,
        execution_id: &str,
    ) -> Result<Vec<String>, ConnectError> {
        self.pace("ListTestCaseExecutionRecords").await?;
        let w = self.call("ListTestCaseExecutionRecords", execution_id)?;
        let Some((region, test_case, _)) = w.test_runs.get(execution_id) else {
            return Ok(Vec::new());
        };
        Ok(w.test_outcomes
            .get(&(region.clone(), test_case.clone()))
            .filter(|(status, _)| status == "FAILED")
            .map(|(_, f)| f.clone())
            .unwrap_or_default())
    }

    async fn list_approved_origins(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        self.pace("ListApprovedOrigins").await?;
        let w = self.call("ListApprovedOrigins", instance_id)?;
        Ok(w.approved_origins
            .get(&(self.region.to_string(), instance_id.to_string()))
            .cloned()
            .unwrap_or_default())
    }

    async fn list_applications(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        self.pace("ListIntegrationAssociations").await?;
        let w = self.call("ListIntegrationAssociations", instance_id)?;
        Ok(w.applications
            .get(&(self.region.to_string(), instance_id.to_string()))
            .cloned()
            .unwrap_or_default())
    }

    /// One logged call per 100 numbers.
    async fn flow_associations(
        &self,
        _instance_id: &str,
        numbers: &[String],
    ) -> Result<Vec<(String, String)>, ConnectError> {
        let mut out = Vec::new();
        for chunk in numbers.chunks(100) {
            self.pace("BatchGetFlowAssociation").await?;
            let w = self.call("BatchGetFlowAssociation", &chunk.len().to_string())?;
            let here = w.number_flows.get(self.region.as_str());
            out.extend(
                here.into_iter()
                    .flatten()
                    .filter(|(n, _)| chunk.contains(n))
                    .cloned(),
            );
        }
        Ok(out)
    }

    async fn get_routing(&self, instance_id: &str) -> Result<Option<RoutingState>, ConnectError> {
        self.pace("GetCrossRegionRouting").await?;
        let w = self.call("GetCrossRegionRouting", instance_id)?;
        Ok(w.routing.get(instance_id).cloned())
    }

    async fn update_routing(
        &self,
        instance_id: &str,
        isolated_all: bool,
    ) -> Result<(), ConnectError> {
        self.pace("UpdateCrossRegionRouting").await?;
        let mut w = self.call("UpdateCrossRegionRouting", instance_id)?;
        let regions: Vec<String> = w
            .instances
            .keys()
            .filter(|(_, id)| id == instance_id)
            .map(|(r, _)| r.clone())
            .collect();
        let Some(state) = w.routing.get_mut(instance_id) else {
            return Err(self.err(
                "UpdateCrossRegionRouting",
                "InvalidRequestException",
                "This operation is available only for Amazon Connect Global Resiliency instances enabled for global routing.",
            ));
        };
        state.isolated_regions = if isolated_all { regions } else { Vec::new() };
        state.isolated_regions.sort();
        Ok(())
    }
}
