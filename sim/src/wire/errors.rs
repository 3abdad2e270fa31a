//! Errors as Amazon Connect sends them: a status, an `x-amzn-ErrorType` and a JSON body.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// The header naming an error's code.
pub const ERROR_TYPE: &str = "x-amzn-errortype";
/// What real responses append to the code in `x-amzn-ErrorType` (clients drop it: everything
/// from the first `:`).
pub const ERROR_TYPE_SUFFIX: &str = ":http://internal.amazon.com/coral/com.amazonaws.connect/";
/// The header carrying the request ID.
pub const REQUEST_ID: &str = "x-amzn-requestid";

/// Declares the error codes with their HTTP status, the wire name being the variant's name
/// and `Exception`.
macro_rules! error_codes {
    ($($code:ident = $status:literal,)*) => {
        /// An error code of the Connect API, as `x-amzn-ErrorType` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($code,)*
        }

        impl ErrorCode {
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$code => $status,)*
                }
            }

            /// The wire name: `ResourceNotFoundException`, ...
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => concat!(stringify!($code), "Exception"),)*
                }
            }
        }
    };
}

error_codes! {
    InvalidRequest = 400,
    InvalidParameter = 400,
    ServiceQuotaExceeded = 402,
    AccessDenied = 403,
    MissingAuthenticationToken = 403,
    ResourceNotFound = 404,
    ContactFlowNotPublished = 404,
    UnknownOperation = 404,
    ResourceConflict = 409,
    ResourceNotReady = 409,
    ResourceInUse = 409,
    Idempotency = 409,
    DuplicateResource = 409,
    Throttling = 429,
    TooManyRequests = 429,
    InternalService = 500,
    ServiceUnavailable = 503,
}

/// An error as Amazon Connect sends it: a status, an `x-amzn-ErrorType` and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Extra body members (`ResourceType`/`ResourceId` on `ResourceInUseException`).
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceNotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceConflict, message)
    }
    pub fn in_use(message: impl Into<String>, resource_type: &str, resource_id: &str) -> Self {
        let mut e = Self::new(ErrorCode::ResourceInUse, message);
        e.extra.insert("ResourceType".into(), resource_type.into());
        e.extra.insert("ResourceId".into(), resource_id.into());
        e
    }

    pub fn body(&self) -> Value {
        let mut body = self.extra.clone();
        body.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.code.status(), &self.body());
        response
            .headers_mut()
            .insert(ERROR_TYPE, HeaderValue::from_static(self.code.name()));
        response
    }
}

/// A JSON answer with its status.
pub fn json_response(status: u16, body: &impl Serialize) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [("content-type", HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub type ApiResult<T = Value> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_carry_their_wire_name_and_status() {
        assert_eq!(
            ErrorCode::ResourceNotFound.name(),
            "ResourceNotFoundException"
        );
        assert_eq!(ErrorCode::ResourceNotFound.status(), 404);
        assert_eq!(ErrorCode::ServiceQuotaExceeded.status(), 402);
        assert_eq!(ErrorCode::Throttling.name(), "ThrottlingException");
        let e = ApiError::in_use("in use", "QUEUE", "q-1");
        assert_eq!(
            e.body(),
            serde_json::json!({"message": "in use", "ResourceType": "QUEUE", "ResourceId": "q-1"})
        );
    }
}
