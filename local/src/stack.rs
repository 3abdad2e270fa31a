//! The whole local stack on loopback, for the end-to-end tests and the rehearsal: `connect-sim`
//! (both Connect regions), and per region a *deployment* of the orchestrator: `moto_server`
//! (DynamoDB and, when asked, Step Functions executing the deployed ASL), `cargo lambda watch`'s
//! Lambda APIs with one runtime process per step function, and the [`lambda-adapter`](crate) in
//! front of moto so that moto's state machines invoke those functions.
//!
//! One region ([`Options::new`], [`Options::state_machines`]): the source region's deployment
//! only. Two regions ([`Options::two_regions`]): the failover path deployed in both regions of the
//! pair, as in AWS: in the source region every function and the three machines, in the replica
//! region shift-traffic and incident-intake and the failover machine, each deployment with its own
//! moto (its own `acgr-runs-e2e` table, in its region), adapter, watch and function processes
//! (`AWS_REGION`, `DEPLOYMENT_REGION`, the DynamoDB and Step Functions endpoints and
//! `FAILOVER_STATE_MACHINE_ARN` of their region). The two tables are replicas of one global
//! table, kept converging by [`crate::replication`]. [`Stack::region_down`] stages a region
//! outage: connect-sim's API of that region fails (`PUT /_sim/regions/{region}`), replication to
//! and from it stops, its functions, watch and adapter are killed and its moto is frozen
//! (SIGSTOP: the table survives as a region's storage does, and a call to it hangs instead of
//! being refused); [`Stack::region_up`] undoes it.
//!
//! Build decision: `cargo lambda watch` normally runs `cargo run --bin <fn>` on the first invoke.
//! Inside a test that means a nested cargo that can compile for minutes (or wait on the
//! target-dir lock held by another build), and `cargo run -p <fn>` unifies features differently
//! from `cargo build --workspace`, so it may rebuild dependencies. So the watch runs with
//! `--only-lambda-apis` (it serves the Invoke and Runtime APIs only) and the stack starts the
//! prebuilt `target/<profile>/<fn>` binaries itself, one runtime process per function, pointed at
//! the watch's runtime API. `scripts/test.sh` and `scripts/rehearse.sh` build them first (`cargo
//! build --workspace --bins`; `cargo test` does not produce the binaries of packages without
//! integration tests); a missing binary or one older than its sources is rebuilt once, here,
//! with the same command.
//!
//! Step Functions: moto's interpreter invokes Lambda at `http://localhost:$MOTO_PORT`, so moto
//! starts with `MOTO_PORT` set to the adapter's port; the adapter forwards invocations to the
//! watch and everything else to moto. Then execution is switched on (`/moto-api/config`), an IAM
//! role is created, the functions are registered, and the machines are created from
//! `statemachine/*.asl.json` with the template's substitutions for the region ([`crate::sfn`]).
//!
//! Every process listens on 127.0.0.1, on a free port, and is killed by PID and waited for when
//! the [`Stack`] is dropped, also when a test panics. Process output goes to
//! `target/e2e-logs/<stack>/` (with two regions, prefixed by the region; a restart after an outage
//! adds `.1`, `.2`, ...); a failing test prints its tail.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::Value;

use crate::build::ensure_built;
use crate::deployment::{Ctx, Deployment};
pub use crate::http::http;
use crate::process::{wait_for_line, Proc};
use crate::replication::Replicator;

pub const SOURCE_REGION: &str = "us-east-1";
pub const REPLICA_REGION: &str = "us-west-2";
pub const TABLE_NAME: &str = "acgr-runs-e2e";
/// The instance of the shipped scenarios (`sim/scenarios/*.json`).
pub const INSTANCE_ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `target/<profile>`: where this test executable's binaries live (`.../deps/<test>` -> `..`).
fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    let deps = exe.parent().context("test executable has no directory")?;
    let dir = if deps.ends_with("deps") {
        deps.parent().context("deps has no parent")?
    } else {
        deps
    };
    Ok(dir.to_path_buf())
}

/// A test event: `tests/events/<function>/<file>.json`.
pub fn event_path(function: &str, file: &str) -> PathBuf {
    workspace()
        .join("tests/events")
        .join(function)
        .join(format!("{file}.json"))
}

pub fn event(function: &str, file: &str) -> Value {
    let path = event_path(function, file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A function error as the Invoke API reports it: `{"errorType", "errorMessage"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// One item of the run table, with its `data` JSON parsed.
#[derive(Debug, Clone)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// The `data` attribute, parsed (Null when absent).
    pub data: Value,
    pub attributes: HashMap<String, AttributeValue>,
}

impl Item {
    pub(crate) fn from_map(attributes: HashMap<String, AttributeValue>) -> Item {
        let s = |k: &str| {
            attributes
                .get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let data = serde_json::from_str(&s("data")).unwrap_or(Value::Null);
        Item {
            pk: s("pk"),
            sk: s("sk"),
            data,
            attributes,
        }
    }
}

/// How to start a [`Stack`].
#[derive(Debug, Clone)]
pub struct Options {
    /// A scenario of `sim/scenarios/` by name.
    pub scenario: String,
    pub quota_factor: f64,
    pub time_scale: f64,
    /// The functions (binary names) to start a runtime process for (in the source region).
    pub functions: Vec<String>,
    pub lease_seconds: i64,
    /// Start Step Functions (moto executing the ASL, the adapter) and create the machines.
    pub state_machines: bool,
    /// Extra environment for every function process (after the stack's own).
    pub env: Vec<(String, String)>,
    /// A second deployment in the replica region with these functions (and, with
    /// `state_machines`, the failover machine only), the run table replicated between the two
    /// regions ([`crate::replication`]). None: the source region only.
    pub replica_functions: Option<Vec<String>>,
    /// How long a write takes at least to reach the other region's table.
    pub replication_lag: Duration,
}

/// Every step function, by binary name.
pub const ALL_FUNCTIONS: &[&str] = &[
    "preflight",
    "replicate",
    "poll-mirroring",
    "associate-agents",
    "shift-traffic",
];

/// The function that turns an incident event into a failover execution of its own region.
pub const INCIDENT_INTAKE: &str = "incident-intake";

/// What the replica region runs of a two-region deployment (with [`INCIDENT_INTAKE`]).
pub const REPLICA_FUNCTIONS: &[&str] = &["shift-traffic"];

/// The machines of the replica region's deployment.
pub const REPLICA_MACHINES: &[&str] = &["failover"];

/// [`INCIDENT_INTAKE`] if its crate is in the workspace.
fn incident_intake() -> Option<&'static str> {
    workspace()
        .join("functions")
        .join(INCIDENT_INTAKE)
        .join("Cargo.toml")
        .exists()
        .then_some(INCIDENT_INTAKE)
}

impl Options {
    /// `scenario` with quotas raised (so only deliberate tests meet throttling) and real time.
    pub fn new(scenario: &str, functions: &[&str]) -> Options {
        Options {
            scenario: scenario.to_string(),
            quota_factor: 100.0,
            time_scale: 1.0,
            functions: functions.iter().map(|f| f.to_string()).collect(),
            lease_seconds: 900,
            state_machines: false,
            env: Vec::new(),
            replica_functions: None,
            replication_lag: Duration::from_secs(1),
        }
    }

    /// Every function and the three state machines, with the simulated clock running
    /// `time_scale` times faster than real time (replica creation takes 300 simulated seconds).
    pub fn state_machines(scenario: &str, time_scale: f64) -> Options {
        Options {
            time_scale,
            state_machines: true,
            ..Options::new(scenario, ALL_FUNCTIONS)
        }
    }

    /// The failover path deployed in both regions: in the source region every function and the
    /// three machines; in the replica region shift-traffic and incident-intake and the failover
    /// machine; the run table replicated between them with a lag of 1 s. (incident-intake is left
    /// out while its crate is not in the workspace.)
    pub fn two_regions(scenario: &str, time_scale: f64) -> Options {
        let mut opts = Options::state_machines(scenario, time_scale);
        let mut replica: Vec<String> = REPLICA_FUNCTIONS.iter().map(|f| f.to_string()).collect();
        if let Some(f) = incident_intake() {
            opts.functions.push(f.to_string());
            replica.push(f.to_string());
        }
        opts.replica_functions = Some(replica);
        opts
    }

    /// Adds one environment variable for every function.
    pub fn env(mut self, name: &str, value: impl ToString) -> Options {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The replication lag of a two-region stack.
    pub fn replication_lag(mut self, lag: Duration) -> Options {
        self.replication_lag = lag;
        self
    }
}

/// How an execution ended.
#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` (or `RUNNING` while it runs).
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// How a region's Connect API fails during an outage (connect-sim's `/_sim/regions/{region}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every call fails at once (HTTP 503).
    Unavailable,
    /// Calls hang until the caller gives up.
    Timeout,
}

impl Outage {
    pub fn as_str(self) -> &'static str {
        match self {
            Outage::Unavailable => "unavailable",
            Outage::Timeout => "timeout",
        }
    }
}

/// connect-sim did not take a region outage change (the deployment side was staged anyway).
#[derive(Debug, Clone)]
pub struct SimRefused {
    pub region: String,
    pub status: u16,
    pub body: String,
}

impl std::fmt::Display for SimRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connect-sim refused the outage of {}: HTTP {}: {}",
            self.region, self.status, self.body
        )
    }
}

impl std::error::Error for SimRefused {}

/// The whole local stack of one test. Dropping it stops every process it started.
pub struct Stack {
    pub sim: SocketAddr,
    /// The source region's moto, watch (as started) and DynamoDB client.
    pub moto: SocketAddr,
    pub watch: SocketAddr,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub logs: PathBuf,
    ctx: Ctx,
    sim_proc: Proc,
    /// The source region's deployment first.
    deployments: Vec<Deployment>,
    replicator: Option<Replicator>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.replicator.take();
        // Functions first, then the servers they talk to.
        while let Some(d) = self.deployments.pop() {
            drop(d);
        }
        if std::thread::panicking() {
            self.sim_proc.dump();
        }
    }
}

static STACKS: AtomicUsize = AtomicUsize::new(0);

/// SDK configuration for the replicator: a frozen region fails a call in seconds, not never.
async fn replicator_config(server: SocketAddr, region: &str) -> aws_config::SdkConfig {
    local_config(server, region)
        .await
        .into_builder()
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .build()
}

impl Stack {
    /// Starts connect-sim and one deployment per region: moto (with the run table), `cargo
    /// lambda watch`, one runtime process per function, and with state machines the adapter and
    /// the machines; with two regions, the table replication.
    pub async fn start(opts: Options) -> Result<Stack> {
        let bins = bin_dir()?;
        let mut wanted: Vec<&str> = vec!["connect-sim"];
        wanted.extend(opts.functions.iter().map(String::as_str));
        wanted.extend(opts.replica_functions.iter().flatten().map(String::as_str));
        if opts.state_machines {
            wanted.push("lambda-adapter");
        }
        ensure_built(&bins, &wanted)?;

        let root = workspace();
        let logs = bins
            .parent()
            .unwrap_or(&bins)
            .join("e2e-logs")
            .join(format!(
                "{}-{}-{}",
                std::process::id(),
                STACKS.fetch_add(1, Ordering::SeqCst),
                std::thread::current()
                    .name()
                    .unwrap_or("stack")
                    .replace("::", "-")
            ));
        std::fs::create_dir_all(&logs)?;

        // connect-sim, for both regions: port 0, the address comes from its one stdout line.
        let scenario = root
            .join("sim/scenarios")
            .join(format!("{}.json", opts.scenario));
        let mut cmd = Command::new(bins.join("connect-sim"));
        cmd.arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--scenario")
            .arg(&scenario)
            .arg("--quota-factor")
            .arg(opts.quota_factor.to_string())
            .arg("--time-scale")
            .arg(opts.time_scale.to_string());
        let mut sim_proc = Proc::spawn("connect-sim", cmd, &logs)?;
        let sim = wait_for_line(&mut sim_proc, "listening on http://").await?;
        let sim: SocketAddr = sim.parse().with_context(|| format!("sim address {sim}"))?;

        let ctx = Ctx {
            bins,
            root,
            logs: logs.clone(),
            sim,
            two: opts.replica_functions.is_some(),
            opts,
        };
        let deployments = match &ctx.opts.replica_functions {
            None => vec![
                Deployment::start(
                    &ctx,
                    SOURCE_REGION,
                    &ctx.opts.functions,
                    crate::sfn::MACHINES,
                )
                .await?,
            ],
            Some(replica) => {
                // Both at once: each is its own set of processes.
                let (source, replica) = tokio::try_join!(
                    Deployment::start(
                        &ctx,
                        SOURCE_REGION,
                        &ctx.opts.functions,
                        crate::sfn::MACHINES
                    ),
                    Deployment::start(&ctx, REPLICA_REGION, replica, REPLICA_MACHINES),
                )?;
                vec![source, replica]
            }
        };
        let replicator = if ctx.two {
            let client = |d: &Deployment| {
                let (moto, region) = (d.moto, d.region.clone());
                async move {
                    let conf = replicator_config(moto, &region).await;
                    (region, aws_sdk_dynamodb::Client::new(&conf))
                }
            };
            let regions = [client(&deployments[0]).await, client(&deployments[1]).await];
            Some(Replicator::spawn(
                regions,
                TABLE_NAME,
                ctx.opts.replication_lag,
            ))
        } else {
            None
        };
        let source = &deployments[0];
        let stack = Stack {
            sim,
            moto: source.moto,
            watch: source.watch().await,
            dynamodb: source.dynamodb.clone(),
            logs,
            ctx,
            sim_proc,
            deployments,
            replicator,
        };
        if stack.ctx.opts.state_machines {
            stack.prepare_replica_region(&scenario).await?;
        }
        Ok(stack)
    }

    /// What a platform team does before replicating: deploy the instance's Lambda functions in
    /// the replica region under the same names (here, in every deployment's moto: the source
    /// region's answers preflight's replica-region check).
    pub async fn prepare_replica_region(&self, scenario: &Path) -> Result<()> {
        let text = std::fs::read_to_string(scenario)
            .with_context(|| format!("read {}", scenario.display()))?;
        let scenario: Value = serde_json::from_str(&text)?;
        let mut arns = Vec::new();
        collect_strings(&scenario, "lambdaFunctions", &mut arns);
        for d in &self.deployments {
            let lambda = aws_sdk_lambda::Client::new(&local_config(d.moto, REPLICA_REGION).await);
            for arn in &arns {
                let name = arn.rsplit(':').next().unwrap_or(arn);
                crate::sfn::create_function(&lambda, name, &d.role)
                    .await
                    .map_err(|e| anyhow!(e))?;
            }
        }
        Ok(())
    }

    /// The regions deployed, the source region first.
    pub fn regions(&self) -> Vec<&str> {
        self.deployments.iter().map(|d| d.region.as_str()).collect()
    }

    /// The deployment of a region. Panics if the stack has none there.
    pub fn deployment(&self, region: &str) -> &Deployment {
        self.deployments
            .iter()
            .find(|d| d.region == region)
            .unwrap_or_else(|| panic!("no deployment in {region}; regions: {:?}", self.regions()))
    }

    /// The table replication (two regions only).
    pub fn replicator(&self) -> Option<&Replicator> {
        self.replicator.as_ref()
    }

    /// Invokes a function through the Lambda Invoke API of the source region's watch.
    /// Panics on transport failures (the harness's, not the function's).
    pub async fn invoke(&mut self, function: &str, payload: Value) -> Result<Value, FunctionError> {
        self.deployments[0].invoke(function, payload).await
    }

    /// Invokes a function of a region's deployment (see [`Deployment::invoke`]).
    pub async fn invoke_in(
        &self,
        region: &str,
        function: &str,
        payload: Value,
    ) -> Result<Value, FunctionError> {
        self.deployment(region).invoke(function, payload).await
    }

    /// `cargo lambda invoke --data-file tests/events/<function>/<file>.json <function>`: the same
    /// path a developer takes by hand. Ok(output) or Err(the CLI's error text).
    pub async fn invoke_event_file(&self, function: &str, file: &str) -> Result<Value, String> {
        let watch = self.deployments[0].watch().await;
        let out = tokio::process::Command::new(workspace().join(".venv/bin/cargo-lambda"))
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .arg("--invoke-port")
            .arg(watch.port().to_string())
            .arg("--data-file")
            .arg(event_path(function, file))
            .args(["--output-format", "json", function])
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cargo lambda invoke: {e}"));
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            serde_json::from_str(text.trim()).map_err(|e| format!("not JSON ({e}): {text}"))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Takes a region down: connect-sim's Connect API of the region fails as `outage` says
    /// (`PUT /_sim/regions/{region}`), replication to and from the region stops, and its
    /// deployment stops (function processes, watch and adapter killed; moto frozen with SIGSTOP,
    /// keeping its table). If connect-sim refuses, the rest is staged all the same and the error
    /// is a [`SimRefused`].
    pub async fn region_down(&self, region: &str, outage: Outage) -> Result<()> {
        let d = self.deployment(region);
        let sim = self.sim_outage(region, Some(outage)).await;
        if let Some(r) = &self.replicator {
            // First, so that no pass is reading the region when its moto freezes.
            r.pause(region).await?;
        }
        d.stop(outage).await?;
        sim
    }

    /// Brings a region back: clears the sim outage (`{"outage": null}`), restarts its deployment
    /// (moto thawed with its data; the adapter on the same port; the watch on a new one, see
    /// [`Deployment::watch`]) and resumes replication, which then converges both tables. A
    /// [`SimRefused`] error comes after the rest is done.
    pub async fn region_up(&self, region: &str) -> Result<()> {
        let d = self.deployment(region);
        let sim = self.sim_outage(region, None).await;
        d.restart(&self.ctx).await?;
        if let Some(r) = &self.replicator {
            r.resume(region).await?;
        }
        sim
    }

    /// SIGKILLs `function`'s runtime process in `region`'s deployment wherever it is in its work,
    /// and starts a new one (as Lambda starts a new execution environment).
    pub async fn crash_function(&self, region: &str, function: &str) -> Result<()> {
        self.deployment(region)
            .crash_function(&self.ctx, function)
            .await
    }

    /// connect-sim's quota factor from now on (1: Connect's real quotas), with fresh buckets.
    pub async fn set_quota_factor(&self, factor: f64) -> Result<()> {
        let body = serde_json::json!({ "factor": factor }).to_string();
        let (status, text) = http(self.sim, "PUT", "/_sim/quota", Some(&body)).await?;
        if !(200..300).contains(&status) {
            bail!("connect-sim refused quota factor {factor}: HTTP {status}: {text}");
        }
        Ok(())
    }

    /// `PUT /_sim/regions/{region}` with `{"outage": ...}`.
    async fn sim_outage(&self, region: &str, outage: Option<Outage>) -> Result<()> {
        let body = serde_json::json!({ "outage": outage.map(Outage::as_str) }).to_string();
        let (status, text) = http(
            self.sim,
            "PUT",
            &format!("/_sim/regions/{region}"),
            Some(&body),
        )
        .await?;
        if !(200..300).contains(&status) {
            return Err(SimRefused {
                region: region.to_string(),
                status,
                body: text,
            }
            .into());
        }
        Ok(())
    }

    /// Waits until both regions' tables are equal and nothing is queued for replication.
    /// Fails at once while a region is down, and after `timeout`.
    pub async fn wait_replicated(&self, timeout: Duration) -> Result<()> {
        let r = self
            .replicator
            .as_ref()
            .context("a one-region stack has no replication")?;
        let deadline = Instant::now() + timeout;
        loop {
            if r.converged().await? {
                return Ok(());
            }
            if Instant::now() > deadline {
                let stats = r.stats().await;
                bail!("the tables did not converge in {timeout:?}; replicator: {stats:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every item of a region's run table, in key order.
    pub async fn items_in(&self, region: &str) -> Vec<Item> {
        self.deployment(region).items().await
    }

    /// StartExecution of a region's machine.
    pub async fn start_execution_in(
        &self,
        region: &str,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.deployment(region)
            .start_execution(machine, name, input)
            .await
    }

    /// DescribeExecution in a region.
    pub async fn describe_execution_in(&self, region: &str, arn: &str) -> Result<Execution> {
        self.deployment(region).describe_execution(arn).await
    }

    /// Waits until an execution of a region leaves RUNNING.
    pub async fn wait_execution_in(
        &self,
        region: &str,
        arn: &str,
        timeout: Duration,
    ) -> Result<Execution> {
        self.deployment(region).wait_execution(arn, timeout).await
    }

    async fn control(&self, method: &str, path: &str, body: Option<&str>) -> Value {
        let (status, text) = http(self.sim, method, path, body)
            .await
            .unwrap_or_else(|e| panic!("sim {method} {path}: {e:#}"));
        assert!(
            (200..300).contains(&status),
            "sim {method} {path}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The sim's call log, optionally of one operation.
    pub async fn sim_calls(&self, operation: Option<&str>) -> Vec<Value> {
        let path = match operation {
            Some(op) => format!("/_sim/calls?operation={op}"),
            None => "/_sim/calls".to_string(),
        };
        let v = self.control("GET", &path, None).await;
        match v {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("calls") {
                Some(Value::Array(a)) => a,
                _ => panic!("unexpected call log shape: {o:?}"),
            },
            other => panic!("unexpected call log: {other}"),
        }
    }

    pub async fn sim_state(&self) -> Value {
        self.control("GET", "/_sim/state", None).await
    }

    /// Moves the simulated clock forward, applying everything due.
    pub async fn advance_clock(&self, seconds: u64) -> Value {
        let body = serde_json::json!({ "seconds": seconds }).to_string();
        self.control("POST", "/_sim/clock/advance", Some(&body))
            .await
    }

    /// Every item of the (source region's) run table.
    pub async fn items(&self) -> Vec<Item> {
        self.deployments[0].items().await
    }

    /// The items of one instance (`pk = INSTANCE#{id}`), in sort-key order.
    pub async fn instance_items(&self, instance_id: &str) -> Vec<Item> {
        self.deployments[0].ensure_up("query");
        let out = self
            .dynamodb
            .query()
            .table_name(TABLE_NAME)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(format!("INSTANCE#{instance_id}")),
            )
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "query: {:?}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            });
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(Item::from_map)
            .collect()
    }

    /// The items of one instance whose sort key starts with `prefix` (`AGENT#`, `SHIFT#`, ...).
    pub async fn items_under(&self, instance_id: &str, prefix: &str) -> Vec<Item> {
        self.instance_items(instance_id)
            .await
            .into_iter()
            .filter(|i| i.sk.starts_with(prefix))
            .collect()
    }

    /// The calls of `operation` that Connect accepted (HTTP 200), in order.
    pub async fn accepted_calls(&self, operation: &str) -> Vec<Value> {
        self.sim_calls(Some(operation))
            .await
            .into_iter()
            .filter(|c| c["status"] == 200)
            .collect()
    }

    /// One item by key.
    pub async fn item(&self, instance_id: &str, sk: &str) -> Option<Item> {
        self.instance_items(instance_id)
            .await
            .into_iter()
            .find(|i| i.sk == sk)
    }
    /// A Connect client of `region` on connect-sim, as an operator's console or CLI would use.
    pub async fn connect(&self, region: &str) -> aws_sdk_connect::Client {
        aws_sdk_connect::Client::new(&local_config(self.sim, region).await)
    }

    /// The ARN of a state machine (of the source region) by name.
    pub fn machine(&self, name: &str) -> &str {
        self.deployments[0].machine(name)
    }

    /// The ARN of a state machine of a region by name.
    pub fn machine_in(&self, region: &str, name: &str) -> &str {
        self.deployment(region).machine(name)
    }

    /// StartExecution (source region): Ok(execution ARN) or Err(the error code, e.g.
    /// `ExecutionAlreadyExists`).
    pub async fn start_execution(
        &self,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.deployments[0]
            .start_execution(machine, name, input)
            .await
    }

    /// DescribeExecution (source region).
    pub async fn describe_execution(&self, arn: &str) -> Result<Execution> {
        self.deployments[0].describe_execution(arn).await
    }

    /// Waits until the execution (source region) leaves RUNNING.
    pub async fn wait_execution(&self, arn: &str, timeout: Duration) -> Result<Execution> {
        self.deployments[0].wait_execution(arn, timeout).await
    }

    /// The names of the states an execution (source region) entered, in order.
    pub async fn states_entered(&self, arn: &str) -> Result<Vec<String>> {
        self.deployments[0].states_entered(arn).await
    }
}

/// An SDK error of Step Functions as an error naming the operation.
pub(crate) fn sfn_failed<E: std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> anyhow::Error {
    move |e| {
        anyhow!(
            "{operation}: {}",
            aws_sdk_sfn::error::DisplayErrorContext(e)
        )
    }
}

/// An IAM role for the functions and machines (moto checks that a function's role exists).
pub(crate) async fn create_role(moto: SocketAddr) -> Result<String> {
    let name = "acgr-local";
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","states.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
    // IAM is global: moto keeps it under us-east-1.
    let iam = aws_sdk_iam::Client::new(&local_config(moto, SOURCE_REGION).await);
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await;
    match created {
        Ok(out) => Ok(out
            .role()
            .map(|r| r.arn().to_string())
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/{name}", crate::sfn::ACCOUNT))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_entity_already_exists_exception()) =>
        {
            Ok(format!("arn:aws:iam::{}:role/{name}", crate::sfn::ACCOUNT))
        }
        Err(e) => bail!(
            "IAM CreateRole: {}",
            aws_sdk_iam::error::DisplayErrorContext(e)
        ),
    }
}

/// SDK configuration for a local server (moto, connect-sim) in `region`.
pub(crate) async fn local_config(server: SocketAddr, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(format!("http://{server}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "AKIDE2ETEST",
            "e2e-secret",
            None,
            None,
            "e2e",
        ))
        .load()
        .await
}

/// Every string in the arrays named `key`, anywhere in `v`.
fn collect_strings(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == key {
                    if let Some(a) = x.as_array() {
                        out.extend(a.iter().filter_map(|s| s.as_str().map(str::to_string)));
                    }
                } else {
                    collect_strings(x, key, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, key, out)),
        _ => {}
    }
}

pub(crate) async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<()> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    client
        .create_table()
        .table_name(TABLE_NAME)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "CreateTable: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        })?;
    Ok(())
}
