//! The HTTP server: the control API under `/_sim/`, the Connect API everywhere else.

mod api;
mod front_door;
mod reset;

use std::sync::{Arc, Mutex};

use axum::Router;

use crate::control;
use crate::sim::{lock, Shared, Sim};

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY: usize = 1 << 20;

/// Every route of the control plane.
pub fn router(sim: Shared) -> Router {
    control::routes::routes(sim.clone()).fallback_service(api::routes(sim))
}

/// Serves the control plane on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sim: Sim,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Mutex::new(sim));
    let app = router(shared.clone());
    let shutdown = async move {
        shutdown.await;
        // Calls held by a `timeout` outage answer now, so that shutdown does not wait for them.
        lock(&shared).release_held_calls();
    };
    // Each request carries a handle on its connection, so that a `reset` outage can drop it.
    let app = app.into_make_service_with_connect_info::<reset::Connection>();
    axum::serve(reset::ResettableListener(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}
