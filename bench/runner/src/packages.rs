//! Section 6: each function's deployable package (the zip of its arm64 bootstrap, as `make
//! package` builds it), and its init time and peak memory running the x86-64 release build on
//! this machine under a fake runtime API ([`super::runtime_api`]), each against `bench/hello`, a
//! `lambda_runtime` function that does nothing, built the same way.
//!
//! The one invocation that the memory is measured over is real work: the function's example
//! event (`tests/events/`) against a local stack on `small` (connect-sim, moto with the run table
//! and the state machines, no function processes), in the order a replication takes, so each
//! function finds what it needs: preflight, replicate, (the replica mirrored) poll-mirroring,
//! associate-agents, shift-traffic, incident-intake.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use super::calls::CallLog;
use super::poll::mirror_to_the_end;
use super::report::{Row, Section};
use super::runtime_api::{Answer, RuntimeApi};
use super::{millis, Packages};
use local_stack::drill::scenario_instance;
use local_stack::process::free_port;
use local_stack::stack::{event_path, Options, Stack, REPLICA_REGION, SOURCE_REGION, TABLE_NAME};
use local_stack::workspace;

/// The floor.
const HELLO: &str = "hello";
/// Each function's example event, in the order they run (a replication's, then a failover's).
const INVOCATIONS: &[(&str, &str)] = &[
    ("preflight", "small"),
    ("replicate", "small"),
    ("poll-mirroring", "small"),
    ("associate-agents", "small"),
    ("shift-traffic", "failover"),
    ("incident-intake", "failover"),
];
const MAX_ZIP_MIB: f64 = 8.0;
/// The quota factor of the stack and of the functions' pacers.
const QUOTA_FACTOR: f64 = 100.0;
const MIB: f64 = 1024.0 * 1024.0;

/// What one function measured.
struct Measured {
    zip: Option<u64>,
    baseline_zip: Option<u64>,
    binary: Option<u64>,
    init: Duration,
    rss_kib: u64,
    answer: String,
}

pub(super) async fn run(p: &Packages, progress: &dyn Fn(&str)) -> Result<Vec<Row>> {
    let mut functions = function_names()?;
    for f in &functions {
        if !INVOCATIONS.iter().any(|(name, _)| name == f) {
            bail!("no example event chosen for {f}: add it to INVOCATIONS");
        }
    }
    functions.sort_by_key(|f| INVOCATIONS.iter().position(|(name, _)| name == f));

    let mut opts = Options::state_machines("small", 60.0).quota_factor(QUOTA_FACTOR);
    opts.functions.clear();
    let stack = Stack::start(opts).await?;
    let instance = scenario_instance(&workspace(), "small")?;
    let log = CallLog::new(stack.sim);
    let env = functions_env(&stack)?;

    progress("  hello (the floor)");
    let hello = measure(p, HELLO, json!({"hello": "world"}), &env, &stack.logs).await?;
    let mut measured = Vec::new();
    for f in &functions {
        if f == "poll-mirroring" {
            mirror_to_the_end(log.client(), &instance).await?;
        }
        let file = INVOCATIONS
            .iter()
            .find(|(name, _)| name == f)
            .map_or("small", |(_, e)| e);
        let event = read_event(&event_path(f, file))?;
        progress(&format!("  {f} ({file})"));
        measured.push((f.clone(), measure(p, f, event, &env, &stack.logs).await?));
    }
    drop(stack);
    Ok(rows(&hello, &measured))
}

fn rows(hello: &Measured, measured: &[(String, Measured)]) -> Vec<Row> {
    let s = Section::Packages;
    let mib = |b: Option<u64>| b.map_or("-".to_string(), |b| format!("{:.2} MiB", b as f64 / MIB));
    let mut rows = vec![Row::new(s, "release profile", release_profile()).against(
        "before: no [profile.release], so cargo-lambda's defaults (thin LTO, 1 codegen unit, panic=abort, symbols stripped)",
    )];
    rows.push(
        Row::new(
            s,
            "hello (the floor): package",
            format!("zip {} (bootstrap {})", mib(hello.zip), mib(hello.binary)),
        )
        .against(format!("before: zip {}", mib(hello.baseline_zip))),
    );
    rows.push(Row::new(
        s,
        "hello (the floor): init, peak RSS",
        format!(
            "init {}, peak RSS {:.1} MiB",
            millis(hello.init),
            hello.rss_kib as f64 / 1024.0
        ),
    ));
    for (f, m) in measured {
        let zip_mib = m.zip.map_or(f64::INFINITY, |b| b as f64 / MIB);
        rows.push(
            Row::new(
                s,
                format!("{f}: package"),
                format!("zip {} (bootstrap {})", mib(m.zip), mib(m.binary)),
            )
            .against(format!(
                "before: zip {}; hello: zip {}",
                mib(m.baseline_zip),
                mib(hello.zip)
            ))
            .goal(format!("≤ {MAX_ZIP_MIB} MiB"), zip_mib <= MAX_ZIP_MIB),
        );
        let init_ratio = m.init.as_secs_f64() / hello.init.as_secs_f64().max(f64::EPSILON);
        let rss_ratio = m.rss_kib as f64 / (hello.rss_kib as f64).max(1.0);
        rows.push(
            Row::new(
                s,
                format!("{f}: init, peak RSS over one invocation"),
                format!(
                    "init {} (×{init_ratio:.1}), peak RSS {:.1} MiB (×{rss_ratio:.1}); it answered {}",
                    millis(m.init),
                    m.rss_kib as f64 / 1024.0,
                    m.answer
                ),
            )
            .against(format!(
                "hello: init {}, peak RSS {:.1} MiB",
                millis(hello.init),
                hello.rss_kib as f64 / 1024.0
            ))
            .goal("both ≤ 2× hello", init_ratio <= 2.0 && rss_ratio <= 2.0),
        );
    }
    rows
}

/// The functions: the directories of `functions/`.
fn function_names() -> Result<Vec<String>> {
    let dir = workspace().join("functions");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
        let e = e?;
        if e.path().join("Cargo.toml").exists() {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

fn read_event(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// The `[profile.release]` of the workspace's Cargo.toml, on one line.
fn release_profile() -> String {
    let text = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap_or_default();
    let settings: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if settings.is_empty() {
        "none (cargo-lambda's defaults)".into()
    } else {
        format!("[profile.release] {}", settings.join(", "))
    }
}

/// Sizes, then the median init over cold starts, then one invocation with `event`.
async fn measure(
    p: &Packages,
    function: &str,
    event: Value,
    env: &[(String, String)],
    logs: &Path,
) -> Result<Measured> {
    let bootstrap = p.x86_64.join(function).join("bootstrap");
    if !bootstrap.exists() {
        bail!(
            "{} is missing: scripts/bench.sh builds it (cargo lambda build --release --x86-64)",
            bootstrap.display()
        );
    }
    let arm64_binary: PathBuf = workspace()
        .join("target/aarch64-unknown-linux-gnu/release")
        .join(function);
    let mut inits = Vec::new();
    for _ in 0..p.cold_starts.max(1) {
        let mut run = Run::start(&bootstrap, function, env, logs).await?;
        inits.push(run.init().await?);
    }
    inits.sort();
    let mut run = Run::start(&bootstrap, function, env, logs).await?;
    run.init().await?;
    let (answer, rss_kib) = run.invoke(event).await?;
    Ok(Measured {
        zip: size(&p.arm64.join(function).join("bootstrap.zip")),
        baseline_zip: p
            .baseline
            .as_ref()
            .and_then(|b| size(&b.join(function).join("bootstrap.zip"))),
        binary: size(&arm64_binary),
        init: inits[inits.len() / 2],
        rss_kib,
        answer,
    })
}

/// One process of a function under its own fake runtime API; killed when dropped.
struct Run {
    child: tokio::process::Child,
    api: RuntimeApi,
    started: Instant,
}

impl Run {
    async fn start(
        bootstrap: &Path,
        function: &str,
        env: &[(String, String)],
        logs: &Path,
    ) -> Result<Run> {
        let api = RuntimeApi::start().await?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("bench-{function}.log")))?;
        let mut cmd = tokio::process::Command::new(bootstrap);
        cmd.env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("start {}", bootstrap.display()))?;
        Ok(Run {
            child,
            api,
            started,
        })
    }

    /// From the process's start to its first request for an invocation.
    async fn init(&mut self) -> Result<Duration> {
        let limit = Duration::from_secs(30);
        match tokio::time::timeout(limit, self.api.next_requested()).await {
            Ok(Some(at)) => Ok(at - self.started),
            _ => {
                let status = self.child.try_wait()?;
                bail!("no request for an invocation in {limit:?} (process: {status:?})")
            }
        }
    }

    /// One invocation: what the function answered (`ok` or its error type) and the process's
    /// peak RSS (KiB) once it answered.
    async fn invoke(&mut self, event: Value) -> Result<(String, u64)> {
        self.api.invoke(event);
        let limit = Duration::from_secs(120);
        let answer = match tokio::time::timeout(limit, self.api.answer()).await {
            Ok(Some(a)) => a,
            _ => bail!("no answer in {limit:?}"),
        };
        let pid = self.child.id().context("the process is gone")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        let answer = match answer {
            Answer::Response => "ok".to_string(),
            Answer::Error(body) | Answer::InitError(body) => serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["errorType"].as_str().map(str::to_string))
                .unwrap_or(body),
        };
        Ok((answer, rss))
    }
}

/// The environment a function has in the stack's source region (its endpoints, table, region
/// pair and failover machine), with Lambda's own variables but the runtime API's.
fn functions_env(stack: &Stack) -> Result<Vec<(String, String)>> {
    let closed = free_port()?;
    Ok([
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench".to_string()),
        ("AWS_REGION", SOURCE_REGION.to_string()),
        ("TABLE_NAME", TABLE_NAME.to_string()),
        ("SOURCE_REGION", SOURCE_REGION.to_string()),
        ("REPLICA_REGION", REPLICA_REGION.to_string()),
        ("DEPLOYMENT_REGION", SOURCE_REGION.to_string()),
        (
            "FAILOVER_STATE_MACHINE_ARN",
            local_stack::sfn::machine_arn(SOURCE_REGION, "failover"),
        ),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHPACKAGE".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench-secret".to_string()),
        ("AWS_ENDPOINT_URL_CONNECT", format!("http://{}", stack.sim)),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://{}", stack.moto),
        ),
        ("AWS_ENDPOINT_URL_SFN", format!("http://{}", stack.moto)),
        ("AWS_ENDPOINT_URL_LAMBDA", format!("http://{}", stack.moto)),
        ("AWS_ENDPOINT_URL_KMS", format!("http://127.0.0.1:{closed}")),
        ("CONNECT_QUOTA_FACTOR", QUOTA_FACTOR.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ("RUST_LOG", "info".to_string()),
        ("NO_COLOR", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect())
}
