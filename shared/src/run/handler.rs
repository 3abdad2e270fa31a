//! The Lambda glue of every step, and the invocation's deadline: the deadline as the Lambda
//! runtime gives it, turned into a point on tokio's clock, less the margin the deployment set
//! (read once at cold start): loops and waits stop before it, so a step returns (and records)
//! before it is killed.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::input::{parse_with, StepInput};
use crate::error::{shown, StepError};

/// How long before the Lambda deadline a step stops starting work, unless it says otherwise:
/// time to record what it did and answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// The margin a deployment sets (`DEADLINE_MARGIN_MS`, milliseconds), else [`DEADLINE_MARGIN`]:
/// read once, at cold start, by [`crate::Context::from_env`]. A value that is not a number is
/// `Misconfigured`.
pub fn deadline_margin_from_env() -> Result<Duration, StepError> {
    deadline_margin(std::env::var("DEADLINE_MARGIN_MS").ok().as_deref())
}

/// The margin a `DEADLINE_MARGIN_MS` value sets: empty or absent is [`DEADLINE_MARGIN`].
fn deadline_margin(value: Option<&str>) -> Result<Duration, StepError> {
    match value {
        Some(v) if !v.is_empty() => v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            StepError::Misconfigured(format!(
                "DEADLINE_MARGIN_MS must be a number of milliseconds, not '{}'",
                shown(v)
            ))
        }),
        _ => Ok(DEADLINE_MARGIN),
    }
}

/// The Lambda glue of every step: parse the payload, run the step within the invocation's
/// deadline (less `margin`; the Connect clients send nothing whose turn comes after it), name its
/// error. The step is given the point where it must stop.
pub async fn handle<T, O, F, Fut>(
    event: LambdaEvent<Value>,
    margin: Duration,
    step: F,
) -> Result<O, Diagnostic>
where
    T: StepInput,
    F: FnOnce(T, Option<Instant>) -> Fut,
    Fut: Future<Output = Result<O, StepError>>,
{
    handle_with(event, margin, |_| Ok(()), step).await
}

/// [`handle`], letting the step fill in header members it can default ([`parse_with`]).
pub async fn handle_with<T, O, F, Fut>(
    event: LambdaEvent<Value>,
    margin: Duration,
    defaults: impl FnOnce(&mut Map<String, Value>) -> Result<(), StepError>,
    step: F,
) -> Result<O, Diagnostic>
where
    T: StepInput,
    F: FnOnce(T, Option<Instant>) -> Fut,
    Fut: Future<Output = Result<O, StepError>>,
{
    let stop_at = stop_at(event.context.deadline, epoch_millis(), margin);
    let input = parse_with(event.payload, defaults)?;
    // Boxed: the step's future is deep, and each Lambda's main would otherwise need a higher
    // recursion limit to lay it out.
    within(stop_at, Box::pin(step(input, stop_at)))
        .await
        .map_err(Diagnostic::from)
}

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
/// ([`crate::connect::pace`]) sends nothing whose turn comes after it.
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

    #[tokio::test]
    async fn work_stops_the_default_margin_before_the_deadline() {
        let now = 1_764_000_000_000; // epoch milliseconds, November 2025
        assert!(
            stop_at(0, now, DEADLINE_MARGIN).is_none(),
            "a zero deadline means none"
        );
        let soon = stop_at(now + 3_000, now, DEADLINE_MARGIN).unwrap();
        assert!(soon <= Instant::now(), "3 s left is inside the 5 s margin");
        let later = stop_at(now + 65_000, now, DEADLINE_MARGIN).unwrap();
        let left = later - Instant::now();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_deadline_given_as_a_duration_is_read_from_now() {
        // cargo lambda watch sends Lambda-Runtime-Deadline-Ms: 600000
        let stop = stop_at(600_000, 1_764_000_000_000, DEADLINE_MARGIN).unwrap();
        let left = stop - Instant::now();
        assert!(
            left > Duration::from_secs(594) && left <= Duration::from_secs(595),
            "{left:?}"
        );
    }

    #[test]
    fn the_margin_is_milliseconds_and_a_bad_one_is_misconfigured() {
        assert_eq!(deadline_margin(None).unwrap(), DEADLINE_MARGIN);
        assert_eq!(deadline_margin(Some("")).unwrap(), DEADLINE_MARGIN);
        assert_eq!(
            deadline_margin(Some("7000")).unwrap(),
            Duration::from_secs(7)
        );
        for bad in ["5s", "-1", "1.5"] {
            let e = deadline_margin(Some(bad)).unwrap_err();
            assert_eq!(e.error_type(), "Misconfigured", "{bad}");
            assert!(!e.is_retryable());
            assert!(e.to_string().contains("DEADLINE_MARGIN_MS"), "{e}");
        }
    }
}
