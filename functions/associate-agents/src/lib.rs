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
mod tests {
    use super::*;
    use acgr::connect::fake::{FakeConnect, FakeWorld};
    use acgr::connect::ResourceSummary;
    use acgr::records::RunStatus;
    use acgr::runs::{begin_step, lock_instance};
    use acgr::store::memory::MemoryRunStore;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";
    const ASSOCIATE: &str = "AssociateTrafficDistributionGroupUser";
    const DEFAULT_GROUP: &str = "0b8e6f3a-1111-4c41-9a7e-2f1d5c8b9e10";
    const CUSTOM_GROUP: &str = "0b8e6f3a-2222-4c41-9a7e-2f1d5c8b9e10";

    fn group_arn(id: &str) -> String {
        format!("arn:aws:connect:{EAST}:123456789012:traffic-distribution-group/{id}")
    }

    fn group(id: &str, instance: &str, status: &str, is_default: bool) -> GroupSummary {
        GroupSummary {
            id: id.into(),
            arn: group_arn(id),
            name: id.into(),
            instance_arn: format!("arn:aws:connect:{EAST}:123456789012:instance/{instance}"),
            status: status.into(),
            is_default,
        }
    }

    fn user(n: usize) -> ResourceSummary {
        ResourceSummary {
            id: Some(format!("u-{n:04}")),
            name: format!("agent{n:04}"),
        }
    }

    /// `users` agents in the source, the first `mirrored` of them in the replica, and an ACTIVE
    /// default group.
    fn ctx(users: usize, mirrored: usize) -> Context<FakeConnect, MemoryRunStore> {
        let world = Arc::new(Mutex::new(FakeWorld::default()));
        {
            let mut w = world.lock().unwrap();
            let all: Vec<ResourceSummary> = (0..users).map(user).collect();
            w.resources
                .insert((EAST.into(), ID.into(), Kind::Users), all.clone());
            w.resources.insert(
                (WEST.into(), ID.into(), Kind::Users),
                all[..mirrored].to_vec(),
            );
            w.groups.push((
                EAST.into(),
                WEST.into(),
                group(DEFAULT_GROUP, ID, "ACTIVE", true),
            ));
        }
        Context {
            source: FakeConnect::new(Region::parse(EAST).unwrap(), world.clone()),
            replica: FakeConnect::new(Region::parse(WEST).unwrap(), world),
            store: MemoryRunStore::default(),
            lease_seconds: 900,
        }
    }

    fn fast() -> Pacing {
        Pacing::new(1000.0, 5)
    }

    fn input(run: &str) -> Input {
        Input {
            execution_arn: None,
            run_id: run.into(),
            instance_id: ID.into(),
            traffic_distribution_group: None,
            cursor: None,
        }
    }

    fn hire(ctx: &Context<FakeConnect, MemoryRunStore>, n: usize, regions: &[&str]) {
        let mut w = ctx.source.world();
        for r in regions {
            w.resources
                .get_mut(&(r.to_string(), ID.to_string(), Kind::Users))
                .unwrap()
                .push(user(n));
        }
    }

    fn associate_targets(ctx: &Context<FakeConnect, MemoryRunStore>) -> Vec<String> {
        ctx.source
            .world()
            .calls_of(ASSOCIATE)
            .iter()
            .map(|c| c.target.clone())
            .collect()
    }

    fn group_members(ctx: &Context<FakeConnect, MemoryRunStore>, id: &str) -> usize {
        ctx.source
            .world()
            .group_users
            .get(&group_arn(id))
            .map_or(0, |s| s.len())
    }

    fn count(ctx: &Context<FakeConnect, MemoryRunStore>, operation: &str) -> usize {
        ctx.source.world().calls_of(operation).len()
    }

    fn assert_unique(targets: &[String]) {
        let set: HashSet<&String> = targets.iter().collect();
        assert_eq!(set.len(), targets.len(), "someone was associated twice");
    }

    #[tokio::test]
    async fn every_user_in_both_regions_is_associated_once_in_the_source_region() {
        let ctx = ctx(150, 150);
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.cursor, None);
        assert_eq!(out.group_arn, group_arn(DEFAULT_GROUP));
        assert_eq!(
            (
                out.associated,
                out.already_associated,
                out.waiting_for_replica
            ),
            (150, 0, 0)
        );
        assert!(out.failed.is_empty());
        let calls = ctx.source.world().calls_of(ASSOCIATE).len();
        assert_eq!(calls, 150);
        assert!(ctx
            .source
            .world()
            .calls_of(ASSOCIATE)
            .iter()
            .all(|c| c.region == EAST));
        assert_unique(&associate_targets(&ctx));
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 150);
        assert_eq!(
            ctx.store
                .associations(ID, &group_arn(DEFAULT_GROUP))
                .await
                .unwrap()
                .len(),
            150
        );

        let progress = ctx.store.get_progress(ID, "run-1").await.unwrap().unwrap();
        assert!(progress.done);
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.kind, RunKind::AgentSync);
        assert_eq!(run.steps[STEP]["associated"], 150);
        assert_eq!(run.steps[STEP]["done"], true);

        // Intent before action: the progress is written before the first association.
        let writes = ctx.store.state().writes.clone();
        let first_progress = writes.iter().position(|w| w.starts_with("PROGRESS#"));
        let first_agent = writes.iter().position(|w| w.starts_with("AGENT#"));
        assert!(first_progress < first_agent, "{writes:?}");
    }

    #[tokio::test]
    async fn a_second_run_makes_no_associate_call() {
        let ctx = ctx(120, 120);
        associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        let before = count(&ctx, ASSOCIATE);
        let out = associate_agents(&ctx, &fast(), input("run-2"), 200, None)
            .await
            .unwrap();
        assert_eq!(
            count(&ctx, ASSOCIATE),
            before,
            "nothing changed, nothing called"
        );
        assert!(out.done);
        assert_eq!((out.associated, out.already_associated), (0, 120));

        // The same run asked again starts a new pass: it costs listings, not associations.
        let out = associate_agents(&ctx, &fast(), input("run-2"), 300, None)
            .await
            .unwrap();
        assert_eq!(count(&ctx, ASSOCIATE), before);
        assert_eq!((out.associated, out.already_associated), (0, 120));
    }

    #[tokio::test]
    async fn users_only_in_the_source_wait_for_the_replica_and_are_not_failed() {
        let ctx = ctx(50, 47);
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!((out.associated, out.waiting_for_replica), (47, 3));
        assert!(out.failed.is_empty());
        assert_eq!(count(&ctx, ASSOCIATE), 47, "no call for users not mirrored");
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 47);

        // Once mirrored, a later run picks them up.
        {
            let mut w = ctx.source.world();
            let all = w.users(EAST, ID).to_vec();
            w.resources
                .insert((WEST.into(), ID.into(), Kind::Users), all);
        }
        let out = associate_agents(&ctx, &fast(), input("run-2"), 200, None)
            .await
            .unwrap();
        assert_eq!((out.associated, out.already_associated), (3, 47));
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 50);
    }

    #[tokio::test]
    async fn a_new_hire_costs_one_associate_call_and_two_listings() {
        let ctx = ctx(250, 250);
        associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        hire(&ctx, 250, &[EAST, WEST]);
        ctx.source.world().calls.clear();

        let out = associate_agents(&ctx, &fast(), input("sync-1"), 200, None)
            .await
            .unwrap();
        assert_eq!((out.associated, out.already_associated), (1, 250));
        assert_eq!(associate_targets(&ctx), vec!["u-0250".to_string()]);
        let groups = ctx.store.groups(ID).await.unwrap();
        assert_eq!(groups.len(), 1, "the steady state is on record");
        assert_eq!(
            (groups[0].agents_associated, groups[0].agents_total),
            (251, 251)
        );
        assert!(groups[0].steady.is_some());
        let w = ctx.source.world();
        let replica_listings: Vec<_> = w
            .calls
            .iter()
            .filter(|c| c.operation == "ListResources")
            .collect();
        assert_eq!(replica_listings.len(), 1);
        assert_eq!(replica_listings[0].region, WEST);
        let source_pages = w.calls_of("ListUsers");
        assert_eq!(source_pages.len(), 3, "251 users in pages of 100");
        assert!(source_pages.iter().all(|c| c.region == EAST));
        assert_eq!(
            w.calls.len(),
            1 + 1 + 3 + 1 + 2,
            "groups, replica listing, source pages, one association, then the steady state \
             (groups, one distribution): {:?}",
            w.calls
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_stops_the_invocation_and_the_cursor_resumes_without_duplicates() {
        let ctx = ctx(250, 240);
        let pacing = Pacing::new(2.0, 5);
        let stop_at = Instant::now() + Duration::from_secs(60);
        let first = associate_agents(&ctx, &pacing, input("run-1"), 100, Some(stop_at))
            .await
            .unwrap();
        assert!(!first.done);
        let made = count(&ctx, ASSOCIATE);
        assert!(
            (120..=130).contains(&made),
            "5 at once then 2/s for 60 s: {made}"
        );
        assert!(Instant::now() <= stop_at, "stopped before the deadline");
        assert_eq!(first.associated, made as u64);
        assert_eq!(
            first.cursor.as_deref(),
            Some("100"),
            "inside the second page"
        );
        let lock = ctx.store.get_lock(ID).await.unwrap().unwrap();
        assert_eq!(lock.run_id, "run-1", "kept for the next invocation");

        let resumed = Input {
            execution_arn: None,
            cursor: first.cursor.clone(),
            ..input("run-1")
        };
        let out = associate_agents(&ctx, &pacing, resumed, 200, None)
            .await
            .unwrap();
        assert!(out.done);
        let targets = associate_targets(&ctx);
        assert_eq!(targets.len(), 240);
        assert_unique(&targets);
        assert_eq!(
            (
                out.associated,
                out.already_associated,
                out.waiting_for_replica
            ),
            (240, 0, 10),
            "counted once each across invocations"
        );
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 240);
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn without_a_cursor_the_stored_progress_resumes() {
        let ctx = ctx(30, 30);
        {
            let mut p = AssociationProgress {
                instance_id: ID.into(),
                run_id: "run-1".into(),
                group_arn: group_arn(DEFAULT_GROUP),
                ..Default::default()
            };
            // An earlier invocation handled the first ten users of the first page.
            p.associated = 10;
            p.page_done = (0..10).map(|n| user(n).id.unwrap()).collect();
            ctx.store.put_progress(&p).await.unwrap();
        }
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.associated, 30);
        assert_eq!(count(&ctx, ASSOCIATE), 20);
        assert!(!associate_targets(&ctx).contains(&"u-0003".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_backed_off_and_the_same_user_retried() {
        let ctx = ctx(20, 20);
        ctx.source
            .world()
            .fail_next(ASSOCIATE, "ThrottlingException", 3);
        let pacing = fast();
        let start = Instant::now();
        let out = associate_agents(&ctx, &pacing, input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.associated, 20);
        let targets = associate_targets(&ctx);
        assert_eq!(targets.len(), 23);
        assert!(
            targets[..4].iter().all(|t| t == "u-0000"),
            "the throttled user is retried: {targets:?}"
        );
        let min_wait =
            (pacing.base_backoff + pacing.base_backoff * 2 + pacing.base_backoff * 4) / 2;
        assert!(
            start.elapsed() >= min_wait,
            "backed off: {:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_that_persists_ends_the_invocation_and_the_next_one_finishes() {
        let ctx = ctx(20, 20);
        let pacing = fast();
        ctx.source.world().fail_next(
            ASSOCIATE,
            "ThrottlingException",
            pacing.max_attempts as usize,
        );
        let err = associate_agents(&ctx, &pacing, input("run-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled");
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.error.unwrap().error_type, "Throttled");
        assert_eq!(run.status, RunStatus::Running, "a retry is expected");
        assert_eq!(
            ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
            "run-1"
        );

        let out = associate_agents(&ctx, &pacing, input("run-1"), 200, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.associated, 20);
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 20);
    }

    #[tokio::test]
    async fn each_refusal_is_counted_for_what_it_means() {
        let ctx = ctx(10, 10);
        {
            let mut w = ctx.source.world();
            w.fail_next(ASSOCIATE, "ResourceConflictException", 1);
            w.fail_next(ASSOCIATE, "InvalidRequestException", 1);
            w.fail_next(ASSOCIATE, "ServiceQuotaExceededException", 1);
        }
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(
            (
                out.associated,
                out.already_associated,
                out.waiting_for_replica
            ),
            (7, 1, 1)
        );
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].user_id, "u-0002");
        assert!(out.failed[0]
            .error
            .contains("ServiceQuotaExceededException"));
        let known = ctx
            .store
            .associations(ID, &group_arn(DEFAULT_GROUP))
            .await
            .unwrap();
        assert!(
            known.contains("u-0000"),
            "a conflict means already associated"
        );
        assert!(!known.contains("u-0001") && !known.contains("u-0002"));

        // The next run retries only those two.
        ctx.source.world().calls.clear();
        let out = associate_agents(&ctx, &fast(), input("run-2"), 200, None)
            .await
            .unwrap();
        assert_eq!(associate_targets(&ctx), vec!["u-0001", "u-0002"]);
        assert_eq!((out.associated, out.already_associated), (2, 8));
    }

    #[tokio::test]
    async fn the_failure_list_is_bounded() {
        let ctx = ctx(130, 130);
        ctx.source
            .world()
            .fail_next(ASSOCIATE, "ServiceQuotaExceededException", 120);
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.associated, 10);
        assert_eq!(out.failed.len(), MAX_FAILURES_LISTED);
    }

    #[tokio::test]
    async fn a_user_gone_from_the_source_fails_alone_while_the_group_is_active() {
        let ctx = ctx(5, 5);
        ctx.source
            .world()
            .fail_next(ASSOCIATE, "ResourceNotFoundException", 2);
        let out = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        assert_eq!(out.associated, 3);
        assert_eq!(out.failed.len(), 2);
        assert_eq!(
            count(&ctx, "DescribeTrafficDistributionGroup"),
            1,
            "the group is checked once"
        );

        // The group went away after it was resolved: NotReady, with the progress kept.
        let ctx = self::ctx(5, 5);
        {
            let mut w = ctx.source.world();
            w.fail_next(ASSOCIATE, "ResourceNotFoundException", 1);
            w.fail_next(
                "DescribeTrafficDistributionGroup",
                "ResourceNotFoundException",
                1,
            );
        }
        let err = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotReady");
        assert_eq!(count(&ctx, ASSOCIATE), 1);
        let progress = ctx.store.get_progress(ID, "run-1").await.unwrap().unwrap();
        assert!(!progress.done);
        assert!(progress.failed.is_empty());
    }

    #[tokio::test]
    async fn a_named_custom_group_is_used_by_id_or_by_arn() {
        let ctx = ctx(12, 12);
        ctx.source.world().groups.push((
            EAST.into(),
            WEST.into(),
            group(CUSTOM_GROUP, ID, "ACTIVE", false),
        ));
        let by_id = Input {
            execution_arn: None,
            traffic_distribution_group: Some(CUSTOM_GROUP.into()),
            ..input("run-1")
        };
        let out = associate_agents(&ctx, &fast(), by_id, 100, None)
            .await
            .unwrap();
        assert_eq!(out.group_arn, group_arn(CUSTOM_GROUP));
        assert_eq!(group_members(&ctx, CUSTOM_GROUP), 12);
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 0);
        assert!(ctx
            .source
            .world()
            .calls_of(ASSOCIATE)
            .iter()
            .all(|c| c.region == EAST));

        // Associations are per group: the default group still gets everyone.
        let out = associate_agents(&ctx, &fast(), input("run-2"), 200, None)
            .await
            .unwrap();
        assert_eq!(out.associated, 12);
        assert_eq!(group_members(&ctx, DEFAULT_GROUP), 12);

        // By ARN, the custom group's users are already known.
        let by_arn = Input {
            execution_arn: None,
            traffic_distribution_group: Some(group_arn(CUSTOM_GROUP)),
            ..input("run-3")
        };
        let before = count(&ctx, ASSOCIATE);
        let out = associate_agents(&ctx, &fast(), by_arn, 300, None)
            .await
            .unwrap();
        assert_eq!(out.already_associated, 12);
        assert_eq!(count(&ctx, ASSOCIATE), before);
    }

    #[tokio::test]
    async fn a_group_of_another_instance_is_refused() {
        let ctx = ctx(5, 5);
        ctx.source.world().groups.push((
            EAST.into(),
            WEST.into(),
            group(CUSTOM_GROUP, "another-instance", "ACTIVE", false),
        ));
        let other = Input {
            execution_arn: None,
            traffic_distribution_group: Some(CUSTOM_GROUP.into()),
            ..input("run-1")
        };
        let err = associate_agents(&ctx, &fast(), other, 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("another-instance"));
        assert_eq!(count(&ctx, ASSOCIATE), 0);
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");
        assert!(ctx.store.state().associations.is_empty());
    }

    #[tokio::test]
    async fn a_group_that_is_not_active_is_not_ready() {
        for status in [
            "CREATION_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "PENDING_DELETION",
        ] {
            let ctx = ctx(5, 5);
            ctx.source.world().groups[0].2.status = status.into();
            let err = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), "NotReady", "{status}");
            assert!(err.to_string().contains(status));
            assert_eq!(count(&ctx, ASSOCIATE), 0);
            assert!(ctx.store.state().progress.is_empty());
            let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
            assert_eq!(run.error.unwrap().error_type, "NotReady");
        }
        let ctx = ctx(5, 5);
        ctx.source.world().groups.clear();
        let err = associate_agents(&ctx, &fast(), input("run-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotReady", "no default group yet");
    }

    #[tokio::test]
    async fn the_lock_is_taken_with_the_kind_of_the_run() {
        let ctx = ctx(5, 5);
        lock_instance(&ctx.store, ID, "repl-1", RunKind::Replication, 900, 50)
            .await
            .unwrap();
        let err = associate_agents(&ctx, &fast(), input("sync-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "RunInProgress");
        assert_eq!(count(&ctx, ASSOCIATE), 0);

        // A replication run's step outranks an agent sync that holds the lock.
        let ctx = self::ctx(5, 5);
        begin_step(
            &ctx.store,
            ID,
            "repl-1",
            RunKind::Replication,
            "poll-mirroring",
            Value::Null,
            None,
            40,
        )
        .await
        .unwrap();
        lock_instance(&ctx.store, ID, "sync-0", RunKind::AgentSync, 900, 50)
            .await
            .unwrap();
        let out = associate_agents(&ctx, &fast(), input("repl-1"), 100, None)
            .await
            .unwrap();
        assert!(out.done);
        let run = ctx.store.get_run(ID, "repl-1").await.unwrap().unwrap();
        assert_eq!(run.kind, RunKind::Replication);
        assert_eq!(run.step, STEP);
    }

    #[tokio::test]
    async fn bad_input_changes_nothing() {
        let ctx = ctx(5, 5);
        for bad in [
            Input {
                execution_arn: None,
                run_id: "has space".into(),
                ..input("r")
            },
            Input {
                execution_arn: None,
                instance_id: "not an id".into(),
                ..input("r")
            },
            Input {
                execution_arn: None,
                instance_id: format!("arn:aws:connect:{WEST}:123456789012:instance/{ID}"),
                ..input("r")
            },
            Input {
                execution_arn: None,
                traffic_distribution_group: Some("no/slashes".into()),
                ..input("r")
            },
            Input {
                execution_arn: None,
                traffic_distribution_group: Some(format!(
                    "arn:aws:connect:{WEST}:123456789012:traffic-distribution-group/x"
                )),
                ..input("r")
            },
            Input {
                execution_arn: None,
                traffic_distribution_group: Some(format!(
                    "arn:aws:connect:{EAST}:123456789012:instance/x"
                )),
                ..input("r")
            },
            Input {
                execution_arn: None,
                cursor: Some(String::new()),
                ..input("r")
            },
        ] {
            let err = associate_agents(&ctx, &fast(), bad.clone(), 1, None)
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput", "{bad:?}");
        }
        assert!(ctx.store.state().writes.is_empty());
        assert!(ctx.source.world().calls.is_empty());

        let field = |payload: Value| parse(payload).unwrap_err().to_string();
        assert!(
            field(serde_json::json!({"runId": "r", "instanceId": ID, "surprise": 1}))
                .contains("surprise")
        );
        assert!(
            field(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": 5}))
                .contains("cursor")
        );
        assert!(field(serde_json::json!({"runId": 7, "instanceId": ID})).contains("runId"));
        assert!(field(serde_json::json!({"runId": "r"})).contains("instanceId"));
        assert!(parse(serde_json::json!([])).is_err());
        let ok =
            parse(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": null})).unwrap();
        assert_eq!(ok.cursor, None);
    }

    #[tokio::test]
    async fn the_handler_runs_the_small_event() {
        let ctx = ctx(50, 50);
        let payload: Value = serde_json::from_str(include_str!(
            "../../../tests/events/associate-agents/small.json"
        ))
        .unwrap();
        let out = handler(
            &ctx,
            &fast(),
            LambdaEvent::new(payload.clone(), lambda_runtime::Context::default()),
        )
        .await
        .unwrap();
        assert!(out.done, "a deadline of 0 is no deadline");
        assert_eq!(out.associated, 50);
        let run = ctx.store.get_run(ID, "rehearsal-1").await.unwrap();
        assert!(run.is_some());

        // Inside the margin already: nothing is started, and the error is one to retry (a
        // "not done" answer with no progress would loop the state machine for ever).
        let fresh = self::ctx(50, 50);
        let mut lambda_ctx = lambda_runtime::Context::default();
        lambda_ctx.deadline = epoch_millis() + 1000;
        let err = handler(&fresh, &fast(), LambdaEvent::new(payload, lambda_ctx))
            .await
            .unwrap_err();
        assert_eq!(err.error_type, "Transient", "{err:?}");
        assert_eq!(count(&fresh, ASSOCIATE), 0);
        let out = serde_json::to_value(out).unwrap();
        for key in [
            "done",
            "associated",
            "alreadyAssociated",
            "waitingForReplica",
            "failed",
            "cursor",
            "groupArn",
        ] {
            assert!(out.get(key).is_some(), "{key} in {out}");
        }
    }
}
