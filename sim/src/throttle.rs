//! Throttling: one token bucket per region and operation, refilled on the wall clock.

use std::collections::HashMap;
use std::time::Instant;

/// Default steady rate (requests/second) of an operation, from the Service Quotas defaults.
pub fn default_rate(operation: &str) -> f64 {
    match operation {
        "ListUsers"
        | "DescribeUser"
        | "ListQueues"
        | "ListRoutingProfiles"
        | "ListHoursOfOperations"
        | "ListQuickConnects"
        | "ListPrompts"
        | "ListAgentStatuses"
        | "ListPredefinedAttributes"
        | "ListUserHierarchyGroups" => 10.0,
        _ => 2.0,
    }
}

/// Burst: 5 for the 2 requests/second class (documented); one second's worth for faster ones.
pub fn default_burst(operation: &str) -> f64 {
    default_rate(operation).max(5.0)
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct Throttle {
    factor: f64,
    buckets: HashMap<(String, String), Bucket>,
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
    pub fn admit(&mut self, region: &str, operation: &str, now: Instant) -> bool {
        let rate = default_rate(operation) * self.factor;
        let burst = default_burst(operation) * self.factor;
        let bucket = self
            .buckets
            .entry((region.to_string(), operation.to_string()))
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
            .filter(|_| t.admit("us-east-1", "ReplicateInstance", start))
            .count();
        assert_eq!(admitted, 5);
        let later = start + Duration::from_millis(1000);
        let admitted = (0..10)
            .filter(|_| t.admit("us-east-1", "ReplicateInstance", later))
            .count();
        assert_eq!(admitted, 2);
    }

    #[test]
    fn buckets_are_per_region_and_operation() {
        let mut t = Throttle::new(1.0);
        let now = Instant::now();
        for _ in 0..5 {
            assert!(t.admit("us-east-1", "DescribeInstance", now));
        }
        assert!(!t.admit("us-east-1", "DescribeInstance", now));
        assert!(t.admit("us-west-2", "DescribeInstance", now));
        assert!(t.admit("us-east-1", "GetTrafficDistribution", now));
    }

    #[test]
    fn the_quota_factor_scales_rate_and_burst() {
        let mut t = Throttle::new(10.0);
        let now = Instant::now();
        let admitted = (0..100)
            .filter(|_| t.admit("us-east-1", "ListUsers", now))
            .count();
        assert_eq!(admitted, 100);
    }
}
