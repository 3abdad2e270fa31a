//! Pacing: a token bucket for the 2 requests/s (burst 5) quota of the group user operations,
//! exponential backoff with jitter, and the point before the Lambda deadline where work stops.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use acgr::StepError;
use tokio::time::Instant;

/// How fast and for how long an invocation may call Connect. Built once per cold start; the
/// bucket lives as long as the container, so back-to-back invocations share it.
#[derive(Debug)]
pub struct Pacing {
    bucket: TokenBucket,
    /// Work stops this long before the Lambda deadline, leaving time to save and answer.
    pub deadline_margin: Duration,
    /// Attempts per call when Connect throttles or fails transiently.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Pacing {
    pub fn new(rate_per_second: f64, burst: u32) -> Pacing {
        Pacing {
            bucket: TokenBucket::new(rate_per_second, burst),
            deadline_margin: Duration::from_millis(5000),
            max_attempts: 6,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
        }
    }

    /// From the environment: `ASSOCIATE_RATE_PER_SECOND` (default 2), `ASSOCIATE_BURST`
    /// (default 5), `DEADLINE_MARGIN_MS` (default 5000).
    pub fn from_env() -> Result<Pacing, StepError> {
        let rate: f64 = env_or("ASSOCIATE_RATE_PER_SECOND", 2.0)?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(StepError::InvalidInput(
                "ASSOCIATE_RATE_PER_SECOND must be a positive number".into(),
            ));
        }
        let burst: u32 = env_or("ASSOCIATE_BURST", 5)?;
        if burst == 0 {
            return Err(StepError::InvalidInput(
                "ASSOCIATE_BURST must be at least 1".into(),
            ));
        }
        let margin: u64 = env_or("DEADLINE_MARGIN_MS", 5000)?;
        let mut pacing = Pacing::new(rate, burst);
        pacing.deadline_margin = Duration::from_millis(margin);
        Ok(pacing)
    }

    /// Waits for a token; `false` (and no token taken) when the wait would pass `stop_at`.
    pub async fn acquire(&self, stop_at: Option<Instant>) -> bool {
        self.bucket.acquire(stop_at).await
    }

    /// Connect throttled us: the quota is shared, so forget any burst we thought we had.
    pub fn drain(&self) {
        self.bucket.drain();
    }

    /// The wait before retry number `attempt` (0-based): exponential, capped, with equal jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_backoff);
        let half = ceiling / 2;
        let jitter = RandomState::new().hash_one(attempt) % (half.as_millis() as u64 + 1);
        half + Duration::from_millis(jitter)
    }

    /// When work must stop: the margin before `deadline_ms` (epoch milliseconds, as Lambda gives
    /// it), measured from `now_ms`. A deadline of 0 (a test's context) means none. `cargo lambda
    /// watch` sends its timeout (600000) instead of an epoch time: a "deadline" before 2001 is
    /// read as milliseconds from now, so local runs get the budget they were given.
    pub fn stop_at(&self, deadline_ms: u64, now_ms: u64) -> Option<Instant> {
        acgr::deadline::stop_at(deadline_ms, now_ms, self.deadline_margin)
    }
}

fn env_or<T: FromStr>(name: &str, default: T) -> Result<T, StepError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| StepError::InvalidInput(format!("{name} must be a number, not '{v}'"))),
        _ => Ok(default),
    }
}

/// A token bucket over tokio's clock (so tests can pause time). Tokens may go negative: a
/// caller reserves its token and sleeps until it is due.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Option<Instant>)>,
}

impl TokenBucket {
    fn new(rate: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, None)),
        }
    }

    async fn acquire(&self, stop_at: Option<Instant>) -> bool {
        let wait = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let since = s.1.map_or(Duration::ZERO, |at| now.duration_since(at));
            s.0 = (s.0 + since.as_secs_f64() * self.rate).min(self.burst);
            s.1 = Some(now);
            let wait = if s.0 >= 1.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64((1.0 - s.0) / self.rate)
            };
            if stop_at.is_some_and(|t| now + wait > t) {
                return false;
            }
            s.0 -= 1.0;
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        true
    }

    fn drain(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = s.0.min(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_the_rate() {
        let pacing = Pacing::new(2.0, 5);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(pacing.acquire(None).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..10 {
            assert!(pacing.acquire(None).await);
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(4990) && took <= Duration::from_millis(5100),
            "10 more at 2/s: {took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refuses_a_wait_past_the_stop_point() {
        let pacing = Pacing::new(2.0, 1);
        let stop = Instant::now() + Duration::from_millis(300);
        assert!(pacing.acquire(Some(stop)).await);
        assert!(
            !pacing.acquire(Some(stop)).await,
            "next token due at 500 ms"
        );
        assert_eq!(
            Instant::now(),
            stop - Duration::from_millis(300),
            "no sleep"
        );
        pacing.drain();
        assert!(pacing.acquire(None).await);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let pacing = Pacing::new(2.0, 5);
        for attempt in 0..10 {
            let d = pacing.backoff(attempt);
            let ceiling = (pacing.base_backoff * 2u32.pow(attempt)).min(pacing.max_backoff);
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
        }
    }

    #[tokio::test]
    async fn work_stops_a_margin_before_the_deadline() {
        let pacing = Pacing::new(2.0, 5);
        let now = 1_764_000_000_000; // epoch milliseconds, November 2025
        assert!(
            pacing.stop_at(0, now).is_none(),
            "a zero deadline means none"
        );
        let soon = pacing.stop_at(now + 3_000, now).unwrap();
        assert!(soon <= Instant::now(), "3 s left is inside the 5 s margin");
        let later = pacing.stop_at(now + 65_000, now).unwrap();
        let left = later - Instant::now();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_deadline_given_as_a_duration_is_read_from_now() {
        // cargo lambda watch sends Lambda-Runtime-Deadline-Ms: 600000
        let pacing = Pacing::new(2.0, 5);
        let stop = pacing.stop_at(600_000, 1_764_000_000_000).unwrap();
        let left = stop - Instant::now();
        assert!(
            left > Duration::from_secs(594) && left <= Duration::from_secs(595),
            "{left:?}"
        );
    }
}
