//! A region's moto as a deployment needs it: started on its port (with Step Functions calling
//! Lambda through the adapter), its executor switched on, and the IAM role and Lambda functions
//! that its state machines refer to.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, bail, Result};
use aws_sdk_lambda::primitives::Blob;

use crate::config::local_config;
use crate::http::http;
use crate::options::SOURCE_REGION;
use crate::process::{wait_http, Proc};
use crate::sfn::{ACCOUNT, FUNCTIONS};

/// Starts `moto_server` on `addr`. With an adapter, moto's interpreter calls Lambda (and
/// DynamoDB) at `localhost:$MOTO_PORT`, which is then the adapter's port.
pub(crate) fn spawn(
    root: &Path,
    logs: &Path,
    name: &str,
    addr: SocketAddr,
    adapter: Option<SocketAddr>,
) -> Result<Proc> {
    let mut cmd = Command::new(root.join(".venv/bin/moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &addr.port().to_string()]);
    if let Some(adapter) = adapter {
        cmd.env("MOTO_PORT", adapter.port().to_string());
    }
    Proc::spawn(name, cmd, logs)
}

/// Waits until moto answers HTTP.
pub(crate) async fn wait_ready(proc: &mut Proc, addr: SocketAddr) -> Result<()> {
    wait_http(proc, addr, "/moto-api/").await
}

/// Switches moto's Step Functions executor on (`POST /moto-api/config`: there is no SDK call).
pub(crate) async fn execute_state_machines(moto: SocketAddr) -> Result<()> {
    let config =
        r#"{"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}"#;
    let (status, text) = http(moto, "POST", "/moto-api/config", Some(config)).await?;
    if status != 200 && status != 201 {
        bail!("moto config: HTTP {status}: {text}");
    }
    Ok(())
}

/// An IAM role for the functions and machines (moto checks that a function's role exists).
pub(crate) async fn create_role(moto: SocketAddr) -> Result<String> {
    let name = "acgr-local";
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","states.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
    // IAM is global: moto keeps it under us-east-1.
    let iam = aws_sdk_iam::Client::new(&local_config(moto, SOURCE_REGION).await);
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await;
    match created {
        Ok(out) => Ok(out.role().map_or(arn, |r| r.arn().to_string())),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_entity_already_exists_exception()) =>
        {
            Ok(arn)
        }
        Err(e) => bail!(
            "IAM CreateRole: {}",
            aws_sdk_iam::error::DisplayErrorContext(e)
        ),
    }
}

/// A zip holding one empty `bootstrap`: enough for moto's CreateFunction.
fn empty_zip() -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("bootstrap", stored)?;
    Ok(zip.finish()?.into_inner())
}

/// Creates one function in moto's Lambda (an existing one is fine).
pub(crate) async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
) -> Result<()> {
    let result = lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(Blob::new(empty_zip()?))
                .build(),
        )
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "CreateFunction {name}: {}",
            aws_sdk_lambda::error::DisplayErrorContext(e)
        )),
    }
}

/// Registers the step functions in moto's Lambda (it checks that invoked functions exist).
pub(crate) async fn register_functions(
    lambda: &aws_sdk_lambda::Client,
    role_arn: &str,
) -> Result<()> {
    for (_, name) in FUNCTIONS {
        create_function(lambda, name, role_arn).await?;
    }
    Ok(())
}

/// The stack grctl reads (`grctl --stack acgr`): the outputs `template.yaml` gives a region's
/// deployment, on a placeholder resource (moto deploys no SAM transform).
pub(crate) async fn publish_stack(
    moto: SocketAddr,
    region: &str,
    outputs: &[(&str, String)],
) -> Result<()> {
    let outputs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!({ "Value": v })))
        .collect();
    let template = serde_json::json!({
        "Resources": {"Deployed": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    });
    let cfn = aws_sdk_cloudformation::Client::new(&local_config(moto, region).await);
    cfn.create_stack()
        .stack_name(GRCTL_STACK)
        .template_body(template.to_string())
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "CreateStack {GRCTL_STACK} in {region}: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(e)
            )
        })?;
    Ok(())
}

/// The stack name the local deployments publish.
pub(crate) const GRCTL_STACK: &str = "acgr";
