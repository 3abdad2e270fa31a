//! The HTTP front: SigV4 region, throttling, faults, the call log, and the `/_sim/` control API.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::faults::{Fault, Faults};
use crate::kinds::Kind;
use crate::model::{IdGen, World};
use crate::ops::{dispatch, invalid_code, route, Call, Route};
use crate::scenario::Scenario;
use crate::throttle::Throttle;
use crate::wire::{decode_component, parse_query, ApiError, Input};

/// Bodies larger than this are refused before parsing.
const MAX_BODY: usize = 1 << 20;

/// How long a call to a region in a `timeout` outage is held at most (wall clock).
const HOLD_LIMIT: Duration = Duration::from_secs(600);

/// A simulated regional outage, set through `PUT /_sim/regions/{region}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outage {
    /// Every call answers 503 `ServiceUnavailableException` at once.
    Unavailable,
    /// Every call is held without an answer until the outage is cleared (then 503).
    Timeout,
}

impl Outage {
    fn parse(body: &[u8]) -> Result<Option<Outage>, String> {
        let usage =
            "give {\"outage\": \"unavailable\"}, {\"outage\": \"timeout\"} or {\"outage\": null}";
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("{usage}: {e}"))?;
        let obj = v.as_object().ok_or_else(|| usage.to_string())?;
        if let Some(other) = obj.keys().find(|k| *k != "outage") {
            return Err(format!("{usage}: unknown member '{other}'"));
        }
        match obj.get("outage") {
            None => Err(format!("{usage}: 'outage' is missing")),
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s == "unavailable" => Ok(Some(Outage::Unavailable)),
            Some(Value::String(s)) if s == "timeout" => Ok(Some(Outage::Timeout)),
            Some(other) => Err(format!("{usage}: got {other}")),
        }
    }
}

/// How the control plane was started.
#[derive(Debug, Clone)]
pub struct Options {
    pub time_scale: f64,
    pub quota_factor: Option<f64>,
    pub seed: Option<u64>,
}

/// One API call as the control plane saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub seq: u64,
    /// Wall-clock epoch seconds.
    pub time: f64,
    pub sim_time: f64,
    pub region: String,
    pub operation: String,
    pub access_key_id: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
}

/// The control plane: the world and everything around it.
pub struct Sim {
    scenario: Scenario,
    options: Options,
    pub clock: Clock,
    pub world: World,
    throttle: Throttle,
    faults: Faults,
    dice: IdGen,
    calls: Vec<CallRecord>,
    /// Regions in an outage, with the simulated time it began.
    outages: BTreeMap<String, (Outage, f64)>,
    /// Bumped whenever an outage changes or the server stops: held calls look again.
    outage_changed: watch::Sender<u64>,
    stopping: bool,
}

impl Sim {
    pub fn new(scenario: Scenario, options: Options) -> Result<Sim, String> {
        let clock = Clock::new(options.time_scale);
        let seed = options.seed.or(scenario.seed).unwrap_or(1);
        let world = scenario.build(seed, clock.now())?;
        Faults::validate(&scenario.faults)?;
        let factor = options
            .quota_factor
            .or(scenario.quota_factor())
            .unwrap_or(1.0);
        if !(factor > 0.0 && factor.is_finite()) {
            return Err("the quota factor must be a positive number".into());
        }
        Ok(Sim {
            faults: Faults(scenario.faults.clone()),
            throttle: Throttle::new(factor),
            dice: IdGen::new(seed.wrapping_add(0xfa17)),
            calls: Vec::new(),
            outages: BTreeMap::new(),
            outage_changed: watch::channel(0).0,
            stopping: false,
            clock,
            world,
            scenario,
            options,
        })
    }

    fn reset(&mut self) -> Result<(), String> {
        let seed = self.options.seed.or(self.scenario.seed).unwrap_or(1);
        self.world = self.scenario.build(seed, self.clock.now())?;
        self.faults = Faults(self.scenario.faults.clone());
        self.throttle = Throttle::new(self.throttle.factor());
        self.dice = IdGen::new(seed.wrapping_add(0xfa17));
        self.calls.clear();
        self.outages.clear();
        self.outage_changed.send_modify(|g| *g += 1);
        Ok(())
    }

    /// The regions the control plane plays: those of the region pairs and of the instances.
    pub fn regions(&self) -> Vec<String> {
        let w = &self.world;
        let mut set: BTreeSet<&String> = BTreeSet::new();
        for (a, b) in &w.settings.region_pairs {
            set.insert(a);
            set.insert(b);
        }
        set.extend(w.instances.keys().map(|(r, _)| r));
        set.into_iter().cloned().collect()
    }

    fn region_json(&self, region: &str) -> Value {
        match self.outages.get(region) {
            Some((o, since)) => json!({"region": region, "outage": o, "since": since}),
            None => json!({"region": region, "outage": null}),
        }
    }

    /// Starts, changes or ends (`None`) an outage of `region`.
    fn set_outage(&mut self, region: &str, outage: Option<Outage>) {
        let now = self.clock.now();
        self.world.advance(now);
        match outage {
            Some(o) => {
                let since = self.outages.get(region).map_or(now, |(_, s)| *s);
                self.outages.insert(region.to_string(), (o, since));
                self.world.pause(region);
            }
            None => {
                self.outages.remove(region);
                self.world.resume(region, now);
            }
        }
        self.outage_changed.send_modify(|g| *g += 1);
    }

    /// Answers every held call (the server is stopping).
    pub fn release_held_calls(&mut self) {
        self.stopping = true;
        self.outage_changed.send_modify(|g| *g += 1);
    }

    fn held(&self, region: &str) -> bool {
        !self.stopping && matches!(self.outages.get(region), Some((Outage::Timeout, _)))
    }

    fn record(
        &mut self,
        sim_time: f64,
        region: String,
        operation: &str,
        access_key_id: String,
        status: u16,
        error_type: Option<String>,
    ) {
        let seq = self.calls.len() as u64 + 1;
        self.calls.push(CallRecord {
            seq,
            time: wall_now(),
            sim_time,
            region,
            operation: operation.to_string(),
            access_key_id,
            status,
            error_type,
        });
        tracing::debug!(operation, status, "call");
    }

    /// A summary of everything, for tests and people.
    pub fn state(&self) -> Value {
        let w = &self.world;
        let instances: Vec<Value> = w
            .instances
            .values()
            .map(|i| {
                let counts: Map<String, Value> = Kind::all()
                    .map(|k| {
                        let n = i.set(k).map_or(0, |s| s.len());
                        (serde_json::to_value(k).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(), n.into())
                    })
                    .collect();
                json!({
                    "region": i.region, "id": i.id, "alias": i.alias, "status": i.status,
                    "identityManagementType": i.identity, "replicaOf": i.replica_of, "counts": counts,
                })
            })
            .collect();
        let replications: Vec<Value> = w
            .replications
            .values()
            .map(|r| {
                let blocked: Vec<Value> = r
                    .blocked
                    .iter()
                    .map(|b| json!({"kind": b.kind, "name": b.name, "from": b.from, "to": b.to, "sourceId": b.source_id, "targetId": b.target_id}))
                    .collect();
                json!({
                    "instanceId": r.instance_id, "source": r.source, "replica": r.replica,
                    "requestedAt": r.requested_at, "replicaReadyAt": r.replica_ready_at,
                    "initialPending": r.initial_pending, "resyncPending": r.resync_pending, "blocked": blocked,
                })
            })
            .collect();
        let pairs = |d: &[(String, i64)]| -> Value {
            d.iter()
                .map(|(r, p)| (r.clone(), Value::from(*p)))
                .collect::<Map<_, _>>()
                .into()
        };
        let mut groups: Vec<&crate::model::Tdg> = w.tdgs.values().collect();
        groups.sort_by_key(|t| t.seq);
        let tdgs: Vec<Value> = groups
            .into_iter()
            .map(|t| {
                json!({
                    "id": t.id, "arn": w.tdg_arn(t), "name": t.name, "instanceId": t.instance_id,
                    "home": t.home, "other": t.other, "isDefault": t.is_default, "status": t.status,
                    "telephony": pairs(&t.current.telephony), "agents": pairs(&t.current.agents),
                    "signIn": t.current.sign_in.as_ref().map(|s| s.iter().map(|(r, e)| (r.clone(), Value::from(*e))).collect::<Map<_, _>>()),
                    "users": t.users,
                })
            })
            .collect();
        let numbers: Vec<Value> = w
            .numbers
            .values()
            .map(|n| json!({"id": n.id, "number": n.number, "region": n.region, "targetArn": n.target_arn}))
            .collect();
        json!({
            "now": self.clock.now(),
            "timeScale": self.clock.scale(),
            "quotaFactor": self.throttle.factor(),
            "instances": instances,
            "replications": replications,
            "trafficDistributionGroups": tdgs,
            "phoneNumbers": numbers,
            "pendingTasks": w.tasks.len(),
            "outages": self.outages.iter().map(|(r, (o, _))| (r.clone(), json!(o))).collect::<Map<_, _>>(),
        })
    }
}

pub type Shared = Arc<Mutex<Sim>>;

fn lock(sim: &Shared) -> MutexGuard<'_, Sim> {
    // A panic while holding the lock leaves consistent data behind: keep serving.
    sim.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn router(sim: Shared) -> Router {
    Router::new().fallback(handle).with_state(sim)
}

/// Region and access key from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
pub fn credential_scope(headers: &HeaderMap) -> Option<(String, String)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let akid = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    (!akid.is_empty() && crate::wire::is_region(&region)).then_some((region, akid))
}

fn respond(status: u16, code: Option<&str>, body: &Value, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(code) = code.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert("x-amzn-errortype", code);
    }
    resp
}

fn error_response(e: &ApiError, request_id: &str) -> Response {
    respond(e.status, Some(e.code), &e.body(), request_id)
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn handle(State(sim): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let request_id = lock(&sim).dice.uuid();
    if !parts.uri.path().starts_with("/_sim/") {
        if let Some(resp) = outage(
            &sim,
            &parts.method,
            parts.uri.path(),
            &parts.headers,
            &request_id,
        )
        .await
        {
            return resp;
        }
    }
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let e =
                ApiError::invalid_request(format!("request body is larger than {MAX_BODY} bytes"));
            return error_response(&e, &request_id);
        }
    };
    let path = parts.uri.path();
    if let Some(rest) = path.strip_prefix("/_sim/") {
        return control(&sim, &parts.method, rest, parts.uri.query(), &bytes);
    }
    let (response, latency) = api(
        &sim,
        &parts.method,
        path,
        parts.uri.query(),
        &parts.headers,
        &bytes,
        &request_id,
    );
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

fn route_of(method: &Method, path: &str) -> Option<Route> {
    let segs: Option<Vec<String>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_component)
        .collect();
    segs.as_deref().and_then(|s| route(method.as_str(), s))
}

/// A call signed for a region in an outage: answered 503 at once, or held until the outage
/// ends and answered 503 then. `None` when the region is serving.
async fn outage(
    sim: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    request_id: &str,
) -> Option<Response> {
    let (region, akid) = credential_scope(headers)?;
    let (kind, mut changed) = {
        let mut guard = lock(sim);
        let s = &mut *guard;
        let (kind, _) = *s.outages.get(&region)?;
        let now = s.clock.now();
        s.world.advance(now);
        let operation = route_of(method, path).map_or("Unknown", |r| r.operation);
        let status = match kind {
            Outage::Unavailable => 503,
            Outage::Timeout => 0,
        };
        s.record(
            now,
            region.clone(),
            operation,
            akid,
            status,
            Some("ServiceUnavailableException".into()),
        );
        (kind, s.outage_changed.subscribe())
    };
    if kind == Outage::Timeout {
        let wait = async {
            while changed.changed().await.is_ok() {
                if !lock(sim).held(&region) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(HOLD_LIMIT, wait).await;
    }
    let e = ApiError::new(
        "ServiceUnavailableException",
        format!("{region} is unavailable: simulated regional outage"),
    );
    Some(error_response(&e, request_id))
}

#[allow(clippy::too_many_arguments)]
fn api(
    sim: &Shared,
    method: &Method,
    path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    bytes: &Bytes,
    request_id: &str,
) -> (Response, Duration) {
    let scope = credential_scope(headers);
    let route = route_of(method, path);
    let mut sim = lock(sim);
    let sim = &mut *sim;
    let now = sim.clock.now();
    sim.world.advance(now);
    let operation = route.as_ref().map_or("Unknown", |r| r.operation);
    let (region, akid) = scope.clone().unwrap_or_default();
    let mut latency = Duration::ZERO;
    let result: Result<Value, ApiError> = (|| {
        let Some(route) = &route else {
            return Err(ApiError::new(
                "UnknownOperationException",
                format!("no operation at {method} {path}"),
            ));
        };
        if scope.is_none() {
            return Err(ApiError::new(
                "MissingAuthenticationTokenException",
                "requests must carry a SigV4 Authorization header naming the region in its credential scope",
            ));
        }
        if !sim.throttle.admit(&region, operation, Instant::now()) {
            return Err(ApiError::new("ThrottlingException", "Rate exceeded"));
        }
        let fault: Fault = sim.faults.for_operation(operation);
        latency = Duration::from_millis(fault.latency_ms);
        if fault.error_rate > 0.0 && sim.dice.next_f64() < fault.error_rate {
            return Err(ApiError::new("InternalServiceException", "injected fault"));
        }
        let invalid = invalid_code(operation);
        let query = parse_query(raw_query).map_err(|m| ApiError::new(invalid, m))?;
        let body = parse_body(bytes).map_err(|m| ApiError::new(invalid, m))?;
        let input = Input {
            query,
            body,
            invalid,
        };
        let call = Call {
            region: &region,
            now,
            input: &input,
            route,
        };
        dispatch(&mut sim.world, &call)
    })();
    sim.record(
        now,
        region,
        operation,
        akid,
        result.as_ref().map_or_else(|e| e.status, |_| 200),
        result.as_ref().err().map(|e| e.code.to_string()),
    );
    let response = match result {
        Ok(v) => respond(200, None, &v, request_id),
        Err(e) => error_response(&e, request_id),
    };
    (response, latency)
}

fn parse_body(bytes: &Bytes) -> Result<Map<String, Value>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the request body must be a JSON object".into()),
        Err(e) => Err(format!("the request body is not valid JSON: {e}")),
    }
}

fn control(
    sim: &Shared,
    method: &Method,
    rest: &str,
    raw_query: Option<&str>,
    bytes: &Bytes,
) -> Response {
    let ok = |v: Value| respond(200, None, &v, "control");
    let bad = |m: String| {
        respond(
            400,
            Some("InvalidRequestException"),
            &json!({"message": m}),
            "control",
        )
    };
    let mut sim = lock(sim);
    let now = sim.clock.now();
    sim.world.advance(now);
    let query: HashMap<String, String> = parse_query(raw_query)
        .unwrap_or_default()
        .into_iter()
        .collect();
    match (method.as_str(), rest) {
        ("GET", "health") => ok(json!({"ok": true})),
        ("GET", "state") => ok(sim.state()),
        ("GET", "calls") => {
            let since: u64 = query.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
            let calls: Vec<&CallRecord> = sim
                .calls
                .iter()
                .filter(|c| c.seq > since)
                .filter(|c| query.get("operation").is_none_or(|o| *o == c.operation))
                .filter(|c| query.get("region").is_none_or(|r| *r == c.region))
                .collect();
            ok(json!({"calls": calls}))
        }
        ("DELETE", "calls") => {
            sim.calls.clear();
            ok(json!({}))
        }
        ("GET", "faults") => ok(json!(sim.faults.0)),
        ("PUT", "faults") => match serde_json::from_slice::<HashMap<String, Fault>>(bytes) {
            Ok(map) => match Faults::validate(&map) {
                Ok(()) => {
                    sim.faults = Faults(map);
                    ok(json!(sim.faults.0))
                }
                Err(m) => bad(m),
            },
            Err(e) => bad(format!(
                "faults must map operation names to {{errorRate, latencyMs}}: {e}"
            )),
        },
        ("PUT", "quota") => match serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| v["factor"].as_f64())
        {
            Some(f) if f > 0.0 && f.is_finite() => {
                sim.throttle = Throttle::new(f);
                ok(json!({"quotaFactor": f}))
            }
            _ => bad("give {\"factor\": a positive number}".into()),
        },
        ("GET", "regions") => {
            let regions: Vec<Value> = sim.regions().iter().map(|r| sim.region_json(r)).collect();
            ok(json!({"regions": regions}))
        }
        ("PUT", r) if r.starts_with("regions/") => {
            let region = decode_component(&r["regions/".len()..]).unwrap_or_default();
            let known = sim.regions();
            if !known.contains(&region) {
                return bad(format!(
                    "unknown region '{region}'; this control plane plays {}",
                    known.join(", ")
                ));
            }
            match Outage::parse(bytes) {
                Ok(outage) => {
                    sim.set_outage(&region, outage);
                    ok(sim.region_json(&region))
                }
                Err(m) => bad(m),
            }
        }
        ("GET", "clock") => ok(json!({"now": now, "timeScale": sim.clock.scale()})),
        ("POST", "clock/advance") => match serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| v["seconds"].as_f64())
        {
            Some(s) if (0.0..=1e9).contains(&s) => {
                sim.clock.advance(s);
                let now = sim.clock.now();
                sim.world.advance(now);
                ok(json!({"now": now}))
            }
            _ => bad("give {\"seconds\": a number from 0 to 1e9}".into()),
        },
        ("POST", "reset") => match sim.reset() {
            Ok(()) => ok(json!({})),
            Err(m) => respond(
                500,
                Some("InternalServiceException"),
                &json!({"message": m}),
                "control",
            ),
        },
        _ => respond(
            404,
            Some("UnknownOperationException"),
            &json!({"message": format!("no control operation at {method} /_sim/{rest}")}),
            "control",
        ),
    }
}
