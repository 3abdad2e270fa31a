//! The input of every step: the [`Header`] every step's input carries (`runId`, `instanceId`,
//! `executionArn`, and for a machine's first step its execution input) beside the step's own
//! members, flat in the JSON. [`parse`] splits the two so that each half still refuses members
//! it does not know (serde's `flatten` would silently accept them).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{check_run_id, machine_of};
use super::parse::parse_input;
use super::request::check_execution_input;
use crate::domain::{InstanceRef, Region, RegionPair};
use crate::error::{shown, StepError};

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
/// reads it as the machine's request type ([`super::request`]) and refuses it, naming the
/// member, before anything is done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionInput {
    /// `replication`, `failover` or `agent-sync`.
    pub machine: String,
    pub input: Value,
}

impl ExecutionInput {
    /// The input is a request of the machine: only its members, each of its type and bounds.
    pub fn check(&self) -> Result<(), StepError> {
        check_execution_input(&self.machine, &self.input)
    }
}

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
    /// region `source` (the replica keeps the instance's ID, so its ARN differs only in the
    /// region): the rule of every step but the traffic shift.
    pub fn source_instance(&self, source: &Region) -> Result<String, StepError> {
        self.check()?;
        let instance = InstanceRef::parse(&self.instance_id)?;
        match &instance.region {
            Some(r) if r != source => Err(StepError::InvalidInput(format!(
                "instanceId names {r}, but this deployment's source region is {source}"
            ))),
            _ => Ok(instance.id),
        }
    }

    /// Checks the run ID and resolves the instance named by ID or by an ARN of either region
    /// (a failover is started from whichever region is up).
    pub fn any_region_instance(&self, pair: &RegionPair) -> Result<String, StepError> {
        self.check()?;
        let instance = InstanceRef::parse(&self.instance_id)?;
        instance.check_in(pair, "instanceId")?;
        Ok(instance.id)
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
    let header: Header = parse_input(Value::Object(header))?;
    if let Some(execution) = &header.execution_input {
        execution.check()?;
    }
    let mut input: T = parse_input(Value::Object(own))?;
    *input.header_mut() = header;
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

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
