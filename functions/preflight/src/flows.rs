//! Flows and flow modules that hardcode a region.

use super::*;

/// Flows and flow modules whose published content names a region: one warn each, and a summary.
pub(crate) async fn flow_checks<C: Connect>(
    connect: &C,
    id: &str,
) -> Result<Vec<Check>, StepError> {
    let fix = "Replace the hardcoded region with $.AwsRegion (or $['AwsRegion']), which Connect sets to the region the flow runs in; build regional ARNs from it, and keep integrations named the same in both regions.";
    let mut checks = Vec::new();
    let mut scanned = 0;
    let mut hits = 0;
    let mut unpublished = Vec::new();
    for kind in [Kind::ContactFlows, Kind::ContactFlowModules] {
        let what = if kind == Kind::ContactFlows {
            "flow"
        } else {
            "flow module"
        };
        let listed = match connect.list_resources(id, kind).await {
            Ok(l) => l,
            Err(e) => {
                checks.push(could_not_run("flows-scanned", e)?);
                continue;
            }
        };
        for r in listed {
            let Some(rid) = r.id.as_deref() else { continue };
            let content = if kind == Kind::ContactFlows {
                connect.flow_content(id, rid).await
            } else {
                connect.module_content(id, rid).await
            };
            let content = match content {
                Ok(Some(c)) => c,
                Ok(None) => {
                    unpublished.push(format!("{what} '{}'", r.name));
                    continue;
                }
                Err(e) => {
                    let mut c = could_not_run("hardcoded-region", e)?;
                    c.message = format!("{what} '{}': {}", r.name, c.message);
                    checks.push(c);
                    continue;
                }
            };
            scanned += 1;
            let found = scan::hardcoded_regions(&content);
            if !found.is_empty() {
                hits += 1;
                checks.push(Check::warn(
                    "hardcoded-region",
                    format!(
                        "{what} '{}' hardcodes a region: {}",
                        r.name,
                        found.join(", ")
                    ),
                    fix,
                ));
            }
        }
    }
    let mut summary = format!("scanned {scanned} flows and flow modules; {hits} hardcode a region");
    if !unpublished.is_empty() {
        summary.push_str(&format!(
            "; not published, so not scanned: {} (check them before publishing)",
            unpublished.join(", ")
        ));
    }
    if !checks.iter().any(|c| c.id == "flows-scanned") {
        checks.insert(0, Check::pass("flows-scanned", summary));
    }
    Ok(checks)
}
