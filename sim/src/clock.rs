//! Simulated time: epoch seconds that run `scale` times faster than the wall clock, and can be
//! pushed forward by the control API.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Clock {
    base: f64,
    started: Instant,
    scale: f64,
    offset: f64,
}

impl Clock {
    pub fn new(scale: f64) -> Self {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Clock {
            base,
            started: Instant::now(),
            scale,
            offset: 0.0,
        }
    }

    /// Simulated now, in epoch seconds (millisecond precision, as the wire shows it).
    pub fn now(&self) -> f64 {
        let t = self.base + self.started.elapsed().as_secs_f64() * self.scale + self.offset;
        (t * 1000.0).floor() / 1000.0
    }

    pub fn advance(&mut self, seconds: f64) {
        self.offset += seconds.max(0.0);
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }
}
