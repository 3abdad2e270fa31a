//! `grctl`: the operator's front door to an Amazon Connect Global Resiliency deployment of this
//! project. Configured like the AWS CLI (`--profile`, `--region`, the standard credential chain,
//! `AWS_ENDPOINT_URL_*`), pointed at a deployment by its SAM stack's name (the stack's outputs in
//! each region of the pair) or a deployment file. `--output json` on every command; exit codes:
//! 0 done, 1 failed, 2 bad usage, 3 refused by a gate or a lock, 4 a region unreachable.

mod exit;
mod follow;
mod global_routing;
mod readiness;
mod render;
mod report;
mod shift;
mod status;
mod target;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use acgr::domain::Isolate;
use acgr::run::{AgentSyncRequest, ReplicationRequest, RunLedger};
use acgr::traffic::TrafficLedger;
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::{json, Value};

use exit::{CliError, Exit};
use follow::Bars;
use target::{Settings, Target};

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "grctl",
    version,
    about = "Replication, status, failover and failback of an Amazon Connect Global Resiliency deployment"
)]
struct Cli {
    /// The AWS CLI profile.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// The region asked first (either region of the pair).
    #[arg(long, global = true, env = "AWS_REGION")]
    region: Option<String>,
    /// The SAM stack's name, the same in both regions (`make deploy` names it acgr-<instance id>).
    #[arg(long, global = true, env = "GRCTL_STACK")]
    stack: Option<String>,
    /// A deployment file (the `grctl deployment --output json` shape) instead of the stacks.
    #[arg(long, global = true, env = "GRCTL_DEPLOYMENT")]
    deployment: Option<PathBuf>,
    /// Every service but Connect of a region at another endpoint: `REGION=URL` (repeatable).
    #[arg(long = "endpoint-for", global = true, value_parser = region_url)]
    endpoints: Vec<(String, String)>,
    /// Seconds one call to a region may take before the region counts as not answering.
    #[arg(long, global = true, default_value_t = 10.0)]
    timeout: f64,
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

/// The `--run-id` of a command that starts an execution.
fn run_id_of(c: &Command) -> Option<&str> {
    match c {
        Command::Replicate { run_id, .. }
        | Command::Sync { run_id, .. }
        | Command::GlobalRouting { run_id, .. } => run_id.as_deref(),
        Command::Failover { shift, .. } | Command::Failback { shift } => shift.run_id.as_deref(),
        _ => None,
    }
}

fn region_url(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(r, u)| (r.to_string(), u.to_string()))
        .ok_or_else(|| format!("'{s}' is not REGION=URL"))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The instance, its replica, mirroring, conflicts, agents, every group's live distribution,
    /// the failback point, the lock and the last runs, from every region that answers.
    Status {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Replicate the instance (the replication machine, source region).
    Replicate {
        #[arg(long)]
        wait: bool,
        /// The execution's name and run ID (default `grctl-replicate-<ms>`).
        #[arg(long)]
        run_id: Option<String>,
        #[arg(long)]
        replica_alias: Option<String>,
        #[arg(long)]
        poll_seconds: Option<u32>,
        #[arg(long)]
        max_polls: Option<u32>,
    },
    /// Associate every agent present in both regions (the agent-sync machine, source region).
    Sync {
        #[arg(long)]
        wait: bool,
        /// The execution's name and run ID (default `grctl-sync-<ms>`).
        #[arg(long)]
        run_id: Option<String>,
        /// Check the group's members against the records now.
        #[arg(long)]
        check_members: bool,
    },
    /// Move telephony, agents and sign-in to REGION.
    Failover {
        #[arg(long)]
        to: String,
        /// Isolate cross-region routing (an instance with global routing): `auto` when the
        /// region left is impaired, `always`, or `never`.
        #[arg(long, value_enum, default_value_t = IsolateArg::Auto)]
        isolate: IsolateArg,
        #[command(flatten)]
        shift: ShiftArgs,
    },
    /// Put traffic back where it was before the failover.
    Failback {
        #[command(flatten)]
        shift: ShiftArgs,
    },
    /// The instance's runs, newest first.
    Runs {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Name conflicts blocking mirroring, each with its fix.
    Conflicts,
    /// Every traffic shift: before, after, and who started it.
    History {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// The deployment grctl resolved (a deployment file's shape).
    Deployment,
    /// Can each region serve a call: the readiness test cases run in both regions, and the
    /// Lambda functions, Lex aliases, origins and applications the flows need checked there.
    Readiness {
        /// How long test cases are waited for, in seconds.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// Where the instance stands with global routing in both regions; with --migrate, the
    /// documented migration (ReplicateInstance again, through the replication machine).
    GlobalRouting {
        /// Run the migration (once AWS Support granted global routing to the account).
        #[arg(long)]
        migrate: bool,
        /// The migration's execution name and run ID (default `grctl-migrate-<ms>`).
        #[arg(long)]
        run_id: Option<String>,
    },
    /// One self-contained HTML page: each group's distribution over time, mirroring per kind,
    /// agents, findings.
    Report {
        #[arg(long)]
        html: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IsolateArg {
    Auto,
    Always,
    Never,
}

impl From<IsolateArg> for Isolate {
    fn from(a: IsolateArg) -> Isolate {
        match a {
            IsolateArg::Auto => Isolate::Auto,
            IsolateArg::Always => Isolate::Always,
            IsolateArg::Never => Isolate::Never,
        }
    }
}

#[derive(Debug, clap::Args)]
struct ShiftArgs {
    /// Show the plan and the gates, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Override the gates that may be overridden.
    #[arg(long)]
    force: bool,
    /// Take the instance lock whoever holds it (needs --reason).
    #[arg(long, requires = "reason")]
    break_lock: bool,
    #[arg(long)]
    reason: Option<String>,
    /// Only these groups (ID or ARN; repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Do not ask for a confirmation.
    #[arg(long, short)]
    yes: bool,
    /// The execution's name and run ID (an incident's ID, say; default `grctl-<verb>-<ms>`).
    #[arg(long)]
    run_id: Option<String>,
}

impl ShiftArgs {
    fn request(&self, to: Option<String>, isolate: Option<Isolate>) -> shift::Request {
        shift::Request {
            to,
            isolate,
            groups: self.groups.clone(),
            force: self.force,
            dry_run: self.dry_run,
            break_lock: self.break_lock,
            reason: self.reason.clone(),
            yes: self.yes,
            run_id: self.run_id.clone(),
        }
    }
}

/// What a command printed, and how it ends.
struct Done {
    json: Value,
    text: String,
    exit: Exit,
}

fn done<T: Serialize>(value: &T, text: String, exit: Exit) -> Done {
    Done {
        json: serde_json::to_value(value).unwrap_or(Value::Null),
        text,
        exit,
    }
}

async fn run(cli: &Cli) -> Result<Done, CliError> {
    if !(cli.timeout > 0.0 && cli.timeout.is_finite()) {
        return Err(CliError::new(
            Exit::Usage,
            "--timeout must be a positive number of seconds",
        ));
    }
    let settings = Settings {
        profile: cli.profile.clone(),
        region: cli.region.clone(),
        stack: cli.stack.clone(),
        deployment_file: cli.deployment.clone(),
        endpoints: cli.endpoints.iter().cloned().collect::<BTreeMap<_, _>>(),
        timeout: Duration::from_secs_f64(cli.timeout),
    };
    let t = target::resolve(&settings).await?;
    // bars and prompts on a terminal only, never in JSON mode
    let bars = cli.output == Output::Table && std::io::stderr().is_terminal();
    if let Some(id) = run_id_of(&cli.command) {
        // room for the dry run's suffix (`-plan-<ms>`): Step Functions names end at 80
        acgr::run::ids::check_run_id(id)
            .map_err(|e| CliError::new(Exit::Usage, format!("--run-id: {e}")))?;
        if id.len() > 60 {
            return Err(CliError::new(
                Exit::Usage,
                "--run-id: at most 60 characters",
            ));
        }
    }
    match &cli.command {
        Command::Deployment => Ok(done(
            &t.deployment,
            serde_json::to_string_pretty(&t.deployment).unwrap_or_default(),
            Exit::Done,
        )),
        Command::Status { runs } => {
            let s = status::status(&t, *runs).await;
            Ok(done(&s, render::status(&s), status_exit(&s)))
        }
        Command::Runs { limit } => {
            let s = status::status(&t, *limit).await;
            Ok(done(&s.runs, render::runs(&s.runs), status_exit(&s)))
        }
        Command::Conflicts => {
            let s = status::status(&t, 0).await;
            Ok(done(
                &s.conflicts,
                render::conflicts(&s.conflicts),
                status_exit(&s),
            ))
        }
        Command::History { limit } => history(&t, *limit).await,
        Command::Report { html } => report(&t, html).await,
        Command::Replicate {
            wait,
            run_id,
            replica_alias,
            poll_seconds,
            max_polls,
        } => {
            let request = ReplicationRequest {
                instance_id: t.deployment.instance_id.clone(),
                replica_region: Some(t.deployment.replica_region.clone()),
                replica_alias: replica_alias.clone(),
                poll_seconds: poll_seconds.map(u64::from),
                max_polls: max_polls.map(u64::from),
                migrate: None,
                run_id: None,
            };
            let input = json!(request);
            source_machine(&t, "replicate", run_id.clone(), input, *wait, bars).await
        }
        Command::Sync {
            wait,
            run_id,
            check_members,
        } => {
            let request = AgentSyncRequest {
                instance_id: t.deployment.instance_id.clone(),
                check_members: Some(*check_members),
                run_id: None,
            };
            let input = json!(request);
            source_machine(&t, "sync", run_id.clone(), input, *wait, bars).await
        }
        Command::Readiness { wait } => {
            let token = follow::execution_name("readiness");
            let r = readiness::report(&t, Duration::from_secs(*wait), &token).await;
            let exit = if r.ready() { Exit::Done } else { Exit::Failed };
            Ok(done(&r, r.render(), exit))
        }
        Command::GlobalRouting { migrate, run_id } => {
            global_routing_cmd(&t, *migrate, run_id.clone(), bars).await
        }
        Command::Failover { to, isolate, shift } => {
            let r = shift.request(Some(to.clone()), Some((*isolate).into()));
            shift_cmd(cli, &t, r, bars).await
        }
        Command::Failback { shift } => shift_cmd(cli, &t, shift.request(None, None), bars).await,
    }
}

/// 0 when every region answered; 4 when one did not (what it printed is what the other knows).
fn status_exit(s: &status::Status) -> Exit {
    if s.all_reachable() {
        Exit::Done
    } else {
        Exit::Unreachable
    }
}

async fn shift_cmd(cli: &Cli, t: &Target, r: shift::Request, bars: bool) -> Result<Done, CliError> {
    let table = cli.output == Output::Table;
    let dry_run = r.dry_run;
    // a confirmation needs a person who has seen the plan: a terminal on both ends, table output
    let interactive = table && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let outcome = shift::shift(t, &r, bars, interactive, |plan| {
        if table {
            println!("{}", render::plan(plan));
        }
    })
    .await?;
    let exit = outcome.shift.as_ref().map_or(Exit::Done, |f| f.exit());
    let mut text = String::new();
    if !outcome.skipped.is_empty() {
        text.push_str(&format!(
            "(did not answer: {}; ran in {})\n",
            outcome.skipped.join(", "),
            outcome.called_in
        ));
    }
    match &outcome.shift {
        None if dry_run => text.push_str("dry run: nothing was changed\n"),
        None => {}
        Some(f) => {
            text.push_str(&format!("run {}: {}", f.run_id, f.status));
            if let Some(e) = &f.error {
                text.push_str(&format!(" ({e}: {})", f.cause.clone().unwrap_or_default()));
            }
            text.push('\n');
            for g in &outcome.after {
                if let Some(d) = &g.live {
                    text.push_str(&format!(
                        "  {}: telephony {}; agents {}\n",
                        g.name,
                        render::split(&d.telephony),
                        render::split(&d.agents)
                    ));
                }
            }
        }
    }
    Ok(done(&outcome, text, exit))
}

/// Starts a machine of the source region's deployment and, with `wait`, follows it.
async fn source_machine(
    t: &Target,
    verb: &str,
    run_id: Option<String>,
    input: Value,
    wait: bool,
    bars: bool,
) -> Result<Done, CliError> {
    let region = t.deployment.source_region.clone();
    let c = &t.source;
    let machines = t.deployment.regions.get(&region);
    let machine = match verb {
        "replicate" => machines.and_then(|m| m.replication_state_machine_arn.clone()),
        _ => machines.and_then(|m| m.agent_sync_state_machine_arn.clone()),
    };
    let Some(machine) = machine else {
        if let Some(why) = t.unreachable.get(&region) {
            return Err(CliError::new(
                Exit::Unreachable,
                format!("{region} did not answer: {why}"),
            ));
        }
        return Err(follow::no_machine(verb, &region));
    };
    let name = run_id.unwrap_or_else(|| follow::execution_name(verb));
    let arn = follow::start(c, &machine, &name, &input).await?;
    if !wait {
        let started = json!({"region": region, "executionArn": arn, "runId": name});
        let text = format!("started {arn} (run {name}); follow it with `grctl runs`\n");
        return Ok(done(&started, text, Exit::Done));
    }
    let f = follow::follow(t, c, &arn, &name, Bars::Replication, bars).await?;
    let s = status::status(t, 5).await;
    let run = status::status_run(t, &name).await;
    let mut text = format!("run {}: {}", f.run_id, f.status);
    if let Some(e) = &f.error {
        text.push_str(&format!(" ({e}: {})", f.cause.clone().unwrap_or_default()));
    }
    text.push('\n');
    text.push_str(&render::status(&s));
    let exit = f.exit();
    Ok(done(
        &json!({"execution": f, "run": run, "status": s}),
        text,
        exit,
    ))
}

/// `grctl global-routing [--migrate]`: where the instance stands; the migration through the
/// replication machine (followed to its end), then where it stands and what remains.
async fn global_routing_cmd(
    t: &Target,
    migrate: bool,
    run_id: Option<String>,
    bars: bool,
) -> Result<Done, CliError> {
    let before = global_routing::standing(t).await;
    if !migrate || before.state == "enabled" {
        let mut text = global_routing::render(&before);
        if migrate {
            text.push_str("already enabled: no migration started\n");
        }
        let exit = if before.state == "unknown" {
            Exit::Unreachable
        } else {
            Exit::Done
        };
        return Ok(done(&before, text, exit));
    }
    let request = ReplicationRequest {
        instance_id: t.deployment.instance_id.clone(),
        replica_region: Some(t.deployment.replica_region.clone()),
        migrate: Some(true),
        ..ReplicationRequest::default()
    };
    let name = run_id.unwrap_or_else(|| follow::execution_name("migrate"));
    let ran = source_machine(t, "replicate", Some(name), json!(request), true, bars).await?;
    let after = global_routing::standing(t).await;
    let text = format!(
        "{}\n{}",
        ran.text.lines().next().unwrap_or_default(),
        global_routing::render(&after)
    );
    Ok(done(
        &json!({"migration": ran.json["execution"], "globalRouting": after}),
        text,
        ran.exit,
    ))
}

/// `grctl history`: the shifts, newest first, with the run that made each and who started it.
async fn history(t: &Target, limit: usize) -> Result<Done, CliError> {
    let id = &t.deployment.instance_id;
    let mut last = String::new();
    for c in t.regions_from(&t.deployment.source_region) {
        let table = c.run_table(&t.deployment.run_table_name);
        let read = async {
            let shifts = table.shifts(id).await.map_err(|e| e.to_string())?;
            let groups = table.groups(id).await.map_err(|e| e.to_string())?;
            let runs = table.runs(id).await.map_err(|e| e.to_string())?;
            for u in &runs.unreadable {
                eprintln!(
                    "warning: {}: run item {} cannot be read by this version of grctl: {}",
                    c.region, u.sk, u.error
                );
            }
            let runs = runs.records;
            Ok::<_, String>((shifts, groups, runs))
        };
        let (shifts, groups, runs) = match read.await {
            Ok(r) => r,
            Err(e) => {
                last = format!("{}: {e}", c.region);
                continue;
            }
        };
        // newest first, then the limit
        let mut sorted: Vec<&acgr::traffic::ShiftRecord> = shifts.iter().collect();
        sorted.sort_by(|a, b| (b.at, &b.run_id).cmp(&(a.at, &a.run_id)));
        let rows: Vec<Value> = sorted
            .into_iter()
            .take(limit)
            .map(|s| {
                let run = runs.iter().find(|r| r.run_id == s.run_id);
                let group = groups
                    .iter()
                    .find(|g| g.group_arn == s.group_arn)
                    .map_or(s.group_arn.clone(), |g| g.name.clone());
                json!({
                    "at": s.at,
                    "completedAt": s.completed_at,
                    "runId": s.run_id,
                    "reason": s.reason,
                    "group": group,
                    "groupArn": s.group_arn,
                    "before": s.before,
                    "after": s.after,
                    "status": s.status,
                    "calledIn": s.called_in,
                    "startedBy": started_by(run),
                })
            })
            .collect();
        let text = render::history(&rows);
        let exit = if last.is_empty() {
            Exit::Done
        } else {
            Exit::Unreachable
        };
        return Ok(done(&rows, text, exit));
    }
    Err(CliError::new(
        Exit::Unreachable,
        format!("no region's run table answered: {last}"),
    ))
}

/// `grctl report --html FILE`: the status and every shift on record, as one page.
async fn report(t: &Target, path: &std::path::Path) -> Result<Done, CliError> {
    let s = status::status(t, 20).await;
    let id = &t.deployment.instance_id;
    let mut shifts = Vec::new();
    for c in t.regions_from(&t.deployment.source_region) {
        let table = c.run_table(&t.deployment.run_table_name);
        if let Ok(found) = table.shifts(id).await {
            shifts = found;
            break;
        }
    }
    let now = acgr::now();
    let page = report::html(&s, &shifts, now);
    std::fs::write(path, &page)
        .map_err(|e| CliError::new(Exit::Failed, format!("{}: {e}", path.display())))?;
    let written = json!({
        "file": path.display().to_string(),
        "bytes": page.len(),
        "groups": s.groups.len(),
        "shifts": shifts.len(),
        "kinds": s.mirroring.len(),
    });
    let text = format!(
        "wrote {} ({} bytes: {} groups, {} shifts, {} kinds)\n",
        path.display(),
        page.len(),
        s.groups.len(),
        shifts.len(),
        s.mirroring.len()
    );
    Ok(done(&written, text, status_exit(&s)))
}

/// Who started a run: the execution's name (grctl's, incident tooling's request, a schedule's)
/// and the operator's reason when a lock was broken.
fn started_by(run: Option<&acgr::run::RunRecord>) -> String {
    let Some(run) = run else {
        return String::new();
    };
    let execution = run
        .execution_arn
        .as_deref()
        .and_then(acgr::domain::Arn::parse)
        .map(|a| a.resource_id())
        .unwrap_or("");
    match run.inputs["breakLock"].as_str() {
        Some(reason) => format!("{execution} (lock broken: {reason})"),
        None => execution.to_string(),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let json = cli.output == Output::Json;
    let code = match run(&cli).await {
        Ok(d) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&d.json).unwrap_or_default()
                );
            } else {
                print!("{}", d.text);
                if !d.text.ends_with('\n') {
                    println!();
                }
            }
            d.exit
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    json!({"error": {"exit": e.exit as i32, "message": e.message}})
                );
            }
            eprintln!("grctl: {}", e.message);
            e.exit
        }
    };
    std::process::exit(code as i32);
}
