//! The rehearsal: the whole product on this machine. Starts the local stack in both regions
//! (connect-sim with a scenario; per region, moto executing the deployed state machines and the
//! functions of that region's deployment; the run table replicated between them), then does what
//! an operator does, with grctl (README "Operating"): replicates to the end, fails over to the
//! replica region from the replica region and fails back with both regions up; then runs the region-outage drill (a steady state recorded, the source region
//! down, the incident request to the replica region alone, failover at Connect's real quotas,
//! the source region back, failback), printing progress as it goes and a summary at the end.
//! Exits 1 if anything failed; every process it started is stopped on the way out.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use local_stack::drill::{self, Drill, DrillReport};
use local_stack::stack::{workspace, Options, Stack, REPLICA_REGION, SOURCE_REGION};
use serde_json::{json, Value};

mod summary;
use summary::summary;

#[derive(Parser)]
#[command(about = "Rehearse replication, failover and failback against the local stack")]
struct Args {
    /// A scenario of sim/scenarios/ (small, conflict, large).
    #[arg(long, default_value = "small")]
    scenario: String,
    /// Simulated seconds per real second (creating the replica takes 300 simulated seconds).
    #[arg(long, default_value_t = 60.0)]
    time_scale: f64,
    /// Seconds between mirroring polls (real time).
    #[arg(long, default_value_t = 2)]
    poll_seconds: u64,
    /// Give up on an execution after this many real seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Raise Connect's quotas and our pacers together by this factor (default: the scenario's
    /// own, else 1: the real quotas).
    #[arg(long)]
    quota_factor: Option<f64>,
    /// The drill's steady state: telephony and agents % in the source region before the incident
    /// (set with a plan and recorded by an agent sync); failback must restore it.
    #[arg(long, default_value_t = 70)]
    drill_steady: u8,
    /// Skip the region-outage drill.
    #[arg(long)]
    no_drill: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // On Ctrl-C or SIGTERM the rehearsal future is dropped, and with it the stack, which stops
    // every process it started.
    let stop = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupted"
            }
        }
    };
    tokio::select! {
        result = rehearse(&args) => match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("rehearsal: {e:#}");
                ExitCode::FAILURE
            }
        },
        why = stop => {
            eprintln!("rehearsal {why}; local stack stopped");
            ExitCode::FAILURE
        }
    }
}

/// What happened, for the summary.
#[derive(Default)]
struct Outcome {
    phases: Vec<(String, String, Duration)>,
    traffic: Vec<(String, Value)>,
}

async fn rehearse(args: &Args) -> anyhow::Result<bool> {
    let started = Instant::now();
    println!(
        "== rehearsal of scenario '{}' (clock x{})",
        args.scenario, args.time_scale
    );
    let instance = drill::scenario_instance(&workspace(), &args.scenario)?;
    let mut opts =
        Options::two_regions(&args.scenario, args.time_scale).replication_lag(REHEARSAL_TABLE_LAG);
    if let Some(f) = args.quota_factor {
        opts = opts.quota_factor(f);
    }
    println!(
        "   Connect's quotas and our pacers at x{}{}",
        opts.quota_factor,
        if opts.quota_factor == 1.0 {
            " (the real quotas)"
        } else {
            ""
        }
    );
    let stack = Stack::start(opts).await?;
    println!(
        "   local stack up in {:.1}s: connect-sim {}, moto {}, lambda watch {}; logs in {}",
        started.elapsed().as_secs_f64(),
        stack.sim,
        stack.moto,
        stack.watch,
        stack.logs.display()
    );

    let mut outcome = Outcome::default();
    let mut progress = Progress {
        instance: instance.clone(),
        ..Progress::default()
    };
    let stamp = chrono_stamp();
    let timeout = Duration::from_secs(args.timeout);

    // The operator's commands (grctl, as README "Operating" has them), each needing the one
    // before: (what, region grctl is run from, arguments, what the traffic is after it).
    let max_polls = (args.timeout / args.poll_seconds.max(1)).max(1).to_string();
    let name = |what: &str| format!("rehearsal-{stamp}-{what}");
    let phases: [(&str, &str, Vec<String>, &str); 3] = [
        (
            "replication",
            SOURCE_REGION,
            [
                "replicate",
                "--wait",
                "--run-id",
                &name("replication"),
                "--poll-seconds",
                &args.poll_seconds.to_string(),
                "--max-polls",
                &max_polls,
            ]
            .map(String::from)
            .to_vec(),
            "replicated",
        ),
        (
            "failover",
            REPLICA_REGION,
            [
                "failover",
                "--to",
                REPLICA_REGION,
                "--yes",
                "--run-id",
                &name("failover"),
            ]
            .map(String::from)
            .to_vec(),
            "failed over",
        ),
        (
            "failback",
            SOURCE_REGION,
            ["failback", "--yes", "--run-id", &name("failback")]
                .map(String::from)
                .to_vec(),
            "failed back",
        ),
    ];
    let run_id = name("replication");
    for (what, region, grctl_args, after) in &phases {
        if !phase(
            &stack,
            &mut outcome,
            &mut progress,
            what,
            region,
            grctl_args,
            timeout,
        )
        .await?
        {
            break;
        }
        outcome
            .traffic
            .push((after.to_string(), distribution(&stack).await));
        println!("   cross-region routing: {}", drill::routing(&stack).await);
        // time passes before the next command, which may run in the other region (in
        // production a replication ends long before an incident)
        stack.time_passes().await?;
    }

    let mut drilled = None;
    let phases_ok =
        outcome.phases.len() == phases.len() && outcome.phases.iter().all(|p| p.1 == "SUCCEEDED");
    if phases_ok && !args.no_drill {
        println!(
            "\n-- region-outage drill: steady state {}/{}, {SOURCE_REGION} down, failover from {REPLICA_REGION} alone at real quotas, failback",
            args.drill_steady,
            100 - args.drill_steady.min(100)
        );
        let d = Drill {
            steady_source_percent: (args.drill_steady != 100).then_some(args.drill_steady),
            poll_seconds: args.poll_seconds,
            timeout,
            ..Drill::new(&instance, &format!("rehearsal-{stamp}-incident"))
        };
        let mut report = DrillReport::default();
        let result = async {
            drill::steady(&stack, &d, &mut report).await?;
            drill::outage(&stack, &d, &mut report).await
        }
        .await;
        if let Err(e) = &result {
            println!("   drill failed: {e:#}");
        }
        println!();
        report.print();
        let restored = report.split_after("failback") == report.split_after("steady state");
        let alone = report
            .calls_during_outage
            .get(SOURCE_REGION)
            .is_none_or(|c| c.ok == 0);
        let verdict = result.is_ok() && restored && alone;
        println!(
            "   {}",
            if verdict {
                "DRILL PASSED"
            } else {
                "DRILL FAILED"
            }
        );
        drilled = Some(verdict);
    }
    let ok = summary(
        &stack,
        &outcome,
        &instance,
        &run_id,
        drilled.unwrap_or(true),
        started.elapsed(),
    )
    .await;
    drop(stack);
    println!("   local stack stopped");
    Ok(ok)
}

/// Runs one grctl command to its end with its output shown (bars on a terminal; off one, the run
/// table's progress printed here as it changes); true if it succeeded.
async fn phase(
    stack: &Stack,
    outcome: &mut Outcome,
    printed: &mut Progress,
    what: &str,
    region: &str,
    args: &[String],
    timeout: Duration,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    println!("\n-- {what}: grctl --region {region} {}", args.join(" "));
    let terminal = std::io::stdout().is_terminal();
    let mut child = stack.grctl_spawn(region, args)?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if !terminal {
            printed.report(stack, started).await;
        }
        if started.elapsed() > timeout {
            child.kill().await?;
            anyhow::bail!("grctl {} still running after {timeout:?}", args.join(" "));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let took = started.elapsed();
    let code = status.code().unwrap_or(-1);
    let end = if code == 0 {
        "SUCCEEDED".to_string()
    } else {
        format!("FAILED (grctl exit {code})")
    };
    println!("   {what} {end} in {:.1}s", took.as_secs_f64());
    outcome.phases.push((what.to_string(), end, took));
    Ok(code == 0)
}

/// What has been printed so far, so only changes are printed (the run table across commands).
#[derive(Default)]
struct Progress {
    instance: String,
    kinds: BTreeMap<String, String>,
    agents: String,
}

impl Progress {
    async fn report(&mut self, stack: &Stack, started: Instant) {
        let at = started.elapsed().as_secs_f64();
        for item in stack.instance_items(&self.instance).await {
            let d = &item.data;
            if let Some(kind) = item.sk.strip_prefix("SNAPSHOT#") {
                let line = match (d["replica"].as_u64(), d["source"].as_u64()) {
                    (Some(replica), Some(source)) => format!(
                        "{replica}/{source} in the replica, {} missing, {} conflicting",
                        d["missing"], d["conflicting"]
                    ),
                    _ => format!(
                        "{} still to mirror, {} conflicting",
                        d["missing"], d["conflicting"]
                    ),
                };
                if self.kinds.get(kind) != Some(&line) {
                    println!("   {at:6.1}s    mirroring {kind:<22} {line}");
                    self.kinds.insert(kind.to_string(), line);
                }
            } else if item.sk.starts_with("PROGRESS#") {
                let line = format!(
                    "{} associated, {} already, {} waiting for the replica, {} failed",
                    d["associated"],
                    d["alreadyAssociated"],
                    d["waitingForReplica"],
                    d["failed"].as_array().map_or(0, Vec::len)
                );
                if self.agents != line {
                    println!("   {at:6.1}s    agents: {line}");
                    self.agents = line;
                }
            }
        }
    }
}

/// The default group's distribution as Connect holds it.
async fn distribution(stack: &Stack) -> Value {
    let state = stack.sim_state().await;
    state["trafficDistributionGroups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["isDefault"] == true))
        .map(|g| {
            json!({
                "telephony": g["telephony"],
                "agents": g["agents"],
                "signIn": g["signIn"],
                "status": g["status"],
            })
        })
        .unwrap_or(Value::Null)
}

/// Seconds since the epoch: unique execution names across rehearsals of one stack.
/// The run table's replication lag in the rehearsal: nothing waits for the tables to converge.
const REHEARSAL_TABLE_LAG: Duration = Duration::from_secs(5);

fn chrono_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
