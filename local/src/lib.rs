//! The local stack of the end-to-end tests and the rehearsal: connect-sim, and per region a
//! deployment of the orchestrator (moto, `cargo lambda watch`, the function processes, the
//! Lambda adapter), the run table replicated between the regions. See [`stack`] for the whole.
//!
//! Where things are:
//! - [`stack`]: the [`Stack`](stack::Stack) the tests drive, its [`Options`](stack::Options);
//! - [`deployment`]: one region's deployment: its processes, its executions;
//! - `process`, `build`: child processes and the binaries they run;
//! - `table`: the run table (DynamoDB); `invoke`: functions through the Lambda Invoke API;
//! - [`sfn`]: the state machines' definitions; `moto`: what moto needs before it runs them;
//! - [`sim_control`]: connect-sim's control API (`/_sim/*`);
//! - [`replication`]: the run table as a global table; [`drill`]: the region-outage drill;
//! - [`dynamodb_faults`]: DynamoDB errors injected between the functions and the table;
//! - [`adapter`]: the `lambda-adapter` between moto's Step Functions and the watch;
//! - [`browser`]: Debian's headless Chromium, for the tests that look at a page.
//!
//! `make bench` (the figures of `BENCHMARKS.md`) is the `acgr-bench` crate in `bench/runner/`,
//! which the end-to-end tests do not link.

use std::path::{Path, PathBuf};

pub mod adapter;
pub mod browser;
pub mod build;
pub mod config;
pub mod deployment;
pub mod drill;
pub mod dynamodb_faults;
mod http;
pub mod invoke;
mod moto;
mod options;
pub mod permissions;
pub mod process;
pub mod replication;
pub mod scenario;
pub mod sfn;
pub mod sim_control;
pub mod stack;
mod table;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
