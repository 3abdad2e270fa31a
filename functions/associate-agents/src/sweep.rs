//! The sweep: page by page through the source's users, associating those present in both
//! regions and not yet recorded, with progress written before and after each page.

use super::*;

/// Where to start: the cursor given, else this run's unfinished progress, else a fresh pass.
pub(crate) fn starting_point(
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
pub(crate) enum Stop {
    OutOfTime,
    Exhausted(ConnectError),
}

pub(crate) async fn work<C: Connect, S: RunStore>(
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
pub(crate) async fn still_active<C: Connect, S: RunStore>(
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
