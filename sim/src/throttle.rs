//! Throttling: one token bucket per region and operation, refilled on the wall clock, shaped
//! by the operation's quota in the operation table.

use std::collections::HashMap;
use std::time::Instant;

use crate::ops::Operation;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct Throttle {
    factor: f64,
    buckets: HashMap<(String, Operation), Bucket>,
}

impl Throttle {
    pub fn new(factor: f64) -> Self {
        Throttle {
            factor,
            buckets: HashMap::new(),
        }
    }

    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Takes a token for one call; false when the caller is over its quota.
    pub fn admit(&mut self, region: &str, operation: Operation, now: Instant) -> bool {
        let quota = operation.spec().quota;
        let rate = quota.rate * self.factor;
        let burst = quota.burst * self.factor;
        let bucket = self
            .buckets
            .entry((region.to_string(), operation))
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_five_then_two_per_second() {
        let mut t = Throttle::new(1.0);
        let start = Instant::now();
        let admitted = (0..10)
            .filter(|_| t.admit("us-east-1", Operation::ReplicateInstance, start))
            .count();
        assert_eq!(admitted, 5);
        let later = start + Duration::from_millis(1000);
        let admitted = (0..10)
            .filter(|_| t.admit("us-east-1", Operation::ReplicateInstance, later))
            .count();
        assert_eq!(admitted, 2);
    }

    #[test]
    fn buckets_are_per_region_and_operation() {
        let mut t = Throttle::new(1.0);
        let now = Instant::now();
        for _ in 0..5 {
            assert!(t.admit("us-east-1", Operation::DescribeInstance, now));
        }
        assert!(!t.admit("us-east-1", Operation::DescribeInstance, now));
        assert!(t.admit("us-west-2", Operation::DescribeInstance, now));
        assert!(t.admit("us-east-1", Operation::GetTrafficDistribution, now));
    }

    #[test]
    fn the_quota_factor_scales_rate_and_burst() {
        let mut t = Throttle::new(10.0);
        let now = Instant::now();
        let admitted = (0..100)
            .filter(|_| t.admit("us-east-1", Operation::ListUsers, now))
            .count();
        assert_eq!(admitted, 100);
    }
}
