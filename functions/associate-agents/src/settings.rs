//! How long an invocation works: it stops starting calls a margin before the Lambda deadline,
//! leaving time to save its progress and answer. How fast it calls, and how often it retries, is
//! the Connect client's policy ([`acgr::pace`]).

use std::str::FromStr;
use std::time::Duration;

use acgr::StepError;
use tokio::time::Instant;

/// Built once per cold start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Work stops this long before the Lambda deadline, leaving time to save and answer.
    pub deadline_margin: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            deadline_margin: acgr::step::DEADLINE_MARGIN,
        }
    }
}

impl Settings {
    /// From the environment: `DEADLINE_MARGIN_MS` (default 5000).
    pub fn from_env() -> Result<Settings, StepError> {
        let margin: u64 = match std::env::var("DEADLINE_MARGIN_MS") {
            Ok(v) if !v.is_empty() => u64::from_str(&v).map_err(|_| {
                StepError::InvalidInput(format!("DEADLINE_MARGIN_MS must be a number, not '{v}'"))
            })?,
            _ => return Ok(Settings::default()),
        };
        Ok(Settings {
            deadline_margin: Duration::from_millis(margin),
        })
    }

    /// When work must stop: the margin before `deadline_ms` (epoch milliseconds, as Lambda gives
    /// it), measured from `now_ms` (see [`acgr::deadline::stop_at`]).
    pub fn stop_at(&self, deadline_ms: u64, now_ms: u64) -> Option<Instant> {
        acgr::deadline::stop_at(deadline_ms, now_ms, self.deadline_margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_stops_a_margin_before_the_deadline() {
        let settings = Settings::default();
        let now = 1_764_000_000_000; // epoch milliseconds, November 2025
        assert!(
            settings.stop_at(0, now).is_none(),
            "a zero deadline means none"
        );
        let soon = settings.stop_at(now + 3_000, now).unwrap();
        assert!(soon <= Instant::now(), "3 s left is inside the 5 s margin");
        let later = settings.stop_at(now + 65_000, now).unwrap();
        let left = later - Instant::now();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_deadline_given_as_a_duration_is_read_from_now() {
        // cargo lambda watch sends Lambda-Runtime-Deadline-Ms: 600000
        let settings = Settings::default();
        let stop = settings.stop_at(600_000, 1_764_000_000_000).unwrap();
        let left = stop - Instant::now();
        assert!(
            left > Duration::from_secs(594) && left <= Duration::from_secs(595),
            "{left:?}"
        );
    }
}
