//! `grctl global-routing`: where the instance stands with global routing in both regions, and
//! the documented migration of an instance created before it (admin guide, "Global routing
//! across ACGR Regions"): AWS Support grants it to the account, then ReplicateInstance is run
//! again from the source region and the replication completes again. Connect exposes no
//! "granted" flag: the answer to the re-run is the only sign, so it is read from the last
//! migration on record.

use acgr::connect::Connect;
use acgr::run::RunLedger;
use serde::Serialize;

use crate::status::{routing_view, RoutingView};
use crate::target::Target;

/// What remains the team's once global routing is enabled.
pub const REMAINING: &[&str] = &[
    "instance aliases are now region-subdomained (us-east-1.ALIAS.my.connect.aws, \
     us-west-2.ALIAS.my.connect.aws): update bookmarks, SSO relay states and approved origins",
    "allow both regions' new domains through the corporate firewall and proxies",
    "custom CCPs: set secondaryCCPUrl to the other region's CCP URL (Streams initCCP)",
    "agents signed in before the change must sign out and in again: wait past the 12-hour \
     session timeout before relying on cross-region routing",
    "replicate by hand what global routing does not mirror: chat quick responses, task and \
     email templates, third-party applications (with their approved origins in both instances)",
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    pub instance_id: String,
    /// `enabled` (both regions answer for global routing), `notEnabled`, or `unknown` (a region
    /// could not be read).
    pub state: String,
    /// `granted` (enabled, or a migration was accepted), `notGranted` (the last migration was
    /// refused), or `unknown` (no migration tried: ask AWS Support, then migrate).
    pub granted: String,
    pub regions: Vec<RegionRouting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_migration: Option<Migration>,
    /// What the team does once it is enabled.
    pub remaining: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionRouting {
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_url: Option<String>,
    pub routing: RoutingView,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    pub run_id: String,
    pub status: String,
    /// The replicate step's record: `migration-requested`, `-accepted`, `-refused`, `adopted`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub at: i64,
}

pub async fn standing(t: &Target) -> Standing {
    let id = &t.deployment.instance_id;
    let mut regions = Vec::new();
    for c in [&t.source, &t.replica] {
        let (access_url, routing) = match c.connect.describe_instance(id).await {
            Ok(Some(info)) => (info.access_url.clone(), routing_view(c, &info).await),
            Ok(None) => (
                None,
                RoutingView::NotRead {
                    error: format!("no instance {id} in {}", c.region),
                },
            ),
            Err(e) => (
                None,
                RoutingView::NotRead {
                    error: e.to_string(),
                },
            ),
        };
        regions.push(RegionRouting {
            region: c.region.to_string(),
            access_url,
            routing,
        });
    }
    let state = if regions
        .iter()
        .all(|r| matches!(r.routing, RoutingView::On { .. }))
    {
        "enabled"
    } else if regions
        .iter()
        .any(|r| matches!(r.routing, RoutingView::NotRead { .. }))
    {
        "unknown"
    } else {
        "notEnabled"
    };
    let last_migration = last_migration(t).await;
    let granted = match (state, last_migration.as_ref().map(|m| m.state.as_str())) {
        ("enabled", _) => "granted",
        (_, Some("migration-accepted")) => "granted",
        (_, Some("migration-refused")) => "notGranted",
        _ => "unknown",
    };
    Standing {
        instance_id: id.clone(),
        state: state.into(),
        granted: granted.into(),
        regions,
        last_migration,
        remaining: if state == "enabled" {
            REMAINING.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
    }
}

/// The newest replication run whose replicate step tried the migration, from the first table
/// that answers.
async fn last_migration(t: &Target) -> Option<Migration> {
    for c in t.regions_from(&t.deployment.source_region) {
        let table = c.run_table(&t.deployment.run_table_name);
        let Ok(listing) = table.runs(&t.deployment.instance_id).await else {
            continue;
        };
        return listing
            .records
            .iter()
            // the replicate step records a migration's intent and outcome as `migration-*`
            .filter(|r| {
                r.steps
                    .get("replicate")
                    .and_then(|s| s["state"].as_str())
                    .is_some_and(|s| s.starts_with("migration"))
            })
            .max_by_key(|r| r.started_at)
            .map(|r| {
                let step = r.steps.get("replicate");
                Migration {
                    run_id: r.run_id.clone(),
                    status: crate::status::WireName::wire(&r.status),
                    state: step
                        .and_then(|s| s["state"].as_str())
                        .unwrap_or("not started")
                        .to_string(),
                    message: step
                        .and_then(|s| s["message"].as_str())
                        .map(String::from)
                        .or_else(|| r.error.as_ref().map(|e| e.message.clone())),
                    at: r.started_at,
                }
            });
    }
    None
}

pub fn render(s: &Standing) -> String {
    let mut out = format!(
        "instance {}: global routing {} (granted: {})\n",
        s.instance_id, s.state, s.granted
    );
    for r in &s.regions {
        out.push_str(&format!(
            "  {}: {} (access URL {})\n",
            r.region,
            r.routing.describe(),
            r.access_url.as_deref().unwrap_or("-")
        ));
    }
    if let Some(m) = &s.last_migration {
        out.push_str(&format!(
            "last migration: run {} {} ({}){}\n",
            m.run_id,
            m.status,
            m.state,
            m.message
                .as_deref()
                .map(|x| format!(": {x}"))
                .unwrap_or_default()
        ));
    }
    match (s.state.as_str(), s.granted.as_str()) {
        ("enabled", _) => {
            out.push_str("what remains yours:\n");
            for r in &s.remaining {
                out.push_str(&format!("  - {r}\n"));
            }
        }
        (_, "notGranted") | (_, "unknown") => out.push_str(
            "to enable it: ask AWS Support to grant global routing to the account, then run \
             `grctl global-routing --migrate`\n",
        ),
        _ => {}
    }
    out
}
