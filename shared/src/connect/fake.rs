//! An in-memory `Connect` for unit tests: both regions share one world that a test sets up
//! directly, every call is logged, and failures can be scripted per operation.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    Connect, CurrentDistribution, Findings, GroupStatus, GroupSummary, IdentityType, InstanceInfo,
    InstanceStatus, LexBotRef, RegionStatus, ReplicationInfo, ResourceSummary, UserPage,
};
use crate::deadline;
use crate::domain::{Kind, Region, TrafficPlan};
use crate::error::{ConnectError, ConnectErrorClass};
use crate::pace::Pacer;

/// An ACTIVE group of `instance_id` (account 1) at home in `home`, named and identified `id`.
pub fn group(home: &str, instance_id: &str, id: &str, is_default: bool) -> GroupSummary {
    GroupSummary {
        id: id.into(),
        arn: format!("arn:aws:connect:{home}:1:traffic-distribution-group/{id}"),
        name: id.into(),
        instance_arn: format!("arn:aws:connect:{home}:1:instance/{instance_id}"),
        status: GroupStatus::Active,
        is_default,
    }
}

fn summary(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

/// The pages a listing of `items` takes at `page_size`: at least one.
fn pages(items: usize, page_size: i32) -> usize {
    let size = usize::try_from(page_size.max(1)).unwrap_or(1);
    items.div_ceil(size).max(1)
}

/// One logged call: region, operation, and the main argument.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeCall {
    pub region: String,
    pub operation: &'static str,
    pub target: String,
}

#[derive(Default, Debug)]
pub struct FakeWorld {
    /// Keyed by (region, instance ID).
    pub instances: HashMap<(String, String), InstanceInfo>,
    /// Groups with their home and other region; visible from both.
    pub groups: Vec<(String, String, GroupSummary)>,
    pub distributions: HashMap<String, CurrentDistribution>,
    pub group_users: HashMap<String, BTreeSet<String>>,
    /// Keyed by (region, instance ID, kind).
    pub resources: HashMap<(String, String, Kind), Vec<ResourceSummary>>,
    pub findings: HashMap<(String, Kind), Findings>,
    /// Published flow contents, keyed by (region, instance ID, flow ID).
    pub flows: HashMap<(String, String, String), String>,
    /// Flow module contents, keyed by (region, instance ID, module ID).
    pub modules: HashMap<(String, String, String), String>,
    pub lambdas: HashMap<String, Vec<String>>,
    pub lex_bots: HashMap<String, Vec<LexBotRef>>,
    pub calls: Vec<FakeCall>,
    /// Scripted failures: the next calls of an operation fail with these codes, in order.
    pub failures: HashMap<&'static str, VecDeque<String>>,
    /// Replications requested: (instance, replica region, client token).
    pub replicate_requests: Vec<(String, String, String)>,
    /// Reads (DescribeTrafficDistributionGroup) during which an update stays
    /// `UPDATE_IN_PROGRESS` before it applies; 0 applies it at once.
    pub settle_reads: usize,
    /// Someone else's update of a group (by ARN), landing after that many more reads of it.
    pub moved_after_reads: HashMap<String, (usize, CurrentDistribution)>,
    /// Regions in an outage: every call there fails with ServiceUnavailableException.
    pub down: BTreeSet<String>,
    /// Updates being applied, by group ARN: reads left, and the distribution they apply.
    pub pending: HashMap<String, (usize, CurrentDistribution)>,
}

impl FakeWorld {
    /// An instance in `region` only, not replicated (account 1): ACTIVE, SAML, alias `acme`.
    pub fn instance(instance_id: &str, region: &str) -> FakeWorld {
        FakeWorld::default().with_instance(instance_id, region, None)
    }

    /// An instance in `source` replicated to `replica` (same ID, account 1): ACTIVE, SAML, with
    /// an alias, each region's replication status `status`.
    pub fn replicated(instance_id: &str, source: &str, replica: &str, status: &str) -> FakeWorld {
        let replication = ReplicationInfo {
            source_region: Region::parse(source).ok(),
            statuses: [source, replica]
                .iter()
                .map(|r| RegionStatus {
                    region: r.to_string(),
                    status: status.into(),
                    reason: None,
                })
                .collect(),
            global_sign_in_endpoint: None,
        };
        [source, replica]
            .iter()
            .fold(FakeWorld::default(), |w, region| {
                w.with_instance(instance_id, region, Some(replication.clone()))
            })
    }

    fn with_instance(
        mut self,
        instance_id: &str,
        region: &str,
        replication: Option<ReplicationInfo>,
    ) -> FakeWorld {
        self.instances.insert(
            (region.to_string(), instance_id.to_string()),
            InstanceInfo {
                id: instance_id.to_string(),
                arn: format!("arn:aws:connect:{region}:1:instance/{instance_id}"),
                alias: Some("acme".into()),
                identity: Some(IdentityType::Saml),
                status: Some(InstanceStatus::Active),
                replication,
            },
        );
        self
    }

    /// Flows (`(id, name, published content)`) of an instance in one region.
    pub fn with_flows(
        mut self,
        region: &str,
        instance_id: &str,
        flows: &[(&str, &str, Option<&str>)],
    ) -> FakeWorld {
        let listed: Vec<ResourceSummary> = flows
            .iter()
            .map(|(id, name, _)| summary(id, name))
            .collect();
        self.resources.insert(
            (region.into(), instance_id.into(), Kind::ContactFlows),
            listed,
        );
        for (id, _, content) in flows {
            let Some(content) = content else { continue };
            self.flows.insert(
                (region.into(), instance_id.into(), id.to_string()),
                content.to_string(),
            );
        }
        self
    }

    /// Flow modules (`(id, name, content)`) of an instance in one region.
    pub fn with_modules(
        mut self,
        region: &str,
        instance_id: &str,
        modules: &[(&str, &str, &str)],
    ) -> FakeWorld {
        let listed: Vec<ResourceSummary> = modules
            .iter()
            .map(|(id, name, _)| summary(id, name))
            .collect();
        self.resources.insert(
            (region.into(), instance_id.into(), Kind::ContactFlowModules),
            listed,
        );
        for (id, _, content) in modules {
            self.modules.insert(
                (region.into(), instance_id.into(), id.to_string()),
                content.to_string(),
            );
        }
        self
    }

    /// The Lambda functions associated with an instance.
    pub fn with_lambdas(mut self, instance_id: &str, arns: &[&str]) -> FakeWorld {
        self.lambdas.insert(
            instance_id.into(),
            arns.iter().map(|a| a.to_string()).collect(),
        );
        self
    }

    /// The same resources of `kind` in every region that holds the instance.
    pub fn with_everywhere(
        mut self,
        instance_id: &str,
        kind: Kind,
        resources: &[ResourceSummary],
    ) -> FakeWorld {
        let regions: Vec<String> = self
            .instances
            .keys()
            .filter(|(_, id)| id == instance_id)
            .map(|(r, _)| r.clone())
            .collect();
        for region in regions {
            self.resources
                .insert((region, instance_id.to_string(), kind), resources.to_vec());
        }
        self
    }

    /// `resources` of `kind` in one region.
    pub fn with_resources(
        mut self,
        region: &str,
        instance_id: &str,
        kind: Kind,
        resources: &[ResourceSummary],
    ) -> FakeWorld {
        self.resources.insert(
            (region.into(), instance_id.into(), kind),
            resources.to_vec(),
        );
        self
    }

    /// A traffic distribution group at home in `home`, visible from `other` too.
    pub fn with_group(mut self, home: &str, other: &str, group: GroupSummary) -> FakeWorld {
        self.groups.push((home.into(), other.into(), group));
        self
    }

    /// A context over this world: Connect clients for `source` and `replica`, a memory store.
    pub fn context(
        self,
        source: &str,
        replica: &str,
    ) -> Result<crate::Context<FakeConnect, crate::store::memory::MemoryRunStore>, crate::StepError>
    {
        let world = Arc::new(Mutex::new(self));
        Ok(crate::Context {
            source: FakeConnect::new(Region::parse(source)?, world.clone()),
            replica: FakeConnect::new(Region::parse(replica)?, world),
            store: Default::default(),
            lease_seconds: 900,
        })
    }

    pub fn users(&self, region: &str, instance: &str) -> &[ResourceSummary] {
        self.resources
            .get(&(region.to_string(), instance.to_string(), Kind::Users))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn calls_of(&self, operation: &str) -> Vec<&FakeCall> {
        self.calls
            .iter()
            .filter(|c| c.operation == operation)
            .collect()
    }

    pub fn fail_next(&mut self, operation: &'static str, code: &str, times: usize) {
        let q = self.failures.entry(operation).or_default();
        q.extend(std::iter::repeat_n(code.to_string(), times));
    }
}

/// A view of the fake world from one region.
#[derive(Clone, Debug)]
pub struct FakeConnect {
    region: Region,
    pub world: Arc<Mutex<FakeWorld>>,
    /// When set, every call takes its operation's token first, as the SDK client's do
    /// (`acgr::pace`), bounded by the task's deadline.
    pacer: Option<Arc<Pacer>>,
}

impl FakeConnect {
    pub fn new(region: Region, world: Arc<Mutex<FakeWorld>>) -> Self {
        FakeConnect {
            region,
            world,
            pacer: None,
        }
    }

    /// Paced like the SDK clients: a token per call from `pacer`.
    pub fn paced(mut self, pacer: Arc<Pacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    async fn pace(&self, operation: &'static str) -> Result<(), ConnectError> {
        let Some(pacer) = &self.pacer else {
            return Ok(());
        };
        if pacer.bucket(operation).acquire(deadline::current()).await {
            Ok(())
        } else {
            Err(ConnectError {
                operation,
                region: self.region.to_string(),
                class: ConnectErrorClass::OutOfTime,
                code: "OutOfTime".into(),
                message: "its turn under the quota comes after the deadline".into(),
            })
        }
    }

    pub fn world(&self) -> MutexGuard<'_, FakeWorld> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn call(
        &self,
        operation: &'static str,
        target: &str,
    ) -> Result<MutexGuard<'_, FakeWorld>, ConnectError> {
        let mut w = self.world();
        w.calls.push(FakeCall {
            region: self.region.to_string(),
            operation,
            target: target.to_string(),
        });
        if w.down.contains(self.region.as_str()) {
            return Err(self.err(operation, "ServiceUnavailableException", "regional outage"));
        }
        if let Some(code) = w.failures.get_mut(operation).and_then(VecDeque::pop_front) {
            let e = self.err(operation, &code, "scripted failure");
            if let (ConnectErrorClass::Throttled, Some(pacer)) = (e.class, &self.pacer) {
                pacer.bucket(operation).drain();
            }
            return Err(e);
        }
        Ok(w)
    }

    fn err(&self, operation: &'static str, code: &str, message: &str) -> ConnectError {
        ConnectError {
            operation,
            region: self.region.to_string(),
            class: ConnectErrorClass::from_code(code),
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    fn group<'w>(
        &self,
        w: &'w FakeWorld,
        group: &str,
        operation: &'static str,
    ) -> Result<&'w (String, String, GroupSummary), ConnectError> {
        w.groups
            .iter()
            .find(|(home, other, g)| {
                (g.arn == group
                    && (*home == self.region.as_str() || *other == self.region.as_str()))
                    || (g.id == group && *home == self.region.as_str())
            })
            .ok_or_else(|| self.err(operation, "ResourceNotFoundException", "no such group here"))
    }
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

    async fn get_distribution(&self, group: &str) -> Result<CurrentDistribution, ConnectError> {
        self.pace("GetTrafficDistribution").await?;
        let mut w = self.call("GetTrafficDistribution", group)?;
        let arn = self
            .group(&w, group, "GetTrafficDistribution")?
            .2
            .arn
            .clone();
        let read = w.distributions.get(&arn).cloned().unwrap_or_default();
        if let Some((left, next)) = w.moved_after_reads.remove(&arn) {
            if left <= 1 {
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
        if g.status == GroupStatus::UpdateInProgress {
            return Err(self.err(
                "UpdateTrafficDistribution",
                "ResourceConflictException",
                "another update is being applied",
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

    async fn list_group_users(&self, group: &str) -> Result<Vec<String>, ConnectError> {
        self.pace("ListTrafficDistributionGroupUsers").await?;
        let w = self.call("ListTrafficDistributionGroupUsers", group)?;
        let arn = self
            .group(&w, group, "ListTrafficDistributionGroupUsers")?
            .2
            .arn
            .clone();
        Ok(w.group_users
            .get(&arn)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// One logged call per page of [`super::max_page_size`] (`ListResources`, the kind as
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
        for _ in 0..pages(all.len(), super::max_page_size(kind)) {
            self.pace(super::list_operation(kind)).await?;
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

    /// One logged call per page of [`super::FINDINGS_PAGE_SIZE`] findings.
    async fn list_findings(&self, instance_id: &str, kind: Kind) -> Result<Findings, ConnectError> {
        let found = {
            let w = self.world();
            w.findings
                .get(&(instance_id.to_string(), kind))
                .cloned()
                .unwrap_or_default()
        };
        for _ in 0..pages(found.findings.len(), super::FINDINGS_PAGE_SIZE) {
            self.pace("ListReplicationFindings").await?;
            drop(self.call("ListReplicationFindings", kind.finding_type())?);
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
}
