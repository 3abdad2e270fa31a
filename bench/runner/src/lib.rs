//! `make bench`: what the product costs, measured in one run on the local control plane
//! (connect-sim, Connect's quotas raised with our pacers by one factor where a section says so),
//! each figure next to what it is measured against: Connect's quota, the fewest calls that can do
//! the job, the runbook way (one AWS CLI process per call, a boto3 loop), a minimal Lambda.
//!
//! Sections, in the order they run:
//! - [`agents`]: one stack with the state machines on the scenario: the replication machine
//!   associates every agent (1), new hires are synced by the agent-sync machine (2), the runbook
//!   associates the same agents (3), failover and failback are timed (7);
//! - [`poll`]: a mirroring poll on replicated instances of several sizes (4);
//! - [`preflight`]: preflight at Connect's real quotas (5);
//! - [`packages`]: the deployable packages, and each function's init and memory against a minimal
//!   `lambda_runtime` function (6); full pass only, on what `make package` built.
//!
//! `bench/runner/src/main.rs` prints the table and writes `BENCHMARKS.md` ([`report`]);
//! `scripts/bench.sh` builds first. The reduced pass ([`Plan::reduced`]) runs every section but
//! the packages on small sizes, in `make test` (`bench/runner/tests/reduced.rs`).

mod agents;
mod calls;
mod failover;
mod packages;
mod poll;
mod preflight;
pub mod report;
mod runbook;
mod runtime_api;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use report::{Report, Row, Section};

/// Where `make package` and `scripts/bench.sh` put what section 6 measures.
#[derive(Debug, Clone, Default)]
pub struct Packages {
    /// `cargo lambda build --release --arm64 --output-format zip`: `<dir>/<function>/bootstrap.zip`.
    pub arm64: PathBuf,
    /// The same build before the workspace had a release profile (cargo-lambda's defaults), if
    /// measured.
    pub baseline: Option<PathBuf>,
    /// `cargo lambda build --release --x86-64`: `<dir>/<function>/bootstrap`, run on this machine.
    pub x86_64: PathBuf,
    /// Cold starts per function for the init time (the median is reported).
    pub cold_starts: usize,
}

/// What to measure, and how much of it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Small sizes (the reduced pass).
    pub reduced: bool,
    /// A scenario of `sim/scenarios/` for sections 1-3 and 7.
    pub scenario: String,
    /// Connect's quotas and our pacers, raised together (sections 1-4 and 7).
    pub quota_factor: f64,
    /// Simulated seconds per real second (replica creation, mirroring, group updates).
    pub time_scale: f64,
    pub new_hires: usize,
    /// Agents associated by one AWS CLI process each.
    pub cli_agents: usize,
    /// Agents associated by the boto3 loop (None: all of them).
    pub boto3_agents: Option<usize>,
    /// Users of the generated instances polled (large's shape, `users.count` changed).
    pub poll_users: Vec<usize>,
    /// The scenario of preflight at Connect's real quotas.
    pub preflight_scenario: String,
    /// Failover and failback executions, alternating.
    pub failovers: usize,
    /// AWS CLI update-traffic-distribution calls, alternating.
    pub cli_updates: usize,
    pub packages: Option<Packages>,
}

impl Plan {
    /// `make bench`: 10,000 agents at large's factor, polls at 50, 10,000 and 50,000 users,
    /// preflight on large at factor 1, 20 failovers, the packages.
    pub fn full(packages: Packages) -> Plan {
        Plan {
            reduced: false,
            scenario: "large".into(),
            quota_factor: 100.0,
            time_scale: 60.0,
            new_hires: 20,
            cli_agents: 200,
            boto3_agents: None,
            poll_users: vec![50, 10_000, 50_000],
            preflight_scenario: "large".into(),
            failovers: 20,
            cli_updates: 10,
            packages: Some(packages),
        }
    }

    /// `make bench BENCH=reduced` and `make test`: every section on small sizes, no packaging.
    pub fn reduced() -> Plan {
        Plan {
            reduced: true,
            scenario: "small".into(),
            quota_factor: 100.0,
            time_scale: 60.0,
            new_hires: 5,
            cli_agents: 10,
            boto3_agents: None,
            poll_users: vec![50],
            preflight_scenario: "small".into(),
            failovers: 3,
            cli_updates: 2,
            packages: None,
        }
    }

    pub fn is_reduced(&self) -> bool {
        self.scenario != "large"
    }
}

/// Runs every section of `plan`, in order; a section that fails is reported as failed and the
/// next one runs. `progress` gets a line as each section starts and ends.
pub async fn run(plan: &Plan, progress: &dyn Fn(&str)) -> Report {
    let mut report = Report::new(plan);
    let started = Instant::now();

    progress(&format!(
        "sections 1-3 and 7 on '{}' at quota factor {}",
        plan.scenario, plan.quota_factor
    ));
    let t = Instant::now();
    match agents::run(plan, progress).await {
        Ok(rows) => report.rows.extend(rows),
        Err(failed) => report.fail(failed.section, failed.error),
    }
    progress(&format!("  done in {}", secs(t.elapsed())));

    progress(&format!(
        "section 4: mirroring polls at {:?} users",
        plan.poll_users
    ));
    let t = Instant::now();
    match poll::run(plan, progress).await {
        Ok(rows) => report.rows.extend(rows),
        Err(e) => report.fail(Section::MirroringPoll, e),
    }
    progress(&format!("  done in {}", secs(t.elapsed())));

    progress(&format!(
        "section 5: preflight on '{}' at quota factor 1",
        plan.preflight_scenario
    ));
    let t = Instant::now();
    match preflight::run(plan).await {
        Ok(rows) => report.rows.extend(rows),
        Err(e) => report.fail(Section::Preflight, e),
    }
    progress(&format!("  done in {}", secs(t.elapsed())));

    match &plan.packages {
        Some(p) => {
            progress("section 6: packages, init and memory against a minimal function");
            let t = Instant::now();
            match packages::run(p, progress).await {
                Ok(rows) => report.rows.extend(rows),
                Err(e) => report.fail(Section::Packages, e),
            }
            progress(&format!("  done in {}", secs(t.elapsed())));
        }
        None => report.rows.push(Row::skipped(
            Section::Packages,
            "skipped in this pass (it needs the release builds of `make package`)",
        )),
    }
    report.took = started.elapsed();
    report
}

/// Section 6 alone (`make bench-packages`): the packages, init and memory, on what `make
/// package` built.
pub async fn run_packages(p: &Packages, progress: &dyn Fn(&str)) -> Report {
    let mut report = Report::new(&Plan::full(p.clone()));
    let started = Instant::now();
    progress("section 6: packages, init and memory against a minimal function");
    match packages::run(p, progress).await {
        Ok(rows) => report.rows.extend(rows),
        Err(e) => report.fail(Section::Packages, e),
    }
    report.took = started.elapsed();
    report
}

/// A section's failure, with the section it stopped in (sections 1-3 and 7 share a stack).
pub(crate) struct Failed {
    pub(crate) section: Section,
    pub(crate) error: anyhow::Error,
}

pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 600.0 {
        format!("{s:.1} s")
    } else if s < 2.0 * 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

pub(crate) fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The value at `p` (0..=1) of sorted samples, by nearest rank.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_durations_read_in_minutes_or_hours() {
        assert_eq!(secs(Duration::from_millis(57_740)), "57.7 s");
        assert_eq!(secs(Duration::from_secs(1500)), "25 min");
        assert_eq!(secs(Duration::from_secs(7994)), "2.2 h");
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let d: Vec<Duration> = (1..=20).map(Duration::from_secs).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_secs(10));
        assert_eq!(percentile(&d, 0.95), Duration::from_secs(19));
        let three: Vec<Duration> = (1..=3).map(Duration::from_secs).collect();
        assert_eq!(percentile(&three, 0.5), Duration::from_secs(2));
        assert_eq!(percentile(&three, 0.95), Duration::from_secs(3));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
