//! A local Amazon Connect control plane for two regions, with the Global Resiliency behaviour
//! (replication, mirroring, traffic distribution groups) that no public emulator covers.
//!
//! It speaks restJson1 on loopback so that the unmodified `aws-sdk-connect` client and the AWS
//! CLI work against it. See `sim/README.md` for the layout, the scenario format, the control
//! API (and its client, feature `client`) and the choices it makes where the service's
//! behaviour is not documented.

pub mod access;
pub mod clock;
pub mod control;
pub mod error;
pub mod faults;
pub mod kinds;
pub mod model;
pub mod ops;
pub mod scenario;
pub mod server;
pub mod sim;
pub mod throttle;
pub mod wire;

use std::net::SocketAddr;

use crate::error::SimError;

pub use scenario::Scenario;
pub use server::{router, serve};
pub use sim::{Options, Sim};

/// Refuses any address that is not on the loopback interface.
pub fn check_loopback(addr: &SocketAddr) -> Result<(), SimError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(SimError::BadRequest(format!(
            "{addr} is not a loopback address; connect-sim listens on loopback only"
        )))
    }
}
