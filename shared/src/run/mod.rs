//! A run: what every step shares. The input every step reads ([`input`]) and the machines'
//! requests ([`request`]), the run and its lock as recorded ([`record`], through the
//! [`RunLedger`] port), the run IDs ([`ids`]), the lifecycle a step works in ([`lifecycle`]) and
//! the Lambda glue with the invocation's deadline ([`handler`]).

pub mod handler;
pub mod ids;
pub mod input;
pub mod ledger;
pub mod lifecycle;
pub mod parse;
pub mod record;
pub mod request;

pub use handler::{handle, handle_with, DEADLINE_MARGIN};
pub use ids::{check_run_id, machine_of, run_token};
pub use input::{parse, parse_with, ExecutionInput, Header, StepInput};
pub use ledger::{Listing, RunLedger, Unreadable};
pub use lifecycle::{Begin, Hold, StepRun};
pub use parse::{parse_input, parse_member};
pub use record::{
    lock_allows, newest_first, same_machine, BrokenLock, Lock, LockOutcome, RunError, RunKind,
    RunRecord, RunStatus,
};
pub use request::{AgentSyncRequest, FailoverRequest, Machine, ReplicationRequest};
