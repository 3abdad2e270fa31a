//! Exit codes (README "Operating"): 0 done, 1 failed, 2 bad usage, 3 refused by a gate or a lock,
//! 4 a region unreachable.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    Failed = 1,
    Usage = 2,
    Refused = 3,
    Unreachable = 4,
}

impl Exit {
    /// The exit of an execution that failed with `error` (a step's `error_type`): a gate or a
    /// lock refused it, or it failed.
    pub fn of_error(error: &str) -> Exit {
        match error {
            "Unsafe" | "RunInProgress" | "Rejected" => Exit::Refused,
            "InvalidInput" => Exit::Usage,
            _ => Exit::Failed,
        }
    }
}

/// An error with the exit code it ends grctl with.
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> CliError {
        CliError {
            exit,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_or_a_lock_is_refused_bad_input_is_usage_the_rest_failed() {
        for e in ["Unsafe", "RunInProgress", "Rejected"] {
            assert_eq!(Exit::of_error(e), Exit::Refused, "{e}");
        }
        assert_eq!(Exit::of_error("InvalidInput"), Exit::Usage);
        for e in ["NotReady", "States.Timeout", "ReplicationFailed", ""] {
            assert_eq!(Exit::of_error(e), Exit::Failed, "{e}");
        }
        assert_eq!(
            [
                Exit::Done,
                Exit::Failed,
                Exit::Usage,
                Exit::Refused,
                Exit::Unreachable
            ]
            .map(|e| e as i32),
            [0, 1, 2, 3, 4]
        );
    }
}
