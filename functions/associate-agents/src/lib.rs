//! **associate-agents**: associates every user present in both regions with the instance's
//! traffic distribution group (the default one, or the one named), calling
//! AssociateTrafficDistributionGroupUser in the group's home region.
//!
//! A later run costs two listings (the replica's users once, the source's in pages of 100) plus
//! one call per user not yet recorded as associated. Calls are paced by a token bucket and
//! backed off when throttled. Progress is written before each page and after it, so an
//! invocation can stop before its deadline and the next one resumes from the cursor; nobody is
//! associated or counted twice.

mod pacing;

use std::collections::HashSet;

use acgr::connect::{Connect, GroupSummary};
use acgr::deadline::epoch_millis;
use acgr::domain::{region_of_arn, GroupRef, Kind, Region};
use acgr::error::{ConnectError, ConnectErrorClass, StepError};
use acgr::records::{Association, AssociationProgress, RunKind, UserFailure};
use acgr::runs::check_run_id;
use acgr::steady::{record_steady_state, AgentCounts};
use acgr::step::{Begin, Hold, StepRun};
use acgr::store::RunStore;
use acgr::{now, parse_input, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;
use tracing::{info, warn};

pub use pacing::Pacing;

pub const STEP: &str = "associate-agents";

/// ListUsers page size: one page is the unit of progress.
pub const PAGE_SIZE: i32 = 100;

/// Failures kept on the progress and in the output: the run store item and the state
/// machine's payload have size limits. Every failure is logged.
pub const MAX_FAILURES_LISTED: usize = 100;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// The Step Functions execution driving the run (`$$.Execution.Id`), recorded on the run.
    #[serde(default)]
    pub execution_arn: Option<String>,
    pub run_id: String,
    pub instance_id: String,
    /// A group ID or ARN; the instance's default group when absent.
    #[serde(default)]
    pub traffic_distribution_group: Option<String>,
    /// Where to resume (a ListUsers token); the run's stored progress when absent.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Counts are for the whole run so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub done: bool,
    pub associated: u64,
    pub already_associated: u64,
    pub waiting_for_replica: u64,
    pub failed: Vec<UserFailure>,
    /// Pass back as `cursor` while `done` is false.
    pub cursor: Option<String>,
    pub group_arn: String,
}

impl Output {
    fn from_progress(p: &AssociationProgress) -> Output {
        Output {
            done: p.done,
            associated: p.associated,
            already_associated: p.already_associated,
            waiting_for_replica: p.waiting_for_replica,
            failed: p.failed.clone(),
            cursor: if p.done { None } else { p.cursor.clone() },
            group_arn: p.group_arn.clone(),
        }
    }
}

pub async fn handler<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let input = parse(event.payload)?;
    let stop_at = pacing.stop_at(event.context.deadline, epoch_millis());
    tracing::debug!(
        deadline_ms = event.context.deadline,
        working_ms = stop_at.map(|t| t
            .saturating_duration_since(tokio::time::Instant::now())
            .as_millis() as u64),
        "invocation budget"
    );
    associate_agents(ctx, pacing, input, now(), stop_at)
        .await
        .map_err(Diagnostic::from)
}

/// Parses the payload; a field of the wrong type is `InvalidInput` naming the field.
pub fn parse(payload: Value) -> Result<Input, StepError> {
    let Value::Object(fields) = &payload else {
        return Err(StepError::InvalidInput(
            "invalid input: expected a JSON object".into(),
        ));
    };
    for (name, value) in fields {
        let optional = match name.as_str() {
            "runId" | "instanceId" => false,
            "trafficDistributionGroup" | "cursor" => true,
            _ => continue, // deny_unknown_fields names it
        };
        if !(value.is_string() || (optional && value.is_null())) {
            return Err(StepError::InvalidInput(format!(
                "invalid input: `{name}` must be a string, not {value}"
            )));
        }
    }
    parse_input(payload)
}

/// Checks the input, then runs (or resumes) the association under the instance lock.
/// `stop_at`: no new call starts after it (None: no deadline).
pub async fn associate_agents<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    input: Input,
    now: i64,
    stop_at: Option<Instant>,
) -> Result<Output, StepError> {
    let id = check(ctx, &input)?;
    let begin = Begin {
        instance_id: &id,
        run_id: &input.run_id,
        kind: RunKind::AgentSync,
        step: STEP,
        inputs: serde_json::json!({
            "instanceId": input.instance_id,
            "trafficDistributionGroup": input.traffic_distribution_group,
            "cursor": input.cursor,
        }),
        execution_arn: input.execution_arn.as_deref(),
        hold: Hold::Lock,
        lease_seconds: ctx.lease_seconds,
    };
    let run = StepRun::begin(&ctx.store, begin, now).await?;
    let result = async {
        let out = work(ctx, pacing, &id, &input, now, stop_at).await?;
        info!(
            instance_id = %id,
            run_id = %input.run_id,
            group_arn = %out.group_arn,
            associated = out.associated,
            already_associated = out.already_associated,
            waiting_for_replica = out.waiting_for_replica,
            failed = out.failed.len(),
            done = out.done,
            "agent associations"
        );
        // The last step of a replication or agent-sync run: it records the steady state, the
        // failback point an incident will need.
        if out.done {
            let counts = AgentCounts {
                group_arn: out.group_arn.clone(),
                associated: out.associated + out.already_associated,
                total: out.associated
                    + out.already_associated
                    + out.waiting_for_replica
                    + out.failed.len() as u64,
            };
            record_steady_state(
                &ctx.source,
                &ctx.store,
                &id,
                &input.run_id,
                Some(&counts),
                now,
            )
            .await?;
        }
        Ok(out)
    }
    .await;
    // Done ends the run (and frees the lock); a retry keeps it; a failure for good frees it.
    run.end(result, |out| out.done).await
}

/// Validates the input without calling anything; returns the instance ID.
fn check<C: Connect, S: RunStore>(ctx: &Context<C, S>, input: &Input) -> Result<String, StepError> {
    check_run_id(&input.run_id)?;
    let id = ctx.source_instance(&input.instance_id)?;
    let source = ctx.source.region();
    if let Some(g) = &input.traffic_distribution_group {
        check_group_ref(g, source)?;
    }
    if let Some(c) = &input.cursor {
        if c.is_empty() || c.len() > 8192 {
            return Err(StepError::InvalidInput(
                "cursor must be a ListUsers token (1 to 8192 characters)".into(),
            ));
        }
    }
    Ok(id)
}

/// A group ID, or a group ARN naming `source` (groups live in their instance's source region).
fn check_group_ref(g: &str, source: &Region) -> Result<(), StepError> {
    match GroupRef::parse(g)?.region {
        Some(r) if &r != source => Err(StepError::InvalidInput(format!(
            "trafficDistributionGroup names {r}; users are associated in the group's home \
             region, and this deployment's source region is {source}"
        ))),
        _ => Ok(()),
    }
}

/// Why a call did not give a result.
#[derive(Debug)]
enum Halt {
    /// Not retryable, retries exhausted, or the backoff would pass the stop point.
    Failed(ConnectError),
    /// Waiting for a token would pass the stop point; nothing was called.
    OutOfTime,
}

impl From<Halt> for StepError {
    fn from(h: Halt) -> StepError {
        match h {
            Halt::Failed(e) => e.into(),
            Halt::OutOfTime => StepError::Transient(
                "the invocation reached its deadline margin before it could start".into(),
            ),
        }
    }
}

fn retryable(class: ConnectErrorClass) -> bool {
    matches!(
        class,
        ConnectErrorClass::Throttled | ConnectErrorClass::Transient
    )
}

/// Calls `f` (after a token when `paced`), retrying throttling and transient errors with
/// backoff, never waiting past `stop_at`.
async fn call<T, F, Fut>(
    pacing: &Pacing,
    paced: bool,
    stop_at: Option<Instant>,
    mut f: F,
) -> Result<T, Halt>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ConnectError>>,
{
    let mut attempt = 0;
    loop {
        if paced && !pacing.acquire(stop_at).await {
            return Err(Halt::OutOfTime);
        }
        let e = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        attempt += 1;
        if !retryable(e.class) || attempt >= pacing.max_attempts {
            return Err(Halt::Failed(e));
        }
        if e.class == ConnectErrorClass::Throttled {
            pacing.drain();
        }
        let wait = pacing.backoff(attempt - 1);
        if stop_at.is_some_and(|t| Instant::now() + wait > t) {
            return Err(Halt::Failed(e));
        }
        warn!(operation = e.operation, code = %e.code, attempt, wait_ms = wait.as_millis() as u64, "backing off");
        tokio::time::sleep(wait).await;
    }
}

/// The group to associate with: named (by ID or ARN) or the instance's default; its home must be
/// the source region, it must belong to the instance and be ACTIVE.
async fn resolve_group<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    id: &str,
    named: Option<&str>,
    stop_at: Option<Instant>,
) -> Result<GroupSummary, StepError> {
    let source = ctx.source.region();
    let group = match named {
        Some(name) => match call(pacing, false, stop_at, move || {
            ctx.source.describe_group(name)
        })
        .await
        {
            Ok(g) => g,
            Err(Halt::Failed(e)) if e.class == ConnectErrorClass::NotFound => {
                return Err(StepError::InvalidInput(format!(
                    "trafficDistributionGroup {name} does not exist in {source}"
                )))
            }
            Err(h) => return Err(h.into()),
        },
        None => call(pacing, false, stop_at, move || ctx.source.list_groups(id))
            .await?
            .into_iter()
            .find(|g| g.is_default && g.belongs_to(id))
            .ok_or_else(|| {
                StepError::NotReady(format!(
                    "instance {id} has no default traffic distribution group in {source} \
                     yet: is it replicated?"
                ))
            })?,
    };
    if !group.belongs_to(id) {
        return Err(StepError::InvalidInput(format!(
            "traffic distribution group {} belongs to {}, not to instance {id}",
            group.arn, group.instance_arn
        )));
    }
    if region_of_arn(&group.arn).as_ref() != Some(source) {
        return Err(StepError::InvalidInput(format!(
            "traffic distribution group {} does not have {source} as its home region",
            group.arn
        )));
    }
    if !group.is_active() {
        return Err(StepError::NotReady(format!(
            "traffic distribution group {} is {}, not ACTIVE",
            group.arn, group.status
        )));
    }
    Ok(group)
}

/// Where to start: the cursor given, else this run's unfinished progress, else a fresh pass.
fn starting_point(
    stored: Option<AssociationProgress>,
    input: &Input,
    id: &str,
    group_arn: &str,
) -> AssociationProgress {
    let fresh = |cursor: Option<String>| AssociationProgress {
        instance_id: id.to_string(),
        run_id: input.run_id.clone(),
        group_arn: group_arn.to_string(),
        cursor,
        ..Default::default()
    };
    let stored = stored.filter(|p| p.group_arn == group_arn);
    match (&input.cursor, stored) {
        (Some(c), Some(mut p)) => {
            if p.cursor.as_ref() != Some(c) {
                p.page_done.clear();
            }
            p.cursor = Some(c.clone());
            p.done = false;
            p
        }
        (Some(c), None) => fresh(Some(c.clone())),
        (None, Some(p)) if !p.done => p,
        (None, _) => fresh(None),
    }
}

/// Why an invocation stopped inside a page.
enum Stop {
    OutOfTime,
    Exhausted(ConnectError),
}

async fn work<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    id: &str,
    input: &Input,
    now: i64,
    stop_at: Option<Instant>,
) -> Result<Output, StepError> {
    let group = resolve_group(
        ctx,
        pacing,
        id,
        input.traffic_distribution_group.as_deref(),
        stop_at,
    )
    .await?;
    let arn = group.arn.as_str();
    let stored = ctx.store.get_progress(id, &input.run_id).await?;
    let mut progress = starting_point(stored, input, id, arn);
    progress.updated_at = now;
    // Intent: the page this invocation is about to work on.
    ctx.store.put_progress(&progress).await?;

    let in_replica: HashSet<String> = call(pacing, false, stop_at, move || {
        ctx.replica.list_resources(id, Kind::Users)
    })
    .await?
    .into_iter()
    .map(|u| u.name)
    .collect();
    let known = ctx.store.associations(id, arn).await?;
    let mut handled = 0u64;
    let mut pages_read = 0u32;
    let mut group_rechecked = false;

    loop {
        if stop_at.is_some_and(|t| Instant::now() >= t) {
            // An invocation that returns "not done" without having read a page would make the
            // state machine's loop spin: out of time before any work is an error (retried).
            if pages_read == 0 {
                return Err(Halt::OutOfTime.into());
            }
            return Ok(Output::from_progress(&progress));
        }
        let token = progress.cursor.clone();
        let from = token.as_deref();
        let page = match call(pacing, false, stop_at, move || {
            ctx.source.list_users_page(id, from, PAGE_SIZE)
        })
        .await
        {
            Ok(page) => page,
            Err(Halt::Failed(e)) if retryable(e.class) && handled > 0 => {
                warn!(instance_id = %id, error = %e, "stopping early: ListUsers keeps failing");
                return Ok(Output::from_progress(&progress));
            }
            Err(Halt::Failed(e)) if e.class == ConnectErrorClass::InvalidRequest && token.is_some() => {
                return Err(StepError::InvalidInput(format!(
                    "cursor refused by ListUsers ({}); start a new run (users already associated are skipped)",
                    e.message
                )))
            }
            Err(h) => return Err(h.into()),
        };

        pages_read += 1;
        let mut new_associations = Vec::new();
        let mut stop = None;
        let mut fatal = None;
        for user in &page.users {
            let Some(uid) = user.id.as_deref() else {
                continue;
            };
            if progress.page_done.iter().any(|d| d == uid) {
                continue;
            }
            if known.contains(uid) {
                progress.already_associated += 1;
            } else if !in_replica.contains(&user.name) {
                progress.waiting_for_replica += 1;
            } else {
                let result = call(pacing, true, stop_at, move || {
                    ctx.source.associate_user(arn, uid, id)
                })
                .await;
                let association = || Association {
                    instance_id: id.to_string(),
                    group_arn: arn.to_string(),
                    user_id: uid.to_string(),
                    username: user.name.clone(),
                    run_id: input.run_id.clone(),
                    at: now,
                };
                match result {
                    Ok(()) => {
                        progress.associated += 1;
                        new_associations.push(association());
                    }
                    Err(Halt::OutOfTime) => {
                        stop = Some(Stop::OutOfTime);
                        break;
                    }
                    Err(Halt::Failed(e)) => match e.class {
                        ConnectErrorClass::Conflict if e.code == "ResourceConflictException" => {
                            progress.already_associated += 1;
                            new_associations.push(association());
                        }
                        // The username is not (or no longer) in the replica.
                        ConnectErrorClass::InvalidRequest => progress.waiting_for_replica += 1,
                        class if retryable(class) => {
                            stop = Some(Stop::Exhausted(e));
                            break;
                        }
                        ConnectErrorClass::AccessDenied => {
                            fatal = Some(StepError::from(e));
                            break;
                        }
                        ConnectErrorClass::NotFound if !group_rechecked => {
                            // Either this user left the source, or the group did: ask once.
                            group_rechecked = true;
                            match still_active(ctx, pacing, arn, stop_at).await {
                                Ok(()) => fail(&mut progress, uid, &e),
                                Err(err) => {
                                    fatal = Some(err);
                                    break;
                                }
                            }
                        }
                        _ => fail(&mut progress, uid, &e),
                    },
                }
            }
            progress.page_done.push(uid.to_string());
            handled += 1;
        }

        // The associations first: a crash before the progress write then only skips them.
        if !new_associations.is_empty() {
            ctx.store.put_associations(&new_associations).await?;
        }
        if let Some(err) = fatal {
            ctx.store.put_progress(&progress).await?;
            return Err(err);
        }
        match stop {
            Some(Stop::Exhausted(e)) if handled == 0 => {
                ctx.store.put_progress(&progress).await?;
                return Err(e.into());
            }
            Some(reason) => {
                if let Stop::Exhausted(e) = &reason {
                    warn!(instance_id = %id, error = %e, "stopping early: Connect keeps throttling");
                }
                ctx.store.put_progress(&progress).await?;
                return Ok(Output::from_progress(&progress));
            }
            None => {}
        }
        progress.page_done.clear();
        progress.cursor = page.next_token;
        progress.done = progress.cursor.is_none();
        ctx.store.put_progress(&progress).await?;
        info!(
            instance_id = %id,
            page_users = page.users.len(),
            associated = progress.associated,
            waiting_for_replica = progress.waiting_for_replica,
            done = progress.done,
            "page done"
        );
        if progress.done {
            return Ok(Output::from_progress(&progress));
        }
    }
}

/// After a ResourceNotFoundException: NotReady unless the group is still there and ACTIVE.
async fn still_active<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    pacing: &Pacing,
    arn: &str,
    stop_at: Option<Instant>,
) -> Result<(), StepError> {
    match call(pacing, false, stop_at, move || {
        ctx.source.describe_group(arn)
    })
    .await
    {
        Ok(g) if g.is_active() => Ok(()),
        Ok(g) => Err(StepError::NotReady(format!(
            "traffic distribution group {arn} became {}",
            g.status
        ))),
        Err(Halt::Failed(e)) if e.class == ConnectErrorClass::NotFound => Err(StepError::NotReady(
            format!("traffic distribution group {arn} is gone: {e}"),
        )),
        Err(h) => Err(h.into()),
    }
}

fn fail(progress: &mut AssociationProgress, user_id: &str, e: &ConnectError) {
    warn!(user_id, error = %e, "association failed");
    progress.failed.retain(|f| f.user_id != user_id);
    if progress.failed.len() >= MAX_FAILURES_LISTED {
        return;
    }
    progress.failed.push(UserFailure {
        user_id: user_id.to_string(),
        error: e.to_string(),
    });
}

#[cfg(test)]
mod tests;
