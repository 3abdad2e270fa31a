//! `make bench` (`scripts/bench.sh`, which builds first): runs every section of the benchmark
//! (`acgr_bench`) in one run on the local control plane, prints the table and writes it
//! with the date and the machine. `--reduced`: small sizes, no packaging, about two minutes.
//! Exits 1 if a section failed; every process it started is stopped on the way out.

use std::path::PathBuf;
use std::process::ExitCode;

use acgr_bench::report::Machine;
use acgr_bench::{self as bench, Packages, Plan};
use clap::Parser;
use local_stack::workspace;

#[derive(Parser)]
#[command(about = "Measure the product against Connect's quotas, the runbook and a minimal Lambda")]
struct Args {
    /// Small sizes and no packaging (what `make test` runs).
    #[arg(long)]
    reduced: bool,
    /// Where to write the report (default: BENCHMARKS.md, or target/bench/BENCHMARKS.reduced.md
    /// for the reduced pass).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The arm64 packages of `make package` (`<dir>/<function>/bootstrap.zip`).
    #[arg(long, default_value = "target/lambda")]
    packages: PathBuf,
    /// The same packages before the release profile, if built (`scripts/package.sh --baseline`).
    #[arg(long, default_value = "target/lambda-baseline")]
    baseline: PathBuf,
    /// The x86-64 release build run here (`<dir>/<function>/bootstrap`).
    #[arg(long, default_value = "target/lambda-x86_64")]
    x86_64: PathBuf,
    /// Full sizes without section 6 (no release builds needed).
    #[arg(long, conflicts_with = "reduced")]
    skip_packages: bool,
    /// Section 6 alone, its rows replaced in the existing report (`make bench-packages`).
    #[arg(long, conflicts_with_all = ["reduced", "skip_packages"])]
    only_packages: bool,
    /// Cold starts per function for the init time.
    #[arg(long, default_value_t = 5)]
    cold_starts: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let root = workspace();
    let plan = if args.reduced {
        Plan::reduced()
    } else if args.skip_packages {
        Plan {
            packages: None,
            ..Plan::full(Packages::default())
        }
    } else {
        let baseline = root.join(&args.baseline);
        Plan::full(Packages {
            arm64: root.join(&args.packages),
            baseline: baseline.exists().then_some(baseline),
            x86_64: root.join(&args.x86_64),
            cold_starts: args.cold_starts,
        })
    };
    let out = args.out.unwrap_or_else(|| {
        if args.reduced {
            root.join("target/bench/BENCHMARKS.reduced.md")
        } else {
            root.join("BENCHMARKS.md")
        }
    });
    let command = if args.reduced {
        "make bench BENCH=reduced"
    } else {
        "make bench"
    };

    // On Ctrl-C or SIGTERM the run is dropped, and with it every stack it started.
    let stop = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    let progress = |line: &str| eprintln!("bench: {line}");
    let run = async {
        match (&plan.packages, args.only_packages) {
            (Some(p), true) => bench::run_packages(p, &progress).await,
            _ => bench::run(&plan, &progress).await,
        }
    };
    let report = tokio::select! {
        r = run => r,
        _ = stop => {
            eprintln!("bench interrupted; local stacks stopped");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", report.table());
    let text = if args.only_packages {
        let existing = std::fs::read_to_string(&out).unwrap_or_default();
        match report.merged_into(
            &existing,
            bench::Section::Packages,
            &Machine::this(),
            "make bench-packages",
        ) {
            Some(text) => text,
            None => {
                eprintln!("bench: {} has no section 6 to replace", out.display());
                return ExitCode::FAILURE;
            }
        }
    } else {
        report.markdown(&Machine::this(), command)
    };
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&out, text) {
        Ok(()) => eprintln!(
            "bench: wrote {} ({:.0} s)",
            out.display(),
            report.took.as_secs_f64()
        ),
        Err(e) => {
            eprintln!("bench: cannot write {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
    }
    if report.failures.is_empty() && (args.only_packages || report.is_complete()) {
        ExitCode::SUCCESS
    } else {
        for (section, e) in &report.failures {
            eprintln!("bench: section {} failed: {e}", section.number());
        }
        ExitCode::FAILURE
    }
}
