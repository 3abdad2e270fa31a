//! SDK errors classified by their modeled code (else by the codes AWS services share, else by the
//! HTTP status), as the steps act on them.

use aws_sdk_connect::config::http::HttpResponse;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};

use crate::domain::Region;
use crate::error::{ConnectError, ConnectErrorClass};

/// Classifies an SDK error by its code and HTTP status ([`ConnectErrorClass::classify`]);
/// transport failures are transient.
pub fn classify<E>(
    operation: &'static str,
    region: &Region,
    e: SdkError<E, HttpResponse>,
) -> ConnectError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    let region = region.to_string();
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("").to_string();
            let status = se.raw().status().as_u16();
            let class = ConnectErrorClass::classify(&code, Some(status));
            ConnectError {
                operation,
                region,
                class,
                message: err.message().unwrap_or("").to_string(),
                code: if code.is_empty() {
                    format!("HTTP {status}")
                } else {
                    code
                },
            }
        }
        SdkError::DispatchFailure(d) if out_of_time(d).is_some() => ConnectError {
            operation,
            region,
            class: ConnectErrorClass::OutOfTime,
            code: "OutOfTime".into(),
            message: out_of_time(d).map(ToString::to_string).unwrap_or_default(),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ConnectError {
                operation,
                region,
                class: ConnectErrorClass::Transient,
                code: "Transport".into(),
                message: format!("{e:?}"),
            }
        }
        _ => ConnectError {
            operation,
            region,
            class: ConnectErrorClass::Other,
            code: "Construction".into(),
            message: format!("{e:?}"),
        },
    }
}

/// The pacer's refusal inside a dispatch failure.
fn out_of_time(
    d: &aws_smithy_runtime_api::client::result::DispatchFailure,
) -> Option<&crate::connect::pace::OutOfTime> {
    let mut source = std::error::Error::source(d.as_connector_error()?);
    while let Some(e) = source {
        if let Some(o) = e.downcast_ref::<crate::connect::pace::OutOfTime>() {
            return Some(o);
        }
        source = e.source();
    }
    None
}

pub(super) fn build_error(
    operation: &'static str,
    region: &Region,
    e: impl std::fmt::Display,
) -> ConnectError {
    ConnectError {
        operation,
        region: region.to_string(),
        class: ConnectErrorClass::Other,
        code: "Build".into(),
        message: e.to_string(),
    }
}
