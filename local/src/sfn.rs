//! The state machines as deployed: their ARNs, and their definitions from the same ASL files and
//! substitutions that `template.yaml` uses, created in a region's moto.

use std::path::Path;

use anyhow::{anyhow, Context as _, Result};

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
pub fn definition(root: &Path, machine: &str, region: &str, table: &str) -> Result<String> {
    let path = root
        .join("statemachine")
        .join(format!("{machine}.asl.json"));
    let mut text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    for (var, name) in FUNCTIONS {
        text = text.replace(&format!("${{{var}}}"), &function_arn(region, name));
    }
    Ok(text.replace("${RunTableName}", table))
}

/// Creates state machines (of [`MACHINES`]) in `region`; returns (name, ARN) pairs.
pub async fn create_machines(
    sfn: &aws_sdk_sfn::Client,
    root: &Path,
    machines: &[&str],
    region: &str,
    table: &str,
    role_arn: &str,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for m in machines {
        let def = definition(root, m, region, table)?;
        let created = sfn
            .create_state_machine()
            .name(*m)
            .definition(def)
            .role_arn(role_arn)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "CreateStateMachine {m}: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(e)
                )
            })?;
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
