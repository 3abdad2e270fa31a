//! Errors, each with a stable name that the state machines retry or catch on.

use lambda_runtime::Diagnostic;

pub mod codes;

use codes::Common;

/// What went wrong in a call to Connect, classified from the modeled error code (and, for a code
/// the model does not list, from the codes AWS services share, then the HTTP status).
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
    /// ResourceConflictException and the other 409s but the two below.
    Conflict,
    /// ResourceNotReadyException (409): the resource is in a state that passes by itself (a
    /// replica still being deleted, say): wait and ask again.
    NotReady,
    /// IdempotencyException (409): the ClientToken was sent before with other parameters.
    IdempotencyConflict,
    /// The caller's credentials were refused (expired session token, unknown key, bad signature).
    CredentialsRejected,
    AccessDenied,
    QuotaExceeded,
    /// Not sent: its turn under the quota came after the invocation's deadline
    /// ([`crate::connect::pace::OutOfTime`]). Nothing happened; the work goes on in the next invocation.
    OutOfTime,
    Other,
}

impl From<Common> for ConnectErrorClass {
    fn from(c: Common) -> ConnectErrorClass {
        match c {
            Common::Throttled => ConnectErrorClass::Throttled,
            Common::Transient => ConnectErrorClass::Transient,
            Common::CredentialsRejected => ConnectErrorClass::CredentialsRejected,
            Common::AccessDenied => ConnectErrorClass::AccessDenied,
        }
    }
}

impl ConnectErrorClass {
    /// Connect kept throttling or failing past the client's retries, or the invocation's deadline
    /// came: the invocation returns what it did and the next one goes on (a long step's loops
    /// stop on these rather than mark one resource failed).
    pub fn ends_the_invocation(self) -> bool {
        matches!(
            self,
            ConnectErrorClass::Throttled
                | ConnectErrorClass::Transient
                | ConnectErrorClass::OutOfTime
        )
    }

    /// From the code alone (the status unknown).
    pub fn from_code(code: &str) -> ConnectErrorClass {
        ConnectErrorClass::classify(code, None)
    }

    /// From Connect's modeled code; a code the model does not list by the codes every AWS
    /// service may answer, then by the HTTP status (a 5xx is transient, a 429 a throttle).
    pub fn classify(code: &str, status: Option<u16>) -> ConnectErrorClass {
        let modeled = match code {
            "ResourceNotFoundException"
            | "UserNotFoundException"
            | "ContactFlowNotPublishedException" => Some(Self::NotFound),
            "InvalidRequestException" | "InvalidParameterException" => Some(Self::InvalidRequest),
            "ResourceNotReadyException" => Some(Self::NotReady),
            "IdempotencyException" => Some(Self::IdempotencyConflict),
            "ResourceConflictException"
            | "ResourceInUseException"
            | "DuplicateResourceException"
            | "ConflictException"
            | "ConditionalOperationFailedException" => Some(Self::Conflict),
            "ServiceQuotaExceededException" => Some(Self::QuotaExceeded),
            _ => None,
        };
        modeled
            .or_else(|| codes::common_or_status(code, status).map(Into::into))
            .unwrap_or(Self::Other)
    }
}

/// An error of the run store. Each message names the DynamoDB operation and the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("run store throttled: {0}")]
    Throttled(String),
    #[error("run store unavailable: {0}")]
    Unavailable(String),
    #[error("run store item is corrupt: {0}")]
    Corrupt(String),
    /// DynamoDB refused the request for a reason no retry fixes: `ValidationException` (an item
    /// over 400 KB, a key too long), the table missing (`ResourceNotFoundException`), ...
    #[error("run store refused the request: {0}")]
    Refused(String),
    #[error("run store access denied: {0}")]
    AccessDenied(String),
    #[error("run store credentials rejected: {0}")]
    CredentialsRejected(String),
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
    /// Something is not there yet, or is in a state that passes by itself (a replica, a group,
    /// mirroring, a replica being deleted): wait and poll again.
    #[error("{0}")]
    NotReady(String),
    /// A health gate refused a traffic shift.
    #[error("{0}")]
    Unsafe(String),
    /// Connect or the run store refused the call for a reason no retry fixes (quota, an invalid
    /// request, an item over 400 KB, the table missing, ...).
    #[error("{0}")]
    Rejected(String),
    /// IAM denied an action, named in the message: allow it to the function's role.
    #[error("{0}")]
    AccessDenied(String),
    /// AWS refused the function's credentials (expired session token, unknown key, bad
    /// signature): no retry with the same credentials helps.
    #[error("{0}")]
    CredentialsRejected(String),
    /// A request with the same ClientToken but different parameters was made before
    /// (IdempotencyException).
    #[error("{0}")]
    IdempotencyConflict(String),
    /// The replica could not be created (CREATION_FAILED) or replication failed
    /// (INSTANCE_REPLICATION_FAILED): the status and reason are in the message.
    #[error("{0}")]
    ReplicationFailed(String),
    /// Deleting the replica failed (INSTANCE_REPLICATION_DELETION_FAILED): it can be neither
    /// used nor replaced until it is deleted.
    #[error("{0}")]
    ReplicaDeletionFailed(String),
    /// The function's environment is wrong (a variable missing or unreadable): fix the
    /// deployment. Never retried.
    #[error("{0}")]
    Misconfigured(String),
}

/// An input value as an error message quotes it: at most 64 characters, then how long it was
/// (a hostile 100 KB member must not become a 100 KB error, or log line).
pub fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.escape_debug().to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!(
            "{}... ({} characters)",
            head.escape_debug(),
            s.chars().count()
        )
    }
}

impl StepError {
    /// One of each variant: the names the state machines may meet.
    pub fn every() -> [StepError; 15] {
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
            StepError::AccessDenied(m()),
            StepError::CredentialsRejected(m()),
            StepError::IdempotencyConflict(m()),
            StepError::ReplicationFailed(m()),
            StepError::ReplicaDeletionFailed(m()),
            StepError::Misconfigured(m()),
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
            StepError::AccessDenied(_) => "AccessDenied",
            StepError::CredentialsRejected(_) => "CredentialsRejected",
            StepError::IdempotencyConflict(_) => "IdempotencyConflict",
            StepError::ReplicationFailed(_) => "ReplicationFailed",
            StepError::ReplicaDeletionFailed(_) => "ReplicaDeletionFailed",
            StepError::Misconfigured(_) => "Misconfigured",
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
            ConnectErrorClass::NotFound | ConnectErrorClass::NotReady => StepError::NotReady(m),
            ConnectErrorClass::IdempotencyConflict => StepError::IdempotencyConflict(format!(
                "{m}: a {} request with the same ClientToken but different parameters was made \
                 before; run again under a new run ID to send other parameters",
                e.operation
            )),
            ConnectErrorClass::CredentialsRejected => StepError::CredentialsRejected(format!(
                "{m}: AWS refused the function's credentials (expired or unknown); check the \
                 credentials it runs with"
            )),
            ConnectErrorClass::AccessDenied => StepError::AccessDenied(format!(
                "connect:{} denied in {}: {}: {}; allow the function's role connect:{}",
                e.operation, e.region, e.code, e.message, e.operation
            )),
            ConnectErrorClass::InvalidRequest
            | ConnectErrorClass::QuotaExceeded
            | ConnectErrorClass::Other => StepError::Rejected(m),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> StepError {
        let m = e.to_string();
        match e {
            StoreError::Throttled(_) => StepError::Throttled(m),
            StoreError::Unavailable(_) => StepError::Transient(m),
            StoreError::Corrupt(_) | StoreError::Refused(_) => StepError::Rejected(m),
            StoreError::AccessDenied(_) => StepError::AccessDenied(m),
            StoreError::CredentialsRejected(_) => StepError::CredentialsRejected(m),
        }
    }
}

impl From<serde_json::Error> for StepError {
    fn from(e: serde_json::Error) -> StepError {
        StepError::InvalidInput(e.to_string())
    }
}

/// The longest error message a step answers (and logs): a longer one is cut, saying so.
pub const MAX_ERROR_MESSAGE: usize = 2_000;

impl From<StepError> for Diagnostic {
    fn from(e: StepError) -> Diagnostic {
        let mut message = e.to_string();
        if message.len() > MAX_ERROR_MESSAGE {
            let total = message.len();
            let mut cut = MAX_ERROR_MESSAGE - 40;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(&format!("... ({total} bytes in all)"));
        }
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: message,
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

    fn connect_error(code: &str, status: Option<u16>) -> ConnectError {
        ConnectError {
            operation: "ReplicateInstance",
            region: "us-east-1".into(),
            class: ConnectErrorClass::classify(code, status),
            code: code.into(),
            message: "m".into(),
        }
    }

    fn named(code: &str, status: Option<u16>) -> &'static str {
        StepError::from(connect_error(code, status)).error_type()
    }

    #[test]
    fn connect_errors_are_classified_by_code_then_status() {
        for (code, status, name) in [
            ("ThrottlingException", Some(429), "Throttled"),
            ("InternalServiceException", Some(500), "Transient"),
            ("ResourceConflictException", Some(409), "ResourceConflict"),
            ("InvalidRequestException", Some(400), "Rejected"),
            ("ServiceQuotaExceededException", Some(402), "Rejected"),
            // codes outside Connect's model: the shared table, then the status
            ("InternalFailure", Some(500), "Transient"),
            ("ServiceUnavailable", Some(503), "Transient"),
            ("SomethingNew", Some(502), "Transient"),
            ("SomethingNew", Some(429), "Throttled"),
            ("SomethingNew", Some(400), "Rejected"),
            ("", Some(500), "Transient"),
            // the 409s say different things
            ("ResourceNotReadyException", Some(409), "NotReady"),
            ("IdempotencyException", Some(409), "IdempotencyConflict"),
            // refusals no retry fixes, by name
            ("ExpiredTokenException", Some(403), "CredentialsRejected"),
            ("ExpiredToken", Some(400), "CredentialsRejected"),
            (
                "UnrecognizedClientException",
                Some(403),
                "CredentialsRejected",
            ),
            (
                "InvalidSignatureException",
                Some(403),
                "CredentialsRejected",
            ),
            ("AccessDeniedException", Some(403), "AccessDenied"),
        ] {
            assert_eq!(named(code, status), name, "{code} {status:?}");
        }
        assert_eq!(named("ThrottlingException", None), "Throttled");
        assert!(StepError::from(connect_error("InternalFailure", Some(500))).is_retryable());
        assert!(!StepError::InvalidInput("x".into()).is_retryable());
    }

    #[test]
    fn refusals_say_what_to_do() {
        let denied = StepError::from(connect_error("AccessDeniedException", Some(403)));
        assert!(
            denied
                .to_string()
                .starts_with("connect:ReplicateInstance denied in us-east-1"),
            "{denied}"
        );
        let token = StepError::from(connect_error("IdempotencyException", Some(409)));
        assert!(
            token
                .to_string()
                .contains("same ClientToken but different parameters"),
            "{token}"
        );
        for e in [denied, token] {
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn store_errors_keep_their_cause() {
        for (e, name) in [
            (StoreError::Throttled("t".into()), "Throttled"),
            (StoreError::Unavailable("u".into()), "Transient"),
            (
                StoreError::Refused("PutItem on runs: ValidationException: Item size has exceeded the maximum allowed size".into()),
                "Rejected",
            ),
            (StoreError::AccessDenied("a".into()), "AccessDenied"),
            (
                StoreError::CredentialsRejected("c".into()),
                "CredentialsRejected",
            ),
        ] {
            let cause = e.to_string();
            let step = StepError::from(e);
            assert_eq!(step.error_type(), name);
            assert_eq!(step.to_string(), cause);
        }
    }

    #[test]
    fn every_name_is_listed_once() {
        let names: std::collections::BTreeSet<&str> = StepError::every()
            .iter()
            .map(StepError::error_type)
            .collect();
        assert_eq!(names.len(), StepError::every().len());
    }
}
