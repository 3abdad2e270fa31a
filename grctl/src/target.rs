//! Which deployment grctl talks to: the SAM stack's outputs in each region of the pair (or the
//! same members from a JSON file), and one set of clients per region, each with a short timeout
//! so that a region that does not answer is named instead of waited on.

use std::collections::BTreeMap;
use std::time::Duration;

use acgr::connect::pace::{self, Pacer, Policy};
use acgr::connect::sdk::SdkConnect;
use acgr::domain::{paired_region, Region};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use serde::{Deserialize, Serialize};

use crate::exit::{CliError, Exit};

/// How grctl reaches AWS: the AWS CLI's settings, and the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: Option<String>,
    /// The region asked first (the profile's or `AWS_REGION` when absent).
    pub region: Option<String>,
    /// The SAM stack's name in each region (required without a deployment file).
    pub stack: Option<String>,
    /// A deployment file instead of the stacks' outputs.
    pub deployment_file: Option<std::path::PathBuf>,
    /// Every service but Connect of a region at another endpoint (`REGION=URL`).
    pub endpoints: BTreeMap<String, String>,
    /// One attempt's limit against a region.
    pub timeout: Duration,
}

/// What one region's stack outputs say (`template.yaml` Outputs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionDeployment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_state_machine_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_state_machine_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_sync_state_machine_arn: Option<String>,
}

/// The deployment of one instance across its pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub instance_id: String,
    pub source_region: String,
    pub replica_region: String,
    pub run_table_name: String,
    /// By region; a region whose stack did not answer is absent.
    pub regions: BTreeMap<String, RegionDeployment>,
}

/// The clients of one region.
pub struct Clients {
    pub region: Region,
    pub sfn: aws_sdk_sfn::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub connect: SdkConnect,
}

/// The deployment and the clients of both regions.
pub struct Target {
    pub deployment: Deployment,
    pub source: Clients,
    pub replica: Clients,
    /// Regions whose stack could not be read, with why.
    pub unreachable: BTreeMap<String, String>,
}

impl Target {
    /// The regions, the given one first.
    pub fn regions_from(&self, first: &str) -> Vec<&Clients> {
        let mut all = vec![&self.source, &self.replica];
        all.sort_by_key(|c| c.region.as_str() != first);
        all
    }
}

async fn base_config(s: &Settings, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(s.timeout)
                .connect_timeout(s.timeout)
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2));
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

async fn clients(s: &Settings, region: &Region) -> (Clients, aws_sdk_cloudformation::Client) {
    let conf = base_config(s, region.as_str()).await;
    let endpoint = s.endpoints.get(region.as_str());
    macro_rules! client {
        ($sdk:ident) => {{
            let mut b = $sdk::config::Builder::from(&conf);
            if let Some(url) = endpoint {
                b = b.endpoint_url(url);
            }
            $sdk::Client::from_conf(b.build())
        }};
    }
    let policy = Policy {
        max_attempts: 2,
        attempt_timeout: s.timeout,
        ..Policy::default()
    };
    let connect =
        pace::connect_config(&conf, region, &policy, std::sync::Arc::new(Pacer::new(1.0)));
    (
        Clients {
            region: region.clone(),
            sfn: client!(aws_sdk_sfn),
            dynamodb: client!(aws_sdk_dynamodb),
            connect: SdkConnect::new(aws_sdk_connect::Client::from_conf(connect), region.clone()),
        },
        client!(aws_sdk_cloudformation),
    )
}

/// Why a region's stack could not be read.
#[derive(Debug, Clone, PartialEq)]
enum Unread {
    /// No answer (a timeout, a refused connection): the region may be down.
    NoAnswer(String),
    /// The region answered that there is no such stack.
    NoStack(String),
    /// Any other refusal (credentials, permissions).
    Refused(String),
}

impl Unread {
    fn message(&self) -> &str {
        match self {
            Unread::NoAnswer(m) | Unread::NoStack(m) | Unread::Refused(m) => m,
        }
    }
}

/// The stack's outputs in one region, as name → value.
async fn outputs(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<BTreeMap<String, String>, Unread> {
    use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    let out = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            let text = DisplayErrorContext(&e).to_string();
            match &e {
                SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Unread::NoAnswer(text),
                _ if e.message().is_some_and(|m| m.contains("does not exist")) => {
                    Unread::NoStack(text)
                }
                _ => Unread::Refused(text),
            }
        })?;
    let stack = out
        .stacks()
        .first()
        .ok_or_else(|| Unread::NoStack("no such stack".into()))?;
    Ok(stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect())
}

fn region_deployment(o: &BTreeMap<String, String>) -> RegionDeployment {
    RegionDeployment {
        replication_state_machine_arn: o.get("ReplicationStateMachineArn").cloned(),
        failover_state_machine_arn: o.get("FailoverStateMachineArn").cloned(),
        agent_sync_state_machine_arn: o.get("AgentSyncStateMachineArn").cloned(),
    }
}

fn parse_region(r: &str) -> Result<Region, CliError> {
    Region::parse(r).map_err(|e| CliError::new(Exit::Usage, e.to_string()))
}

/// Reads the deployment (the file, or the stacks of both regions at once) and builds the clients.
pub async fn resolve(s: &Settings) -> Result<Target, CliError> {
    if let Some(path) = &s.deployment_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::new(Exit::Usage, format!("{}: {e}", path.display())))?;
        let deployment: Deployment = serde_json::from_str(&text)
            .map_err(|e| CliError::new(Exit::Usage, format!("{}: {e}", path.display())))?;
        let source = parse_region(&deployment.source_region)?;
        let replica = parse_region(&deployment.replica_region)?;
        let ((source, _), (replica, _)) = tokio::join!(clients(s, &source), clients(s, &replica));
        return Ok(Target {
            deployment,
            source,
            replica,
            unreachable: BTreeMap::new(),
        });
    }
    let Some(stack) = s.stack.as_deref() else {
        return Err(CliError::new(
            Exit::Usage,
            "which deployment? pass --stack NAME (make deploy names it acgr-<instance id>; or \
             set GRCTL_STACK) or --deployment FILE",
        ));
    };
    let home = match &s.region {
        Some(r) => r.clone(),
        // the profile's region, as the AWS CLI takes it
        None => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(p) = &s.profile {
                loader = loader.profile_name(p);
            }
            loader
                .load()
                .await
                .region()
                .map(|r| r.to_string())
                .ok_or_else(|| {
                    CliError::new(
                        Exit::Usage,
                        "no region: pass --region, set AWS_REGION or the profile's region",
                    )
                })?
        }
    };
    let home = parse_region(&home)?;
    let other = paired_region(&home).ok_or_else(|| {
        CliError::new(
            Exit::Usage,
            format!("{home} is not a region of a Connect Global Resiliency pair"),
        )
    })?;
    let ((home_clients, home_cfn), (other_clients, other_cfn)) =
        tokio::join!(clients(s, &home), clients(s, &other));
    let (home_out, other_out) = tokio::join!(outputs(&home_cfn, stack), outputs(&other_cfn, stack));
    let mut unreachable = BTreeMap::new();
    let mut unread = Vec::new();
    let mut regions = BTreeMap::new();
    let mut first: Option<BTreeMap<String, String>> = None;
    for (region, out) in [(&home, home_out), (&other, other_out)] {
        match out {
            Ok(o) => {
                regions.insert(region.to_string(), region_deployment(&o));
                first.get_or_insert(o);
            }
            Err(e) => {
                unreachable.insert(region.to_string(), e.message().to_string());
                unread.push(e);
            }
        }
    }
    let Some(o) = first else {
        // a region that says there is no such stack is a wrong name, not an outage
        let exit = if unread.iter().any(|u| matches!(u, Unread::NoStack(_))) {
            Exit::Usage
        } else if unread.iter().all(|u| matches!(u, Unread::NoAnswer(_))) {
            Exit::Unreachable
        } else {
            Exit::Failed
        };
        return Err(CliError::new(
            exit,
            format!(
                "the stack {stack} could be read in neither {home} nor {other}: {}",
                unreachable
                    .iter()
                    .map(|(r, e)| format!("{r}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    };
    let get = |k: &str| {
        o.get(k).cloned().ok_or_else(|| {
            CliError::new(
                Exit::Usage,
                format!("the stack {stack} has no output {k}: is it this project's?"),
            )
        })
    };
    let deployment = Deployment {
        instance_id: get("InstanceId")?,
        source_region: get("SourceRegion")?,
        replica_region: get("ReplicaRegion")?,
        run_table_name: get("RunTableName")?,
        regions,
    };
    let (source, replica) = if deployment.source_region == home.as_str() {
        (home_clients, other_clients)
    } else {
        (other_clients, home_clients)
    };
    Ok(Target {
        deployment,
        source,
        replica,
        unreachable,
    })
}

impl Clients {
    /// The run table of this region, read through the store's own queries.
    pub fn run_table(&self, name: &str) -> acgr::store::dynamo::DynamoRunStore {
        acgr::store::dynamo::DynamoRunStore::new(self.dynamodb.clone(), name)
    }
}
