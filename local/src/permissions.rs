//! Every function of the local stack runs with exactly the Connect permissions `template.yaml`
//! grants its role: each function process signs with its own access key, and connect-sim holds,
//! for that key, the policy of the function's Connect statements in the template (resolved by
//! `scripts/template-policies.py` with the scenario's account and instance and the region pair).
//! A call the template does not allow is `AccessDeniedException` naming the action, as in AWS.
//!
//! A test may narrow a function's policy at run time ([`Stack::set_access_policy`]) to stage a
//! missing permission.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use connect_sim::control::AccessPolicy;
use serde_json::Value;

use crate::options::{REPLICA_REGION, SOURCE_REGION};

/// The access key a function's process signs with in `region`: one per function and region, so
/// that connect-sim tells their calls apart (`/_sim/calls` logs the key) and holds one policy each.
pub fn access_key(function: &str, region: &str) -> String {
    let upper = |s: &str| s.replace('-', "").to_ascii_uppercase();
    format!("AKID{}{}", upper(function), upper(region))
}

/// The account and first instance of a scenario file (connect-sim's default account if it sets
/// none; every instance, `*`, if its instance has no fixed ID).
fn scenario_identity(scenario: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(scenario)
        .with_context(|| format!("reading {}", scenario.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", scenario.display()))?;
    let account = v["account"].as_str().unwrap_or("123456789012").to_string();
    let instance = v["instances"][0]["id"].as_str().unwrap_or("*").to_string();
    Ok((account, instance))
}

/// Each function's Connect policy in `region` as `template.yaml` grants it, by binary name.
pub fn template_policies(
    root: &Path,
    scenario: &Path,
    region: &str,
) -> Result<BTreeMap<String, AccessPolicy>> {
    let (account, instance) = scenario_identity(scenario)?;
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/template-policies.py"))
        .arg(root.join("template.yaml"))
        .arg(format!("InstanceId={instance}"))
        .arg(format!("SourceRegion={SOURCE_REGION}"))
        .arg(format!("ReplicaRegion={REPLICA_REGION}"))
        .arg("AWS::Partition=aws")
        .arg(format!("AWS::AccountId={account}"))
        .arg(format!("AWS::Region={region}"))
        .output()
        .context("running scripts/template-policies.py (scripts/setup.sh installs .venv)")?;
    if !out.status.success() {
        bail!(
            "scripts/template-policies.py failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("scripts/template-policies.py's output")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace;

    #[test]
    fn keys_differ_by_function_and_region() {
        assert_eq!(
            access_key("shift-traffic", "us-west-2"),
            "AKIDSHIFTTRAFFICUSWEST2"
        );
        assert_ne!(
            access_key("shift-traffic", "us-east-1"),
            access_key("shift-traffic", "us-west-2")
        );
    }

    #[test]
    fn the_template_grants_each_function_its_own_connect_actions() {
        let root = workspace();
        if !root.join(".venv/bin/python").exists() {
            panic!("scripts/setup.sh installs .venv first");
        }
        let scenario = root.join("sim/scenarios/small.json");
        let policies = template_policies(&root, &scenario, SOURCE_REGION).expect("policies");
        let allows = |f: &str, action: &str, arn: &str| policies[f].allows(action, arn);
        let instance = format!(
            "arn:aws:connect:us-west-2:123456789012:instance/{}",
            crate::options::INSTANCE_ID
        );
        let group = "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g";
        assert!(allows(
            "replicate",
            "connect:ReplicateInstance",
            &instance.replace("us-west-2", "us-east-1")
        ));
        assert!(!allows("preflight", "connect:ReplicateInstance", &instance));
        assert!(allows(
            "shift-traffic",
            "connect:UpdateTrafficDistribution",
            group
        ));
        assert!(!allows(
            "shift-traffic",
            "connect:ListUsers",
            &format!("{instance}/agent/u")
        ));
        assert!(allows(
            "associate-agents",
            "connect:AssociateTrafficDistributionGroupUser",
            group
        ));
        assert!(!allows(
            "associate-agents",
            "connect:UpdateTrafficDistribution",
            group
        ));
        // another instance of the account is out of every function's reach
        let other = "arn:aws:connect:us-east-1:123456789012:instance/other";
        assert!(!allows("poll-mirroring", "connect:DescribeInstance", other));
        assert!(policies["incident-intake"].statements.is_empty());
    }
}
