//! The instance and its pair: what ReplicateInstance itself refuses.

use super::*;

pub(crate) fn pair_check(source: &Region, replica: &Region) -> Check {
    let id = "pair-supported";
    match pair_support(source, replica) {
        PairSupport::Supported => Check::pass(
            id,
            format!("Global Resiliency replicates {source} to {replica}"),
        ),
        PairSupport::ReferenceOnly => Check::warn(
            id,
            format!(
                "{source} -> {replica} is in the API reference but the replica guide does not list it"
            ),
            "Confirm with AWS (your solutions architect or TAM) that the pair is enabled for your account before replicating.",
        ),
        PairSupport::Unsupported => {
            let supported = paired_region(source).map_or_else(
                || format!("{source} has no supported replica region"),
                |r| format!("the supported replica region for {source} is {r}"),
            );
            Check::fail(
                id,
                format!("Global Resiliency does not replicate {source} to {replica}; {supported}"),
                "Replicate between us-east-1 and us-west-2, or between eu-central-1 and eu-west-2.",
            )
        }
    }
}

pub(crate) fn alias_check(alias: Option<&str>) -> Check {
    let id = "replica-alias";
    match alias {
        None => Check::pass(id, "no replicaAlias given (optional)"),
        // A malformed one is refused as InvalidInput before any check runs.
        Some(a) => Check::pass(id, format!("replicaAlias '{a}' is valid")),
    }
}

/// Exists and ACTIVE, has an alias, SAML, not replicated elsewhere: what ReplicateInstance refuses.
pub(crate) fn instance_checks(
    info: &InstanceInfo,
    source: &Region,
    replica: &Region,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let status = info.status.as_ref().map_or("unknown", |s| s.as_str());
    checks.push(if info.is_active() {
        Check::pass("instance-active", format!("instance {} is ACTIVE", info.id))
    } else {
        Check::fail(
            "instance-active",
            format!("instance {} is {status}, not ACTIVE", info.id),
            "Wait until the instance is ACTIVE (recreate it if its creation failed), then run again.",
        )
    });
    checks.push(match info.alias.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Check::pass("instance-alias", format!("the instance alias is '{a}'")),
        None => Check::fail(
            "instance-alias",
            "the instance has no alias, and ReplicateInstance refuses instances without one",
            "Replicate an instance created with an alias (instances on an existing directory have none).",
        ),
    });
    let identity = info.identity.as_ref().map_or("unknown", |s| s.as_str());
    checks.push(if info.identity == Some(IdentityType::Saml) {
        Check::pass("identity-saml", "identity management is SAML")
    } else {
        Check::fail(
            "identity-saml",
            format!("identity management is {identity}, not SAML"),
            "Global Resiliency needs SAML 2.0 identity management, which is chosen when the instance is created: replicate a SAML instance.",
        )
    });
    checks.push(match &info.replication {
        None => Check::pass("not-replicated", "the instance has no replica"),
        Some(rep) => {
            let regions: Vec<String> = rep
                .statuses
                .iter()
                .map(|s| format!("{} {}", s.region, s.status))
                .collect();
            let from_here = rep.source_region.as_ref().is_none_or(|s| s == source);
            let to_there = rep.statuses.iter().any(|s| s.region == replica.as_str());
            if from_here && to_there {
                Check::warn(
                    "not-replicated",
                    format!(
                        "already replicated to {replica} ({}); the replicate step will adopt it",
                        regions.join(", ")
                    ),
                    "Nothing to do: the existing replica is adopted, ReplicateInstance is not called again.",
                )
            } else {
                Check::fail(
                    "not-replicated",
                    format!(
                        "already replicated, not from {source} to {replica} ({})",
                        regions.join(", ")
                    ),
                    "An instance has one replica: ask AWS Support to delete the existing one before replicating elsewhere.",
                )
            }
        }
    });
    checks
}
