//! The whole local stack on loopback, for the end-to-end tests and the rehearsal: `connect-sim`
//! (both Connect regions), and per region a *deployment* of the orchestrator: `moto_server`
//! (DynamoDB and, when asked, Step Functions executing the deployed ASL), `cargo lambda watch`'s
//! Lambda APIs with one runtime process per step function, and the [`lambda-adapter`](crate::adapter) in
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
//!
//! What the tests do with a stack is grouped by what it reaches: `stack/steps.rs` (functions and
//! executions), `stack/items.rs` (the run table), `stack/sim.rs` (connect-sim).

mod grctl;
mod items;
mod sim;
mod steps;
pub use grctl::GrctlRun;
pub use steps::{default_group, replication_input};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use crate::build::{bin_dir, ensure_built};
use crate::config::{local_config, one_attempt};
use crate::deployment::{Ctx, Deployment};
use crate::process::{wait_for_line, Proc};
use crate::replication::Replicator;
use crate::sim_control::SimControl;

pub use crate::deployment::executions::Execution;
pub use crate::invoke::{event, event_path, FunctionError};
pub use crate::options::{
    Options, ALL_FUNCTIONS, INCIDENT_INTAKE, INSTANCE_ID, REPLICA_FUNCTIONS, REPLICA_MACHINES,
    REPLICA_REGION, SOURCE_REGION,
};
pub use crate::sim_control::{Outage, SimRefused};
pub use crate::table::{Item, TABLE_NAME};
pub use crate::workspace;
/// connect-sim's control types (staged failures, settings, access policies), for the tests.
pub use connect_sim::control as sim_api;

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
    sim_control: SimControl,
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

/// `target/e2e-logs/<pid>-<n>-<thread>`: one directory per stack.
fn logs_dir(bins: &Path) -> Result<PathBuf> {
    let logs = bins.parent().unwrap_or(bins).join("e2e-logs").join(format!(
        "{}-{}-{}",
        std::process::id(),
        STACKS.fetch_add(1, Ordering::SeqCst),
        std::thread::current()
            .name()
            .unwrap_or("stack")
            .replace("::", "-")
    ));
    std::fs::create_dir_all(&logs)?;
    Ok(logs)
}

/// connect-sim for both regions on `scenario`: port 0, the address comes from its one stdout line.
async fn start_sim(
    bins: &Path,
    logs: &Path,
    scenario: &Path,
    opts: &Options,
) -> Result<(Proc, SocketAddr)> {
    let mut cmd = Command::new(bins.join("connect-sim"));
    cmd.arg("--addr")
        .arg("127.0.0.1:0")
        .arg("--scenario")
        .arg(scenario)
        .arg("--quota-factor")
        .arg(opts.quota_factor.to_string())
        .arg("--time-scale")
        .arg(opts.time_scale.to_string());
    let mut proc = Proc::spawn("connect-sim", cmd, logs)?;
    let addr = wait_for_line(&mut proc, "listening on http://").await?;
    let addr: SocketAddr = addr
        .parse()
        .with_context(|| format!("sim address {addr}"))?;
    Ok((proc, addr))
}

/// Gives each function's access key, in each region it runs in, the Connect policy
/// `template.yaml` grants the function there ([`crate::permissions`]).
async fn grant_template_permissions(
    root: &Path,
    scenario: &Path,
    opts: &Options,
    sim: &SimControl,
) -> Result<()> {
    let mut regions = vec![(SOURCE_REGION, &opts.functions)];
    if let Some(replica) = &opts.replica_functions {
        regions.push((REPLICA_REGION, replica));
    }
    for (region, functions) in regions {
        let policies = crate::permissions::template_policies(root, scenario, region)?;
        for f in functions {
            let policy = policies
                .get(f)
                .with_context(|| format!("template.yaml has no function built from {f}"))?;
            sim.set_access_policy(&crate::permissions::access_key(f, region), policy)
                .await?;
        }
    }
    Ok(())
}

/// The replicator of two deployments' tables. Its clients give up on a call in seconds (a frozen
/// region must not stall a pass for long) and do not retry.
async fn start_replicator(deployments: &[Deployment], lag: Duration) -> Replicator {
    let client = |d: &Deployment| {
        let (moto, region) = (d.moto, d.region.clone());
        async move {
            let conf = one_attempt(&local_config(moto, &region).await, Duration::from_secs(5));
            (region, aws_sdk_dynamodb::Client::new(&conf))
        }
    };
    let regions = [client(&deployments[0]).await, client(&deployments[1]).await];
    Replicator::spawn(regions, TABLE_NAME, lag)
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
        let logs = logs_dir(&bins)?;
        let scenario = root
            .join("sim/scenarios")
            .join(format!("{}.json", opts.scenario));
        let (sim_proc, sim) = start_sim(&bins, &logs, &scenario, &opts).await?;
        let sim_control = SimControl::new(sim);
        if opts.template_permissions {
            grant_template_permissions(&root, &scenario, &opts, &sim_control).await?;
        }

        let port = || crate::process::free_port().map(crate::deployment::loopback);
        let mut motos = vec![(SOURCE_REGION.to_string(), port()?)];
        if opts.is_two_regions() {
            motos.push((REPLICA_REGION.to_string(), port()?));
        }
        let ctx = Ctx {
            bins,
            root,
            logs: logs.clone(),
            sim,
            opts,
            motos,
        };
        let source = Deployment::start(
            &ctx,
            SOURCE_REGION,
            &ctx.opts.functions,
            crate::sfn::MACHINES,
        );
        let deployments = match &ctx.opts.replica_functions {
            None => vec![source.await?],
            Some(replica) => {
                // Both at once: each is its own set of processes.
                let replica = Deployment::start(&ctx, REPLICA_REGION, replica, REPLICA_MACHINES);
                let (source, replica) = tokio::try_join!(source, replica)?;
                vec![source, replica]
            }
        };
        let replicator = if ctx.opts.is_two_regions() {
            Some(start_replicator(&deployments, ctx.opts.replication_lag).await)
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
            sim_control,
            deployments,
            replicator,
        };
        if stack.ctx.opts.state_machines {
            stack.prepare_replica_region(&scenario).await?;
            let instance =
                crate::scenario::scenario_instance(&stack.ctx.root, &stack.ctx.opts.scenario)
                    .unwrap_or_else(|_| INSTANCE_ID.to_string());
            for d in &stack.deployments {
                d.publish_stack(&instance).await?;
            }
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
                crate::moto::create_function(&lambda, name, &d.role).await?;
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

    /// The source region's deployment.
    fn source(&self) -> &Deployment {
        &self.deployments[0]
    }

    /// The table replication (two regions only).
    pub fn replicator(&self) -> Option<&Replicator> {
        self.replicator.as_ref()
    }

    /// Takes a region down: connect-sim's Connect API of the region fails as `outage` says
    /// (`PUT /_sim/regions/{region}`), replication to and from the region stops, and its
    /// deployment stops (function processes, watch and adapter killed; moto frozen with SIGSTOP,
    /// keeping its table). If connect-sim refuses, the rest is staged all the same and the error
    /// is a [`SimRefused`].
    pub async fn region_down(&self, region: &str, outage: Outage) -> Result<()> {
        let d = self.deployment(region);
        let sim = self.sim_control.set_outage(region, Some(outage)).await;
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
        let sim = self.sim_control.set_outage(region, None).await;
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

    /// What the DynamoDB fault proxies of every region injected.
    pub fn dynamodb_faults(&self) -> crate::dynamodb_faults::FaultCounts {
        self.deployments
            .iter()
            .map(Deployment::dynamodb_faults)
            .fold(Default::default(), |a, b| a + b)
    }

    /// Time passes between two events of a story that a real incident separates by hours (the
    /// steady state recorded, then a region failing; an incident's end, then the next one):
    /// at least twice the table's replication lag, and until every write made before the call
    /// has reached the other region, as a global table's backlog drains in that time (the local
    /// replicator writes one item at a time: 10,000 agent records take it minutes). Nothing
    /// written after the call is waited for: this is not a look at whether the tables converged.
    /// A one-region stack has nothing to wait for.
    pub async fn time_passes(&self) -> Result<()> {
        let Some(r) = self.replicator.as_ref() else {
            return Ok(());
        };
        let from = Instant::now();
        let lag = r.lag().await;
        tokio::time::sleep(2 * lag + Duration::from_secs(1)).await;
        let deadline = Instant::now() + Duration::from_secs(600);
        while !r.delivered_before(from).await {
            if Instant::now() > deadline {
                let stats = r.stats().await;
                bail!("writes made before {from:?} did not replicate in 10 min; replicator: {stats:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
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
