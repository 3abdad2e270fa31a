//! What the ACGR step functions share, by concern: a run and its lifecycle (`run`), mirroring,
//! agents, traffic and flows, each with its records and the narrow port of the run store it uses;
//! the domain; the ports to Connect and to the run store with their adapters and in-memory fakes;
//! the errors the state machines act on; and the context each Lambda builds once per cold start.

pub mod agents;
pub mod connect;
pub mod context;
pub mod domain;
pub mod error;
pub mod flows;
#[cfg(any(test, feature = "test-util"))]
pub mod hostile;
pub mod metrics;
pub mod mirroring;
pub mod readiness;
pub mod run;
pub mod store;
pub mod traffic;

pub use context::{now, Context, Peer, Tables};
pub use error::StepError;
