//! The numbers an operator graphs, as CloudWatch Embedded Metric Format documents on stdout
//! (through the `metrics` facade and `metrics_cloudwatch_embedded`, flushed after every
//! invocation): namespace [`NAMESPACE`], every metric with the dimension `Function`.
//!
//! | metric | unit | dimensions | from |
//! |---|---|---|---|
//! | `AgentsAssociated`, `AgentsWaiting` | Count | InstanceId | associate-agents, each invocation |
//! | `ResourcesToMirror`, `Findings` | Count | InstanceId, Kind | poll-mirroring, each poll |
//! | `Conflicts` | Count | InstanceId | poll-mirroring, each poll |
//! | `ConnectThrottles`, `ConnectRetries` | Count | Operation | every Connect client |
//! | `ShiftSeconds` | Seconds | InstanceId, Reason | shift-traffic, each shift applied |
//! | `TelephonyPercent`, `AgentsPercent` | Percent | InstanceId, Group, Region | shift-traffic, each group moved |
//!
//! The point-in-time values are recorded as histograms, not gauges: the crate writes a histogram
//! only in the invocation that recorded it, where it would write a gauge again at every later
//! invocation of the process (a failover's 100% reported as current by the next dry run).
//!
//! Without a recorder (tests, the local tools) every call is a no-op.

use metrics::Unit;

pub const NAMESPACE: &str = "ACGR";

/// The recorder of a Lambda's process: EMF with `Function` = `function`, the units described.
pub type Collector = metrics_cloudwatch_embedded::Collector;

/// Installs the EMF recorder for this process (once; later calls return None).
pub fn init(function: &str) -> Option<&'static Collector> {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Function", function.to_string())
        .init()
        .ok()?;
    for name in [
        "AgentsAssociated",
        "AgentsWaiting",
        "ResourcesToMirror",
        "Findings",
        "Conflicts",
    ] {
        metrics::describe_histogram!(name, Unit::Count, "");
    }
    metrics::describe_counter!("ConnectThrottles", Unit::Count, "");
    metrics::describe_counter!("ConnectRetries", Unit::Count, "");
    metrics::describe_histogram!("ShiftSeconds", Unit::Seconds, "");
    metrics::describe_histogram!("TelephonyPercent", Unit::Percent, "");
    metrics::describe_histogram!("AgentsPercent", Unit::Percent, "");
    Some(collector)
}

/// Writes the invocation's metrics as one EMF document on stdout.
pub fn flush(collector: Option<&Collector>) {
    if let Some(c) = collector {
        if let Err(e) = c.flush(std::io::stdout()) {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}

/// Agents associated with the default group (counted, or found already associated) and
/// waiting for the replica.
pub fn agents(instance_id: &str, associated: u64, waiting: u64) {
    let id = instance_id.to_string();
    metrics::histogram!("AgentsAssociated", "InstanceId" => id.clone()).record(associated as f64);
    metrics::histogram!("AgentsWaiting", "InstanceId" => id).record(waiting as f64);
}

/// One kind's mirroring: resources still to mirror, and findings of every class.
pub fn mirroring(instance_id: &str, kind: &str, to_mirror: u64, findings: u64) {
    let (id, kind) = (instance_id.to_string(), kind.to_string());
    metrics::histogram!("ResourcesToMirror", "InstanceId" => id.clone(), "Kind" => kind.clone())
        .record(to_mirror as f64);
    metrics::histogram!("Findings", "InstanceId" => id, "Kind" => kind).record(findings as f64);
}

/// Name conflicts blocking mirroring.
pub fn conflicts(instance_id: &str, n: u64) {
    metrics::histogram!("Conflicts", "InstanceId" => instance_id.to_string()).record(n as f64);
}

/// A call of `operation` that Connect throttled.
pub fn connect_throttle(operation: &str) {
    metrics::counter!("ConnectThrottles", "Operation" => operation.to_string()).increment(1);
}

/// An attempt of `operation` after the first (the SDK's retries).
pub fn connect_retry(operation: &str) {
    metrics::counter!("ConnectRetries", "Operation" => operation.to_string()).increment(1);
}

/// A run-table item this version could not read (skipped; see the log for its key).
pub fn unreadable_item() {
    metrics::counter!("UnreadableItems").increment(1);
}

/// Groups on record that Connect no longer has (deleted since they were recorded).
pub fn groups_missing(instance_id: &str, n: u64) {
    metrics::histogram!("GroupsMissing", "InstanceId" => instance_id.to_string()).record(n as f64);
}

/// A shift applied: how long it took, `reason` failover, failback or plan.
pub fn shift(instance_id: &str, reason: &str, seconds: f64) {
    metrics::histogram!(
        "ShiftSeconds",
        "InstanceId" => instance_id.to_string(),
        "Reason" => reason.to_string()
    )
    .record(seconds);
}

/// The distribution a group was moved to, per region.
pub fn distribution(instance_id: &str, group: &str, region: &str, telephony: u8, agents: u8) {
    let labels = [
        ("InstanceId", instance_id.to_string()),
        ("Group", group.to_string()),
        ("Region", region.to_string()),
    ];
    metrics::histogram!("TelephonyPercent", &labels).record(f64::from(telephony));
    metrics::histogram!("AgentsPercent", &labels).record(f64::from(agents));
}

/// Cross-region routing as a shift read it back in `region`: 1 isolated, 0 on.
pub fn routing(instance_id: &str, region: &str, isolated: bool) {
    metrics::gauge!(
        "RoutingIsolated",
        "InstanceId" => instance_id.to_string(),
        "Region" => region.to_string()
    )
    .set(if isolated { 1.0 } else { 0.0 });
}

/// Runs one invocation, then writes its metrics.
pub async fn flushed<F: std::future::Future>(
    collector: Option<&Collector>,
    invocation: F,
) -> F::Output {
    let out = invocation.await;
    flush(collector);
    out
}
