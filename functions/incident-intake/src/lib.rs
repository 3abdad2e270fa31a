//! **incident-intake**: the target of the incident event bus's rule. An EventBridge rule cannot
//! name the execution it starts, so every redelivery of an event would be a new failover run;
//! this step validates the request and starts the failover machine with the request's
//! `detail.requestId` as the execution name, so one request runs once. Nothing is started for an
//! invalid request.

use std::future::Future;

use acgr::domain::{InstanceRef, Region, RegionPair};
use acgr::error::StepError;
use acgr::parse_input;
use acgr::run_ids::check_run_id;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::info;

/// The event as EventBridge delivers it; only `detail` is read.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub detail: Detail,
}

/// What incident tooling puts in `detail`: one request, named by `requestId`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Detail {
    /// Names the execution: 1 to 80 letters, digits, `-` or `_`.
    pub request_id: String,
    pub instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_lock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution_groups: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub execution_arn: String,
    pub execution_name: String,
    /// The request had already started an execution (a redelivery or a re-fire).
    pub duplicate: bool,
}

/// The outcome of StartExecution.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    New(String),
    /// An execution of that name exists already.
    AlreadyExists,
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
}

/// The longest `detail.reason` taken (shift-traffic's bound on `reason`).
pub const MAX_REASON: usize = 1000;

/// Checks a request and turns it into the failover machine's input (runId = requestId).
pub fn execution_input(detail: &Detail, pair: &RegionPair) -> Result<String, StepError> {
    let id = &detail.request_id;
    // It names the execution and the run: the run ID's rule (any valid execution name).
    check_run_id(id).map_err(|e| StepError::InvalidInput(format!("detail.requestId: {e}")))?;
    let instance = InstanceRef::parse(&detail.instance_id)?;
    if let Some(r) = instance.region.filter(|r| !pair.contains(r)) {
        return Err(StepError::InvalidInput(format!(
            "detail.instanceId names {r}, outside this deployment's pair ({}, {})",
            pair.source, pair.replica
        )));
    }
    let asked = [
        detail.target_region.is_some(),
        detail.preset.is_some(),
        detail.plan.is_some(),
    ];
    if asked.iter().filter(|x| **x).count() != 1 {
        return Err(StepError::InvalidInput(
            "detail: give exactly one of targetRegion, preset and plan".into(),
        ));
    }
    if let Some(r) = &detail.target_region {
        let r = Region::parse_member("detail.targetRegion", r)?;
        if !pair.contains(&r) {
            return Err(StepError::InvalidInput(format!(
                "detail.targetRegion {r} is outside this deployment's pair ({}, {})",
                pair.source, pair.replica
            )));
        }
    }
    if detail
        .reason
        .as_deref()
        .is_some_and(|r| r.len() > MAX_REASON)
    {
        return Err(StepError::InvalidInput(format!(
            "detail.reason is longer than {MAX_REASON} bytes"
        )));
    }
    if let Some(p) = detail.preset.as_deref().filter(|p| *p != "failback") {
        return Err(StepError::InvalidInput(format!(
            "detail.preset '{p}' is not known: the only preset is \"failback\""
        )));
    }
    if detail.break_lock == Some(true)
        && detail.reason.as_deref().is_none_or(|r| r.trim().is_empty())
    {
        return Err(StepError::InvalidInput(
            "detail.breakLock needs detail.reason".into(),
        ));
    }
    let mut input = match serde_json::to_value(detail) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    input.remove("requestId");
    input.insert("runId".into(), Value::String(id.clone()));
    Ok(Value::Object(input).to_string())
}

pub async fn intake<S: Starter>(starter: &S, detail: Detail) -> Result<Output, StepError> {
    let input = execution_input(&detail, starter.pair())?;
    let name = detail.request_id;
    let execution_arn = |machine: &str| {
        format!(
            "{}:{name}",
            machine.replacen(":stateMachine:", ":execution:", 1)
        )
    };
    let out = match starter.start(&name, &input).await? {
        Started::New(arn) => Output {
            execution_arn: arn,
            execution_name: name,
            duplicate: false,
        },
        Started::AlreadyExists => Output {
            execution_arn: execution_arn(starter.machine()),
            execution_name: name,
            duplicate: true,
        },
    };
    info!(execution = %out.execution_arn, duplicate = out.duplicate, "incident request taken");
    Ok(out)
}

pub async fn handler<S: Starter>(
    starter: &S,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let event: Event = parse_input(event.payload)?;
    intake(starter, event.detail)
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
            (with("force", json!("yes")), "invalid type"),
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
