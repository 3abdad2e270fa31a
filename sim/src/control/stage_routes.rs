//! The control API's handlers that stage failures and change settings at run time.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::put;
use axum::Router;

use super::paths::*;
use super::routes::{Answer, Body, Reply, SimError, Usage};
use super::{ReplicaFailure, ReplicaStaged};
use crate::sim::{lock, Shared};

/// The staging routes, merged into the control API's router.
pub fn routes() -> Router<Shared> {
    Router::new().route(REPLICA, put(stage_replica))
}

fn label(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(p)| p).unwrap_or_default()
}

impl Usage for ReplicaFailure {
    const USAGE: &'static str =
        "give {\"failure\": \"creationFailed\" | \"replicationFailed\" | \"deletion\", ...}";
}

async fn stage_replica(
    State(sim): State<Shared>,
    instance: Result<Path<String>, PathRejection>,
    body: Result<Body<ReplicaFailure>, SimError>,
) -> Answer<ReplicaStaged> {
    let instance = label(instance);
    let Body(failure) = body?;
    let mut sim = lock(&sim);
    let now = sim.catch_up();
    let staged = sim
        .world
        .stage_replica_failure(&instance, failure, now)
        .map_err(SimError::BadRequest)?;
    Ok(Reply(staged))
}
