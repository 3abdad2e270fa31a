//! Errors, each with a stable name that the state machines retry or catch on.

use lambda_runtime::Diagnostic;

/// What went wrong in a call to Connect, classified from the modeled error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} in {region}: {code}: {message}")]
pub struct ConnectError {
    pub operation: &'static str,
    pub region: String,
    pub class: ConnectErrorClass,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectErrorClass {
    Throttled,
    /// 5xx, timeouts, network: worth retrying.
    Transient,
    NotFound,
    InvalidRequest,
    /// ResourceConflictException and the other 409s.
    Conflict,
    AccessDenied,
    QuotaExceeded,
    /// Not sent: its turn under the quota came after the invocation's deadline
    /// ([`crate::pace::OutOfTime`]). Nothing happened; the work goes on in the next invocation.
    OutOfTime,
    Other,
}

impl ConnectErrorClass {
    pub fn from_code(code: &str) -> ConnectErrorClass {
        match code {
            "ThrottlingException" | "TooManyRequestsException" | "LimitExceededException" => {
                Self::Throttled
            }
            "InternalServiceException"
            | "ServiceUnavailableException"
            | "RequestTimeout"
            | "RequestTimeoutException" => Self::Transient,
            "ResourceNotFoundException"
            | "UserNotFoundException"
            | "ContactFlowNotPublishedException" => Self::NotFound,
            "InvalidRequestException" | "InvalidParameterException" => Self::InvalidRequest,
            "ResourceConflictException"
            | "ResourceNotReadyException"
            | "ResourceInUseException"
            | "IdempotencyException"
            | "DuplicateResourceException"
            | "ConflictException" => Self::Conflict,
            "AccessDeniedException" | "UnauthorizedException" => Self::AccessDenied,
            "ServiceQuotaExceededException" => Self::QuotaExceeded,
            _ => Self::Other,
        }
    }
}

/// An error of the run store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("run store throttled: {0}")]
    Throttled(String),
    #[error("run store unavailable: {0}")]
    Unavailable(String),
    #[error("run store item is corrupt: {0}")]
    Corrupt(String),
}

/// The error a step returns to the state machine. Its variant name is the `error_type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The input is malformed or names something that cannot be: never retried.
    #[error("{0}")]
    InvalidInput(String),
    /// A preflight check failed: fix the instance, then run again.
    #[error("{0}")]
    PreflightFailed(String),
    /// Resources collide by name between the regions; see the run's conflicts.
    #[error("{0}")]
    ResourceConflict(String),
    /// Connect or DynamoDB throttled the call: retry with backoff.
    #[error("{0}")]
    Throttled(String),
    /// A 5xx, a timeout or a network error: retry with backoff.
    #[error("{0}")]
    Transient(String),
    /// Another run holds the instance's lock.
    #[error("{0}")]
    RunInProgress(String),
    /// Something is not there yet (replica, group, mirroring): wait and poll again.
    #[error("{0}")]
    NotReady(String),
    /// A health gate refused a traffic shift.
    #[error("{0}")]
    Unsafe(String),
    /// Connect refused the call for a reason no retry fixes (access denied, quota, ...).
    #[error("{0}")]
    Rejected(String),
}

impl StepError {
    /// One of each variant: the names the state machines may meet.
    pub fn every() -> [StepError; 9] {
        let m = String::new;
        [
            StepError::InvalidInput(m()),
            StepError::PreflightFailed(m()),
            StepError::ResourceConflict(m()),
            StepError::Throttled(m()),
            StepError::Transient(m()),
            StepError::RunInProgress(m()),
            StepError::NotReady(m()),
            StepError::Unsafe(m()),
            StepError::Rejected(m()),
        ]
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            StepError::InvalidInput(_) => "InvalidInput",
            StepError::PreflightFailed(_) => "PreflightFailed",
            StepError::ResourceConflict(_) => "ResourceConflict",
            StepError::Throttled(_) => "Throttled",
            StepError::Transient(_) => "Transient",
            StepError::RunInProgress(_) => "RunInProgress",
            StepError::NotReady(_) => "NotReady",
            StepError::Unsafe(_) => "Unsafe",
            StepError::Rejected(_) => "Rejected",
        }
    }

    /// Worth another attempt as it is: the state machines retry these (`NotReady` after a wait),
    /// so the run stays running and keeps its lock for the retry.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StepError::Throttled(_) | StepError::Transient(_) | StepError::NotReady(_)
        )
    }
}

impl From<ConnectError> for StepError {
    fn from(e: ConnectError) -> StepError {
        let m = e.to_string();
        match e.class {
            ConnectErrorClass::Throttled => StepError::Throttled(m),
            ConnectErrorClass::Transient | ConnectErrorClass::OutOfTime => StepError::Transient(m),
            ConnectErrorClass::Conflict => StepError::ResourceConflict(m),
            ConnectErrorClass::NotFound => StepError::NotReady(m),
            ConnectErrorClass::InvalidRequest
            | ConnectErrorClass::AccessDenied
            | ConnectErrorClass::QuotaExceeded
            | ConnectErrorClass::Other => StepError::Rejected(m),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> StepError {
        match e {
            StoreError::Throttled(_) => StepError::Throttled(e.to_string()),
            StoreError::Unavailable(_) => StepError::Transient(e.to_string()),
            StoreError::Corrupt(_) => StepError::Rejected(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StepError {
    fn from(e: serde_json::Error) -> StepError {
        StepError::InvalidInput(e.to_string())
    }
}

impl From<StepError> for Diagnostic {
    fn from(e: StepError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_carry_stable_names() {
        let d: Diagnostic = StepError::Unsafe("replica not ACTIVE".into()).into();
        assert_eq!(d.error_type, "Unsafe");
        assert_eq!(d.error_message, "replica not ACTIVE");
    }

    #[test]
    fn connect_errors_are_classified_by_code() {
        let e = |code: &str| ConnectError {
            operation: "UpdateTrafficDistribution",
            region: "us-west-2".into(),
            class: ConnectErrorClass::from_code(code),
            code: code.into(),
            message: "m".into(),
        };
        assert_eq!(
            StepError::from(e("ThrottlingException")).error_type(),
            "Throttled"
        );
        assert_eq!(
            StepError::from(e("InternalServiceException")).error_type(),
            "Transient"
        );
        assert_eq!(
            StepError::from(e("ResourceConflictException")).error_type(),
            "ResourceConflict"
        );
        assert_eq!(
            StepError::from(e("InvalidRequestException")).error_type(),
            "Rejected"
        );
        assert!(StepError::from(e("ThrottlingException")).is_retryable());
        assert!(!StepError::InvalidInput("x".into()).is_retryable());
    }
}
