//! One region's deployment of the orchestrator in the local stack: its moto (the run table, and
//! Step Functions executing the ASL behind the adapter), its `cargo lambda watch` and its
//! function processes (`deployment/processes.rs`: stopped and restarted for a region outage, a
//! function crashed on demand), its state machines ([`executions`]).

mod env;
pub mod executions;
mod processes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use aws_config::SdkConfig;
use serde_json::Value;

use crate::config::local_config;
use crate::dynamodb_faults::{FaultCounts, FaultProxy};
use crate::invoke::{FunctionError, Outcome, NO_ANSWER};
use crate::options::Options;
use crate::process::free_port;
use crate::sim_control::{Outage, OutageName as _};
use crate::table::{self, Item};
use processes::{Processes, Running};

/// What every deployment of a stack shares.
pub(crate) struct Ctx {
    pub(crate) bins: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) logs: PathBuf,
    pub(crate) sim: SocketAddr,
    pub(crate) opts: Options,
    /// Each region's moto, its port chosen before any starts: a region's functions reach the
    /// other region's table replica (`PEER_DYNAMODB_ENDPOINT`).
    pub(crate) motos: Vec<(String, SocketAddr)>,
}

impl Ctx {
    pub(crate) fn moto_of(&self, region: &str) -> Option<SocketAddr> {
        self.motos
            .iter()
            .find(|(r, _)| r == region)
            .map(|(_, a)| *a)
    }
}

/// The orchestrator deployed in one region: its moto (the run table; Step Functions executing
/// the ASL, behind the adapter), its `cargo lambda watch` and its function processes.
pub struct Deployment {
    pub region: String,
    /// moto of this region (DynamoDB, Step Functions, Lambda).
    pub moto: SocketAddr,
    /// The adapter on moto's `MOTO_PORT` (with state machines); it keeps its port across restarts.
    pub adapter: Option<SocketAddr>,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SDK configuration of this region's moto.
    conf: SdkConfig,
    processes: Processes,
    running: tokio::sync::Mutex<Running>,
    outage: std::sync::Mutex<Option<Outage>>,
    sfn: Option<aws_sdk_sfn::Client>,
    /// State machine ARNs by name (`replication`, `failover`, `agent-sync`).
    machines: HashMap<String, String>,
    /// The IAM role of the functions and machines in moto.
    pub(crate) role: String,
    /// Between the functions and moto's DynamoDB, with `Options::dynamodb_faults`.
    fault_proxy: Option<FaultProxy>,
}

pub(crate) fn loopback(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

impl Deployment {
    /// Starts moto (with the run table), the watch, the adapter (with state machines) and
    /// `functions`, then creates `machines` (with state machines).
    pub(crate) async fn start(
        ctx: &Ctx,
        region: &str,
        functions: &[String],
        machines: &[&str],
    ) -> Result<Deployment> {
        // Log names carry the region with two regions.
        let label = if ctx.opts.is_two_regions() {
            format!("{region}.")
        } else {
            String::new()
        };
        let moto = match ctx.moto_of(region) {
            Some(m) => m,
            None => loopback(free_port()?),
        };
        let adapter = if ctx.opts.state_machines {
            Some(loopback(free_port()?))
        } else {
            None
        };
        let mut moto_proc =
            crate::moto::spawn(&ctx.root, &ctx.logs, &format!("{label}moto"), moto, adapter)?;
        let fault_proxy = match ctx.opts.dynamodb_faults {
            Some(faults) => Some(FaultProxy::start(loopback(free_port()?), moto, faults).await?),
            None => None,
        };
        let dynamodb_endpoint = fault_proxy.as_ref().map_or(moto, |p| p.addr);
        let processes = Processes {
            label,
            region: region.to_string(),
            functions: functions.to_vec(),
            env: env::functions_env(ctx, region, moto, dynamodb_endpoint)?,
            moto,
            adapter,
        };
        // moto starts meanwhile.
        let (watch, procs) = processes.start(ctx, 0).await?;
        crate::moto::wait_ready(&mut moto_proc, moto).await?;
        let conf = local_config(moto, region).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&conf);
        table::create(&dynamodb).await?;

        let running = Running {
            moto: moto_proc,
            watch,
            lambda: crate::invoke::client(&conf, watch),
            procs,
            starts: 1,
            crashes: 0,
        };
        let mut d = Deployment {
            region: region.to_string(),
            moto,
            adapter,
            dynamodb,
            conf,
            processes,
            running: tokio::sync::Mutex::new(running),
            outage: std::sync::Mutex::new(None),
            sfn: None,
            machines: HashMap::new(),
            role: String::new(),
            fault_proxy,
        };
        if ctx.opts.state_machines {
            d.create_state_machines(machines).await?;
        }
        Ok(d)
    }

    /// What the DynamoDB fault proxy injected (zero without one).
    pub fn dynamodb_faults(&self) -> FaultCounts {
        self.fault_proxy
            .as_ref()
            .map(FaultProxy::counts)
            .unwrap_or_default()
    }

    /// The deployment's functions (binary names).
    pub fn functions(&self) -> &[String] {
        &self.processes.functions
    }

    /// The Lambda Invoke API of this deployment (it moves when the region comes back).
    pub async fn watch(&self) -> SocketAddr {
        self.running.lock().await.watch
    }

    /// The outage this region is in, if down.
    pub fn outage(&self) -> Option<Outage> {
        *self.outage.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_outage(&self, outage: Option<Outage>) {
        *self.outage.lock().unwrap_or_else(|e| e.into_inner()) = outage;
    }

    /// Panics while the region is down: the harness asked a frozen region for `what`.
    pub(crate) fn ensure_up(&self, what: &str) {
        if let Some(o) = self.outage() {
            panic!(
                "{what} in {}: the region is down ({})",
                self.region,
                o.as_str()
            );
        }
    }

    /// Invokes a function through the Lambda Invoke API of this deployment's watch.
    /// Panics on transport failures (the harness's, not the function's), when the function does
    /// not answer in 60 s (saying which processes still run), and while the region is down.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, FunctionError> {
        self.ensure_up(&format!("invoke {function}"));
        let lambda = self.running.lock().await.lambda.clone();
        let outcome = crate::invoke::invoke(&lambda, function, &payload)
            .await
            .unwrap_or_else(|e| panic!("invoke {function} in {}: {e:#}", self.region));
        match outcome {
            Outcome::Output(value) => Ok(value),
            Outcome::Failed(error) => Err(error),
            Outcome::NoAnswer => {
                let alive = self.running.lock().await.liveness();
                panic!(
                    "invoke {function} in {}: no answer in {NO_ANSWER:?}; {alive:?}",
                    self.region
                )
            }
        }
    }

    /// Every item of this region's run table, in key order. Panics while the region is down.
    pub async fn items(&self) -> Vec<Item> {
        self.ensure_up("items");
        table::scan(&self.dynamodb)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// The items of one instance in this region's table (`pk = INSTANCE#{id}`), in sort-key
    /// order. Panics while the region is down.
    pub async fn instance_items(&self, instance_id: &str) -> Vec<Item> {
        self.ensure_up("query");
        table::instance_items(&self.dynamodb, instance_id)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }
}
