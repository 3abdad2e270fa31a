//! One Connect call under the pacer: a token first, throttling and transient errors retried
//! with backoff, never past the invocation's deadline.

use super::*;

/// Why a call did not give a result.
#[derive(Debug)]
pub(crate) enum Halt {
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

pub(crate) fn retryable(class: ConnectErrorClass) -> bool {
    matches!(
        class,
        ConnectErrorClass::Throttled | ConnectErrorClass::Transient
    )
}

/// Calls `f` (after a token when `paced`), retrying throttling and transient errors with
/// backoff, never waiting past `stop_at`.
pub(crate) async fn call<T, F, Fut>(
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
