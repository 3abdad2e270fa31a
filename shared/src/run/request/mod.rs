//! The state machines' execution inputs, typed once for everyone who makes or reads one: the
//! first step of each machine (which refuses a request it cannot read, naming the member),
//! incident-intake, grctl and the harness. The machines' definitions read exactly these members:
//! a contract test compares each type's members with its ASL.

mod agent_sync;
mod failover;
mod replication;

use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

pub use agent_sync::AgentSyncRequest;
pub use failover::{check_reason, parse_rfc3339, rfc3339, FailoverRequest, MAX_REASON_CHARS};
pub use replication::ReplicationRequest;

use super::parse::parse_input;
use crate::error::{shown, StepError};

/// A state machine of this project, by the name of its definition (`statemachine/<name>.asl.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    Replication,
    Failover,
    AgentSync,
}

impl Machine {
    pub const ALL: [Machine; 3] = [Machine::Replication, Machine::Failover, Machine::AgentSync];

    pub fn name(self) -> &'static str {
        match self {
            Machine::Replication => "replication",
            Machine::Failover => "failover",
            Machine::AgentSync => "agent-sync",
        }
    }

    pub fn parse(name: &str) -> Option<Machine> {
        Machine::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The members of the machine's request type, as its execution input names them.
    pub fn members(self) -> &'static [&'static str] {
        match self {
            Machine::Replication => members::<ReplicationRequest>(),
            Machine::Failover => members::<FailoverRequest>(),
            Machine::AgentSync => members::<AgentSyncRequest>(),
        }
    }
}

/// Reads `input` as the request of `machine`: an unknown machine, a member the machine does not
/// read, a value of the wrong type or out of its bounds is `InvalidInput` naming it.
pub fn check_execution_input(machine: &str, input: &Value) -> Result<(), StepError> {
    let Some(m) = Machine::parse(machine) else {
        return Err(StepError::InvalidInput(format!(
            "executionInput.machine: '{}' is not one of this project's machines",
            shown(machine)
        )));
    };
    let Value::Object(members) = input else {
        return Err(StepError::InvalidInput(format!(
            "the {machine} machine's input must be a JSON object"
        )));
    };
    let known = m.members();
    if let Some(unknown) = members.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(StepError::InvalidInput(format!(
            "{}: not a member of the {machine} machine's input (it reads {})",
            shown(unknown),
            known.join(", ")
        )));
    }
    match m {
        Machine::Replication => parse_input::<ReplicationRequest>(input.clone())?.check_numbers(),
        Machine::Failover => parse_input::<FailoverRequest>(input.clone()).map(drop),
        Machine::AgentSync => parse_input::<AgentSyncRequest>(input.clone()).map(drop),
    }
}

/// The members a request type reads, as serde names them (the field names after renaming): what
/// `deny_unknown_fields` accepts. Asked of the type's `Deserialize`, which gives them to the
/// deserializer of a struct.
pub fn members<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

struct Probe<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("members read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_machine_reads_its_request_types_members() {
        assert_eq!(
            Machine::Replication.members(),
            [
                "instanceId",
                "replicaRegion",
                "replicaAlias",
                "pollSeconds",
                "maxPolls",
                "migrate",
                "runId"
            ]
        );
        assert_eq!(
            Machine::AgentSync.members(),
            ["instanceId", "checkMembers", "runId"]
        );
        assert!(Machine::Failover.members().contains(&"requestedAt"));
        assert!(Machine::Failover.members().contains(&"isolate"));
        assert_eq!(Machine::parse("agent-sync"), Some(Machine::AgentSync));
        assert_eq!(Machine::parse("nope"), None);
    }
}
