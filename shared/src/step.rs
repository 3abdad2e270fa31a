//! One lifecycle for every step: begin (or resume) the run, take the instance lock when the step
//! mutates, record the step's result, and always record a failure with its error name, a lock
//! refusal included. A step tells only its own story between [`StepRun::begin`] and
//! [`StepRun::end`].
//!
//! Every step's input carries the same [`Header`] (`runId`, `instanceId`, `executionArn`) beside
//! its own members, flat in the JSON; [`parse`] splits the two so that each half still refuses
//! members it does not know (serde's `flatten` would silently accept them).

use std::future::Future;
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::connect::Connect;
use crate::context::Context;
use crate::deadline;
use crate::domain::{InstanceRef, RegionPair};
use crate::error::StepError;
use crate::records::{RunKind, RunRecord};
use crate::runs::{
    begin_step, break_run_lock, check_run_id, finish_run, lock_run, machine_of, record_failure,
    record_step,
};
use crate::store::RunStore;

/// The members every step's input carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    /// The run this step works in: the same across a run's steps, retries and restarts.
    pub run_id: String,
    /// The instance, by ID or ARN.
    pub instance_id: String,
    /// The Step Functions execution driving the run (`$$.Execution.Id`), recorded on the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// The execution's own input, which a machine's first task passes along to be checked
    /// against the machine's members ([`ExecutionInput`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_input: Option<ExecutionInput>,
}

/// A machine's execution input as its first task receives it (`$$.Execution.Input`): Step
/// Functions carries a misspelt member (`pollSecond`, `dryrun`) along unread, so the first step
/// refuses it, naming it, before anything is done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionInput {
    /// `replication`, `failover` or `agent-sync`.
    pub machine: String,
    pub input: Value,
}

/// The members each machine reads from its execution input (`statemachine/*.asl.json`: the
/// `Defaults` state's and every `$.config.<member>`; a contract test keeps the two equal).
pub const MACHINE_MEMBERS: &[(&str, &[&str])] = &[
    (
        "replication",
        &[
            "instanceId",
            "maxPolls",
            "pollSeconds",
            "replicaAlias",
            "replicaRegion",
            "runId",
        ],
    ),
    (
        "failover",
        &[
            "breakLock",
            "dryRun",
            "force",
            "incident",
            "instanceId",
            "plan",
            "preset",
            "reason",
            "requestedAt",
            "runId",
            "targetRegion",
            "trafficDistributionGroups",
        ],
    ),
    ("agent-sync", &["checkMembers", "instanceId", "runId"]),
];

impl ExecutionInput {
    /// Every member is one the machine reads.
    pub fn check(&self) -> Result<(), StepError> {
        let Some((_, members)) = MACHINE_MEMBERS.iter().find(|(m, _)| *m == self.machine) else {
            return Err(StepError::InvalidInput(format!(
                "executionInput.machine: '{}' is not one of this project's machines",
                shown(&self.machine)
            )));
        };
        let Value::Object(input) = &self.input else {
            return Err(StepError::InvalidInput(format!(
                "the {} machine's input must be a JSON object",
                self.machine
            )));
        };
        if let Some(unknown) = input.keys().find(|k| !members.contains(&k.as_str())) {
            return Err(StepError::InvalidInput(format!(
                "{}: not a member of the {} machine's input (it reads {})",
                shown(unknown),
                self.machine,
                members.join(", ")
            )));
        }
        // Members only the machine itself reads (a Wait's seconds, a Choice's bound): a bad one
        // would fail a state that has no Catch, with the lock held and nothing recorded.
        for (member, bounds) in MACHINE_NUMBERS {
            let Some(v) = input.get(*member) else {
                continue;
            };
            let ok = v.as_u64().is_some_and(|n| bounds.contains(&n));
            if !ok {
                return Err(StepError::InvalidInput(format!(
                    "{member}: must be a whole number from {} to {} (got {})",
                    bounds.start(),
                    bounds.end(),
                    shown(&v.to_string())
                )));
            }
        }
        Ok(())
    }
}

/// The numbers of the machines' inputs that no step reads, with their bounds: the replication
/// machine's `pollSeconds` (its Wait between polls) and `maxPolls` (its Choice's bound).
pub const MACHINE_NUMBERS: &[(&str, std::ops::RangeInclusive<u64>)] =
    &[("pollSeconds", 1..=3600), ("maxPolls", 1..=100_000)];

impl Header {
    const MEMBERS: [&'static str; 4] = ["runId", "instanceId", "executionArn", "executionInput"];

    pub fn new(run_id: impl Into<String>, instance_id: impl Into<String>) -> Header {
        Header {
            run_id: run_id.into(),
            instance_id: instance_id.into(),
            execution_arn: None,
            execution_input: None,
        }
    }

    /// Checks the run ID and resolves the instance, whose ARN must name this deployment's source
    /// region: the rule of every step but the traffic shift.
    pub fn source_instance<C: Connect, S: RunStore>(
        &self,
        ctx: &Context<C, S>,
    ) -> Result<String, StepError> {
        self.check()?;
        ctx.source_instance(&self.instance_id)
    }

    /// Checks the run ID and resolves the instance named by ID or by an ARN of either region
    /// (a failover is started from whichever region is up).
    pub fn any_region_instance(&self, pair: &RegionPair) -> Result<String, StepError> {
        self.check()?;
        let instance = InstanceRef::parse(&self.instance_id)?;
        match &instance.region {
            Some(r) if !pair.contains(r) => Err(StepError::InvalidInput(format!(
                "instanceId names {r}, outside this deployment's pair ({}, {})",
                pair.source, pair.replica
            ))),
            _ => Ok(instance.id),
        }
    }

    /// The run ID, and the execution ARN when given (it names the run's machine).
    fn check(&self) -> Result<(), StepError> {
        check_run_id(&self.run_id)?;
        match &self.execution_arn {
            Some(arn) if machine_of(arn).is_none() => Err(StepError::InvalidInput(format!(
                "executionArn '{}' is not a Step Functions execution ARN",
                shown(arn)
            ))),
            _ => Ok(()),
        }
    }
}

/// A step's input: its own members, with the [`Header`] set by [`parse`] (it is skipped by the
/// step's own deserializer, which denies unknown members).
pub trait StepInput: DeserializeOwned {
    fn header(&self) -> &Header;
    fn header_mut(&mut self) -> &mut Header;
}

/// Parses a step's payload: the header's members, then the step's; an unknown or malformed
/// member is `InvalidInput` naming it.
pub fn parse<T: StepInput>(payload: Value) -> Result<T, StepError> {
    parse_with(payload, |_| Ok(()))
}

/// [`parse`], letting the step fill in header members it can default (before the header is read).
pub fn parse_with<T: StepInput>(
    payload: Value,
    defaults: impl FnOnce(&mut Map<String, Value>) -> Result<(), StepError>,
) -> Result<T, StepError> {
    let Value::Object(mut own) = payload else {
        return Err(StepError::InvalidInput(
            "invalid input: expected a JSON object".into(),
        ));
    };
    defaults(&mut own)?;
    let header: Map<String, Value> = Header::MEMBERS
        .iter()
        .filter_map(|m| own.remove_entry(*m))
        .collect();
    let header: Header = crate::parse_input(Value::Object(header))?;
    if let Some(execution) = &header.execution_input {
        execution.check()?;
    }
    let mut input: T = crate::parse_input(Value::Object(own))?;
    *input.header_mut() = header;
    Ok(input)
}

/// An input value as an error message quotes it: at most 64 characters, then how long it was
/// (a hostile 100 KB member must not become a 100 KB error, or log line).
pub fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.escape_debug().to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!(
            "{}... ({} characters)",
            head.escape_debug(),
            s.chars().count()
        )
    }
}

/// How long before the Lambda deadline a step stops starting work, unless it says otherwise:
/// time to record what it did and answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// The margin a deployment sets (`DEADLINE_MARGIN_MS`), else [`DEADLINE_MARGIN`]; an unreadable
/// value is the default.
pub fn deadline_margin() -> Duration {
    std::env::var("DEADLINE_MARGIN_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEADLINE_MARGIN, Duration::from_millis)
}

/// The Lambda glue of every step: parse the payload, run the step within the invocation's
/// deadline (less `margin`; the Connect clients send nothing whose turn comes after it), name its
/// error. The step is given the point where it must stop.
pub async fn handle<T, O, F, Fut>(
    event: LambdaEvent<Value>,
    margin: Duration,
    step: F,
) -> Result<O, Diagnostic>
where
    T: StepInput,
    F: FnOnce(T, Option<Instant>) -> Fut,
    Fut: Future<Output = Result<O, StepError>>,
{
    let stop_at = deadline::stop_at(event.context.deadline, deadline::epoch_millis(), margin);
    let input = parse(event.payload)?;
    // Boxed: the step's future is deep, and each Lambda's main would otherwise need a higher
    // recursion limit to lay it out.
    deadline::within(stop_at, Box::pin(step(input, stop_at)))
        .await
        .map_err(Diagnostic::from)
}

/// How a step holds the instance while it works.
#[derive(Clone, Debug, PartialEq)]
pub enum Hold {
    /// Reads only: no lock.
    Nothing,
    /// The instance lock, by the lock rule (`records::lock_allows`).
    Lock,
    /// The lock whoever holds it, with the operator's reason.
    BreakLock(String),
}

/// What a step's run is.
pub struct Begin<'a> {
    pub header: &'a Header,
    /// The instance's bare ID, resolved from the header.
    pub instance_id: &'a str,
    /// The run's kind when it starts here (a run begun by an earlier step keeps its own).
    pub kind: RunKind,
    pub step: &'static str,
    /// The step's input as the run records it.
    pub inputs: Value,
    pub hold: Hold,
    pub lease_seconds: i64,
}

/// A run a step is working in.
pub struct StepRun<'s, S> {
    store: &'s S,
    pub record: RunRecord,
    step: &'static str,
    now: i64,
}

impl<'s, S: RunStore> StepRun<'s, S> {
    /// Begins (or resumes) the run, then holds the instance as asked. A lock refused is
    /// recorded on the run like any other failure.
    pub async fn begin(store: &'s S, b: Begin<'_>, now: i64) -> Result<StepRun<'s, S>, StepError> {
        let run_id = b.header.run_id.as_str();
        let record = begin_step(
            store,
            b.instance_id,
            run_id,
            b.kind,
            b.step,
            b.inputs,
            b.header.execution_arn.as_deref(),
            now,
        )
        .await?;
        let mut run = StepRun {
            store,
            record,
            step: b.step,
            now,
        };
        // The lock has the run's kind (a replication's steps outrank an agent sync's) and its
        // machine.
        let held = match &b.hold {
            Hold::Nothing => Ok(None),
            Hold::Lock => lock_run(store, &run.record, b.lease_seconds, now).await,
            Hold::BreakLock(reason) => {
                break_run_lock(store, &run.record, b.lease_seconds, reason, now).await
            }
        };
        match held {
            Ok(_) => Ok(run),
            Err(e) => Err(run.fail(e).await),
        }
    }

    /// What this step recorded on an earlier attempt of the run.
    pub fn previous(&self) -> Option<&Value> {
        self.record.steps.get(self.step)
    }

    /// Records an intermediate result under the step's name (the run goes on).
    pub async fn note<T: Serialize>(&mut self, result: &T) -> Result<(), StepError> {
        record_step(self.store, &mut self.record, self.step, result, self.now).await
    }

    /// Records a failure on the run (a failure for good also releases the lock) and returns it.
    pub async fn fail(&mut self, error: StepError) -> StepError {
        record_failure(self.store, &mut self.record, &error, self.now).await;
        error
    }

    /// Records how the step ended: its output, and when `last` says the run is complete, the
    /// run's success (which releases the lock); or its failure.
    pub async fn end<T: Serialize>(
        mut self,
        result: Result<T, StepError>,
        last: impl FnOnce(&T) -> bool,
    ) -> Result<T, StepError> {
        match result {
            Ok(out) => {
                self.note(&out).await?;
                if last(&out) {
                    finish_run(self.store, &mut self.record, self.now).await?;
                }
                Ok(out)
            }
            Err(e) => Err(self.fail(e).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RunStatus;
    use crate::store::memory::MemoryRunStore;

    fn header(run: &str) -> Header {
        Header {
            execution_arn: Some(format!(
                "arn:aws:states:us-east-1:1:execution:replication:{run}"
            )),
            ..Header::new(run, "i")
        }
    }

    fn begin(header: &Header, hold: Hold) -> Begin<'_> {
        Begin {
            header,
            instance_id: "i",
            kind: RunKind::Replication,
            step: "replicate",
            inputs: Value::Null,
            hold,
            lease_seconds: 60,
        }
    }

    #[tokio::test]
    async fn a_run_is_begun_locked_recorded_and_finished() {
        let store = MemoryRunStore::default();
        let run = StepRun::begin(&store, begin(&header("r1"), Hold::Lock), 10)
            .await
            .unwrap();
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
        let out = run
            .end(Ok(serde_json::json!({"ok": true})), |_| true)
            .await
            .unwrap();
        assert_eq!(out["ok"], true);
        let stored = store.get_run("i", "r1").await.unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Succeeded);
        assert_eq!(stored.steps["replicate"]["ok"], true);
        assert!(stored.execution_arn.is_some());
        assert!(store.get_lock("i").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_refused_lock_and_a_failure_are_recorded_with_their_names() {
        let store = MemoryRunStore::default();
        let first = StepRun::begin(&store, begin(&header("r1"), Hold::Lock), 10)
            .await
            .unwrap();
        let refused = StepRun::begin(&store, begin(&header("r2"), Hold::Lock), 11).await;
        let err = refused.err().expect("refused");
        assert_eq!(err.error_type(), "RunInProgress");
        let r2 = store.get_run("i", "r2").await.unwrap().unwrap();
        assert_eq!(r2.error.unwrap().error_type, "RunInProgress");

        let err = first
            .end::<Value>(Err(StepError::Throttled("slow".into())), |_| true)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled");
        let r1 = store.get_run("i", "r1").await.unwrap().unwrap();
        assert_eq!(
            r1.status,
            RunStatus::Running,
            "a retryable failure keeps the run"
        );
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");

        // a read-only step takes no lock; breaking one takes it whoever holds it
        StepRun::begin(&store, begin(&header("p1"), Hold::Nothing), 12)
            .await
            .unwrap();
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
        StepRun::begin(
            &store,
            begin(&header("f1"), Hold::BreakLock("incident".into())),
            13,
        )
        .await
        .unwrap();
        let lock = store.get_lock("i").await.unwrap().unwrap();
        assert_eq!(lock.run_id, "f1");
        assert_eq!(lock.broke.unwrap().previous_run_id.as_deref(), Some("r1"));
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Own {
        #[serde(skip)]
        header: Header,
        replica_region: String,
    }

    impl StepInput for Own {
        fn header(&self) -> &Header {
            &self.header
        }
        fn header_mut(&mut self) -> &mut Header {
            &mut self.header
        }
    }

    fn parsed(v: Value) -> Result<Own, String> {
        parse::<Own>(v).map_err(|e| {
            assert_eq!(e.error_type(), "InvalidInput");
            e.to_string()
        })
    }

    #[test]
    fn the_header_is_flat_beside_the_steps_own_members_and_both_refuse_strangers() {
        let own = parsed(serde_json::json!({
            "runId": "r1", "instanceId": "i", "executionArn": "arn:x", "replicaRegion": "us-west-2"
        }))
        .unwrap();
        assert_eq!(own.header().run_id, "r1");
        assert_eq!(own.header.execution_arn.as_deref(), Some("arn:x"));
        assert_eq!(own.replica_region, "us-west-2");

        let base = serde_json::json!({"runId": "r1", "instanceId": "i", "replicaRegion": "w"});
        for (member, value, named) in [
            ("extra", serde_json::json!(1), "extra"),
            (
                "runId",
                serde_json::json!(7),
                "runId: invalid type: integer `7`",
            ),
            (
                "replicaRegion",
                serde_json::json!(null),
                "replicaRegion: invalid type: null",
            ),
        ] {
            let mut v = base.clone();
            v[member] = value;
            let message = parsed(v).unwrap_err();
            assert!(message.contains(named), "{member}: {message}");
        }
        for missing in ["runId", "instanceId", "replicaRegion"] {
            let mut v = base.clone();
            v.as_object_mut().unwrap().remove(missing);
            let message = parsed(v).unwrap_err();
            assert!(message.contains(missing), "{message}");
        }
        assert!(parsed(serde_json::json!([1]))
            .unwrap_err()
            .contains("object"));
        // a step may default a header member before it is read
        let own: Own = parse_with(
            serde_json::json!({"instanceId": "i", "replicaRegion": "w"}),
            |m| {
                m.entry("runId").or_insert_with(|| "generated".into());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(own.header.run_id, "generated");
    }

    #[test]
    fn a_machine_input_member_the_machine_does_not_read_is_refused_by_name() {
        let with = |machine: &str, input: Value| {
            serde_json::json!({"runId": "r1", "instanceId": "i", "replicaRegion": "w",
                "executionInput": {"machine": machine, "input": input}})
        };
        let ok = serde_json::json!({"instanceId": "i", "replicaRegion": "w", "pollSeconds": 5});
        assert!(parsed(with("replication", ok)).is_ok());
        let typo = serde_json::json!({"instanceId": "i", "pollSecond": 5});
        let message = parsed(with("replication", typo)).unwrap_err();
        assert!(
            message.contains("pollSecond: not a member of the replication machine's input"),
            "{message}"
        );
        let dry = serde_json::json!({"instanceId": "i", "dryrun": true});
        assert!(parsed(with("failover", dry))
            .unwrap_err()
            .contains("dryrun"));
        assert!(parsed(with("nope", serde_json::json!({})))
            .unwrap_err()
            .contains("executionInput.machine"));
        assert!(parsed(with("agent-sync", serde_json::json!([1])))
            .unwrap_err()
            .contains("JSON object"));
        let huge = serde_json::json!({"x".repeat(100_000): 1});
        assert!(parsed(with("agent-sync", huge)).unwrap_err().len() < 500);
    }

    #[test]
    fn a_number_only_the_machine_reads_is_checked_by_the_first_step() {
        let with = |input: Value| {
            serde_json::json!({"runId": "r1", "instanceId": "i", "replicaRegion": "w",
                "executionInput": {"machine": "replication", "input": input}})
        };
        for (bad, member) in [
            (
                serde_json::json!({"instanceId": "i", "pollSeconds": "60"}),
                "pollSeconds",
            ),
            (
                serde_json::json!({"instanceId": "i", "pollSeconds": -1}),
                "pollSeconds",
            ),
            (
                serde_json::json!({"instanceId": "i", "pollSeconds": 0}),
                "pollSeconds",
            ),
            (
                serde_json::json!({"instanceId": "i", "maxPolls": 1.5}),
                "maxPolls",
            ),
            (
                serde_json::json!({"instanceId": "i", "maxPolls": 1e9}),
                "maxPolls",
            ),
        ] {
            let message = parsed(with(bad.clone())).unwrap_err();
            assert!(message.contains(member), "{bad}: {message}");
        }
        let ok = serde_json::json!({"instanceId": "i", "pollSeconds": 1, "maxPolls": 240});
        assert!(parsed(with(ok)).is_ok());
    }
}
