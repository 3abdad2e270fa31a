//! DynamoDB's errors as the run store reports them. Throttles and the service's own failures are
//! retried; a refusal no retry fixes is said at once, with its cause, the operation and the
//! table: an item over 400 KB or a bad key (`ValidationException`), a missing table
//! (`ResourceNotFoundException`), denied access, rejected credentials.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::codes::{self, Common};
use crate::error::StoreError;

/// Classifies a failed call of `operation` on `table`.
pub(super) fn classify<E>(
    operation: &'static str,
    table: &str,
    e: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let se = match &e {
        SdkError::ServiceError(se) => se,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            return StoreError::Unavailable(format!(
                "{operation} on table {table}: {}",
                DisplayErrorContext(&e)
            ))
        }
        _ => {
            return StoreError::Refused(format!(
                "{operation} on table {table}: {}",
                DisplayErrorContext(&e)
            ))
        }
    };
    let code = se.err().code().unwrap_or("");
    let status = se.raw().status().as_u16();
    let cause = format!(
        "{operation} on table {table}: {}: {}",
        if code.is_empty() { "HTTP error" } else { code },
        se.err().message().unwrap_or("")
    );
    match code {
        "ResourceNotFoundException" => StoreError::Refused(format!(
            "{cause} (the table does not exist in this region: check TABLE_NAME and the deployment)"
        )),
        "ValidationException"
        | "SerializationException"
        | "ItemCollectionSizeLimitExceededException"
        | "ConditionalCheckFailedException"
        | "ResourceInUseException" => StoreError::Refused(cause),
        "TransactionConflictException" | "TransactionInProgressException" => {
            StoreError::Unavailable(cause)
        }
        _ => match codes::common_or_status(code, Some(status)) {
            Some(Common::Throttled) => StoreError::Throttled(cause),
            Some(Common::Transient) => StoreError::Unavailable(cause),
            Some(Common::AccessDenied) => StoreError::AccessDenied(format!(
                "{cause} (allow the function's role dynamodb:{operation} on the table)"
            )),
            Some(Common::CredentialsRejected) => StoreError::CredentialsRejected(cause),
            // A client error DynamoDB does not document as retryable.
            None => StoreError::Refused(format!("{cause} (HTTP {status})")),
        },
    }
}
