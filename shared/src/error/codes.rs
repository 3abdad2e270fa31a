//! The error codes every AWS service may answer beyond its own model, and what the HTTP status
//! says when the code is not one we know: one table for the Connect and DynamoDB adapters.
//!
//! A service's own codes come first (each adapter knows its model); this table second; the
//! status last. So `InternalFailure` (HTTP 500, in no model) is transient, `ExpiredTokenException`
//! (403) a credentials refusal, and an unknown code with a 503 transient rather than a refusal.

/// What a code shared by AWS services, or an HTTP status, says of a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    /// Slow down and retry.
    Throttled,
    /// The service failed or timed out: retry.
    Transient,
    /// The caller's credentials were refused: an expired session token, an unknown access key, a
    /// bad signature. No retry fixes them.
    CredentialsRejected,
    /// IAM denied the action. No retry fixes it.
    AccessDenied,
}

/// The class of a code that any AWS service may answer (the SDK's throttling and transient
/// lists, the common authentication and authorization errors); `None` for any other.
pub fn common(code: &str) -> Option<Common> {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestThrottledException"
        | "RequestThrottled"
        | "TooManyRequestsException"
        | "LimitExceededException"
        | "RequestLimitExceeded"
        | "ProvisionedThroughputExceededException"
        | "SlowDown"
        | "BandwidthLimitExceeded"
        | "PriorRequestNotComplete" => Some(Common::Throttled),
        "InternalServiceException"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalServerException"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "RequestTimeout"
        | "RequestTimeoutException" => Some(Common::Transient),
        "ExpiredTokenException"
        | "ExpiredToken"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "MissingAuthenticationTokenException"
        | "IncompleteSignature"
        | "IncompleteSignatureException"
        | "SignatureDoesNotMatch"
        | "AuthFailure" => Some(Common::CredentialsRejected),
        "AccessDeniedException"
        | "AccessDenied"
        | "UnauthorizedException"
        | "UnauthorizedOperation" => Some(Common::AccessDenied),
        _ => None,
    }
}

/// What the HTTP status of an error whose code we do not know says: 429 is a throttle, a 5xx a
/// failure of the service (both worth retrying); anything else says nothing.
pub fn by_status(status: u16) -> Option<Common> {
    match status {
        429 => Some(Common::Throttled),
        500..=599 => Some(Common::Transient),
        _ => None,
    }
}

/// A shared code's class, else (for a code we do not know) the status's.
pub fn common_or_status(code: &str, status: Option<u16>) -> Option<Common> {
    common(code).or_else(|| status.and_then(by_status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_codes_then_the_status() {
        assert_eq!(common("InternalFailure"), Some(Common::Transient));
        assert_eq!(common("ExpiredToken"), Some(Common::CredentialsRejected));
        assert_eq!(common("AccessDeniedException"), Some(Common::AccessDenied));
        assert_eq!(common("SlowDown"), Some(Common::Throttled));
        assert_eq!(common("ValidationException"), None);
        assert_eq!(
            common_or_status("SomethingNew", Some(503)),
            Some(Common::Transient)
        );
        assert_eq!(
            common_or_status("SomethingNew", Some(429)),
            Some(Common::Throttled)
        );
        assert_eq!(common_or_status("SomethingNew", Some(400)), None);
        assert_eq!(common_or_status("", None), None);
        // a code we know wins over its status
        assert_eq!(
            common_or_status("ExpiredTokenException", Some(500)),
            Some(Common::CredentialsRejected)
        );
    }
}
