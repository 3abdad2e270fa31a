//! The fake's world, shared by both regions' clients, and the builder a test sets it up with.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::connect::{
    CurrentDistribution, Findings, GroupStatus, GroupSummary, IdentityType, InstanceInfo,
    InstanceStatus, LexBotRef, RegionStatus, ReplicationInfo, ResourceSummary,
};
use crate::domain::{Kind, Region};

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
    /// Keyed by (instance ID, resource type).
    pub findings: HashMap<(String, String), Findings>,
    /// The resource types ListReplicationFindings accepts; empty: every type.
    pub finding_types: Vec<String>,
    /// Test cases, keyed by (region, instance ID).
    pub test_cases: HashMap<(String, String), Vec<crate::connect::TestCase>>,
    /// How a test case's executions end in a region, keyed by (region, test case ID): status and
    /// the failed observations' records (default PASSED, none).
    pub test_outcomes: HashMap<(String, String), (String, Vec<String>)>,
    /// Executions started, by ID: (region, test case ID, reads of their summary so far).
    pub test_runs: HashMap<String, (String, String, usize)>,
    /// Approved origins and third-party application ARNs, keyed by (region, instance ID).
    pub approved_origins: HashMap<(String, String), Vec<String>>,
    pub applications: HashMap<(String, String), Vec<String>>,
    /// The flow each number points at, keyed by region: (number, flow ID).
    pub number_flows: HashMap<String, Vec<(String, String)>>,
    /// Cross-region routing of the instances enabled for global routing, by instance ID (one
    /// state for both regions).
    pub routing: HashMap<String, crate::domain::RoutingState>,
    /// Published flow contents, keyed by (region, instance ID, flow ID).
    pub flows: HashMap<(String, String, String), String>,
    /// Flow module contents, keyed by (region, instance ID, module ID).
    pub modules: HashMap<(String, String, String), String>,
    pub lambdas: HashMap<String, Vec<String>>,
    pub lex_bots: HashMap<String, Vec<LexBotRef>>,
    pub calls: Vec<FakeCall>,
    /// Scripted failures: the next calls of an operation fail with these codes (and HTTP
    /// statuses, when given), in order.
    pub failures: HashMap<&'static str, VecDeque<(String, Option<u16>)>>,
    /// The message of the scripted failures (default "scripted failure").
    pub failure_message: Option<String>,
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
    /// Each group's LastFailoverTime (a counter here), moved by every applied update.
    pub last_failover: HashMap<String, i64>,
    pub failover_clock: i64,
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
                status_reason: None,
                access_url: Some("https://acme.my.connect.aws".into()),
                replication,
            },
        );
        self
    }

    /// The instance enabled for global routing: region-subdomained access URLs, cross-region
    /// routing on.
    pub fn with_global_routing(mut self, instance_id: &str) -> FakeWorld {
        for ((region, id), info) in self.instances.iter_mut() {
            if id == instance_id {
                info.access_url = Some(format!("https://{region}.acme.my.connect.aws"));
            }
        }
        self.routing
            .insert(instance_id.to_string(), Default::default());
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

    /// The next `times` calls of `operation` fail with `code`, classified by the code alone.
    /// An update of the group applied: its LastFailoverTime moves.
    pub fn moved(&mut self, arn: &str) {
        self.failover_clock += 1;
        self.last_failover
            .insert(arn.to_string(), 1_000 * self.failover_clock);
    }

    pub fn fail_next(&mut self, operation: &'static str, code: &str, times: usize) {
        let q = self.failures.entry(operation).or_default();
        q.extend(std::iter::repeat_n((code.to_string(), None), times));
    }

    /// The next `times` calls of `operation` fail with `code` and the HTTP `status`, classified
    /// as the SDK adapter classifies them (a code outside Connect's model by its status).
    pub fn fail_next_status(
        &mut self,
        operation: &'static str,
        code: &str,
        status: u16,
        times: usize,
    ) {
        let q = self.failures.entry(operation).or_default();
        q.extend(std::iter::repeat_n((code.to_string(), Some(status)), times));
    }
}
