//! Mirroring: name conflicts between the regions ([`conflicts`]), the replica's replication state
//! ([`replication`]) and each kind's snapshot, kept through the [`MirroringLedger`] port.

pub mod conflicts;
pub mod finding_types;
pub mod ledger;
pub mod records;
pub mod replication;

pub use ledger::MirroringLedger;
pub use records::{
    ConflictRecord, RegionCount, RegionState, SnapshotRecord, TypeSnapshot, TypesRecord,
};
