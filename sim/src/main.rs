use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use connect_sim::error::SimError;
use connect_sim::{check_loopback, serve, Options, Scenario, Sim};

/// A local Amazon Connect control plane (two regions, Global Resiliency).
#[derive(Parser, Debug)]
#[command(name = "connect-sim", version)]
struct Args {
    /// Loopback address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Scenario file (see sim/README.md).
    #[arg(long)]
    scenario: PathBuf,
    /// Simulated time runs this many times faster than the wall clock.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Multiplies every API quota (default: the scenario's setting, else 1).
    #[arg(long)]
    quota_factor: Option<f64>,
    /// Seed for IDs and injected faults (default: the scenario's, else 1).
    #[arg(long)]
    seed: Option<u64>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("connect-sim: {e}");
        std::process::exit(2);
    }
}

async fn run(args: Args) -> Result<(), SimError> {
    check_loopback(&args.addr)?;
    if !(args.time_scale > 0.0 && args.time_scale.is_finite()) {
        return Err(SimError::BadRequest(
            "--time-scale must be a positive number".to_string(),
        ));
    }
    let text = std::fs::read_to_string(&args.scenario).map_err(|e| {
        SimError::BadRequest(format!("cannot read {}: {e}", args.scenario.display()))
    })?;
    let scenario = Scenario::parse(&text)?;
    let options = Options {
        time_scale: args.time_scale,
        quota_factor: args.quota_factor,
        seed: args.seed,
    };
    let sim = Sim::new(scenario, options)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| SimError::Internal(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| SimError::Internal(e.to_string()))?;
    println!("listening on http://{local}");
    let _ = std::io::stdout().flush();
    serve(listener, sim, shutdown_signal())
        .await
        .map_err(|e| SimError::Internal(e.to_string()))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
