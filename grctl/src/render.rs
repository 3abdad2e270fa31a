//! `--output table`: what each command prints for a person.

use acgr::connect::CurrentDistribution;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::Value;

use crate::status::{ConflictView, Reach, RunView, Status};

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

/// `us-east-1 100 / us-west-2 0`
pub fn split(entries: &[(acgr::domain::Region, u8)]) -> String {
    entries
        .iter()
        .map(|(r, p)| format!("{r} {p}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn sign_in(d: &CurrentDistribution) -> String {
    match &d.sign_in {
        Some(s) => s
            .iter()
            .map(|(r, on)| format!("{r} {}", if *on { "on" } else { "off" }))
            .collect::<Vec<_>>()
            .join(" / "),
        None => "-".into(),
    }
}

/// A distribution as JSON (the shift output's), in one line.
pub fn split_json(v: &Value) -> String {
    let part = |k: &str| match &v[k] {
        Value::Array(a) => a
            .iter()
            .map(|e| format!("{} {}", e[0].as_str().unwrap_or("?"), e[1]))
            .collect::<Vec<_>>()
            .join(" / "),
        Value::Object(o) => o
            .iter()
            .map(|(r, p)| format!("{r} {p}"))
            .collect::<Vec<_>>()
            .join(" / "),
        _ => "-".into(),
    };
    format!("telephony {}; agents {}", part("telephony"), part("agents"))
}

pub fn runs(runs: &[RunView]) -> String {
    let mut t = table(&["run", "kind", "status", "step", "started", "error"]);
    for r in runs {
        t.add_row(vec![
            r.run_id.clone(),
            r.kind.clone(),
            r.status.clone(),
            r.step.clone(),
            r.started_at.to_string(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    t.to_string()
}

pub fn conflicts(conflicts: &[ConflictView]) -> String {
    if conflicts.is_empty() {
        return "no name conflict".into();
    }
    let mut t = table(&["kind", "name", "region", "replica ID", "fix"]);
    for c in conflicts {
        t.add_row(vec![
            c.kind.clone(),
            c.name.clone(),
            c.region.clone().unwrap_or_default(),
            c.replica_id.clone().unwrap_or_default(),
            c.fix.clone(),
        ]);
    }
    t.to_string()
}

pub fn status(s: &Status) -> String {
    let mut out = format!(
        "instance {} ({} → {})\n",
        s.instance_id, s.source_region, s.replica_region
    );
    let mut regions = table(&[
        "region",
        "Connect",
        "run table",
        "instance",
        "replication",
        "cross-region routing",
    ]);
    let reach = |r: &Reach| match r {
        Reach::Ok => "ok".to_string(),
        Reach::Unreachable(e) => {
            format!("DID NOT ANSWER: {}", e.chars().take(80).collect::<String>())
        }
    };
    for r in &s.regions {
        let inst = r.instance.as_ref();
        regions.add_row(vec![
            r.region.clone(),
            reach(&r.connect),
            reach(&r.table),
            inst.and_then(|i| i.status.clone())
                .unwrap_or_else(|| "-".into()),
            inst.map(|i| {
                i.replication
                    .iter()
                    .map(|x| format!("{} {}", x.region, x.status))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
            r.routing.as_ref().map_or("-".into(), |x| x.describe()),
        ]);
    }
    out.push_str(&regions.to_string());
    out.push('\n');
    if let Some(e) = &s.routing_episode {
        out.push_str(&format!(
            "routing episode open (run {}): failback restores routing {} ({})\n",
            e.opened_by,
            e.before.describe(),
            e.decision
        ));
    }
    let mut groups = table(&[
        "group",
        "status",
        "telephony",
        "agents",
        "sign-in",
        "failback point",
    ]);
    for g in &s.groups {
        let live = g.live.as_ref();
        groups.add_row(vec![
            format!("{}{}", g.name, if g.is_default { " (default)" } else { "" }),
            if g.missing {
                "missing (deleted; skipped)".into()
            } else {
                g.status.clone().unwrap_or_else(|| "not read".into())
            },
            live.map_or("not read".into(), |d| split(&d.telephony)),
            live.map_or("not read".into(), |d| split(&d.agents)),
            live.map_or("-".into(), sign_in),
            g.failback_point.as_ref().map_or("-".into(), |d| {
                format!(
                    "telephony {}{}{}",
                    split(&d.telephony),
                    if g.episode_open {
                        " (failover open)"
                    } else {
                        ""
                    },
                    g.unexplained.as_ref().map_or(String::new(), |u| format!(
                        "; unexplained {} kept aside",
                        split(&u.telephony)
                    ))
                )
            }),
        ]);
    }
    out.push_str(&groups.to_string());
    out.push('\n');
    if !s.mirroring.is_empty() {
        let mut kinds = table(&[
            "kind",
            "source",
            "replica",
            "missing",
            "conflicts",
            "findings",
            "drifted",
            "replication",
        ]);
        for k in &s.mirroring {
            let n = |v: Option<u64>| v.map_or("-".into(), |n| n.to_string());
            kinds.add_row(vec![
                serde_json::to_value(k.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                n(k.source),
                n(k.replica),
                k.missing.to_string(),
                k.conflicting.to_string(),
                (k.missing_dependencies + k.sync_failures + k.not_mirrored + k.unknown).to_string(),
                drifted(&k.drift),
                held(&k.statuses),
            ]);
        }
        out.push_str(&kinds.to_string());
        out.push('\n');
    }
    out.push_str(&other_types(&s.types));
    if let Some(a) = &s.agents {
        out.push_str(&format!(
            "agents: {} of {} associated, {} waiting\n",
            a.associated, a.total, a.waiting
        ));
    }
    out.push_str(&format!("conflicts: {}\n", s.conflicts.len()));
    for c in &s.conflicts {
        out.push_str(&format!("  {} {}: {}\n", c.kind, c.name, c.fix));
    }
    match &s.lock {
        Some(l) => out.push_str(&format!(
            "lock: held by run {} until {}\n",
            l.run_id, l.lease_until
        )),
        None => out.push_str("lock: free\n"),
    }
    match &s.table_read_from {
        Some(r) => out.push_str(&format!("(run table read in {r})\n")),
        None => out.push_str("(no region's run table answered)\n"),
    }
    out.push_str(&runs(&s.runs));
    for u in &s.unreadable_runs {
        out.push_str(&format!(
            "warning: run item {} cannot be read by this version of grctl: {}\n",
            u.sk, u.error
        ));
    }
    out
}

/// The plan a shift's dry run returned: gates, then each group's move.
pub fn plan(plan: &Value) -> String {
    let mut out = String::new();
    let mut gates = table(&["gate", "ok", "message"]);
    for g in plan["gates"].as_array().into_iter().flatten() {
        gates.add_row(vec![
            g["id"].as_str().unwrap_or("?").to_string(),
            match (g["ok"].as_bool(), g["overridable"].as_bool()) {
                (Some(true), _) => "ok".into(),
                (_, Some(true)) => "CLOSED (--force overrides)".into(),
                _ => "CLOSED".into(),
            },
            g["message"].as_str().unwrap_or("").to_string(),
        ]);
    }
    out.push_str(&gates.to_string());
    out.push('\n');
    let mut groups = table(&["group", "before", "after"]);
    for g in plan["groups"].as_array().into_iter().flatten() {
        groups.add_row(vec![
            g["name"].as_str().unwrap_or("?").to_string(),
            split_json(&g["before"]),
            split_json(&g["after"]),
        ]);
    }
    out.push_str(&groups.to_string());
    if let Some(r) = plan.get("routing").filter(|r| r.is_object()) {
        out.push_str(&format!("\ncross-region routing: {}\n", routing_shift(r)));
    }
    out.push_str(&format!(
        "\ncalled in {}\n",
        plan["calledIn"].as_str().unwrap_or("?")
    ));
    out
}

/// `ApproximateDriftedResourceCounts` in one cell: `-` when nothing drifts.
fn drifted(counts: &[acgr::mirroring::RegionCount]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{} {}", c.region, c.count))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// `ResourceReplicationStatuses` in one cell: the regions not `ENABLED`, else `enabled`.
fn held(statuses: &[acgr::mirroring::RegionState]) -> String {
    let parts: Vec<String> = statuses
        .iter()
        .filter(|s| s.status != "ENABLED")
        .map(|s| format!("{} {}", s.region, s.status))
        .collect();
    match (statuses.is_empty(), parts.is_empty()) {
        (true, _) => "-".into(),
        (false, true) => "enabled".into(),
        _ => parts.join(", "),
    }
}

/// The other resource types: those with something to say (drift, findings, a region not
/// enabled, a type refused), then how many are quiet; then what is never mirrored by design.
pub fn other_types(types: &[acgr::mirroring::TypeSnapshot]) -> String {
    use acgr::connect::findings::FindingClass;
    let mut out = String::new();
    if !types.is_empty() {
        let loud: Vec<_> = types
            .iter()
            .filter(|t| {
                t.counts.total() > 0
                    || t.drift.iter().any(|d| d.count > 0)
                    || !t.held().is_empty()
                    || t.unsupported.is_some()
            })
            .collect();
        if !loud.is_empty() {
            let mut rows = table(&["resource type", "drifted", "replication", "findings"]);
            for t in &loud {
                let findings: Vec<String> = FindingClass::ALL
                    .iter()
                    .filter(|c| t.counts.get(**c) > 0)
                    .map(|c| format!("{} {}", t.counts.get(*c), c.key()))
                    .collect();
                rows.add_row(vec![
                    format!(
                        "{} ({})",
                        t.resource_type,
                        acgr::mirroring::finding_types::label(&t.resource_type)
                    ),
                    drifted(&t.drift),
                    t.unsupported
                        .as_ref()
                        .map_or_else(|| held(&t.statuses), |u| format!("not supported: {u}")),
                    findings.join(", "),
                ]);
            }
            out.push_str(&rows.to_string());
            out.push('\n');
            for t in &loud {
                for f in &t.findings {
                    out.push_str(&format!(
                        "  {} {} ({}{}): {}{}\n",
                        t.resource_type,
                        f.label(),
                        f.class.key(),
                        f.reference_code
                            .as_deref()
                            .map(|c| format!(" {c}"))
                            .unwrap_or_default(),
                        f.fix,
                        f.message
                            .as_deref()
                            .map(|m| format!(" (Connect: {m})"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        out.push_str(&format!(
            "other resource types: {} polled, {} quiet\n",
            types.len(),
            types.len() - loud.len()
        ));
    }
    out.push_str("never mirrored by design:\n");
    for (what, fix) in acgr::mirroring::finding_types::NOT_MIRRORED_BY_DESIGN {
        out.push_str(&format!("  {what}: {fix}\n"));
    }
    out
}

/// What a shift does to cross-region routing, in one line.
fn routing_shift(r: &Value) -> String {
    let state = |v: &Value| match v["isolatedRegions"].as_array() {
        None => "?".to_string(),
        Some(a) if a.is_empty() => "on".to_string(),
        Some(a) => format!(
            "isolated ({})",
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let what = match (r["globalRouting"].as_bool(), r["isolatedAll"].as_bool()) {
        (Some(false), _) => "no global routing".to_string(),
        (_, Some(true)) => format!("{} -> isolated", state(&r["before"])),
        (_, Some(false)) => format!("{} -> on", state(&r["before"])),
        _ if r["before"].is_object() => format!("{} (unchanged)", state(&r["before"])),
        _ => "unchanged".to_string(),
    };
    format!("{what}: {}", r["why"].as_str().unwrap_or(""))
}

/// `grctl history`: one row per group shifted.
pub fn history(rows: &[Value]) -> String {
    let mut t = table(&[
        "at",
        "run",
        "reason",
        "started by",
        "group",
        "before",
        "after",
        "status",
    ]);
    for r in rows {
        t.add_row(vec![
            r["at"].to_string(),
            r["runId"].as_str().unwrap_or("").to_string(),
            r["reason"].as_str().unwrap_or("").to_string(),
            r["startedBy"].as_str().unwrap_or("").to_string(),
            r["group"].as_str().unwrap_or("").to_string(),
            split_json(&r["before"]),
            split_json(&r["after"]),
            r["status"].as_str().unwrap_or("").to_string(),
        ]);
    }
    t.to_string()
}
