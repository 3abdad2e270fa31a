//! The control API's handlers. No credentials, no throttling, no call log, never in an outage.

use axum::body::to_bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, Uri};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::paths::*;
use super::{
    Advance, Advanced, CallFilter, CallLog, ClockReading, Done, Faults, Health, QuotaFactor,
    RegionStatus, Regions, SetOutage, SetQuota, SimState,
};
use crate::error::SimError;
use crate::server::MAX_BODY;
use crate::sim::{lock, Shared};
use crate::throttle::Throttle;
use crate::wire::{json_response, ApiError, ErrorCode, REQUEST_ID};

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let code = match &self {
            SimError::BadRequest(_) => ErrorCode::InvalidRequest,
            SimError::UnknownCall { .. } => ErrorCode::UnknownOperation,
            SimError::Internal(_) => ErrorCode::InternalService,
        };
        ApiError::new(code, self.to_string()).into_response()
    }
}

/// A control answer: JSON, 200.
pub(super) struct Reply<T>(pub T);

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        json_response(200, &self.0)
    }
}

pub(super) type Answer<T> = Result<Reply<T>, SimError>;

/// The routes under `/_sim/`, every other path there included (it is an unknown call).
pub fn routes(sim: Shared) -> Router {
    Router::new()
        .route(HEALTH, get(health))
        .route(STATE, get(state))
        .route(CALLS, get(calls).delete(clear_calls))
        .route(FAULTS, get(faults).put(set_faults))
        .route(REGIONS, get(regions))
        .route(REGION, put(set_outage))
        .route(QUOTA, put(set_quota))
        .route(CLOCK, get(clock))
        .route(CLOCK_ADVANCE, post(advance))
        .route(RESET, post(reset))
        .merge(super::stage_routes::routes())
        .route("/_sim/", any(unknown_call))
        .route("/_sim/{*rest}", any(unknown_call))
        .method_not_allowed_fallback(unknown_call)
        .layer(map_response(|mut response: Response| async {
            response
                .headers_mut()
                .insert(REQUEST_ID, HeaderValue::from_static("control"));
            response
        }))
        .with_state(sim)
}

async fn unknown_call(method: Method, uri: Uri) -> SimError {
    SimError::UnknownCall {
        method,
        path: uri.path().to_string(),
    }
}

async fn health() -> Reply<Health> {
    Reply(Health { ok: true })
}

async fn state(State(sim): State<Shared>) -> Reply<SimState> {
    let mut sim = lock(&sim);
    sim.catch_up();
    Reply(sim.state())
}

async fn calls(
    State(sim): State<Shared>,
    filter: Result<Query<CallFilter>, QueryRejection>,
) -> Answer<CallLog> {
    let Query(filter) = filter.map_err(|e| SimError::BadRequest(e.body_text()))?;
    let sim = lock(&sim);
    let calls = sim
        .calls()
        .iter()
        .filter(|c| filter.matches(c))
        .cloned()
        .collect();
    Ok(Reply(CallLog { calls }))
}

async fn clear_calls(State(sim): State<Shared>) -> Reply<Done> {
    lock(&sim).clear_calls();
    Reply(Done {})
}

async fn faults(State(sim): State<Shared>) -> Reply<Faults> {
    Reply(lock(&sim).faults.clone())
}

async fn set_faults(State(sim): State<Shared>, Body(faults): Body<Faults>) -> Answer<Faults> {
    faults.validate()?;
    lock(&sim).faults = faults.clone();
    Ok(Reply(faults))
}

async fn set_quota(State(sim): State<Shared>, Body(quota): Body<SetQuota>) -> Answer<QuotaFactor> {
    let factor = quota.factor;
    if !(factor > 0.0 && factor.is_finite()) {
        return Err(SimError::BadRequest(SetQuota::USAGE.into()));
    }
    lock(&sim).throttle = Throttle::new(factor);
    Ok(Reply(QuotaFactor {
        quota_factor: factor,
    }))
}

async fn regions(State(sim): State<Shared>) -> Reply<Regions> {
    let mut sim = lock(&sim);
    sim.catch_up();
    let regions = sim.regions().iter().map(|r| sim.region_status(r)).collect();
    Reply(Regions { regions })
}

async fn set_outage(
    State(sim): State<Shared>,
    region: Result<Path<String>, PathRejection>,
    body: Result<Body<SetOutage>, SimError>,
) -> Answer<RegionStatus> {
    let region = region.map(|Path(r)| r).unwrap_or_default();
    let mut sim = lock(&sim);
    let known = sim.regions();
    if !known.contains(&region) {
        return Err(SimError::BadRequest(format!(
            "unknown region '{region}'; this control plane plays {}",
            known.join(", ")
        )));
    }
    let Body(change) = body?;
    sim.set_outage(&region, change.outage);
    Ok(Reply(sim.region_status(&region)))
}

async fn clock(State(sim): State<Shared>) -> Reply<ClockReading> {
    let mut sim = lock(&sim);
    Reply(ClockReading {
        now: sim.catch_up(),
        time_scale: sim.clock.scale(),
    })
}

async fn advance(State(sim): State<Shared>, Body(advance): Body<Advance>) -> Answer<Advanced> {
    if !(0.0..=1e9).contains(&advance.seconds) {
        return Err(SimError::BadRequest(Advance::USAGE.into()));
    }
    let mut sim = lock(&sim);
    sim.clock.advance(advance.seconds);
    Ok(Reply(Advanced {
        now: sim.catch_up(),
    }))
}

async fn reset(State(sim): State<Shared>) -> Answer<Done> {
    lock(&sim)
        .reset()
        .map_err(|e| SimError::Internal(e.to_string()))?;
    Ok(Reply(Done {}))
}

/// A control call's JSON body, read as the API reads bodies (at most [`MAX_BODY`] bytes); when
/// it does not parse, a 400 that says what the call takes.
pub(super) struct Body<T>(pub T);

/// What a control call takes, said when its body does not parse.
pub(super) trait Usage {
    const USAGE: &'static str;
}

impl Usage for Faults {
    const USAGE: &'static str = "faults must map operation names to {errorRate, latencyMs}";
}

impl Usage for SetQuota {
    const USAGE: &'static str = "give {\"factor\": a positive number}";
}

impl Usage for SetOutage {
    const USAGE: &'static str = "give {\"outage\": \"unavailable\" | \"timeout\" | \"reset\"}, {\"outage\": \"partial\", \"code\"?}, {\"outage\": \"operations\", \"operations\": [names or families], \"code\"?}, {\"outage\": \"degraded\", \"latencySeconds\", \"errorRate\"} or {\"outage\": null}";
}

impl Usage for Advance {
    const USAGE: &'static str = "give {\"seconds\": a number from 0 to 1e9}";
}

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Usage,
{
    type Rejection = SimError;

    async fn from_request(request: Request, _: &S) -> Result<Self, SimError> {
        let bytes = to_bytes(request.into_body(), MAX_BODY).await.map_err(|_| {
            SimError::BadRequest(format!("request body is larger than {MAX_BODY} bytes"))
        })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| SimError::BadRequest(format!("{}: {e}", T::USAGE)))
    }
}
