//! **incident-intake**: the target of the incident event bus's rule. An EventBridge rule cannot
//! name the execution it starts, so every redelivery of an event would be a new failover run;
//! this step checks the request and starts the failover machine with the request's
//! `detail.requestId` as the execution name, so one request runs once. The event's `time` is the
//! request's `requestedAt`: an event delivered late (EventBridge retries for an hour) is refused
//! by shift-traffic as stale if a shift completed since. The same request ID with another request
//! (a corrected re-send: `force`, `breakLock`) is another attempt, named from the request
//! ([`FailoverRequest::attempt_name`]); never a silent duplicate. Nothing is started for an
//! invalid request.

use std::future::Future;

use acgr::domain::{Region, RegionPair};
use acgr::error::StepError;
use acgr::run::request::{parse_rfc3339, FailoverRequest};
use acgr::run::{parse_input, parse_member};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

/// The event as EventBridge delivers it: `detail`, and `time` (when the event was put).
#[derive(Debug, Deserialize)]
pub struct Event {
    pub detail: Value,
    #[serde(default)]
    pub time: Option<Value>,
}

/// What incident tooling puts in `detail`: a failover request (the failover machine's own
/// type), named by `requestId`, which becomes its run ID. `runId` and `requestedAt` are the
/// intake's to set (the request ID, and the event's time).
#[derive(Debug, Clone)]
pub struct Detail {
    /// Names the execution: any valid execution name (the run ID's rule).
    pub request_id: String,
    pub request: FailoverRequest,
}

impl Detail {
    /// Reads `detail`; a member refused is named by its path (`detail.force`).
    pub fn parse(detail: Value) -> Result<Detail, StepError> {
        let bad = |m: String| StepError::InvalidInput(format!("invalid input: {m}"));
        let Value::Object(mut members) = detail else {
            return Err(bad("detail: expected a JSON object".into()));
        };
        for intakes in ["runId", "requestedAt"] {
            if members.contains_key(intakes) {
                return Err(bad(format!(
                    "detail.{intakes}: not a member of an incident request (requestId names the \
                     run; the event's time is when it was requested)"
                )));
            }
        }
        let request_id = match members.remove("requestId") {
            Some(Value::String(id)) => id,
            Some(other) => {
                return Err(bad(format!(
                    "detail.requestId: expected a string, not {}",
                    acgr::error::shown(&other.to_string())
                )))
            }
            None => return Err(bad("detail: missing field `requestId`".into())),
        };
        let request = parse_member(Value::Object(members), "detail")?;
        Ok(Detail {
            request_id,
            request,
        })
    }

    /// The failover machine's request: run ID = request ID, requested at the event's time.
    pub fn request(&self, requested_at: Option<String>) -> FailoverRequest {
        FailoverRequest {
            run_id: Some(self.request_id.clone()),
            requested_at,
            ..self.request.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub execution_arn: String,
    pub execution_name: String,
    /// The request had already started this execution (a redelivery or a re-fire).
    pub duplicate: bool,
    /// The request ID had run another request: this execution is the corrected request's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_of: Option<String>,
}

/// The outcome of StartExecution.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    New(String),
    /// An execution of that name exists already.
    AlreadyExists,
}

/// An execution that exists: its ARN, status and input.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub arn: String,
    pub status: String,
    pub input: String,
}

/// Starts executions of the failover machine.
pub trait Starter: Send + Sync {
    /// The failover machine's ARN.
    fn machine(&self) -> &str;
    /// The region pair the deployment serves: a request naming another region is refused.
    fn pair(&self) -> &RegionPair;
    fn start(
        &self,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<Started, StepError>> + Send;
    /// The execution of that name, if it exists.
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Existing>, StepError>> + Send;
}

/// The request's time: the event's, when it is an RFC 3339 date and time.
fn requested_at(time: Option<&Value>) -> Option<String> {
    let t = time?.as_str()?;
    if parse_rfc3339(t).is_some() {
        Some(t.to_string())
    } else {
        warn!(time = %acgr::error::shown(t), "the event's time is not an RFC 3339 date and time: the execution's start stands for it");
        None
    }
}

/// Checks a request and turns it into the failover machine's input (runId = requestId).
pub fn execution_input(request: &FailoverRequest, pair: &RegionPair) -> Result<String, StepError> {
    request.check(pair, "detail.")?;
    Ok(request.to_input().to_string())
}

pub async fn intake<S: Starter>(
    starter: &S,
    detail: Detail,
    time: Option<&Value>,
) -> Result<Output, StepError> {
    let name = detail.request_id.clone();
    // it names the execution and the run: the run ID's rule (any valid execution name)
    acgr::run::ids::check_run_id(&name)
        .map_err(|e| StepError::InvalidInput(format!("detail.requestId: {e}")))?;
    let request = detail.request(requested_at(time));
    let input = execution_input(&request, starter.pair())?;
    let out = match starter.start(&name, &input).await? {
        Started::New(arn) => Output {
            execution_arn: arn,
            execution_name: name,
            duplicate: false,
            attempt_of: None,
        },
        Started::AlreadyExists => again(starter, &name, request).await?,
    };
    info!(execution = %out.execution_arn, duplicate = out.duplicate, attempt_of = ?out.attempt_of, "incident request taken");
    Ok(out)
}

/// The request ID ran before: the same request is a duplicate; another one runs as its own
/// attempt (found again, as a duplicate, when that request is sent again).
async fn again<S: Starter>(
    starter: &S,
    name: &str,
    mut request: FailoverRequest,
) -> Result<Output, StepError> {
    let existing = find(starter, name).await?;
    if same(&existing, &request) {
        return Ok(Output {
            execution_arn: existing.arn,
            execution_name: name.to_string(),
            duplicate: true,
            attempt_of: None,
        });
    }
    let Some(attempt) = request.attempt_name(name) else {
        return Err(StepError::InvalidInput(format!(
            "detail.requestId {name} already ran another request (execution {}, {}); a corrected \
             request needs a request ID of at most 71 characters, or a new request ID",
            existing.arn, existing.status
        )));
    };
    warn!(request_id = %name, previous = %existing.arn, status = %existing.status, attempt = %attempt, "the request ID ran another request: this one runs as its own attempt");
    request.run_id = Some(attempt.clone());
    let input = request.to_input().to_string();
    match starter.start(&attempt, &input).await? {
        Started::New(arn) => Ok(Output {
            execution_arn: arn,
            execution_name: attempt,
            duplicate: false,
            attempt_of: Some(name.to_string()),
        }),
        Started::AlreadyExists => {
            let mine = find(starter, &attempt).await?;
            if same(&mine, &request) {
                Ok(Output {
                    execution_arn: mine.arn,
                    execution_name: attempt,
                    duplicate: true,
                    attempt_of: Some(name.to_string()),
                })
            } else {
                Err(StepError::InvalidInput(format!(
                    "detail.requestId {name}: its attempt {attempt} ran another request \
                     (execution {}); send this request under a new request ID",
                    mine.arn
                )))
            }
        }
    }
}

async fn find<S: Starter>(starter: &S, name: &str) -> Result<Existing, StepError> {
    starter.describe(name).await?.ok_or_else(|| {
        StepError::Transient(format!(
            "StartExecution: an execution named {name} exists, but DescribeExecution does not \
             find it yet"
        ))
    })
}

fn same(existing: &Existing, request: &FailoverRequest) -> bool {
    FailoverRequest::from_input(&existing.input).is_some_and(|e| e.same_request(request))
}

pub async fn handler<S: Starter>(
    starter: &S,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let event: Event = parse_input(event.payload)?;
    let detail = Detail::parse(event.detail)?;
    intake(starter, detail, event.time.as_ref())
        .await
        .map_err(Diagnostic::from)
}

/// StartExecution on the failover machine of this region's deployment.
pub struct SfnStarter {
    client: aws_sdk_sfn::Client,
    machine: String,
    pair: RegionPair,
}

impl SfnStarter {
    /// `FAILOVER_STATE_MACHINE_ARN` (required); the endpoint from `AWS_ENDPOINT_URL_SFN` locally.
    pub async fn from_env() -> Result<SfnStarter, StepError> {
        let machine = std::env::var("FAILOVER_STATE_MACHINE_ARN")
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                StepError::InvalidInput(
                    "environment variable FAILOVER_STATE_MACHINE_ARN is not set".into(),
                )
            })?;
        let region = |name: &str| {
            let v = std::env::var(name).unwrap_or_default();
            Region::parse(&v).map_err(|_| {
                StepError::InvalidInput(format!("environment variable {name} is not a region"))
            })
        };
        let pair = RegionPair::new(region("SOURCE_REGION")?, region("REPLICA_REGION")?);
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(SfnStarter {
            client: aws_sdk_sfn::Client::new(&conf),
            machine,
            pair,
        })
    }
}

impl Starter for SfnStarter {
    fn machine(&self) -> &str {
        &self.machine
    }

    fn pair(&self) -> &RegionPair {
        &self.pair
    }

    async fn start(&self, name: &str, input: &str) -> Result<Started, StepError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.machine)
            .name(name)
            .input(input)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Started::New(out.execution_arn().to_string())),
            Err(e) => match e.code() {
                Some("ExecutionAlreadyExists") => Ok(Started::AlreadyExists),
                Some("ThrottlingException") => Err(StepError::Throttled(format!("{e}"))),
                Some(
                    "InvalidArn"
                    | "InvalidName"
                    | "InvalidExecutionInput"
                    | "StateMachineDoesNotExist"
                    | "StateMachineDeleting"
                    | "ValidationException",
                ) => Err(StepError::Rejected(format!(
                    "StartExecution: {}: {}",
                    e.code().unwrap_or_default(),
                    e.message().unwrap_or_default()
                ))),
                _ => Err(StepError::Transient(format!(
                    "StartExecution: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(e)
                ))),
            },
        }
    }

    async fn describe(&self, name: &str) -> Result<Option<Existing>, StepError> {
        let arn = format!(
            "{}:{name}",
            self.machine.replacen(":stateMachine:", ":execution:", 1)
        );
        match self
            .client
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Existing {
                arn,
                status: out.status().as_str().to_string(),
                input: out.input().unwrap_or_default().to_string(),
            })),
            Err(e) => match e.code() {
                Some("ExecutionDoesNotExist") => Ok(None),
                Some("ThrottlingException") => Err(StepError::Throttled(format!("{e}"))),
                Some("AccessDeniedException") => Err(StepError::AccessDenied(format!(
                    "DescribeExecution: {}",
                    e.message().unwrap_or_default()
                ))),
                _ => Err(StepError::Transient(format!(
                    "DescribeExecution: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(e)
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    const MACHINE: &str = "arn:aws:states:us-west-2:1:stateMachine:failover";

    /// Step Functions' naming rule: one execution per name.
    struct Fake {
        started: Mutex<Vec<(String, String)>>,
        pair: RegionPair,
    }

    impl Default for Fake {
        fn default() -> Fake {
            Fake {
                started: Mutex::default(),
                pair: RegionPair::new(
                    Region::parse("us-east-1").unwrap(),
                    Region::parse("us-west-2").unwrap(),
                ),
            }
        }
    }

    impl Starter for Fake {
        fn machine(&self) -> &str {
            MACHINE
        }

        fn pair(&self) -> &RegionPair {
            &self.pair
        }

        async fn start(&self, name: &str, input: &str) -> Result<Started, StepError> {
            let mut s = self.started.lock().unwrap();
            if s.iter().any(|(n, _)| n == name) {
                return Ok(Started::AlreadyExists);
            }
            s.push((name.to_string(), input.to_string()));
            Ok(Started::New(format!(
                "arn:aws:states:us-west-2:1:execution:failover:{name}"
            )))
        }

        async fn describe(&self, name: &str) -> Result<Option<Existing>, StepError> {
            let s = self.started.lock().unwrap();
            Ok(s.iter()
                .find(|(n, _)| n == name)
                .map(|(n, input)| Existing {
                    arn: format!("arn:aws:states:us-west-2:1:execution:failover:{n}"),
                    status: "FAILED".into(),
                    input: input.clone(),
                }))
        }
    }

    fn event(detail: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(
            json!({"source": "acgr.incident", "detail-type": "ACGR Traffic Shift Requested", "detail": detail}),
            lambda_runtime::Context::default(),
        )
    }

    fn event_file(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/events/incident-intake/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_redelivered_request_starts_one_execution() {
        let fake = Fake::default();
        let e = event_file("failover");
        let first = handler(&fake, LambdaEvent::new(e.clone(), Default::default()))
            .await
            .unwrap();
        let again = handler(&fake, LambdaEvent::new(e, Default::default()))
            .await
            .unwrap();
        assert!(!first.duplicate);
        assert!(again.duplicate);
        assert_eq!(first.execution_arn, again.execution_arn);
        let started = fake.started.lock().unwrap().clone();
        assert_eq!(started.len(), 1);
        let input: Value = serde_json::from_str(&started[0].1).unwrap();
        assert_eq!(input["runId"], "INC-2026-1202-01");
        assert_eq!(input["targetRegion"], "us-west-2");
        assert!(input.get("requestId").is_none());
    }

    #[tokio::test]
    async fn a_corrected_resend_runs_as_its_own_attempt_and_a_redelivery_of_it_runs_once() {
        let fake = Fake::default();
        let mut e = event_file("failover");
        e["time"] = json!("2026-12-02T12:00:00Z");
        let first = handler(&fake, LambdaEvent::new(e.clone(), Default::default()))
            .await
            .unwrap();
        // the runbook's answer to a refusal: the same request ID again, with force, later
        let mut forced = e.clone();
        forced["detail"]["force"] = json!(true);
        forced["time"] = json!("2026-12-02T12:05:00Z");
        let second = handler(&fake, LambdaEvent::new(forced.clone(), Default::default()))
            .await
            .unwrap();
        assert!(!second.duplicate, "a corrected request is not swallowed");
        assert_eq!(
            second.attempt_of.as_deref(),
            Some(first.execution_name.as_str())
        );
        assert_ne!(second.execution_name, first.execution_name);
        // the corrected request redelivered (its own time) and the first one redelivered
        let mut again = forced.clone();
        again["time"] = json!("2026-12-02T12:06:00Z");
        let third = handler(&fake, LambdaEvent::new(again, Default::default()))
            .await
            .unwrap();
        assert!(third.duplicate);
        assert_eq!(third.execution_name, second.execution_name);
        let fourth = handler(&fake, LambdaEvent::new(e, Default::default()))
            .await
            .unwrap();
        assert!(fourth.duplicate);
        assert_eq!(fourth.execution_name, first.execution_name);

        let started = fake.started.lock().unwrap().clone();
        assert_eq!(started.len(), 2, "{started:?}");
        let input: Value = serde_json::from_str(&started[1].1).unwrap();
        assert_eq!(input["runId"], json!(second.execution_name));
        assert_eq!(input["force"], true);
        assert_eq!(
            input["requestedAt"], "2026-12-02T12:05:00Z",
            "the event's time"
        );
    }

    #[tokio::test]
    async fn a_reused_request_id_too_long_for_an_attempt_fails_loudly() {
        let fake = Fake::default();
        let mut e = event_file("failover");
        e["detail"]["requestId"] = json!("x".repeat(75));
        handler(&fake, LambdaEvent::new(e.clone(), Default::default()))
            .await
            .unwrap();
        e["detail"]["force"] = json!(true);
        let err = handler(&fake, LambdaEvent::new(e, Default::default()))
            .await
            .unwrap_err();
        assert_eq!(err.error_type, "InvalidInput");
        assert!(
            err.error_message.contains("already ran another request"),
            "{}",
            err.error_message
        );
        assert!(
            err.error_message.contains("execution:failover:xxx"),
            "{}",
            err.error_message
        );
        assert_eq!(fake.started.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_bad_request_is_invalid_input_naming_the_member_and_starts_nothing() {
        let fake = Fake::default();
        let ok = json!({"requestId": "r1", "instanceId": "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10", "targetRegion": "us-west-2"});
        let with = |k: &str, v: Value| {
            let mut d = ok.clone();
            d[k] = v;
            d
        };
        let without = |k: &str| {
            let mut d = ok.clone();
            d.as_object_mut().unwrap().remove(k);
            d
        };
        let cases = [
            (without("requestId"), "requestId"),
            (with("requestId", json!("has space")), "requestId"),
            (with("requestId", json!("x".repeat(81))), "requestId"),
            (with("requestId", json!("INC#1")), "requestId"),
            (with("instanceId", json!("")), "instance"),
            (with("targetRegion", json!("mars-1")), "mars-1"),
            (with("preset", json!("failback")), "exactly one"),
            (without("targetRegion"), "exactly one"),
            (with("breakLock", json!(true)), "reason"),
            (with("surprise", json!(1)), "surprise"),
            (with("force", json!("yes")), "detail.force: invalid type"),
            (with("isolate", json!("sometimes")), "detail.isolate"),
            (with("runId", json!("r2")), "detail.runId"),
            (
                with("requestedAt", json!("2026-12-07T00:00:00Z")),
                "detail.requestedAt",
            ),
            (json!([1]), "detail: expected a JSON object"),
        ];
        for (detail, needle) in cases {
            let err = handler(&fake, event(detail.clone())).await.unwrap_err();
            assert_eq!(err.error_type, "InvalidInput", "{detail}");
            assert!(
                err.error_message.contains(needle),
                "{detail}: {}",
                err.error_message
            );
        }
        let err = handler(
            &fake,
            LambdaEvent::new(json!({"id": 1}), Default::default()),
        )
        .await
        .unwrap_err();
        assert!(
            err.error_message.contains("detail"),
            "{}",
            err.error_message
        );
        assert!(fake.started.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn hostile_requests_are_refused_by_member_and_start_nothing() {
        use acgr::hostile::{case_count, cases, judge, Spec};
        let spec = Spec {
            example: event_file("failover"),
            required: vec!["detail", "detail.requestId", "detail.instanceId"],
            identifiers: vec![
                "detail.requestId",
                "detail.instanceId",
                "detail.targetRegion",
            ],
            texts: vec!["detail.reason"],
            // the envelope EventBridge owns (it may add members), and the plan, which is passed
            // through to the failover machine and checked member by member by shift-traffic
            ignored: vec![
                "",
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail.plan",
            ],
            ..Default::default()
        };
        let mut example = spec.example.clone();
        example["detail"]["reason"] = json!("INC-2026-1202-01: us-east-1 down");
        let spec = Spec { example, ..spec };
        let fake = Fake::default();
        let all = cases(&spec, 0x5eed_0006, case_count());
        let mut violations = Vec::new();
        for case in &all {
            let answer = handler(
                &fake,
                LambdaEvent::new(case.input.clone(), lambda_runtime::Context::default()),
            )
            .await
            .map(|_| ())
            .map_err(|d| (d.error_type, d.error_message));
            if let Err(v) = judge(case, answer) {
                violations.push(v);
            }
        }
        let started = fake.started.lock().unwrap().len();
        println!(
            "hostile input: incident-intake: {} cases (seed 0x5eed0006), {} violations, \
             {started} executions started",
            all.len(),
            violations.len()
        );
        assert!(
            violations.is_empty(),
            "{:#?}",
            &violations[..violations.len().min(15)]
        );
        assert_eq!(started, 0);
    }
}
