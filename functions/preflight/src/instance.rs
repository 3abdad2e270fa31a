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

/// The alias as global routing (on for every instance created since 2026-09-01) uses it: both
/// regions' access URLs become `REGION.ALIAS.my.connect.aws`, derived from the source's alias,
/// so the alias must be a lower-case DNS label (letters, digits, single hyphens), and a different
/// `replicaAlias` names no URL there.
pub(crate) fn global_routing_alias_check(
    info: &InstanceInfo,
    replica_alias: Option<&str>,
) -> Check {
    let id = "global-routing-alias";
    let Some(alias) = info.alias.as_deref().filter(|a| !a.is_empty()) else {
        return Check::not_checked(id, "the instance has no alias");
    };
    let url = |region: &str| format!("{region}.{alias}.my.connect.aws");
    let label = !alias.contains("--")
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !label {
        return Check::warn(
            id,
            format!(
                "the alias '{alias}' is not a lower-case DNS label, as global routing's \
                 region-subdomained access URLs ({}) need",
                url("us-east-1")
            ),
            "Check with AWS before replicating: browsers and SSO relay states see the host in \
             lower case; an alias with upper-case letters or '--' may not resolve as typed.",
        );
    }
    match replica_alias.filter(|r| *r != alias) {
        Some(other) => Check::warn(
            id,
            format!(
                "with global routing the replica's access URL derives from the source alias \
                 ('{alias}'), not from replicaAlias '{other}'"
            ),
            "Use the source's alias as replicaAlias, or expect the replica at the region-subdomained URL of the source alias.",
        ),
        None => Check::pass(
            id,
            format!("the alias '{alias}' gives {} under global routing", url("REGION")),
        ),
    }
}
