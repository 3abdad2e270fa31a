//! Traffic: the groups of an instance and their live split ([`groups`]), each shift, and the
//! failback point ([`steady`]: the steady state, or the split from before an open failover
//! episode), kept through the [`TrafficLedger`] port.

pub mod groups;
pub mod ledger;
pub mod records;
pub mod steady;

pub use ledger::TrafficLedger;
pub use records::{Episode, GroupRecord, RoutingEpisode, ShiftRecord, ShiftStatus};
