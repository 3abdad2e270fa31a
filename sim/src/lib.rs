//! A local Amazon Connect control plane for two regions, with the Global Resiliency behaviour
//! (replication, mirroring, traffic distribution groups) that no public emulator covers.
//!
//! It speaks restJson1 on loopback so that the unmodified `aws-sdk-connect` client and the AWS
//! CLI work against it. See `sim/README.md` for the scenario format and the choices it makes
//! where the service's behaviour is not documented.

pub mod clock;
pub mod faults;
pub mod kinds;
pub mod model;
pub mod ops;
pub mod scenario;
pub mod server;
pub mod throttle;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use scenario::Scenario;
pub use server::{Options, Sim};

/// Refuses any address that is not on the loopback interface.
pub fn check_loopback(addr: &SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "{addr} is not a loopback address; connect-sim listens on loopback only"
        ))
    }
}

/// Serves the control plane on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sim: Sim,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Mutex::new(sim));
    let app = server::router(shared.clone());
    let shutdown = async move {
        shutdown.await;
        // Calls held by a `timeout` outage answer now, so that shutdown does not wait for them.
        shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .release_held_calls();
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
