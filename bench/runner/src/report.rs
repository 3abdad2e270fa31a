//! The benchmark's figures: one row per figure, each with what it is measured against and its
//! goal, printed as a Markdown table and written as `BENCHMARKS.md` with the date and the
//! machine.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Plan;

/// The sections of the benchmark, numbered as in `BENCHMARKS.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Association,
    IncrementalSync,
    Runbook,
    MirroringPoll,
    Preflight,
    Packages,
    Failover,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Association,
        Section::IncrementalSync,
        Section::Runbook,
        Section::MirroringPoll,
        Section::Preflight,
        Section::Packages,
        Section::Failover,
    ];

    pub fn number(self) -> usize {
        self as usize + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Association => "Agent association",
            Section::IncrementalSync => "Incremental agent sync",
            Section::Runbook => "The runbook way",
            Section::MirroringPoll => "Mirroring poll",
            Section::Preflight => "Preflight at real quotas",
            Section::Packages => "Packages",
            Section::Failover => "Failover",
        }
    }
}

/// A goal and whether the figure meets it.
#[derive(Debug, Clone)]
pub struct Goal {
    pub text: String,
    pub met: bool,
}

/// One figure.
#[derive(Debug, Clone)]
pub struct Row {
    pub section: Section,
    pub what: String,
    pub figure: String,
    pub against: String,
    pub goal: Option<Goal>,
}

impl Row {
    pub fn new(section: Section, what: impl Into<String>, figure: impl Into<String>) -> Row {
        Row {
            section,
            what: what.into(),
            figure: figure.into(),
            against: String::new(),
            goal: None,
        }
    }

    pub fn against(mut self, against: impl Into<String>) -> Row {
        self.against = against.into();
        self
    }

    pub fn goal(mut self, text: impl Into<String>, met: bool) -> Row {
        self.goal = Some(Goal {
            text: text.into(),
            met,
        });
        self
    }

    /// A section not measured in this pass, and why.
    pub fn skipped(section: Section, why: &str) -> Row {
        Row::new(section, "not measured", why)
    }
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Sections that stopped on an error.
    pub failures: Vec<(Section, String)>,
    pub reduced: bool,
    pub scenario: String,
    pub quota_factor: f64,
    pub time_scale: f64,
    pub started: SystemTime,
    /// `/proc/loadavg`'s 1-minute load when the run started.
    pub load_at_start: String,
    pub took: Duration,
}

impl Report {
    pub fn new(plan: &Plan) -> Report {
        Report {
            rows: Vec::new(),
            failures: Vec::new(),
            reduced: plan.reduced,
            scenario: plan.scenario.clone(),
            quota_factor: plan.quota_factor,
            time_scale: plan.time_scale,
            started: SystemTime::now(),
            load_at_start: load(),
            took: Duration::ZERO,
        }
    }

    pub fn fail(&mut self, section: Section, error: anyhow::Error) {
        self.failures.push((section, format!("{error:#}")));
    }

    /// The rows of a section.
    pub fn section(&self, section: Section) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.section == section).collect()
    }

    /// Every section has a row, and none failed.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty() && Section::ALL.iter().all(|s| !self.section(*s).is_empty())
    }

    /// The figures as a Markdown table, sections in order.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| # | what | measured | against | goal |\n|---|---|---|---|---|\n");
        for s in Section::ALL {
            for r in self.section(s) {
                let goal = match &r.goal {
                    Some(g) => {
                        format!("{} {}", if g.met { "met:" } else { "**not met**:" }, g.text)
                    }
                    None => String::new(),
                };
                out.push_str(&format!(
                    "| {} {} | {} | {} | {} | {} |\n",
                    s.number(),
                    s.title(),
                    cell(&r.what),
                    cell(&r.figure),
                    cell(&r.against),
                    cell(&goal)
                ));
            }
            for (_, e) in self.failures.iter().filter(|(f, _)| *f == s) {
                out.push_str(&format!(
                    "| {} {} | **failed** | {} | | |\n",
                    s.number(),
                    s.title(),
                    cell(e)
                ));
            }
        }
        out
    }

    /// `existing` (a `BENCHMARKS.md`) with the rows of `section` replaced by this report's, and a
    /// line after the first one that says when and on which commit they were measured again.
    /// `None` when `existing` has no row of the section to replace.
    pub fn merged_into(
        &self,
        existing: &str,
        section: Section,
        machine: &Machine,
        command: &str,
    ) -> Option<String> {
        let prefix = format!("| {} {} |", section.number(), section.title());
        let note = format!("Section {} measured again", section.number());
        let table = self.table();
        let ours: Vec<&str> = table.lines().filter(|l| l.starts_with(&prefix)).collect();
        let first = existing.lines().position(|l| l.starts_with(&prefix))?;
        let mut out: Vec<String> = Vec::new();
        let mut lines = existing.lines().enumerate().peekable();
        while let Some((i, line)) = lines.next() {
            if i == first {
                out.extend(ours.iter().map(|l| l.to_string()));
            }
            if line.starts_with(&note) {
                // an earlier note, and the blank line after it
                lines.next_if(|(_, l)| l.is_empty());
                continue;
            }
            if line.starts_with(&prefix) {
                continue;
            }
            out.push(line.to_string());
            if line.starts_with("Measured by") {
                out.push(String::new());
                out.push(format!(
                    "{note} by `{command}` on {} (UTC), commit {}.",
                    date(self.started),
                    machine.commit
                ));
            }
        }
        Some(out.join("\n") + "\n")
    }

    /// `BENCHMARKS.md`: the date, the machine, the table, and how each figure is measured.
    pub fn markdown(&self, machine: &Machine, command: &str) -> String {
        let mut out = String::from("# Benchmarks\n\n");
        out.push_str(&format!(
            "Measured by `{command}` on {} (UTC), in one run of {:.0} s{}.\n\n",
            date(self.started),
            self.took.as_secs_f64(),
            if self.reduced {
                ", the reduced pass (small sizes, no packaging)"
            } else {
                ""
            }
        ));
        out.push_str(&format!(
            "Machine: {} cores (`nproc`), {}, {:.0} GiB of memory; commit {}.\n\n",
            machine.cores, machine.cpu, machine.memory_gib, machine.commit
        ));
        out.push_str(&format!(
            "Control plane: connect-sim on loopback, scenario `{}` for sections 1-3 and 7, with \
             Connect's quotas and our pacers raised together by F = {} (the scenario's setting) \
             and its clock at x{} (replica creation, mirroring and group updates take 1/{} of \
             their simulated time); the functions are this workspace's debug builds under `cargo \
             lambda watch`, the state machines run in moto. Section 5 runs at Connect's real \
             quotas (F = 1).\n\n",
            self.scenario, self.quota_factor, self.time_scale, self.time_scale
        ));
        out.push_str(&self.table());
        out.push_str(NOTES);
        out
    }
}

/// How each figure is measured, below the table.
const NOTES: &str = "
## How each figure is measured

1. **Agent association**: the `replication` machine runs to the end on the scenario. The
   association phase runs from the machine entering `AssociateAgents` (execution history) to its
   end; its calls are connect-sim's call log over that window. The rate is accepted
   AssociateTrafficDistributionGroupUser calls per second between the first and the last, against
   Connect's quota for the operation (2/s) times F. The fewest calls that can do the job: one
   association per agent and one ListUsers listing of each region in pages of 1000. Throttles
   are the calls connect-sim answered 429. Invocations: the Lambda tasks the machine scheduled.
2. **Incremental sync**: new users are created with CreateUser in the source region
   (connect-sim mirrors them to the replica after its sync delay, as Connect does), then the
   `agent-sync` machine runs; its calls are split at the machine entering `AssociateAgents`.
3. **The runbook way**: the same agents associated again with the same control plane and quotas
   (associating an associated user succeeds and costs one call, as in Connect): one
   `aws connect associate-traffic-distribution-group-user` process per agent (the pinned AWS
   CLI, its default retries), and one boto3 loop in one Python process (boto3's default client
   and retries; the loop's own time, after the import). The ratio compares time per agent with
   ours (the association phase of section 1 divided by its agents).
4. **Mirroring poll**: a generated instance of `large`'s shape (300 flows, 501 queues) with the
   number of users changed, replicated with ReplicateInstance and mirrored to the end (the sim's
   clock advanced), then poll-mirroring invoked twice on a new run: the first poll confirms
   completion with one listing diff of both regions, the next one reads the signals only.
5. **Preflight**: invoked until its flow scan is done, at Connect's real quotas. The floor: every
   flow and every module read once with DescribeContactFlow and DescribeContactFlowModule, which
   have separate 2/s quotas (the larger count ÷ 2 s), plus the flow and module listings at 2/s.
6. **Packages**: `make package` (`cargo lambda build --release --arm64 --output-format zip`, what
   `sam build` runs for each function, all in one invocation): the zip of each bootstrap, with
   the build before the workspace had a release profile (cargo-lambda's defaults). Init is the
   time from process start to the first request to the runtime API (a fake runtime API on
   127.0.0.1), median of cold starts of the x86-64 release build on this machine; peak RSS is
   VmHWM after one invocation with the function's example event (`tests/events/`) against a
   local stack on `small` replicated by the functions themselves. The floor is `bench/hello`, a
   `lambda_runtime` function that returns its input, built the same way.
7. **Failover**: from StartExecution of the `failover` machine to the execution ending with every
   group's new split read back (the execution's own last step), polled every 20 ms; failover
   and failback alternate. shift-traffic reads the split back every second (`SHIFT_POLL_MS`,
   1000 by default) until the group is ACTIVE with it, and connect-sim applies an update in 3
   simulated seconds (a twentieth of a second at x60): most of the figure is that interval and
   the Step Functions and Lambda hops through moto and `cargo lambda watch`. Against: one
   `aws connect update-traffic-distribution` process on the same control plane (process start to
   exit; it returns before the group is ACTIVE again and reads nothing back).
";

/// The 1-minute load average (`/proc/loadavg`).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// A Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The machine the figures were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    pub commit: String,
}

impl Machine {
    /// `nproc`, the CPU model of `/proc/cpuinfo`, `MemTotal` of `/proc/meminfo`, and the commit
    /// measured (with `+` when the tree has changes).
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(local_stack::workspace())
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        };
        let mut commit = git(&["rev-parse", "--short", "HEAD"]);
        if !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
            commit.push('+');
        }
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            memory_gib: memory_kib / 1024.0 / 1024.0,
            commit,
        }
    }
}

/// `YYYY-MM-DD HH:MM` of a time, in UTC.
pub fn date(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`
    let full = acgr::run::request::rfc3339(i64::try_from(ms).unwrap_or(i64::MAX));
    format!("{} {}", &full[..10], &full[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(UNIX_EPOCH), "1970-01-01 00:00");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29 12:34:56
        assert_eq!(date(t), "2024-02-29 12:34");
    }

    #[test]
    fn a_section_measured_again_replaces_its_rows_only() {
        let existing = "# Benchmarks\n\nMeasured by `make bench` on then.\n\nMachine: m.\n\n\
            | # | what | measured | against | goal |\n|---|---|---|---|---|\n\
            | 5 Preflight at real quotas | p | 1 s | | |\n\
            | 6 Packages | old a | 1 | | |\n| 6 Packages | old b | 2 | | |\n\
            | 7 Failover | f | 3 s | | |\n\nHow.\n";
        let mut report = Report::new(&Plan::reduced());
        report.rows.push(Row::new(Section::Packages, "new", "9"));
        let machine = Machine {
            cores: 2,
            cpu: "cpu".into(),
            memory_gib: 1.0,
            commit: "abc".into(),
        };
        let once = report
            .merged_into(existing, Section::Packages, &machine, "make bench-packages")
            .unwrap();
        assert!(once.contains("| 6 Packages | new | 9 |"), "{once}");
        assert!(!once.contains("old a") && !once.contains("old b"), "{once}");
        assert!(once.contains("| 5 Preflight at real quotas | p | 1 s |"));
        assert!(once.contains("| 7 Failover | f | 3 s |"));
        assert!(once.contains("Section 6 measured again by `make bench-packages`"));
        assert!(once.contains("commit abc."));
        // again: one note, and the rest as it was
        let twice = report
            .merged_into(&once, Section::Packages, &machine, "make bench-packages")
            .unwrap();
        assert_eq!(twice, once);
        assert_eq!(
            report.merged_into("no table", Section::Packages, &machine, "x"),
            None
        );
    }

    #[test]
    fn a_report_is_complete_with_a_row_per_section_and_no_failure() {
        let mut r = Report::new(&Plan::reduced());
        for s in Section::ALL {
            r.rows
                .push(Row::new(s, "x", "1").against("y").goal("z", true));
        }
        assert!(r.is_complete());
        assert!(r.table().contains("| 7 Failover | x | 1 | y | met: z |"));
        r.fail(Section::Preflight, anyhow::anyhow!("boom | bang"));
        assert!(!r.is_complete());
        assert!(r.table().contains("boom \\| bang"));
    }
}
