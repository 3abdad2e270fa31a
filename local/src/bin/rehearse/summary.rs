//! The rehearsal's closing summary: the phases, preflight's warnings, the replication findings,
//! the conflicts, the agents and the traffic distribution at each stage.

use std::time::Duration;

use local_stack::stack::{Stack, REPLICA_REGION, SOURCE_REGION};
use serde_json::Value;

use super::Outcome;

pub(super) async fn summary(
    stack: &Stack,
    outcome: &Outcome,
    instance: &str,
    replication_run: &str,
    drill_ok: bool,
    took: Duration,
) -> bool {
    let items = stack.instance_items(instance).await;
    println!("\n== summary");
    for (what, status, t) in &outcome.phases {
        println!("   {status:<9} {what} ({:.1}s)", t.as_secs_f64());
    }
    if let Some(run) = items
        .iter()
        .find(|i| i.sk == format!("RUN#{replication_run}"))
    {
        let checks = run.data["steps"]["preflight"]["checks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for c in checks.iter().filter(|c| c["verdict"] != "pass") {
            println!(
                "   preflight {}: {}: {}",
                c["verdict"].as_str().unwrap_or("?"),
                c["id"].as_str().unwrap_or("?"),
                c["message"].as_str().unwrap_or("")
            );
        }
        print_findings(&run.data["steps"]["poll-mirroring"]);
    }
    let conflicts: Vec<_> = items
        .iter()
        .filter(|i| i.sk.starts_with("CONFLICT#"))
        .collect();
    if conflicts.is_empty() {
        println!("   conflicts: none");
    }
    for c in &conflicts {
        println!(
            "   conflict: {} '{}' ({})",
            c.data["kind"].as_str().unwrap_or("?"),
            c.data["name"].as_str().unwrap_or("?"),
            if c.data["resolved"] == true {
                "resolved".to_string()
            } else {
                format!(
                    "unresolved: delete {} in {}, then run the replication again",
                    c.data["replicaId"]
                        .as_str()
                        .map_or("the look-alike".to_string(), |id| format!("ID {id}")),
                    c.data["region"].as_str().unwrap_or(REPLICA_REGION)
                )
            }
        );
    }
    let agents = items.iter().filter(|i| i.sk.starts_with("AGENT#")).count();
    let waiting = items
        .iter()
        .filter(|i| i.sk == format!("PROGRESS#{replication_run}"))
        .map(|i| i.data["waitingForReplica"].as_u64().unwrap_or(0))
        .sum::<u64>();
    println!(
        "   agents associated with the default group: {agents} ({waiting} waiting for the replica)"
    );
    for (when, d) in &outcome.traffic {
        println!("   traffic {when:<12} {}", split(d));
    }
    let all_ok = outcome.phases.len() == 3 && outcome.phases.iter().all(|p| p.1 == "SUCCEEDED");
    let restored = match (outcome.traffic.first(), outcome.traffic.last()) {
        (Some((_, a)), Some((_, b))) if outcome.traffic.len() == 3 => {
            ["telephony", "agents", "signIn"]
                .iter()
                .all(|k| a[k] == b[k])
        }
        _ => false,
    };
    if all_ok && !restored {
        println!("   traffic after failback differs from before");
    }
    let ok = all_ok && restored && drill_ok;
    println!(
        "   {} in {:.1}s",
        if ok {
            "REHEARSAL PASSED"
        } else {
            "REHEARSAL FAILED"
        },
        took.as_secs_f64()
    );
    ok
}

/// The replication findings the last poll reported (beside name conflicts), by class, each
/// with what the operator does about it.
fn print_findings(poll: &Value) {
    let counts = &poll["findings"]["counts"];
    let total: u64 = ["missingDependency", "notMirrored", "syncFailure"]
        .iter()
        .filter_map(|c| counts[c].as_u64())
        .sum();
    if total == 0 {
        println!("   findings: none");
        return;
    }
    if poll["needsAction"] == true {
        println!("   mirroring: complete but for the findings below, which need the operator");
    }
    for f in poll["findings"]["first"].as_array().into_iter().flatten() {
        println!(
            "   finding {}: {} '{}' ({}): {}",
            f["class"].as_str().unwrap_or("?"),
            f["kind"].as_str().unwrap_or("?"),
            f["name"].as_str().or(f["id"].as_str()).unwrap_or("?"),
            f["referenceCode"].as_str().unwrap_or("no reference code"),
            f["fix"].as_str().unwrap_or("")
        );
    }
}

fn split(v: &Value) -> String {
    if v.is_null() {
        return "no group".into();
    }
    let pct = |part: &str| {
        [SOURCE_REGION, REPLICA_REGION]
            .iter()
            .map(|r| format!("{r} {}%", v[part][r].as_u64().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let sign_in: Vec<String> = v["signIn"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, on)| on.as_bool() == Some(true))
                .map(|(r, _)| r.clone())
                .collect()
        })
        .unwrap_or_default();
    format!(
        "telephony {}; agents {}; sign-in {}",
        pct("telephony"),
        pct("agents"),
        if sign_in.is_empty() {
            "-".into()
        } else {
            sign_in.join(", ")
        }
    )
}
