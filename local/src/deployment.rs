//! One region's deployment of the orchestrator in the local stack: its moto (the run table, and
//! Step Functions executing the ASL behind the adapter), its `cargo lambda watch` and its
//! function processes; stopped and restarted for a region outage, a function crashed on demand.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;

use crate::http::http;
use crate::process::{free_port, wait_for_line, wait_http, wait_tcp, Proc};
use crate::stack::{
    create_role, create_table, local_config, sfn_failed, workspace, Execution, FunctionError, Item,
    Options, Outage, REPLICA_REGION, SOURCE_REGION, TABLE_NAME,
};

/// What every deployment of a stack shares.
pub(crate) struct Ctx {
    pub(crate) bins: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) logs: PathBuf,
    pub(crate) sim: SocketAddr,
    pub(crate) opts: Options,
    /// Log names carry the region (two regions) or not (one).
    pub(crate) two: bool,
}

/// The processes of a deployment that an outage stops (moto is frozen instead).
pub(crate) struct Running {
    moto: Proc,
    watch: SocketAddr,
    /// The watch, the adapter, then the functions.
    procs: Vec<Proc>,
    /// Starts so far (log names of restarts carry the count).
    starts: u32,
    /// Function processes killed by [`Stack::crash_function`] so far.
    crashes: u32,
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
    pub(crate) functions: Vec<String>,
    /// The functions' environment, but for the runtime API (which names the watch).
    pub(crate) env: Vec<(String, String)>,
    pub(crate) running: tokio::sync::Mutex<Running>,
    pub(crate) outage: std::sync::Mutex<Option<Outage>>,
    pub(crate) sfn: Option<aws_sdk_sfn::Client>,
    /// State machine ARNs by name (`replication`, `failover`, `agent-sync`).
    pub(crate) machines: HashMap<String, String>,
    /// The IAM role of the functions and machines in moto.
    pub(crate) role: String,
    pub(crate) label: String,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let running = self.running.get_mut();
        if std::thread::panicking() {
            running.procs.iter().for_each(Proc::dump);
            running.moto.dump();
        }
        // Functions first, then the servers they talk to; moto last (SIGKILL ends it even frozen).
        while let Some(p) = running.procs.pop() {
            drop(p);
        }
    }
}

impl Deployment {
    pub(crate) async fn start(
        ctx: &Ctx,
        region: &str,
        functions: &[String],
        machines: &[&str],
    ) -> Result<Deployment> {
        let label = if ctx.two {
            format!("{region}.")
        } else {
            String::new()
        };
        let with_adapter = ctx.opts.state_machines;
        let moto: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let adapter = if with_adapter {
            Some(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
        } else {
            None
        };
        let closed_port = free_port()?;
        let failover_arn = crate::sfn::machine_arn(region, "failover");
        let o = &ctx.opts;
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "e2e".to_string()),
            ("TABLE_NAME", TABLE_NAME.to_string()),
            ("SOURCE_REGION", SOURCE_REGION.to_string()),
            ("REPLICA_REGION", REPLICA_REGION.to_string()),
            ("DEPLOYMENT_REGION", region.to_string()),
            ("FAILOVER_STATE_MACHINE_ARN", failover_arn),
            ("LOCK_LEASE_SECONDS", o.lease_seconds.to_string()),
            ("AWS_REGION", region.to_string()),
            ("AWS_ACCESS_KEY_ID", "AKIDE2ETEST".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "e2e-secret".to_string()),
            ("AWS_ENDPOINT_URL_CONNECT", format!("http://{}", ctx.sim)),
            ("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{moto}")),
            ("AWS_ENDPOINT_URL_SFN", format!("http://{moto}")),
            // Preflight's replica-region checks: Lambda in moto; KMS nowhere (moto cannot hold
            // the AWS managed key alias/aws/connect), which preflight reports as a warn.
            ("AWS_ENDPOINT_URL_LAMBDA", format!("http://{moto}")),
            (
                "AWS_ENDPOINT_URL_KMS",
                format!("http://127.0.0.1:{closed_port}"),
            ),
            // Errors surface on the first attempt, as the state machine's Retry would see them.
            ("AWS_MAX_ATTEMPTS", "1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("AWS_CONFIG_FILE", "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
            ("RUST_LOG", "info,associate_agents=debug".to_string()),
            ("RUST_BACKTRACE", "1".to_string()),
            ("NO_COLOR", "1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        env.extend(o.env.iter().cloned());

        // moto, ready when it answers HTTP; with state machines its interpreter calls Lambda (and
        // DynamoDB) at localhost:$MOTO_PORT, the adapter's port.
        let mut cmd = Command::new(ctx.root.join(".venv/bin/moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &moto.port().to_string()]);
        if let Some(adapter) = adapter {
            cmd.env("MOTO_PORT", adapter.port().to_string());
        }
        let mut moto_proc = Proc::spawn(&format!("{label}moto"), cmd, &ctx.logs)?;
        // moto starts meanwhile.
        let (watch, procs) =
            Self::start_processes(ctx, &label, 0, functions, &env, moto, adapter).await?;
        wait_http(&mut moto_proc, moto, "/moto-api/").await?;
        let dynamodb = aws_sdk_dynamodb::Client::new(&local_config(moto, region).await);
        create_table(&dynamodb).await?;

        let mut d = Deployment {
            region: region.to_string(),
            moto,
            adapter,
            dynamodb,
            functions: functions.to_vec(),
            env,
            running: tokio::sync::Mutex::new(Running {
                moto: moto_proc,
                watch,
                procs,
                starts: 1,
                crashes: 0,
            }),
            outage: std::sync::Mutex::new(None),
            sfn: None,
            machines: HashMap::new(),
            role: String::new(),
            label,
        };
        if ctx.opts.state_machines {
            d.create_state_machines(machines).await?;
        }
        Ok(d)
    }

    /// The watch, the adapter (same port every time) and the function processes. The adapter
    /// only connects to moto per request, so moto may still be starting (or frozen).
    pub(crate) async fn start_processes(
        ctx: &Ctx,
        label: &str,
        start: u32,
        functions: &[String],
        env: &[(String, String)],
        moto: SocketAddr,
        adapter: Option<SocketAddr>,
    ) -> Result<(SocketAddr, Vec<Proc>)> {
        let again = if start == 0 {
            String::new()
        } else {
            format!(".{start}")
        };
        let name = |what: &str| format!("{label}{what}{again}");
        let mut procs = Vec::new();

        // The Lambda APIs only; the functions are started below.
        let watch_port = free_port()?;
        let mut cmd = Command::new(ctx.root.join(".venv/bin/cargo-lambda"));
        cmd.current_dir(&ctx.root)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(watch_port.to_string())
            .env("NO_COLOR", "1");
        procs.push(Proc::spawn(&name("cargo-lambda-watch"), cmd, &ctx.logs)?);
        let watch: SocketAddr = ([127, 0, 0, 1], watch_port).into();
        // Any HTTP path of the watch is an invocation of some function: wait for the socket only.
        let p = procs.last_mut().context("watch")?;
        wait_for_line(p, "starting Runtime server").await?;
        wait_tcp(p, watch).await?;

        if let Some(adapter) = adapter {
            let mut cmd = Command::new(ctx.bins.join("lambda-adapter"));
            cmd.arg("--listen")
                .arg(adapter.to_string())
                .arg("--moto")
                .arg(format!("http://{moto}"))
                .arg("--lambda")
                .arg(format!("http://{watch}"));
            procs.push(Proc::spawn(&name("lambda-adapter"), cmd, &ctx.logs)?);
            let p = procs.last_mut().context("adapter")?;
            wait_for_line(p, "listening on http://").await?;
        }

        for f in functions {
            procs.push(Self::spawn_function(ctx, &name(f), f, env, watch)?);
        }
        // A function that dies at init (bad env) shows up here, not as a hung invoke.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for p in &mut procs {
            p.check_alive()?;
        }
        Ok((watch, procs))
    }

    /// One function's runtime process, polling the watch's runtime API.
    pub(crate) fn spawn_function(
        ctx: &Ctx,
        name: &str,
        f: &str,
        env: &[(String, String)],
        watch: SocketAddr,
    ) -> Result<Proc> {
        let mut cmd = Command::new(ctx.bins.join(f));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{watch}/.rt/{f}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", f)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{f}"))
            .envs(env.iter().map(|(k, v)| (k, v)));
        Proc::spawn(name, cmd, &ctx.logs)
    }

    /// SIGKILLs a function's runtime process wherever it is in its work, then starts a new one,
    /// as Lambda starts a new execution environment after a crash.
    pub(crate) async fn crash_function(&self, ctx: &Ctx, f: &str) -> Result<()> {
        let mut running = self.running.lock().await;
        let own = format!("{}{f}", self.label);
        let at = running
            .procs
            .iter()
            .position(|p| {
                p.name == own
                    || p.name
                        .strip_prefix(&own)
                        .is_some_and(|r| r.starts_with('.'))
            })
            .with_context(|| format!("no {f} process in {}", self.region))?;
        let mut p = running.procs.remove(at);
        p.signal("KILL")?;
        let _ = p.child.wait();
        running.crashes += 1;
        let name = format!("{own}.crash{}", running.crashes);
        let watch = running.watch;
        running
            .procs
            .push(Self::spawn_function(ctx, &name, f, &self.env, watch)?);
        // As Lambda answers an invocation whose runtime exited.
        if let Some(adapter) = self.adapter {
            let (status, text) =
                http(adapter, "POST", &format!("/_adapter/crashed/{f}"), None).await?;
            if status != 204 {
                bail!("lambda-adapter did not take the crash of {f}: HTTP {status}: {text}");
            }
        }
        Ok(())
    }

    /// Switches moto's executor on, then creates the role, the functions and the machines.
    pub(crate) async fn create_state_machines(&mut self, machines: &[&str]) -> Result<()> {
        let config =
            r#"{"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}"#;
        let (status, text) = http(self.moto, "POST", "/moto-api/config", Some(config)).await?;
        if status != 200 && status != 201 {
            bail!("moto config: HTTP {status}: {text}");
        }
        let role = create_role(self.moto).await?;
        let conf = local_config(self.moto, &self.region).await;
        let lambda = aws_sdk_lambda::Client::new(&conf);
        crate::sfn::register_functions(&lambda, &role)
            .await
            .map_err(|e| anyhow!(e))?;
        let sfn = aws_sdk_sfn::Client::new(&conf);
        let created = crate::sfn::create_machines(
            &sfn,
            &workspace(),
            machines,
            &self.region,
            TABLE_NAME,
            &role,
        )
        .await
        .map_err(|e| anyhow!(e))?;
        for (name, arn) in &created {
            // The functions were given the failover machine's ARN before it existed.
            let expected = crate::sfn::machine_arn(&self.region, name);
            if *arn != expected {
                bail!("moto named {name} {arn}, not {expected}");
            }
        }
        self.machines = created.into_iter().collect();
        self.sfn = Some(sfn);
        self.role = role;
        Ok(())
    }

    /// The deployment's functions (binary names).
    pub fn functions(&self) -> &[String] {
        &self.functions
    }

    /// The Lambda Invoke API of this deployment (it moves when the region comes back).
    pub async fn watch(&self) -> SocketAddr {
        self.running.lock().await.watch
    }

    /// The outage this region is in, if down.
    pub fn outage(&self) -> Option<Outage> {
        *self.outage.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn ensure_up(&self, what: &str) {
        if let Some(o) = self.outage() {
            panic!(
                "{what} in {}: the region is down ({})",
                self.region,
                o.as_str()
            );
        }
    }

    /// Stops the function processes, the watch and the adapter; freezes moto (SIGSTOP), so its
    /// tables and executions survive as a region's storage does, and calls to it hang.
    pub(crate) async fn stop(&self, outage: Outage) -> Result<()> {
        let mut running = self.running.lock().await;
        *self.outage.lock().unwrap_or_else(|e| e.into_inner()) = Some(outage);
        while let Some(p) = running.procs.pop() {
            drop(p);
        }
        running.moto.signal("STOP")
    }

    /// Thaws moto and starts the watch (on a new port), the adapter (on its port, which moto
    /// knows as MOTO_PORT) and the functions again.
    pub(crate) async fn restart(&self, ctx: &Ctx) -> Result<()> {
        let mut running = self.running.lock().await;
        if self.outage().is_none() {
            return Ok(());
        }
        running.moto.signal("CONT")?;
        wait_http(&mut running.moto, self.moto, "/moto-api/").await?;
        let (watch, procs) = Self::start_processes(
            ctx,
            &self.label,
            running.starts,
            &self.functions,
            &self.env,
            self.moto,
            self.adapter,
        )
        .await?;
        running.starts += 1;
        running.watch = watch;
        running.procs = procs;
        *self.outage.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Invokes a function through the Lambda Invoke API of this deployment's watch.
    /// Panics on transport failures (the harness's, not the function's) and while the region is
    /// down.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, FunctionError> {
        self.ensure_up(&format!("invoke {function}"));
        let watch = self.watch().await;
        let path = format!("/2015-03-31/functions/{function}/invocations");
        let body = payload.to_string();
        let res = tokio::time::timeout(
            Duration::from_secs(60),
            http(watch, "POST", &path, Some(&body)),
        )
        .await;
        let (status, text) = match res {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => panic!("invoke {function} in {}: {e:#}", self.region),
            Err(_) => {
                let mut running = self.running.lock().await;
                let alive: Vec<String> = running
                    .procs
                    .iter_mut()
                    .map(|p| match p.check_alive() {
                        Ok(()) => format!("{} running", p.name),
                        Err(e) => format!("{e:#}"),
                    })
                    .collect();
                panic!(
                    "invoke {function} in {}: no answer in 60 s; {alive:?}",
                    self.region
                )
            }
        };
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        match status {
            200 => Ok(value),
            500 if value.get("errorType").is_some() => Err(FunctionError {
                error_type: value["errorType"].as_str().unwrap_or_default().to_string(),
                error_message: value["errorMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            }),
            _ => panic!(
                "invoke {function} in {}: HTTP {status}: {text}",
                self.region
            ),
        }
    }

    pub(crate) fn sfn(&self) -> &aws_sdk_sfn::Client {
        self.ensure_up("Step Functions");
        match &self.sfn {
            Some(c) => c,
            // The harness's misuse, as the other harness checks (ensure_up) report it.
            None => {
                panic!("the stack was started without state machines (Options::state_machines)")
            }
        }
    }

    /// The ARN of a state machine of this deployment by name.
    pub fn machine(&self, name: &str) -> &str {
        self.machines
            .get(name)
            .unwrap_or_else(|| panic!("no state machine {name} in {}", self.region))
    }

    /// StartExecution: Ok(execution ARN) or Err(the error code, e.g. `ExecutionAlreadyExists`).
    pub async fn start_execution(
        &self,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.sfn()
            .start_execution()
            .state_machine_arn(self.machine(machine))
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map(|out| out.execution_arn().to_string())
            .map_err(|e| {
                use aws_sdk_sfn::error::ProvideErrorMetadata;
                e.code()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}", aws_sdk_sfn::error::DisplayErrorContext(e)))
            })
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, arn: &str) -> Result<Execution> {
        let out = self
            .sfn()
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(sfn_failed("DescribeExecution"))?;
        Ok(Execution {
            arn: arn.to_string(),
            status: out.status().as_str().to_string(),
            error: out.error().map(str::to_string),
            cause: out.cause().map(str::to_string),
        })
    }

    /// Waits until the execution leaves RUNNING.
    pub async fn wait_execution(&self, arn: &str, timeout: Duration) -> Result<Execution> {
        let deadline = Instant::now() + timeout;
        loop {
            let e = self.describe_execution(arn).await?;
            if e.status != "RUNNING" {
                return Ok(e);
            }
            if Instant::now() > deadline {
                bail!("execution {arn} still RUNNING after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// An execution's whole history, in order (every page).
    pub(crate) async fn history(&self, arn: &str) -> Result<Vec<aws_sdk_sfn::types::HistoryEvent>> {
        self.sfn()
            .get_execution_history()
            .execution_arn(arn)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(sfn_failed("GetExecutionHistory"))
    }

    /// The names of the states an execution entered, in order.
    pub async fn states_entered(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .filter_map(|e| {
                e.state_entered_event_details()
                    .map(|d| d.name().to_string())
            })
            .collect())
    }

    /// The types of the events of an execution's history, in order (`TaskScheduled`,
    /// `TaskFailed`, `LambdaFunctionFailed`, ...).
    pub async fn event_types(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .map(|e| e.r#type().as_str().to_string())
            .collect())
    }

    /// The Lambda functions an execution's tasks were scheduled to invoke (`FunctionName` of
    /// each `TaskScheduled` event, an ARN), in order.
    pub async fn functions_scheduled(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .filter_map(|e| {
                let params = e.task_scheduled_event_details()?.parameters();
                let params: Value = serde_json::from_str(params).ok()?;
                params["FunctionName"].as_str().map(str::to_string)
            })
            .collect())
    }

    /// Every item of this region's run table, in key order. Panics while the region is down.
    pub async fn items(&self) -> Vec<Item> {
        self.ensure_up("items");
        scan_items(&self.dynamodb).await
    }
}

pub(crate) async fn scan_items(dynamodb: &aws_sdk_dynamodb::Client) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(TABLE_NAME)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "scan: {:?}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            });
        items.extend(
            page.items
                .unwrap_or_default()
                .into_iter()
                .map(Item::from_map),
        );
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
    items
}
