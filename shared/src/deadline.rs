//! The invocation's deadline, as the Lambda runtime gives it, turned into a point on tokio's
//! clock: loops and waits stop before it, so a step returns (and records) before it is killed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// When work must stop: `margin` before `deadline_ms` (epoch milliseconds, as Lambda gives it),
/// measured from `now_ms`. A deadline of 0 (a test's context) means none. `cargo lambda watch`
/// sends its timeout (600000) instead of an epoch time: a "deadline" before 2001 is read as
/// milliseconds from now, so local runs get the budget they were given.
pub fn stop_at(deadline_ms: u64, now_ms: u64, margin: Duration) -> Option<Instant> {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    if deadline_ms == 0 {
        return None;
    }
    let budget = if deadline_ms < YEAR_2001_MS {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    let margin = u64::try_from(margin.as_millis()).unwrap_or(u64::MAX);
    Some(Instant::now() + Duration::from_millis(budget.saturating_sub(margin)))
}

tokio::task_local! {
    static STOP_AT: Option<Instant>;
}

/// Runs a step's work with `stop_at` as its deadline: the Connect clients' pacer
/// ([`crate::pace`]) sends nothing whose turn comes after it.
pub async fn within<F: std::future::Future>(stop_at: Option<Instant>, work: F) -> F::Output {
    STOP_AT.scope(stop_at, work).await
}

/// The deadline of the work this task is doing ([`within`]); `None` outside one.
pub fn current() -> Option<Instant> {
    STOP_AT.try_with(|s| *s).ok().flatten()
}

/// Epoch milliseconds.
pub fn epoch_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn epoch_deadlines_durations_and_none() {
        let now = Instant::now();
        assert_eq!(stop_at(0, 5, Duration::ZERO), None);
        let at = stop_at(
            2_000_000_000_000 + 10_000,
            2_000_000_000_000,
            Duration::from_secs(2),
        )
        .unwrap();
        let left = at - now;
        assert!(
            left <= Duration::from_millis(8_050) && left > Duration::from_secs(7),
            "{left:?}"
        );
        let local = stop_at(600_000, 2_000_000_000_000, Duration::from_secs(10)).unwrap();
        assert!(local - now > Duration::from_secs(589));
        let spent = stop_at(1_000, 2_000_000_000_000, Duration::from_secs(10)).unwrap();
        assert!(
            spent - now < Duration::from_millis(50),
            "a margin past the deadline: now"
        );
    }
}
