//! An in-memory `Connect` for unit tests: both regions share one world that a test sets up
//! directly, every call is logged, and failures can be scripted per operation.

mod client;
mod operations;
mod world;

pub use client::FakeConnect;
pub use world::{group, FakeCall, FakeWorld};
