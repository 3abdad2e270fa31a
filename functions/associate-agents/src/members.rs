//! The day's check of the group's members ([`acgr::agents::members`]): before the sweep, page by page
//! through ListTrafficDistributionGroupUsers (10 users a page, 2 calls/s: 10,000 agents take
//! 1,000 calls and 500 seconds), confirming each record found. Progress is written after every
//! page, so an invocation can stop before its deadline and the next one goes on from the cursor.

use std::collections::HashMap;

use acgr::agents::members::{self, MembersCheck};

use super::*;
use crate::sweep::still_active;

/// How the check ended this invocation.
pub(crate) enum Checked {
    /// Every page listed (this many in this invocation): the sweep may trust what it confirmed.
    Done(u32),
    /// The deadline (or Connect's throttling) stopped it: the next invocation goes on.
    Stopped,
}

/// What the check works on.
pub(crate) struct Check<'a, C, S> {
    pub ctx: &'a Context<C, S>,
    pub arn: &'a str,
    pub run_id: &'a str,
    pub now: i64,
    pub stop_at: Option<Instant>,
}

impl<C: Connect, S: SyncStore> Check<'_, C, S> {
    /// Lists the members from the check's cursor until done or stopped; each record found is
    /// rewritten as of now, so that it is trusted once the check is complete.
    pub async fn run(
        &self,
        progress: &mut AssociationProgress,
        records: &mut HashMap<String, Association>,
    ) -> Result<Checked, StepError> {
        let mut pages = 0u32;
        loop {
            let Some(check) = progress.members_check.as_mut() else {
                return Ok(Checked::Done(pages));
            };
            if check.done {
                return Ok(Checked::Done(pages));
            }
            if self.stop_at.is_some_and(|t| Instant::now() >= t) {
                return stopped(pages, None);
            }
            let listed = self
                .ctx
                .source
                .list_group_users_page(self.arn, check.cursor.as_deref())
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(e) if e.class == ConnectErrorClass::OutOfTime => return stopped(pages, None),
                Err(e) if e.class.ends_the_invocation() => return stopped(pages, Some(e)),
                Err(e)
                    if e.class == ConnectErrorClass::InvalidRequest && check.cursor.is_some() =>
                {
                    // The token expired between invocations: the check starts again.
                    warn!(group_arn = %self.arn, error = %e, "members check restarted");
                    *check = MembersCheck::new(self.now);
                    continue;
                }
                Err(e) if e.class == ConnectErrorClass::NotFound => {
                    still_active(self.ctx, self.arn).await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            };
            pages += 1;
            check.pages += 1;
            check.members += page.user_ids.len() as u64;
            check.seconds_at_quota = check.pages.div_ceil(members::CALLS_PER_SECOND);
            let mut confirmed = Vec::new();
            for uid in &page.user_ids {
                let Some(record) = records.get_mut(uid) else {
                    continue;
                };
                check.confirmed += 1;
                if record.at < check.started_at {
                    record.at = self.now;
                    record.run_id = self.run_id.to_string();
                    confirmed.push(record.clone());
                }
            }
            check.cursor = page.next_token;
            if check.cursor.is_none() {
                check.done = true;
                let since = Some(check.started_at);
                check.stale = records
                    .values()
                    .filter(|a| !members::trusted(a, since))
                    .count() as u64;
                info!(
                    group_arn = %self.arn,
                    members = check.members,
                    confirmed = check.confirmed,
                    stale = check.stale,
                    pages = check.pages,
                    seconds_at_quota = check.seconds_at_quota,
                    "group members checked"
                );
            }
            // The confirmations first: a crash before the progress write only lists a page again.
            if !confirmed.is_empty() {
                self.ctx.store.put_associations(&confirmed).await?;
            }
            progress.updated_at = self.now;
            self.ctx.store.put_progress(progress).await?;
        }
    }
}

/// The check stopped after `pages` pages of this invocation: return what is done, unless nothing
/// is (a "not done" answer with no work would make the state machine's loop spin).
fn stopped(pages: u32, error: Option<ConnectError>) -> Result<Checked, StepError> {
    match (pages, error) {
        (0, Some(e)) => Err(e.into()),
        (0, None) => Err(StepError::Transient(
            "the invocation reached its deadline before it could check the group's members".into(),
        )),
        (_, Some(e)) => {
            warn!(error = %e, "stopping early: Connect keeps throttling the members check");
            Ok(Checked::Stopped)
        }
        (_, None) => Ok(Checked::Stopped),
    }
}
