//! connect-sim's one error type.

use axum::http::Method;

/// What connect-sim refuses, everywhere but the Connect API's own answers (`wire`): a scenario
/// that does not build, a staged failure, a setting or a fault plan out of bounds, a listen
/// address off loopback, a control call that does not exist. The control API answers it
/// (`control::routes`).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// 400 `InvalidRequestException` on the control API: a scenario, a body, a query, a region or
    /// a value that is not what the sim takes.
    #[error("{0}")]
    BadRequest(String),
    /// 404 `UnknownOperationException`: no control call at this method and path.
    #[error("no control operation at {method} {path}")]
    UnknownCall { method: Method, path: String },
    /// 500 `InternalServiceException`: the scenario no longer builds.
    #[error("{0}")]
    Internal(String),
}
