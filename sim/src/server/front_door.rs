//! The front door: the one middleware in front of every Connect operation. It reads the region
//! from the SigV4 credential scope, answers calls to a region in an outage, refuses unknown
//! operations, unsigned calls and calls over quota, injects faults, decodes the input, and logs
//! every call with its answer. The operation's handler sees only admitted calls.

use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::reset::Connection;
use super::MAX_BODY;
use crate::control::RegionOutage;
use crate::ops::{Call, Operation};
use crate::sim::{lock, Logged, Shared, Sim};
use crate::wire::{
    is_region, ApiError, ErrorCode, Input, ERROR_TYPE, ERROR_TYPE_SUFFIX, REQUEST_ID,
};

/// How long a call to a region in a `timeout` outage is held at most (wall clock).
const HOLD_LIMIT: Duration = Duration::from_secs(600);

/// The path as the client sent it, before the canonical rewrite that routing sees.
#[derive(Debug, Clone)]
pub struct SentPath(pub String);

/// Who signed a call, from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
/// Signatures are not checked.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub region: String,
    pub access_key_id: String,
}

impl Scope {
    pub fn of(headers: &HeaderMap) -> Option<Scope> {
        let auth = headers.get("authorization")?.to_str().ok()?;
        let cred = auth.split("Credential=").nth(1)?;
        let cred = cred.split([',', ' ']).next()?;
        let mut parts = cred.split('/');
        let access_key_id = parts.next()?.to_string();
        let _date = parts.next()?;
        let region = parts.next()?.to_string();
        (!access_key_id.is_empty() && is_region(&region)).then_some(Scope {
            region,
            access_key_id,
        })
    }
}

/// A call the front door let through, as the operation's handler receives it.
#[derive(Debug, Clone)]
pub struct AdmittedCall {
    pub operation: Operation,
    pub region: String,
    /// Simulated time of the call.
    pub now: f64,
    pub input: Input,
    pub labels: Vec<String>,
}

impl AdmittedCall {
    pub fn as_call(&self) -> Call<'_> {
        Call {
            operation: self.operation,
            region: &self.region,
            now: self.now,
            input: &self.input,
            labels: &self.labels,
        }
    }
}

/// The operation a request is, and its decoded path labels.
#[derive(Debug, Clone)]
struct Routed {
    operation: Operation,
    labels: Vec<String>,
}

/// The middleware. `route` is the route axum matched, if any; `labels` its decoded labels.
pub async fn front_door(
    State(sim): State<Shared>,
    route: Option<MatchedPath>,
    labels: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = lock(&sim).dice.uuid();
    let scope = Scope::of(request.headers());
    // Another method on a route's path (HEAD included), or labels that do not decode, is no
    // operation.
    let routed = route
        .and_then(|path| Operation::routed(request.method(), path.as_str()))
        .zip(labels.ok())
        .map(|(operation, labels)| Routed {
            operation,
            labels: labels.iter().map(|(_, v)| v.to_string()).collect(),
        });
    let connection = request
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|c| c.0.clone());
    let mut response = match refuse_for_outage(&sim, scope.as_ref(), routed.as_ref()).await {
        Some(Refused::Reset) => match connection {
            Some(connection) => {
                connection.reset();
                return ApiError::new(ErrorCode::ServiceUnavailable, "connection reset")
                    .into_response();
            }
            // Served without a connection to drop (not by `serve`): the nearest answer.
            None => {
                ApiError::new(ErrorCode::ServiceUnavailable, "connection reset").into_response()
            }
        },
        Some(Refused::Answer(refused)) => refused,
        None => serve(&sim, scope, routed, request, next).await,
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    let latency = {
        let mut s = lock(&sim);
        if s.world.settings.error_type_suffix {
            add_error_type_suffix(&mut response);
        }
        s.call_latency()
    };
    // The per-call latency model (`callLatencyMs`, `callLatencyJitterMs`): every answer waits.
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// How a region that answers nothing refuses a call.
enum Refused {
    /// A 503, at once or once a held call is let go.
    Answer(Response),
    /// No answer: the connection is dropped.
    Reset,
}

/// `x-amzn-ErrorType: Code` becomes `Code:http://internal.amazon.com/coral/...`, as real
/// responses carry it (the call log keeps the bare code).
fn add_error_type_suffix(response: &mut Response) {
    let Some(code) = response
        .headers()
        .get(ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|c| !c.contains(':'))
    else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{code}{ERROR_TYPE_SUFFIX}")) {
        response.headers_mut().insert(ERROR_TYPE, v);
    }
}

/// A call signed for a region that answers nothing: logged, then answered 503 at once
/// (`unavailable`), held until the outage ends and answered 503 then (`timeout`, logged with
/// status 0), or its connection dropped (`reset`, logged with status 0 and no error type).
/// `None` when the region is serving, if only in part. This comes before everything else, so
/// unknown paths and bad bodies get it too.
async fn refuse_for_outage(
    sim: &Shared,
    scope: Option<&Scope>,
    routed: Option<&Routed>,
) -> Option<Refused> {
    let scope = scope?;
    let (outage, mut changes) = {
        let mut s = lock(sim);
        let outage = s.outage(&scope.region)?.clone();
        if !outage.takes_region_down() {
            return None;
        }
        let now = s.catch_up();
        let unavailable = Some("ServiceUnavailableException".to_string());
        let (status, error_type) = match outage {
            RegionOutage::Unavailable => (503, unavailable),
            RegionOutage::Timeout => (0, unavailable),
            _ => (0, None),
        };
        s.record(Logged {
            sim_time: now,
            region: scope.region.clone(),
            operation: name(routed.map(|r| r.operation)),
            access_key_id: scope.access_key_id.clone(),
            status,
            error_type,
        });
        (outage, s.outage_changes())
    };
    if outage == RegionOutage::Reset {
        return Some(Refused::Reset);
    }
    if outage == RegionOutage::Timeout {
        let held = async {
            while changes.changed().await.is_ok() {
                if !lock(sim).holds(&scope.region) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(HOLD_LIMIT, held).await;
    }
    let e = ApiError::new(
        ErrorCode::ServiceUnavailable,
        format!("{} is unavailable: simulated regional outage", scope.region),
    );
    Some(Refused::Answer(e.into_response()))
}

/// A call to a serving region: the checks, then the operation; logged with its answer.
async fn serve(
    sim: &Shared,
    scope: Option<Scope>,
    routed: Option<Routed>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        let e = ApiError::invalid_request(format!("request body is larger than {MAX_BODY} bytes"));
        return e.into_response();
    };
    let operation = routed.as_ref().map(|r| r.operation);
    let (region, access_key_id) = scope
        .as_ref()
        .map(|s| (s.region.clone(), s.access_key_id.clone()))
        .unwrap_or_default();
    let (now, checked) = {
        let mut s = lock(sim);
        let now = s.catch_up();
        let labels = routed.as_ref().map_or(&[][..], |r| &r.labels[..]);
        let checked = match operation {
            None => Err(unknown(&parts)),
            Some(op) => {
                // Authorisation reads the resource from the labels and, for the operations
                // without one, from the input; bad input is answered later, after the checks.
                let rough = Input::decode(op.spec().invalid, parts.uri.query(), &bytes).ok();
                admit(&mut s, op, scope.as_ref(), labels, rough.as_ref())
                    .map(|()| (op, roll(&mut s, op, &region)))
            }
        };
        (now, checked)
    };
    let (response, latency) = match checked {
        Err(e) => (e.into_response(), Duration::ZERO),
        Ok((
            _,
            Rolled {
                latency,
                failure: Some(e),
            },
        )) => (e.into_response(), latency),
        Ok((operation, fault)) => {
            let invalid = operation.spec().invalid;
            let response = match Input::decode(invalid, parts.uri.query(), &bytes) {
                Err(e) => e.into_response(),
                Ok(input) => {
                    parts.extensions.insert(AdmittedCall {
                        operation,
                        region: region.clone(),
                        now,
                        input,
                        labels: routed.map(|r| r.labels).unwrap_or_default(),
                    });
                    next.run(Request::from_parts(parts, Body::empty())).await
                }
            };
            (response, fault.latency)
        }
    };
    lock(sim).record(Logged {
        sim_time: now,
        region,
        operation: name(operation),
        access_key_id,
        status: response.status().as_u16(),
        error_type: response
            .headers()
            .get(ERROR_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
    });
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// The checks after the operation is known, in the order the service makes them: a
/// signature, the caller's access policy, then the quota.
fn admit(
    s: &mut Sim,
    operation: Operation,
    scope: Option<&Scope>,
    labels: &[String],
    input: Option<&Input>,
) -> Result<(), ApiError> {
    let scope = scope.ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingAuthenticationToken,
            "requests must carry a SigV4 Authorization header naming the region in its credential scope",
        )
    })?;
    crate::access::check(
        &s.world,
        operation,
        &scope.region,
        &scope.access_key_id,
        labels,
        input,
    )?;
    if !s.throttle.admit(&scope.region, operation, Instant::now()) {
        return Err(ApiError::new(
            s.world.settings.throttling_answer.code(),
            "Rate exceeded",
        ));
    }
    Ok(())
}

/// What a region serving in part and the fault settings do to one call: the latency its
/// answer waits, and the error it fails with, if any.
struct Rolled {
    latency: Duration,
    failure: Option<ApiError>,
}

fn roll(s: &mut Sim, operation: Operation, region: &str) -> Rolled {
    let mut latency = Duration::ZERO;
    let mut failure = None;
    match s.outage(region).cloned() {
        Some(ref o @ (RegionOutage::Partial { code } | RegionOutage::Operations { code, .. }))
            if o.fails(operation) =>
        {
            failure = Some(ApiError::new(
                code.code(),
                format!(
                    "{region} cannot serve {} now: simulated {} outage",
                    operation.name(),
                    o.kind()
                ),
            ));
        }
        Some(RegionOutage::Degraded {
            latency_seconds,
            error_rate,
        }) => {
            latency += Duration::from_secs_f64(latency_seconds);
            if error_rate > 0.0 && s.dice.next_f64() < error_rate {
                failure = Some(ApiError::new(
                    ErrorCode::InternalService,
                    format!("{region} is degraded: simulated failure"),
                ));
            }
        }
        _ => {}
    }
    let fault = s.faults.for_operation(operation);
    latency += Duration::from_millis(fault.latency_ms);
    if failure.is_none() && fault.error_rate > 0.0 && s.dice.next_f64() < fault.error_rate {
        failure = Some(injected());
    }
    Rolled { latency, failure }
}

fn injected() -> ApiError {
    ApiError::new(ErrorCode::InternalService, "injected fault")
}

/// A method and path that is no operation, named as sent.
fn unknown(parts: &Parts) -> ApiError {
    let path = match parts.extensions.get::<SentPath>() {
        Some(SentPath(sent)) => sent.as_str(),
        None => parts.uri.path(),
    };
    ApiError::new(
        ErrorCode::UnknownOperation,
        format!("no operation at {} {path}", parts.method),
    )
}

/// The operation's name in the call log.
fn name(operation: Option<Operation>) -> &'static str {
    operation.map_or("Unknown", Operation::name)
}
