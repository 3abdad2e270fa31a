//! The whole local stack on loopback, for the end-to-end tests and the rehearsal: `connect-sim`
//! (both Connect regions), `moto_server` (DynamoDB and, when asked, Step Functions executing the
//! deployed ASL), `cargo lambda watch`'s Lambda APIs with one runtime process per step function,
//! and the [`lambda-adapter`](crate) in front of moto so that moto's state machines invoke those
//! functions.
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
//! role is created, the five functions are registered, and the three machines are created from
//! `statemachine/*.asl.json` with the template's substitutions ([`crate::sfn`]).
//!
//! Every process listens on 127.0.0.1, on a free port, and is killed by PID and waited for when
//! the [`Stack`] is dropped, also when a test panics. Process output goes to
//! `target/e2e-logs/<stack>/`; a failing test prints its tail.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    fn from_map(attributes: HashMap<String, AttributeValue>) -> Item {
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
    /// The functions (binary names) to start a runtime process for.
    pub functions: Vec<String>,
    pub lease_seconds: i64,
    /// Start Step Functions (moto executing the ASL, the adapter) and create the machines.
    pub state_machines: bool,
    /// Extra environment for every function process (after the stack's own).
    pub env: Vec<(String, String)>,
}

/// Every step function, by binary name.
pub const ALL_FUNCTIONS: &[&str] = &[
    "preflight",
    "replicate",
    "poll-mirroring",
    "associate-agents",
    "shift-traffic",
];

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

    /// Adds one environment variable for every function.
    pub fn env(mut self, name: &str, value: impl ToString) -> Options {
        self.env.push((name.to_string(), value.to_string()));
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

/// A child process, killed by PID and waited for on drop.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, mut cmd: Command, logs: &Path) -> Result<Proc> {
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out));
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}: {cmd:?}"))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            log,
        })
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status}); log {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn free_port() -> Result<u16> {
    // Bound and released at once: the small window before the child binds is acceptable on a
    // test machine, and every readiness check also verifies the child is still alive.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The whole local stack of one test. Dropping it stops every process it started.
pub struct Stack {
    pub sim: SocketAddr,
    pub moto: SocketAddr,
    pub watch: SocketAddr,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub logs: PathBuf,
    procs: Vec<Proc>,
    sfn: Option<aws_sdk_sfn::Client>,
    /// State machine ARNs by name (`replication`, `failover`, `agent-sync`).
    machines: HashMap<String, String>,
    /// The IAM role of the functions and machines in moto.
    role: String,
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for p in &self.procs {
                eprintln!(
                    "---- {} ({}) ----\n{}",
                    p.name,
                    p.log.display(),
                    tail(&p.log, 40)
                );
            }
        }
        // Functions first, then the servers they talk to.
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
    }
}

static STACKS: AtomicUsize = AtomicUsize::new(0);

impl Stack {
    /// Starts connect-sim, moto (with the run table), `cargo lambda watch` and one runtime
    /// process per function.
    pub async fn start(opts: Options) -> Result<Stack> {
        let bins = bin_dir()?;
        let mut wanted: Vec<&str> = vec!["connect-sim"];
        wanted.extend(opts.functions.iter().map(String::as_str));
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
        let mut procs = Vec::new();

        // (a) connect-sim: port 0, the address comes from its one stdout line.
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
        procs.push(Proc::spawn("connect-sim", cmd, &logs)?);
        let sim = wait_for_line(procs.last_mut().context("sim")?, "listening on http://").await?;
        let sim: SocketAddr = sim.parse().with_context(|| format!("sim address {sim}"))?;

        // (b) the Lambda APIs only; the functions are started below.
        let watch_port = free_port()?;
        let mut cmd = Command::new(root.join(".venv/bin/cargo-lambda"));
        cmd.current_dir(&root)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(watch_port.to_string())
            .env("NO_COLOR", "1");
        procs.push(Proc::spawn("cargo-lambda-watch", cmd, &logs)?);
        let watch: SocketAddr = ([127, 0, 0, 1], watch_port).into();
        // Any HTTP path of the watch is an invocation of some function: wait for the socket only.
        wait_for_line(
            procs.last_mut().context("watch")?,
            "starting Runtime server",
        )
        .await?;
        wait_tcp(procs.last_mut().context("watch")?, watch).await?;

        // (c) moto, ready when it answers HTTP; with state machines, behind the adapter.
        let moto_port = free_port()?;
        let moto: SocketAddr = ([127, 0, 0, 1], moto_port).into();
        let adapter = if opts.state_machines {
            let port = free_port()?;
            let mut cmd = Command::new(bins.join("lambda-adapter"));
            cmd.arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--moto")
                .arg(format!("http://{moto}"))
                .arg("--lambda")
                .arg(format!("http://{watch}"));
            procs.push(Proc::spawn("lambda-adapter", cmd, &logs)?);
            wait_for_line(procs.last_mut().context("adapter")?, "listening on http://").await?;
            Some(SocketAddr::from(([127, 0, 0, 1], port)))
        } else {
            None
        };
        let mut cmd = Command::new(root.join(".venv/bin/moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]);
        if let Some(adapter) = adapter {
            // moto's interpreter calls Lambda (and DynamoDB) at localhost:$MOTO_PORT.
            cmd.env("MOTO_PORT", adapter.port().to_string());
        }
        procs.push(Proc::spawn("moto", cmd, &logs)?);
        wait_http(procs.last_mut().context("moto")?, moto, "/moto-api/").await?;
        let dynamodb = aws_sdk_dynamodb::Client::new(&local_config(moto, SOURCE_REGION).await);
        create_table(&dynamodb).await?;

        let closed_port = free_port()?;
        for f in &opts.functions {
            let mut cmd = Command::new(bins.join(f));
            cmd.env_clear()
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://{watch}/.rt/{f}"))
                .env("AWS_LAMBDA_FUNCTION_NAME", f)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{f}"))
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "e2e")
                .env("TABLE_NAME", TABLE_NAME)
                .env("SOURCE_REGION", SOURCE_REGION)
                .env("REPLICA_REGION", REPLICA_REGION)
                .env("LOCK_LEASE_SECONDS", opts.lease_seconds.to_string())
                .env("AWS_REGION", SOURCE_REGION)
                .env("AWS_ACCESS_KEY_ID", "AKIDE2ETEST")
                .env("AWS_SECRET_ACCESS_KEY", "e2e-secret")
                .env("AWS_ENDPOINT_URL_CONNECT", format!("http://{sim}"))
                .env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{moto}"))
                // Preflight's replica-region checks: Lambda in moto; KMS nowhere (moto cannot hold
                // the AWS managed key alias/aws/connect), which preflight reports as a warn.
                .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://{moto}"))
                .env(
                    "AWS_ENDPOINT_URL_KMS",
                    format!("http://127.0.0.1:{closed_port}"),
                )
                // Errors surface on the first attempt, as the state machine's Retry would see them.
                .env("AWS_MAX_ATTEMPTS", "1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .env("RUST_LOG", "info,associate_agents=debug")
                .env("RUST_BACKTRACE", "1")
                .env("NO_COLOR", "1")
                .envs(opts.env.iter().map(|(k, v)| (k, v)));
            procs.push(Proc::spawn(f, cmd, &logs)?);
        }
        // A function that dies at init (bad env) shows up here, not as a hung invoke.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for p in &mut procs {
            p.check_alive()?;
        }

        let mut stack = Stack {
            sim,
            moto,
            watch,
            dynamodb,
            logs,
            procs,
            sfn: None,
            machines: HashMap::new(),
            role: String::new(),
        };
        if opts.state_machines {
            stack.create_state_machines().await?;
            stack.prepare_replica_region(&scenario).await?;
        }
        Ok(stack)
    }

    /// What a platform team does before replicating: deploy the instance's Lambda functions in
    /// the replica region under the same names (here, in moto).
    pub async fn prepare_replica_region(&self, scenario: &Path) -> Result<()> {
        let text = std::fs::read_to_string(scenario)
            .with_context(|| format!("read {}", scenario.display()))?;
        let scenario: Value = serde_json::from_str(&text)?;
        let mut arns = Vec::new();
        collect_strings(&scenario, "lambdaFunctions", &mut arns);
        let lambda = aws_sdk_lambda::Client::new(&local_config(self.moto, REPLICA_REGION).await);
        for arn in arns {
            let name = arn.rsplit(':').next().unwrap_or(&arn);
            crate::sfn::create_function(&lambda, name, &self.role)
                .await
                .map_err(|e| anyhow!(e))?;
        }
        Ok(())
    }

    /// Switches moto's executor on, then creates the role, the functions and the machines.
    async fn create_state_machines(&mut self) -> Result<()> {
        let config =
            r#"{"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}"#;
        let (status, text) = http(self.moto, "POST", "/moto-api/config", Some(config)).await?;
        if status != 200 && status != 201 {
            bail!("moto config: HTTP {status}: {text}");
        }
        let role = create_role(self.moto).await?;
        let conf = local_config(self.moto, SOURCE_REGION).await;
        let lambda = aws_sdk_lambda::Client::new(&conf);
        crate::sfn::register_functions(&lambda, &role)
            .await
            .map_err(|e| anyhow!(e))?;
        let sfn = aws_sdk_sfn::Client::new(&conf);
        let machines =
            crate::sfn::create_machines(&sfn, &workspace(), SOURCE_REGION, TABLE_NAME, &role)
                .await
                .map_err(|e| anyhow!(e))?;
        self.machines = machines.into_iter().collect();
        self.sfn = Some(sfn);
        self.role = role;
        Ok(())
    }

    /// Invokes a function through the Lambda Invoke API of the watch.
    /// Panics on transport failures (the harness's, not the function's).
    pub async fn invoke(&mut self, function: &str, payload: Value) -> Result<Value, FunctionError> {
        let path = format!("/2015-03-31/functions/{function}/invocations");
        let body = payload.to_string();
        let res = tokio::time::timeout(
            Duration::from_secs(60),
            http(self.watch, "POST", &path, Some(&body)),
        )
        .await;
        let (status, text) = match res {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => panic!("invoke {function}: {e:#}"),
            Err(_) => {
                let alive: Vec<String> = self
                    .procs
                    .iter_mut()
                    .map(|p| match p.check_alive() {
                        Ok(()) => format!("{} running", p.name),
                        Err(e) => format!("{e:#}"),
                    })
                    .collect();
                panic!("invoke {function}: no answer in 60 s; {alive:?}")
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
            _ => panic!("invoke {function}: HTTP {status}: {text}"),
        }
    }

    /// `cargo lambda invoke --data-file tests/events/<function>/<file>.json <function>`: the same
    /// path a developer takes by hand. Ok(output) or Err(the CLI's error text).
    pub async fn invoke_event_file(&self, function: &str, file: &str) -> Result<Value, String> {
        let out = tokio::process::Command::new(workspace().join(".venv/bin/cargo-lambda"))
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .arg("--invoke-port")
            .arg(self.watch.port().to_string())
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

    /// Every item of the run table.
    pub async fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
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

    /// The items of one instance (`pk = INSTANCE#{id}`), in sort-key order.
    pub async fn instance_items(&self, instance_id: &str) -> Vec<Item> {
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

    fn sfn(&self) -> &aws_sdk_sfn::Client {
        self.sfn
            .as_ref()
            .expect("the stack was started without state machines (Options::state_machines)")
    }

    /// The ARN of a state machine by name.
    pub fn machine(&self, name: &str) -> &str {
        self.machines
            .get(name)
            .unwrap_or_else(|| panic!("no state machine {name}"))
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

    /// The names of the states an execution entered, in order.
    pub async fn states_entered(&self, arn: &str) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .sfn()
                .get_execution_history()
                .execution_arn(arn)
                .set_next_token(token)
                .send()
                .await
                .map_err(sfn_failed("GetExecutionHistory"))?;
            names.extend(out.events().iter().filter_map(|e| {
                e.state_entered_event_details()
                    .map(|d| d.name().to_string())
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(names);
            }
        }
    }
}

/// An SDK error of Step Functions as an error naming the operation.
fn sfn_failed<E: std::error::Error + Send + Sync + 'static>(
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
async fn create_role(moto: SocketAddr) -> Result<String> {
    let name = "acgr-local";
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","states.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
        form_encode(trust)
    );
    // moto routes by the credential scope of the Authorization header; it does not check signatures.
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDE2ETEST/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        ),
    ];
    let (status, text) = http_with(moto, "POST", "/", &headers, Some(&body)).await?;
    if status != 200 && !text.contains("EntityAlreadyExists") {
        bail!("IAM CreateRole: HTTP {status}: {text}");
    }
    Ok(format!("arn:aws:iam::{}:role/{name}", crate::sfn::ACCOUNT))
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// SDK configuration for a local server (moto, connect-sim) in `region`.
async fn local_config(server: SocketAddr, region: &str) -> aws_config::SdkConfig {
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

async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<()> {
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

/// Waits for a line containing `prefix` in the process's log; returns the rest of it.
async fn wait_for_line(proc: &mut Proc, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let file = File::open(&proc.log)?;
        for line in BufReader::new(file).lines() {
            let line = line?;
            if let Some(at) = line.find(prefix) {
                return Ok(line[at + prefix.len()..].trim().to_string());
            }
        }
        proc.check_alive()?;
        if Instant::now() > deadline {
            bail!("{}: no '{prefix}' line in 20 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `addr` accepts connections.
async fn wait_tcp(proc: &mut Proc, addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        proc.check_alive()?;
        if Instant::now() > deadline {
            bail!("{} did not listen on {addr} in 30 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Waits until `addr` answers HTTP at all (any status).
async fn wait_http(proc: &mut Proc, addr: SocketAddr, path: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        proc.check_alive()?;
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(2), http(addr, "GET", path, None)).await
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{} did not answer HTTP on {addr} in 30 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A minimal HTTP/1.1 client (one request per connection): (status, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String)> {
    http_with(
        addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
}

/// [`http`] with the request's headers.
pub async fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no HTTP header end in {} bytes", buf.len()))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut raw = buf[split + 4..].to_vec();
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line: {head}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        raw = dechunk(&raw)?;
    }
    Ok((status, String::from_utf8_lossy(&raw).into_owned()))
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("bad chunk"))?;
        let size_text = String::from_utf8_lossy(&raw[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or(&[]);
    }
}

/// Newest modification time of the sources a binary is built from.
fn newest_source(dirs: &[PathBuf]) -> Option<SystemTime> {
    fn walk(p: &Path, newest: &mut Option<SystemTime>) {
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(p) {
                for e in entries.flatten() {
                    walk(&e.path(), newest);
                }
            }
        } else if p.extension().is_some_and(|e| e == "rs" || e == "toml") {
            if let Ok(m) = meta.modified() {
                *newest = Some(newest.map_or(m, |n| n.max(m)));
            }
        }
    }
    let mut newest = None;
    for d in dirs {
        walk(d, &mut newest);
    }
    newest
}

/// The sources a binary is built from: its package, and the shared crate for the functions.
fn sources_of(root: &Path, bin: &str) -> Vec<PathBuf> {
    match bin {
        "connect-sim" => vec![root.join("sim/src"), root.join("sim/Cargo.toml")],
        "lambda-adapter" | "rehearse" => {
            vec![root.join("local/src"), root.join("local/Cargo.toml")]
        }
        _ => vec![
            root.join("functions").join(bin),
            root.join("shared/src"),
            root.join("shared/Cargo.toml"),
        ],
    }
}

fn is_fresh(bins: &Path, root: &Path, bin: &str) -> bool {
    let Ok(built) = std::fs::metadata(bins.join(bin)).and_then(|m| m.modified()) else {
        return false;
    };
    newest_source(&sources_of(root, bin)).is_none_or(|src| src <= built)
}

/// Variables cargo sets for the crate it runs (not the user's settings such as CARGO_HOME).
fn is_per_crate_cargo_var(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_BIN_EXE_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// Builds the binaries once per test process if any is missing or older than its sources.
fn ensure_built(bins: &Path, wanted: &[&str]) -> Result<()> {
    let root = workspace();
    if wanted.iter().all(|b| is_fresh(bins, &root, b)) {
        return Ok(());
    }
    static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            eprintln!(
                "local stack: binaries missing or stale, running `cargo build --workspace --bins`"
            );
            let mut cmd = Command::new(cargo);
            cmd.current_dir(&root)
                .args(["build", "--workspace", "--bins"]);
            // Under `cargo test` this process carries the test's CARGO_PKG_*, CARGO_MANIFEST_DIR
            // and the like; build scripts that watch those would rerun and rebuild half the
            // dependency tree (then the next plain build rebuilds it back).
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy();
                if is_per_crate_cargo_var(&key) {
                    cmd.env_remove(key.as_ref());
                }
            }
            let status = cmd.status().map_err(|e| e.to_string())?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("cargo build --workspace --bins failed: {status}"))
            }
        })
        .clone()
        .map_err(|e| anyhow!(e))?;
    for b in wanted {
        if !bins.join(b).exists() {
            bail!("{} was not built", bins.join(b).display());
        }
    }
    Ok(())
}
