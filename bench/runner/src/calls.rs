//! connect-sim's call log as the benchmark reads it: the calls of a window (by sequence number
//! or wall-clock time), counted by operation and status, and Connect's quota of an operation
//! from the sim's own operation table.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use connect_sim::control::{CallFilter, CallRecord, Client};
use connect_sim::ops::{Operation, Quota};

/// HTTP 429: a call refused by the quota.
pub(crate) const THROTTLED: u16 = 429;

/// The call log of a connect-sim, read incrementally.
pub(crate) struct CallLog {
    client: Client,
    /// Every call read so far, in order.
    calls: Vec<CallRecord>,
}

impl CallLog {
    pub(crate) fn new(sim: SocketAddr) -> CallLog {
        CallLog {
            client: Client::new(sim),
            calls: Vec::new(),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Reads the calls logged since the last read; the sequence number of the last call.
    pub(crate) async fn mark(&mut self) -> Result<u64> {
        let last = self.calls.last().map_or(0, |c| c.seq);
        let new = self
            .client
            .calls(&CallFilter::default().since(last))
            .await
            .context("GET /_sim/calls")?;
        self.calls.extend(new);
        Ok(self.calls.last().map_or(0, |c| c.seq))
    }

    /// The calls after `after` up to `until` (sequence numbers), read by [`CallLog::mark`].
    pub(crate) fn between(&self, after: u64, until: u64) -> Calls<'_> {
        Calls(
            self.calls
                .iter()
                .filter(|c| c.seq > after && c.seq <= until)
                .collect(),
        )
    }
}

/// Some calls of the log.
pub(crate) struct Calls<'a>(pub(crate) Vec<&'a CallRecord>);

impl<'a> Calls<'a> {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Those made at or after `time` (wall-clock epoch seconds).
    pub(crate) fn since_time(&self, time: f64) -> Calls<'a> {
        Calls(self.0.iter().copied().filter(|c| c.time >= time).collect())
    }

    /// Those made before `time`.
    pub(crate) fn before_time(&self, time: f64) -> Calls<'a> {
        Calls(self.0.iter().copied().filter(|c| c.time < time).collect())
    }

    /// Those signed with `access_key_id`.
    pub(crate) fn by_key(&self, access_key_id: &str) -> Calls<'a> {
        Calls(
            self.0
                .iter()
                .copied()
                .filter(|c| c.access_key_id == access_key_id)
                .collect(),
        )
    }

    pub(crate) fn throttled(&self) -> usize {
        self.0.iter().filter(|c| c.status == THROTTLED).count()
    }

    /// The calls of `operation` Connect accepted (HTTP 200), in order.
    pub(crate) fn accepted(&self, operation: &str) -> Vec<&'a CallRecord> {
        self.0
            .iter()
            .copied()
            .filter(|c| c.operation == operation && c.status == 200)
            .collect()
    }

    /// Calls per operation.
    pub(crate) fn by_operation(&self) -> BTreeMap<&'a str, usize> {
        let mut out = BTreeMap::new();
        for c in &self.0 {
            *out.entry(c.operation.as_str()).or_insert(0) += 1;
        }
        out
    }

    /// "12 DescribeInstance, 3 ListUsers, ...": the operations by count, most first.
    pub(crate) fn summary(&self) -> String {
        let mut ops: Vec<(&str, usize)> = self.by_operation().into_iter().collect();
        ops.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ops.iter()
            .map(|(op, n)| format!("{n} {op}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Connect's quota of an operation (before any quota factor), from connect-sim's table.
pub(crate) fn quota(operation: &str) -> Result<Quota> {
    Operation::all()
        .find(|o| o.name() == operation)
        .map(|o| o.spec().quota)
        .with_context(|| format!("connect-sim has no operation {operation}"))
}

/// Calls per second over accepted calls made at `times` (sorted): the intervals between the
/// first and the last.
pub(crate) fn rate(times: &[f64]) -> Option<f64> {
    let (first, last) = (times.first()?, times.last()?);
    (times.len() > 1 && last > first).then(|| (times.len() - 1) as f64 / (last - first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_intervals_between_the_first_and_the_last_call() {
        assert_eq!(rate(&[0.0, 0.5, 1.0]), Some(2.0));
        assert_eq!(rate(&[3.0]), None);
        assert_eq!(rate(&[]), None);
    }

    #[test]
    fn quotas_come_from_the_sims_operation_table() {
        let q = quota("AssociateTrafficDistributionGroupUser").unwrap();
        assert_eq!((q.rate, q.burst), (2.0, 5.0));
        assert!(quota("NoSuchOperation").is_err());
    }
}
