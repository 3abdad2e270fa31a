//! Throttles answered as ThrottlingException or TooManyRequestsException, and the
//! `x-amzn-ErrorType` suffix real responses carry (on by default), which clients drop.

mod common;

use common::*;
use connect_sim::control::{SettingsChange, ThrottleCode};
use serde_json::{json, Value};

const SUFFIX: &str = ":http://internal.amazon.com/coral/com.amazonaws.connect/";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Sends DescribeInstance until one is throttled; its (status, x-amzn-ErrorType).
async fn throttled(sim: &Harness) -> (u16, String) {
    let path = format!("/instance/{INSTANCE}");
    for _ in 0..20 {
        let (status, headers, _) = sim.raw(signed_get(SOURCE, &path).as_bytes()).await;
        if status == 429 {
            return (
                status,
                header(&headers, "x-amzn-errortype").unwrap().to_string(),
            );
        }
    }
    panic!("never throttled");
}

#[tokio::test]
async fn error_types_carry_the_suffix_by_default_and_clients_read_the_code() {
    let sim = Harness::start("small").await;
    assert!(sim.control.settings().await.unwrap().error_type_suffix);

    // The raw header carries the suffix.
    let (status, headers, _) = sim
        .raw(signed_get(SOURCE, "/instance/no-such-instance").as_bytes())
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some(format!("ResourceNotFoundException{SUFFIX}").as_str())
    );

    // The SDK reads the code (the modelled variant even), and the call log keeps it bare.
    let err = sim
        .client(SOURCE)
        .describe_instance()
        .instance_id("no-such-instance")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    let logged = sim.calls("DescribeInstance").await;
    assert!(logged
        .iter()
        .all(|c| c.error_type.as_deref() == Some("ResourceNotFoundException")));

    // Control API answers are not the service's: no suffix.
    let (status, headers, _) = sim
        .raw(b"GET /_sim/nothing HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("UnknownOperationException")
    );

    // When the setting is off, the header is the bare code.
    sim.control
        .change_settings(&SettingsChange {
            error_type_suffix: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, headers, _) = sim
        .raw(signed_get(SOURCE, "/instance/no-such-instance").as_bytes())
        .await;
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
}

#[tokio::test]
async fn throttles_answer_with_the_code_the_setting_names() {
    // Given the real quotas: DescribeInstance bursts 5.
    let sim = Harness::start_text(&scenario_text("small"), Some(1.0)).await;
    assert_eq!(
        throttled(&sim).await,
        (429, format!("ThrottlingException{SUFFIX}"))
    );

    // When throttles are answered with TooManyRequestsException.
    let settings = sim
        .control
        .change_settings(&SettingsChange {
            throttling_answer: Some(ThrottleCode::TooManyRequests),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(settings.throttling_answer, ThrottleCode::TooManyRequests);

    // Then the SDK sees that code with 429, and the call log too.
    let east = sim.client(SOURCE);
    let mut seen = None;
    for _ in 0..10 {
        if let Err(e) = east.describe_instance().instance_id(INSTANCE).send().await {
            seen = Some((code(&e), status(&e)));
            break;
        }
    }
    assert_eq!(seen, Some(("TooManyRequestsException".into(), 429)));
    let logged = sim.calls("DescribeInstance").await;
    assert!(logged
        .iter()
        .any(|c| c.status == 429 && c.error_type.as_deref() == Some("TooManyRequestsException")));
}

#[tokio::test]
async fn both_settings_from_the_scenario() {
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["settings"] =
        json!({"throttlingAnswer": "TooManyRequestsException", "errorTypeSuffix": false});
    let sim = Harness::start_text(&scenario.to_string(), Some(1.0)).await;
    assert_eq!(
        throttled(&sim).await,
        (429, "TooManyRequestsException".to_string())
    );
}

#[tokio::test]
async fn the_aws_cli_reads_the_code_before_the_suffix() {
    let cli = std::env::var_os("AWS_CLI")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/aws")
        });
    assert!(
        cli.exists(),
        "the AWS CLI is missing at {}: run scripts/setup.sh (or set AWS_CLI)",
        cli.display()
    );
    let sim = Harness::start("small").await;
    let out = tokio::process::Command::new(cli)
        .args([
            "connect",
            "describe-instance",
            "--instance-id",
            "no-such-instance",
        ])
        .args([
            "--region",
            SOURCE,
            "--endpoint-url",
            &format!("http://{}", sim.addr),
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDCLI")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .await
        .expect("the AWS CLI runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(ResourceNotFoundException) when calling the DescribeInstance operation"),
        "{stderr}"
    );
}
