//! Section 3, and the AWS CLI side of section 7: what an operator does without this project, on
//! the same control plane and quotas. The pinned AWS CLI of `.venv/` (one process per call,
//! pointed at connect-sim with `--endpoint-url`, dummy credentials, the region in the SigV4
//! scope) and a boto3 loop in one Python process. Each signs with its own access key ID, so its
//! calls and throttles are found in connect-sim's call log.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::agents::{Association, Bench};
use super::report::{Row, Section};
use super::{millis, secs};
use local_stack::stack::SOURCE_REGION;
use local_stack::workspace;

const CLI_KEY: &str = "AKIDBENCHRUNBOOKCLI";
const BOTO3_KEY: &str = "AKIDBENCHRUNBOOKBOTO3";

/// The boto3 loop, run by `.venv/bin/python`.
const BOTO3_LOOP: &str = include_str!("associate_boto3.py");

fn venv(bin: &str) -> Result<PathBuf> {
    let p = workspace().join(".venv/bin").join(bin);
    ensure!(
        p.exists(),
        "{} is missing: run scripts/setup.sh",
        p.display()
    );
    Ok(p)
}

/// The AWS CLI or boto3, pointed at connect-sim: no config or credentials files, no instance
/// metadata, a dummy key of its own.
fn aws_env(cmd: &mut tokio::process::Command, access_key_id: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_RETRY_MODE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
}

/// One `aws connect ...` process in `region` against connect-sim; its wall time, or its error.
pub(super) async fn cli(b: &Bench<'_>, region: &str, args: &[&str]) -> Result<Duration> {
    let mut cmd = tokio::process::Command::new(venv("aws")?);
    cmd.arg("connect")
        .args(args)
        .args(["--region", region, "--output", "json"])
        .arg("--endpoint-url")
        .arg(format!("http://{}", b.stack.sim));
    aws_env(&mut cmd, CLI_KEY);
    let t = Instant::now();
    let out = cmd.output().await.context("the AWS CLI")?;
    let took = t.elapsed();
    if !out.status.success() {
        bail!(
            "aws connect {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(took)
}

/// Section 3: the same agents associated by the AWS CLI (a subset) and by a boto3 loop.
pub(super) async fn run(b: &mut Bench<'_>, ours: &Association) -> Result<Vec<Row>> {
    let s = Section::Runbook;
    let group = b.default_group().await?;
    let users = group.users.clone();
    ensure!(!users.is_empty(), "no associated agents to associate again");
    let ours_per_agent = ours.phase.as_secs_f64() / ours.agents as f64;

    // One AWS CLI process per agent, on the first agents.
    let subset = &users[..b.plan.cli_agents.min(users.len())];
    let before = b.log.mark().await?;
    let started = Instant::now();
    for user in subset {
        cli(
            b,
            SOURCE_REGION,
            &[
                "associate-traffic-distribution-group-user",
                "--traffic-distribution-group-id",
                &group.id,
                "--user-id",
                user,
                "--instance-id",
                &b.instance,
            ],
        )
        .await?;
    }
    let cli_took = started.elapsed();
    let until = b.log.mark().await?;
    let cli_calls = b.log.between(before, until).by_key(CLI_KEY);
    let (cli_calls, cli_throttled) = (cli_calls.len(), cli_calls.throttled());
    let cli_per_agent = cli_took.as_secs_f64() / subset.len() as f64;

    // A boto3 loop over the agents, in one Python process.
    let looped = &users[..b.plan.boto3_agents.unwrap_or(users.len()).min(users.len())];
    let before = b.log.mark().await?;
    let out = boto3_loop(b, &group.id, looped).await?;
    let until = b.log.mark().await?;
    let boto3_calls = b.log.between(before, until).by_key(BOTO3_KEY);
    let (boto3_calls, boto3_throttled) = (boto3_calls.len(), boto3_calls.throttled());
    let loop_secs = out["seconds"].as_f64().context("the loop's seconds")?;
    let boto3_failed = out["failed"].as_u64().unwrap_or(0);
    let boto3_per_agent = loop_secs / looped.len() as f64;

    let subset_note = if subset.len() < users.len() {
        format!(
            "the first {} of the {} agents (one process each takes about {}; all of them would take {})",
            subset.len(),
            users.len(),
            millis(Duration::from_secs_f64(cli_per_agent)),
            secs(Duration::from_secs_f64(cli_per_agent * users.len() as f64))
        )
    } else {
        format!("all {} agents", users.len())
    };
    Ok(vec![
        Row::new(
            s,
            format!("one AWS CLI process per agent, {subset_note}"),
            format!(
                "{} ({:.0} ms per agent; {} calls, {} throttled): ×{:.0} our time per agent",
                secs(cli_took),
                cli_per_agent * 1000.0,
                cli_calls,
                cli_throttled,
                cli_per_agent / ours_per_agent
            ),
        )
        .against(format!(
            "ours: {:.1} ms per agent ({} for {} agents, section 1)",
            ours_per_agent * 1000.0,
            secs(ours.phase),
            ours.agents
        )),
        Row::new(
            s,
            format!(
                "a boto3 loop over {} agents in one process",
                looped.len()
            ),
            format!(
                "{} ({:.1} ms per agent; {} calls, {} throttled and retried, {} agents failed): ×{:.1} our time per agent",
                secs(Duration::from_secs_f64(loop_secs)),
                boto3_per_agent * 1000.0,
                boto3_calls,
                boto3_throttled,
                boto3_failed,
                boto3_per_agent / ours_per_agent
            ),
        )
        .against(format!(
            "ours: {:.1} ms per agent, same agents, control plane and quotas",
            ours_per_agent * 1000.0
        )),
    ])
}

/// Runs the boto3 loop over `users`; its JSON line.
async fn boto3_loop(b: &Bench<'_>, group_id: &str, users: &[String]) -> Result<Value> {
    let mut cmd = tokio::process::Command::new(venv("python")?);
    cmd.arg("-c").arg(BOTO3_LOOP);
    aws_env(&mut cmd, BOTO3_KEY);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().context("python")?;
    let args = json!({
        "endpoint": format!("http://{}", b.stack.sim),
        "region": SOURCE_REGION,
        "instanceId": b.instance,
        "groupId": group_id,
        "userIds": users,
    });
    let mut stdin = child.stdin.take().context("python's stdin")?;
    stdin.write_all(args.to_string().as_bytes()).await?;
    drop(stdin);
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!(
            "the boto3 loop failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).with_context(|| format!("the boto3 loop's output: {text}"))
}
