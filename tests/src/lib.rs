//! End-to-end tests: the step Lambdas and the state machines run for real on loopback. The stack
//! itself lives in `local-stack` (the rehearsal uses the same one).

pub use local_stack::stack::*;
