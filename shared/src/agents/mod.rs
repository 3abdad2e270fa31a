//! Agents: the users known to be associated with each group, an association run's progress
//! (through the [`AgentLedger`] port), and the check of a group's members against the record
//! ([`members`]).

pub mod ledger;
pub mod members;
pub mod records;

pub use ledger::AgentLedger;
pub use records::{Association, AssociationProgress, MembersCheck, UserFailure};
