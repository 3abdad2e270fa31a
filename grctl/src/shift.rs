//! `grctl failover --to REGION` and `grctl failback`: the failover machine of the region that
//! answers (the region taking the traffic first), a dry run that shows the plan and the gates,
//! a confirmation, then the shift followed to the distribution read back.

use std::io::{BufRead, Write};

use acgr::domain::Isolate;
use acgr::run::request::FailoverRequest;
use serde::Serialize;
use serde_json::Value;

use crate::exit::{CliError, Exit};
use crate::follow::{self, Bars, Finished};
use crate::target::{Clients, Target};

/// What to shift.
#[derive(Debug, Clone)]
pub struct Request {
    /// `Some(region)`: failover to it; `None`: failback.
    pub to: Option<String>,
    /// A failover's `isolate` (`auto` is sent as absent: the default).
    pub isolate: Option<Isolate>,
    pub groups: Vec<String>,
    pub force: bool,
    pub dry_run: bool,
    pub break_lock: bool,
    pub reason: Option<String>,
    pub yes: bool,
    /// The shift's execution name and run ID (its dry run's is `<id>-plan`).
    pub run_id: Option<String>,
}

impl Request {
    fn verb(&self) -> &'static str {
        if self.to.is_some() {
            "failover"
        } else {
            "failback"
        }
    }

    fn input(&self, t: &Target, dry_run: bool) -> Value {
        let failback = self.to.is_none();
        FailoverRequest {
            instance_id: t.deployment.instance_id.clone(),
            target_region: self.to.clone(),
            preset: failback.then(|| "failback".to_string()),
            isolate: self.isolate.filter(|i| *i != Isolate::Auto),
            dry_run: Some(dry_run),
            force: Some(self.force),
            break_lock: self.break_lock.then_some(true),
            reason: self.reason.clone(),
            traffic_distribution_groups: (!self.groups.is_empty()).then(|| self.groups.clone()),
            ..FailoverRequest::default()
        }
        .to_input()
    }
}

/// The outcome: the plan (dry run), then the shift.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The region whose deployment ran it.
    pub called_in: String,
    /// Regions tried first that did not answer.
    pub skipped: Vec<String>,
    /// shift-traffic's dry run: gates, groups before and after, the calls it would make.
    pub plan: Value,
    /// The shift itself (absent after a dry run, or when refused before starting it).
    pub shift: Option<Finished>,
    /// The distribution of each group read back from Connect after the shift.
    pub after: Vec<crate::status::GroupView>,
}

/// The region's deployment whose failover machine answers: the target region's first.
async fn pick<'t>(
    t: &'t Target,
    first: &str,
) -> Result<(&'t Clients, String, Vec<String>), CliError> {
    let mut skipped = Vec::new();
    let mut why = Vec::new();
    for c in t.regions_from(first) {
        let region = c.region.as_str();
        let Some(machine) = t
            .deployment
            .regions
            .get(region)
            .and_then(|d| d.failover_state_machine_arn.clone())
        else {
            why.push(format!(
                "{region}: {}",
                t.unreachable
                    .get(region)
                    .cloned()
                    .unwrap_or_else(|| "no failover machine deployed".into())
            ));
            skipped.push(region.to_string());
            continue;
        };
        match follow::reachable(c, &machine).await {
            Ok(()) => return Ok((c, machine, skipped)),
            Err(e) => {
                why.push(e.message);
                skipped.push(region.to_string());
            }
        }
    }
    Err(CliError::new(
        Exit::Unreachable,
        format!("no region's failover machine answered: {}", why.join("; ")),
    ))
}

/// Asks on the terminal; without one (or with JSON output), `--yes` is required.
fn confirm(question: &str, interactive: bool) -> Result<bool, CliError> {
    if !interactive {
        return Err(CliError::new(
            Exit::Usage,
            "no terminal to confirm on (or JSON output): pass --yes to shift without a \
             confirmation",
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(Exit::Usage, e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Runs the request; `show` prints the plan before the confirmation (table output).
pub async fn shift(
    t: &Target,
    r: &Request,
    bars_visible: bool,
    interactive: bool,
    show: impl Fn(&Value),
) -> Result<Outcome, CliError> {
    let first =
        r.to.clone()
            .unwrap_or_else(|| t.deployment.source_region.clone());
    let (c, machine, skipped) = pick(t, &first).await?;

    // the plan and the gates: a dry run of the same request, in the same region
    let run_id = r
        .run_id
        .clone()
        .unwrap_or_else(|| follow::execution_name(r.verb()));
    // its own name each time: a second attempt of the same run ID makes a new plan
    let name = follow::execution_name(&format!("{run_id}-plan"));
    let arn = follow::start(c, &machine, &name, &r.input(t, true)).await?;
    let dry = follow::follow(t, c, &arn, &name, Bars::Step, bars_visible).await?;
    if !dry.succeeded() {
        return Err(CliError::new(
            dry.exit(),
            format!(
                "the plan of the {} was refused: {}: {}",
                r.verb(),
                dry.error.clone().unwrap_or_default(),
                dry.cause.clone().unwrap_or_default()
            ),
        ));
    }
    let plan = dry
        .output
        .as_ref()
        .map(|o| o["shift"]["result"].clone())
        .unwrap_or(Value::Null);
    let mut outcome = Outcome {
        called_in: c.region.to_string(),
        skipped,
        plan: plan.clone(),
        shift: None,
        after: Vec::new(),
    };
    show(&plan);
    let closed: Vec<String> = plan["gates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["ok"] == false && !(r.force && g["overridable"] == true))
        .map(|g| {
            format!(
                "{}: {}",
                g["id"].as_str().unwrap_or("?"),
                g["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    if r.dry_run {
        return Ok(outcome);
    }
    if !closed.is_empty() {
        return Err(CliError::new(
            Exit::Refused,
            format!("refused by the gates: {}", closed.join("; ")),
        ));
    }
    if !r.yes
        && !confirm(
            &format!("{} now, from {}?", r.verb(), c.region),
            interactive,
        )?
    {
        return Err(CliError::new(
            Exit::Refused,
            "not confirmed: nothing was changed",
        ));
    }
    let arn = follow::start(c, &machine, &run_id, &r.input(t, false)).await?;
    let done = follow::follow(t, c, &arn, &run_id, Bars::Step, bars_visible).await?;
    // read back from the region that ran it (it answered a moment ago)
    outcome.after = crate::status::live_groups(c, &t.deployment.instance_id).await;
    outcome.shift = Some(done);
    Ok(outcome)
}
