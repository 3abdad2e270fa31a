//! The sweep: page by page through the source's users, associating those present in both
//! regions and not yet recorded, with progress written before and after each page.

use std::collections::HashMap;

use super::*;
use crate::members::{Check, Checked};
use acgr::agents::members::{self, MembersCheck};
use acgr::connect::{ResourceSummary, UserPage};

/// Where to start: the cursor given, else this run's unfinished progress, else a fresh pass.
pub(crate) fn starting_point(
    stored: Option<AssociationProgress>,
    input: &Input,
    id: &str,
    group_arn: &str,
) -> AssociationProgress {
    let fresh = |cursor: Option<String>| AssociationProgress {
        instance_id: id.to_string(),
        run_id: input.header.run_id.clone(),
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

/// How a user's turn ended the page early.
pub(crate) enum Stop {
    /// The invocation's deadline: return what is done, the next invocation resumes.
    OutOfTime,
    /// Connect kept throttling or failing: return what is done (or the error, if nothing is).
    Exhausted(ConnectError),
    /// A failure no retry fixes (access denied, the group gone): the step fails.
    Fatal(StepError),
}

/// One invocation's pass over the source's users, from the progress on record.
struct Sweep<'a, C, S> {
    ctx: &'a Context<C, S>,
    id: &'a str,
    arn: &'a str,
    run_id: &'a str,
    now: i64,
    stop_at: Option<Instant>,
    /// Usernames present in the replica: listed once, when the first user not yet recorded as
    /// associated comes up (a sync with nobody new never lists the replica).
    in_replica: Option<HashSet<String>>,
    /// User IDs recorded as associated with the group, and trusted.
    known: HashSet<String>,
    /// User IDs recorded as associated that the last members check did not find.
    stale: HashSet<String>,
    progress: AssociationProgress,
    /// Users handled by this invocation.
    handled: u64,
    pages_read: u32,
    group_rechecked: bool,
    /// When the associations were last written to the run store.
    flushed_at: Instant,
    flush_every: std::time::Duration,
}

/// How often accepted associations are written. At Connect's quotas (`CONNECT_QUOTA_FACTOR` 1)
/// every one is written before the next call, the first burst of 5 included: a process killed
/// after an accepted call repeats at most that call (idempotent at Connect). At raised quotas,
/// where calls come faster than a write, at least every 250 ms: a write per call there halved
/// the association rate.
/// Read once per process (the cold start), as the Connect clients' own policy is.
fn flush_every() -> std::time::Duration {
    static EVERY: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
    *EVERY.get_or_init(|| {
        let factor = acgr::connect::pace::Policy::from_env().map_or(1.0, |p| p.quota_factor);
        if factor > 1.0 {
            std::time::Duration::from_millis(250)
        } else {
            std::time::Duration::ZERO
        }
    })
}

pub(crate) async fn work<C: Connect, S: SyncStore>(
    ctx: &Context<C, S>,
    id: &str,
    input: &Input,
    now: i64,
    stop_at: Option<Instant>,
) -> Result<Output, StepError> {
    let group = acgr::traffic::groups::home_group(
        &ctx.source,
        id,
        input.traffic_distribution_group.as_deref(),
    )
    .await?;
    let arn = group.arn.as_str();
    let run_id = input.header.run_id.as_str();
    let stored = ctx.store.get_progress(id, run_id).await?;
    let mut progress = starting_point(stored, input, id, arn);
    progress.updated_at = now;
    let mut records: HashMap<String, Association> = ctx
        .store
        .associations(id, arn)
        .await?
        .into_iter()
        .map(|a| (a.user_id.clone(), a))
        .collect();
    // The group's members are checked once a day, by the run that finds it due, before it sweeps.
    let last_checked_at = ctx
        .store
        .groups(id)
        .await?
        .into_iter()
        .find(|g| g.group_arn == arn)
        .and_then(|g| g.members_checked_at);
    let oldest = records.values().map(|a| a.at).min();
    let asked = input.check_members && !records.is_empty();
    if untouched(&progress) && (asked || members::due(last_checked_at, oldest, now)) {
        progress.members_check = Some(MembersCheck::new(now));
    }
    // Intent: the page this invocation is about to work on.
    ctx.store.put_progress(&progress).await?;

    let check = Check {
        ctx,
        arn,
        run_id,
        now,
        stop_at,
    };
    match check.run(&mut progress, &mut records).await? {
        Checked::Stopped => return Ok(Output::from_progress(&progress)),
        // The check took the invocation: the sweep starts in the next one.
        Checked::Done(pages) if pages > 0 && stop_at.is_some_and(|t| Instant::now() >= t) => {
            return Ok(Output::from_progress(&progress))
        }
        Checked::Done(_) => {}
    }
    let checked_at = progress
        .members_check
        .as_ref()
        .filter(|c| c.done)
        .map(|c| c.started_at)
        .or(last_checked_at);
    let (known, stale): (Vec<&Association>, Vec<&Association>) = records
        .values()
        .partition(|a| members::trusted(a, checked_at));
    let ids = |list: Vec<&Association>| list.into_iter().map(|a| a.user_id.clone()).collect();
    Sweep {
        ctx,
        id,
        arn,
        run_id,
        now,
        stop_at,
        in_replica: None,
        known: ids(known),
        stale: ids(stale),
        progress,
        handled: 0,
        pages_read: 0,
        group_rechecked: false,
        flushed_at: Instant::now(),
        flush_every: flush_every(),
    }
    .run()
    .await
}

impl<C: Connect, S: SyncStore> Sweep<'_, C, S> {
    async fn run(mut self) -> Result<Output, StepError> {
        loop {
            if self.stop_at.is_some_and(|t| Instant::now() >= t) {
                // An invocation that returns "not done" without having read a page would make
                // the state machine's loop spin: out of time before any work is an error.
                if self.pages_read == 0 {
                    return Err(StepError::Transient(
                        "the invocation reached its deadline margin before it could start".into(),
                    ));
                }
                return Ok(self.output());
            }
            let Some(page) = self.read_page().await? else {
                return Ok(self.output());
            };
            let mut new_associations = Vec::new();
            let mut stopped = None;
            for user in &page.users {
                match self.user(user, &mut new_associations).await {
                    Ok(()) => {}
                    Err(stop) => {
                        stopped = Some(stop);
                        break;
                    }
                }
            }
            // (each association is recorded as it is accepted; anything left is written first: a
            // crash before the progress write then only skips them)
            if !new_associations.is_empty() {
                self.ctx.store.put_associations(&new_associations).await?;
            }
            if let Some(stop) = stopped {
                return self.stop(stop).await;
            }
            self.end_page(page).await?;
            if self.progress.done {
                return Ok(self.output());
            }
        }
    }

    fn output(&self) -> Output {
        Output::from_progress(&self.progress)
    }

    /// The page at the cursor; `None` when ListUsers keeps failing after some work (return it).
    async fn read_page(&mut self) -> Result<Option<UserPage>, StepError> {
        let (ctx, id) = (self.ctx, self.id);
        let token = self.progress.cursor.clone();
        let from = token.as_deref();
        let page = match ctx.source.list_users_page(id, from, PAGE_SIZE).await {
            Ok(page) => page,
            Err(e) if e.class.ends_the_invocation() && self.handled > 0 => {
                warn!(instance_id = %id, error = %e, "stopping early: ListUsers keeps failing");
                return Ok(None);
            }
            Err(e) if e.class == ConnectErrorClass::InvalidRequest && token.is_some() =>
            {
                return Err(StepError::InvalidInput(format!(
                    "cursor refused by ListUsers ({}); start a new run (users already associated are skipped)",
                    e.message
                )))
            }
            Err(e) => return Err(e.into()),
        };
        self.pages_read += 1;
        Ok(Some(page))
    }

    /// One user's turn: skipped, counted, associated, or the reason the page stops.
    async fn user(
        &mut self,
        user: &ResourceSummary,
        associations: &mut Vec<Association>,
    ) -> Result<(), Stop> {
        let Some(uid) = user.id.as_deref() else {
            return Ok(());
        };
        if self.progress.page_done.iter().any(|d| d == uid) {
            return Ok(());
        }
        if self.known.contains(uid) {
            self.progress.already_associated += 1;
        } else if !self.in_replica().await?.contains(&user.name) {
            self.progress.waiting_for_replica += 1;
        } else {
            self.associate(uid, &user.name, associations).await?;
        }
        self.progress.page_done.push(uid.to_string());
        self.handled += 1;
        Ok(())
    }

    /// The replica's usernames, listed on first use.
    async fn in_replica(&mut self) -> Result<&HashSet<String>, Stop> {
        if self.in_replica.is_none() {
            let listed = match self.ctx.replica.list_resources(self.id, Kind::Users).await {
                Ok(users) => users,
                Err(e) if e.class == ConnectErrorClass::OutOfTime => return Err(Stop::OutOfTime),
                Err(e) if e.class.ends_the_invocation() => return Err(Stop::Exhausted(e)),
                Err(e) => return Err(Stop::Fatal(e.into())),
            };
            self.in_replica = Some(listed.into_iter().map(|u| u.name).collect());
        }
        Ok(self.in_replica.get_or_insert_with(HashSet::new))
    }

    async fn associate(
        &mut self,
        uid: &str,
        username: &str,
        associations: &mut Vec<Association>,
    ) -> Result<(), Stop> {
        let (ctx, id, arn) = (self.ctx, self.id, self.arn);
        let association = Association {
            instance_id: id.to_string(),
            group_arn: arn.to_string(),
            user_id: uid.to_string(),
            username: username.to_string(),
            run_id: self.run_id.to_string(),
            at: self.now,
        };
        let e = match ctx.source.associate_user(arn, uid, id).await {
            Ok(()) => {
                self.progress.associated += 1;
                if self.stale.contains(uid) {
                    self.progress.reassociated += 1;
                }
                associations.push(association);
                return self.flush(associations).await;
            }
            Err(e) if e.class == ConnectErrorClass::OutOfTime => return Err(Stop::OutOfTime),
            Err(e) => e,
        };
        match e.class {
            ConnectErrorClass::Conflict if e.code == "ResourceConflictException" => {
                self.progress.already_associated += 1;
                associations.push(association);
                self.flush(associations).await?;
            }
            // The username is not (or no longer) in the replica.
            ConnectErrorClass::InvalidRequest => self.progress.waiting_for_replica += 1,
            class if class.ends_the_invocation() => return Err(Stop::Exhausted(e)),
            // Refusals of the caller, not of this user: every other user would get the same.
            ConnectErrorClass::AccessDenied
            | ConnectErrorClass::CredentialsRejected
            | ConnectErrorClass::IdempotencyConflict => return Err(Stop::Fatal(e.into())),
            ConnectErrorClass::NotFound if !self.group_rechecked => {
                // Either this user left the source, or the group did: ask once.
                self.group_rechecked = true;
                still_active(ctx, arn).await.map_err(Stop::Fatal)?;
                fail(&mut self.progress, uid, &e);
            }
            _ => fail(&mut self.progress, uid, &e),
        }
        Ok(())
    }

    /// Records the associations accepted since the last write once [`flush_every`] has passed:
    /// a process killed after an accepted call repeats the calls of that window (that one call,
    /// at Connect's quotas; idempotent at Connect), not the page.
    async fn flush(&mut self, associations: &mut Vec<Association>) -> Result<(), Stop> {
        if self.flushed_at.elapsed() < self.flush_every {
            return Ok(());
        }
        self.flushed_at = Instant::now();
        self.ctx
            .store
            .put_associations(associations)
            .await
            .map_err(|e| Stop::Fatal(e.into()))?;
        associations.clear();
        Ok(())
    }

    /// The page ended early: progress kept (inside the page), and what the invocation returns.
    async fn stop(self, stop: Stop) -> Result<Output, StepError> {
        self.ctx.store.put_progress(&self.progress).await?;
        match stop {
            Stop::Fatal(err) => Err(err),
            Stop::Exhausted(e) if self.handled == 0 => Err(e.into()),
            Stop::Exhausted(e) => {
                warn!(instance_id = %self.id, error = %e, "stopping early: Connect keeps throttling");
                Ok(self.output())
            }
            // As at the start: "not done" with nothing done would spin the state machine's loop.
            Stop::OutOfTime if self.handled == 0 => Err(StepError::Transient(
                "the invocation reached its deadline before it could handle a user".into(),
            )),
            Stop::OutOfTime => Ok(self.output()),
        }
    }

    /// The page is done: the cursor moves on.
    async fn end_page(&mut self, page: UserPage) -> Result<(), StepError> {
        let p = &mut self.progress;
        p.page_done.clear();
        p.cursor = page.next_token;
        p.done = p.cursor.is_none();
        self.ctx.store.put_progress(p).await?;
        info!(
            instance_id = %self.id,
            page_users = page.users.len(),
            associated = p.associated,
            waiting_for_replica = p.waiting_for_replica,
            done = p.done,
            "page done"
        );
        Ok(())
    }
}

/// Nothing done yet in this pass: where a members check may start.
fn untouched(p: &AssociationProgress) -> bool {
    p.members_check.is_none()
        && p.cursor.is_none()
        && p.page_done.is_empty()
        && p.associated + p.already_associated + p.waiting_for_replica == 0
        && p.failed.is_empty()
}

/// After a ResourceNotFoundException: NotReady unless the group is still there and ACTIVE.
pub(crate) async fn still_active<C: Connect, S: SyncStore>(
    ctx: &Context<C, S>,
    arn: &str,
) -> Result<(), StepError> {
    match ctx.source.describe_group(arn).await {
        Ok(g) if g.is_active() => Ok(()),
        Ok(g) => Err(StepError::NotReady(format!(
            "traffic distribution group {arn} became {}",
            g.status
        ))),
        Err(e) if e.class == ConnectErrorClass::NotFound => Err(StepError::NotReady(format!(
            "traffic distribution group {arn} is gone: {e}"
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn fail(progress: &mut AssociationProgress, user_id: &str, e: &ConnectError) {
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
