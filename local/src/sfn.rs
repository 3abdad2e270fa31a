//! Step Functions on moto: turn execution on, register the functions it will invoke, and create
//! the state machines from the same ASL files and substitutions that `template.yaml` uses.

use std::path::Path;

use aws_sdk_lambda::primitives::Blob;

pub const ACCOUNT: &str = "123456789012";
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("PreflightFunctionArn", "preflight"),
    ("ReplicateFunctionArn", "replicate"),
    ("PollMirroringFunctionArn", "poll-mirroring"),
    ("AssociateAgentsFunctionArn", "associate-agents"),
    ("ShiftTrafficFunctionArn", "shift-traffic"),
    ("IncidentIntakeFunctionArn", "incident-intake"),
];
pub const MACHINES: &[&str] = &["replication", "failover", "agent-sync"];

pub fn function_arn(region: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}")
}

/// The ARN moto's CreateStateMachine gives a machine (as AWS does for a standard machine).
pub fn machine_arn(region: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}")
}

/// An ASL file with the substitutions of `template.yaml` applied (`${...FunctionArn}`,
/// `${RunTableName}`), as SAM's DefinitionSubstitutions do.
pub fn definition(
    root: &Path,
    machine: &str,
    region: &str,
    table: &str,
) -> std::io::Result<String> {
    let mut text = std::fs::read_to_string(
        root.join("statemachine")
            .join(format!("{machine}.asl.json")),
    )?;
    for (var, name) in FUNCTIONS {
        text = text.replace(&format!("${{{var}}}"), &function_arn(region, name));
    }
    Ok(text.replace("${RunTableName}", table))
}

/// A zip holding one empty `bootstrap`: enough for moto's CreateFunction.
pub fn empty_zip() -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("bootstrap", stored)
        .map_err(|e| e.to_string())?;
    zip.finish()
        .map(std::io::Cursor::into_inner)
        .map_err(|e| e.to_string())
}

/// Creates one function in moto's Lambda (an existing one is fine).
pub async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
) -> Result<(), String> {
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
        Err(e) => Err(format!(
            "CreateFunction {name}: {}",
            aws_sdk_lambda::error::DisplayErrorContext(e)
        )),
    }
}

/// Registers the step functions in moto's Lambda (it checks that invoked functions exist).
pub async fn register_functions(
    lambda: &aws_sdk_lambda::Client,
    role_arn: &str,
) -> Result<(), String> {
    for (_, name) in FUNCTIONS {
        create_function(lambda, name, role_arn).await?;
    }
    Ok(())
}

/// Creates state machines (of [`MACHINES`]) in `region`; returns (name, ARN) pairs.
pub async fn create_machines(
    sfn: &aws_sdk_sfn::Client,
    root: &Path,
    machines: &[&str],
    region: &str,
    table: &str,
    role_arn: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for m in machines {
        let def = definition(root, m, region, table).map_err(|e| format!("{m}: {e}"))?;
        let created = sfn
            .create_state_machine()
            .name(*m)
            .definition(def)
            .role_arn(role_arn)
            .send()
            .await
            .map_err(|e| format!("CreateStateMachine {m}: {e:?}"))?;
        out.push((m.to_string(), created.state_machine_arn().to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_leave_no_placeholder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for m in MACHINES {
            let def = definition(&root, m, "us-east-1", "runs").unwrap();
            assert!(!def.contains("${"), "{m}");
            let v: serde_json::Value = serde_json::from_str(&def).unwrap();
            assert!(v["States"].is_object());
        }
        let def = definition(&root, "replication", "us-east-1", "runs").unwrap();
        assert!(def.contains(&function_arn("us-east-1", "poll-mirroring")));
        let def = definition(&root, "failover", "us-west-2", "runs").unwrap();
        assert!(def.contains(&function_arn("us-west-2", "shift-traffic")));
        assert!(!def.contains("us-east-1"));
        assert!(def.contains(r#""TableName": "runs""#));
    }
}
