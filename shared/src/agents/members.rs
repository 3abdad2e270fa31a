//! Our association records (`AGENT#` items) checked against a group's members: an agent
//! disassociated outside the tool (by hand, by another script) is found and associated again.
//!
//! The only way to see a group's members is ListTrafficDistributionGroupUsers: 10 users a page
//! at 2 calls/s, so 10,000 agents are 1,000 pages and 500 seconds. That is too dear for every
//! hourly sync, so a group's members are checked **once a day**: the association run that finds
//! the check due (the group's `GROUP#` item says when the last one started; the first is due a
//! day after the oldest record) lists them all, page by page and resumable like the sweep,
//! before it sweeps. Each record found among the members is confirmed (its `at` moves to the
//! check); when the listing is complete, a record older than the check's start was not among the
//! members: it is no longer trusted, and the sweep associates that user again (if present in
//! both regions). A record written after the check started is trusted: it was associated (or
//! confirmed) since.

use super::records::Association;
pub use super::records::MembersCheck;
use crate::connect::GROUP_USERS_PAGE_SIZE;

/// A group's members are checked at most this often.
pub const CHECK_EVERY_SECONDS: i64 = 86_400;

/// ListTrafficDistributionGroupUsers' quota (calls per second).
pub const CALLS_PER_SECOND: u64 = 2;

/// Seconds a complete check of `members` users costs at the quota.
pub fn cost_seconds(members: u64) -> u64 {
    let page = u64::try_from(GROUP_USERS_PAGE_SIZE).unwrap_or(10);
    members.div_ceil(page).max(1).div_ceil(CALLS_PER_SECOND)
}

/// A check is due a day after the last one started or, before the first, a day after the oldest
/// record was written (a record is as good as a check when it is written); never without records.
pub fn due(last_checked_at: Option<i64>, oldest_record_at: Option<i64>, now: i64) -> bool {
    last_checked_at
        .or(oldest_record_at)
        .is_some_and(|t| now.saturating_sub(t) >= CHECK_EVERY_SECONDS)
}

/// A record is trusted unless a complete check started after it was written (and did not find
/// the user among the members, or it would have been rewritten since).
pub fn trusted(record: &Association, checked_at: Option<i64>) -> bool {
    checked_at.is_none_or(|t| record.at >= t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64) -> Association {
        Association {
            instance_id: "i".into(),
            group_arn: "g".into(),
            user_id: "u".into(),
            username: "agent".into(),
            run_id: "r".into(),
            at,
        }
    }

    #[test]
    fn once_a_day_and_only_with_records() {
        let day = CHECK_EVERY_SECONDS;
        assert!(
            !due(None, None, day * 9),
            "nothing recorded, nothing to check"
        );
        assert!(
            !due(None, Some(10), 10 + day - 1),
            "records a day old at most"
        );
        assert!(due(None, Some(10), 10 + day));
        assert!(
            !due(Some(10 + day), Some(10), 10 + day * 2 - 1),
            "checked since"
        );
        assert!(due(Some(10 + day), Some(10), 10 + day * 2));
    }

    #[test]
    fn records_older_than_the_last_complete_check_are_not_trusted() {
        assert!(trusted(&record(5), None), "never checked: as recorded");
        assert!(
            !trusted(&record(5), Some(10)),
            "not found by the check at 10"
        );
        assert!(trusted(&record(10), Some(10)), "confirmed by it");
        assert!(trusted(&record(11), Some(10)), "associated since");
    }

    #[test]
    fn the_cost_of_a_check() {
        assert_eq!(cost_seconds(10_000), 500, "1,000 pages at 2/s");
        assert_eq!(cost_seconds(500), 25);
        assert_eq!(cost_seconds(0), 1, "one page, even empty");
    }
}
