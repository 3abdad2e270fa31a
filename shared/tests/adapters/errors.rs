//! Raw error replies, as Connect and DynamoDB send them, classified by code and HTTP status.

use acgr::connect::sdk::SdkConnect;
use acgr::connect::Connect;
use acgr::error::ConnectErrorClass;
use acgr::run::RunKind;
use acgr::store::dynamo::DynamoRunStore;
use acgr::store::ports::*;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::region;

/// A raw error reply, as Connect or DynamoDB sends it: the status, the code in
/// `x-amzn-ErrorType` (when given), the message in the body.
fn error_reply(status: u16, code: Option<&str>, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut reply = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    reply
        .headers_mut()
        .insert("content-type", "application/json");
    if let Some(code) = code {
        reply
            .headers_mut()
            .insert("x-amzn-ErrorType", code.to_string());
    }
    reply
}

#[tokio::test]
async fn connect_errors_are_classified_by_code_then_by_http_status() {
    let cases: [(u16, Option<&str>, ConnectErrorClass, &str); 9] = [
        (
            500,
            Some("InternalFailure"),
            ConnectErrorClass::Transient,
            "Transient",
        ),
        (
            503,
            Some("ServiceUnavailable"),
            ConnectErrorClass::Transient,
            "Transient",
        ),
        (502, None, ConnectErrorClass::Transient, "Transient"),
        (
            409,
            Some("ResourceNotReadyException"),
            ConnectErrorClass::NotReady,
            "NotReady",
        ),
        (
            409,
            Some("IdempotencyException"),
            ConnectErrorClass::IdempotencyConflict,
            "IdempotencyConflict",
        ),
        (
            403,
            Some("ExpiredTokenException"),
            ConnectErrorClass::CredentialsRejected,
            "CredentialsRejected",
        ),
        (
            403,
            Some("UnrecognizedClientException"),
            ConnectErrorClass::CredentialsRejected,
            "CredentialsRejected",
        ),
        (
            403,
            Some("AccessDeniedException"),
            ConnectErrorClass::AccessDenied,
            "AccessDenied",
        ),
        (
            400,
            Some("SomethingNew"),
            ConnectErrorClass::Other,
            "Rejected",
        ),
    ];
    let mut rule = mock!(aws_sdk_connect::Client::replicate_instance).sequence();
    for (status, code, _, _) in cases {
        rule = rule.http_response(move || error_reply(status, code, "refused"));
    }
    let rule = rule.build();
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-east-1"));
    for (status, code, class, name) in cases {
        let e = connect
            .replicate_instance("i-1", &region("us-west-2"), None, "t")
            .await
            .unwrap_err();
        assert_eq!(e.class, class, "{status} {code:?}: {e}");
        let step = acgr::StepError::from(e);
        assert_eq!(step.error_type(), name, "{status} {code:?}: {step}");
    }
    assert_eq!(rule.num_calls(), cases.len());
}

#[tokio::test]
async fn a_refused_access_names_the_action() {
    let rule = mock!(aws_sdk_connect::Client::replicate_instance)
        .then_http_response(|| error_reply(403, Some("AccessDeniedException"), "not authorized"));
    let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let connect = SdkConnect::new(client, region("us-east-1"));
    let e = connect
        .replicate_instance("i-1", &region("us-west-2"), None, "t")
        .await
        .unwrap_err();
    let step = acgr::StepError::from(e).to_string();
    assert!(
        step.contains("connect:ReplicateInstance denied in us-east-1"),
        "{step}"
    );
}

#[tokio::test]
async fn run_store_refusals_are_permanent_and_keep_their_cause() {
    const TOO_BIG: &str = "Item size has exceeded the maximum allowed size";
    let cases: [(u16, &str, &str, &str); 7] = [
        (400, "ValidationException", TOO_BIG, "Rejected"),
        (
            400,
            "AccessDeniedException",
            "not authorized to perform: dynamodb:PutItem",
            "AccessDenied",
        ),
        (
            400,
            "ResourceNotFoundException",
            "Requested resource not found",
            "Rejected",
        ),
        (
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
            "CredentialsRejected",
        ),
        (
            400,
            "ProvisionedThroughputExceededException",
            "slow down",
            "Throttled",
        ),
        (500, "InternalServerError", "oops", "Transient"),
        (503, "SomethingNew", "unavailable", "Transient"),
    ];
    let mut rule = mock!(aws_sdk_dynamodb::Client::put_item).sequence();
    for (status, code, message, _) in cases {
        rule = rule.http_response(move || {
            let body = serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                "message": message,
            })
            .to_string();
            let mut reply =
                HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
            reply
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            reply
        });
    }
    let rule = rule.build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&rule], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = DynamoRunStore::new(client, "acgr-runs-i-1");
    let run = acgr::run::RunRecord::new(
        "i-1",
        "r1",
        RunKind::Replication,
        "preflight",
        serde_json::Value::Null,
        1,
    );
    for (_, code, message, name) in cases {
        let e = store.put_run(&run).await.unwrap_err();
        let cause = e.to_string();
        assert!(
            cause.contains("PutItem on table acgr-runs-i-1")
                && cause.contains(code)
                && cause.contains(message),
            "{cause}"
        );
        let step = acgr::StepError::from(e);
        assert_eq!(step.error_type(), name, "{code}: {step}");
        assert_eq!(
            step.is_retryable(),
            matches!(name, "Throttled" | "Transient")
        );
    }
    assert_eq!(rule.num_calls(), cases.len());
}
