//! Flows and flow modules that hardcode a region: a resumable scan at Connect's quotas.
//!
//! Reading a flow is one DescribeContactFlow (a module, one DescribeContactFlowModule), each
//! allowed 2 calls/s, so a large instance takes several invocations. Flows and modules are read
//! side by side (each on its own quota), in ID order, until both listings are done or the
//! invocation's time or Connect's quota runs out. What the scan found so far is kept on the run's
//! `SCAN#` item in counts and a first few, its position as the last ID done per listing; every
//! finding is written to its `HARDCODED#` pages. The next invocation of the run lists again (one
//! call per 1000) and reads on after the last ID done: no flow is read twice. (A flow created
//! while the scan runs is read if its ID comes after the position; one deleted is skipped.)

use acgr::connect::ResourceSummary;
use acgr::flows::{FlowScan, HardcodedPage, HardcodedRegion, ScanCursor};
use acgr::store::hardcoded_prefix;

use super::*;
use crate::report::{first, FlowCounts};
use crate::scan::cut;

/// Findings a check lists in the report; the others are counted (and the flows that hardcode a
/// region are all in the run table).
pub const LISTED: usize = 20;
/// Strings kept per finding (and shown in its message), and the length they are cut to.
const FOUND_KEPT: usize = 10;
const FOUND_SHOWN: usize = 5;
const STRING_MAX: usize = 256;
/// A page of findings stays under this much JSON: DynamoDB's item limit is 400 KB.
pub const PAGE_BYTES: usize = 64 * 1024;
/// Read and listing failures kept as messages (all are counted).
const PROBLEMS_KEPT: usize = 5;

const FIX: &str = "Replace the hardcoded region with $.AwsRegion (or $['AwsRegion']), which Connect sets to the region the flow runs in; build regional ARNs from it, and keep integrations named the same in both regions.";

fn what(kind: Kind) -> &'static str {
    if kind == Kind::ContactFlows {
        "flow"
    } else {
        "flow module"
    }
}

/// One invocation's pass over one listing.
struct Pass {
    kind: Kind,
    cursor: ScanCursor,
    scanned: u64,
    hits: Vec<HardcodedRegion>,
    unpublished: u64,
    unpublished_names: Vec<String>,
    unreadable: u64,
    problems: Vec<String>,
    /// Left to read after this pass; `None` when the listing did not happen.
    left: Option<u64>,
    /// Why the pass stopped before the end of the listing.
    stopped: Option<ConnectError>,
}

impl Pass {
    fn new(kind: Kind, cursor: ScanCursor) -> Pass {
        Pass {
            kind,
            cursor,
            scanned: 0,
            hits: Vec::new(),
            unpublished: 0,
            unpublished_names: Vec::new(),
            unreadable: 0,
            problems: Vec::new(),
            left: None,
            stopped: None,
        }
    }

    fn problem(&mut self, message: String) {
        self.unreadable += 1;
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems
                .push(cut(&message, STRING_MAX * 2).to_string());
        }
    }
}

/// Reads one listing's resources after the cursor, in ID order, until the end or until the
/// invocation's time or Connect's quota runs out.
async fn pass<C: Connect>(connect: &C, id: &str, kind: Kind, cursor: ScanCursor) -> Pass {
    let mut p = Pass::new(kind, cursor);
    if p.cursor.done {
        p.left = Some(0);
        return p;
    }
    let listed = match connect.list_resources(id, kind).await {
        Ok(listed) => listed,
        Err(e) if e.class.ends_the_invocation() => {
            p.stopped = Some(e);
            return p;
        }
        Err(e) => {
            p.problem(format!("the {}s could not be listed: {e}", what(kind)));
            p.cursor.done = true;
            p.left = Some(0);
            return p;
        }
    };
    let todo = after(listed, p.cursor.after.as_deref());
    for (n, (rid, name)) in todo.iter().enumerate() {
        let content = if kind == Kind::ContactFlows {
            connect.flow_content(id, rid).await
        } else {
            connect.module_content(id, rid).await
        };
        match content {
            Ok(Some(content)) => {
                p.scanned += 1;
                let found = scan::hardcoded_regions(&content);
                if !found.is_empty() {
                    p.hits.push(finding(kind, rid, name, &found));
                }
            }
            Ok(None) => {
                p.unpublished += 1;
                if p.unpublished_names.len() < LISTED {
                    p.unpublished_names
                        .push(format!("{} '{}'", what(kind), cut(name, STRING_MAX)));
                }
            }
            Err(e) if e.class.ends_the_invocation() => {
                p.left = Some((todo.len() - n) as u64);
                p.stopped = Some(e);
                return p;
            }
            // Deleted since it was listed: nothing to read.
            Err(e) if e.class == ConnectErrorClass::NotFound => {}
            Err(e) => p.problem(format!("{} '{}': {e}", what(kind), cut(name, STRING_MAX))),
        }
        p.cursor.after = Some(rid.clone());
    }
    p.cursor.done = true;
    p.left = Some(0);
    p
}

/// The listed resources after `cursor`, in ID order: one sort, one binary search.
fn after(listed: Vec<ResourceSummary>, cursor: Option<&str>) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = listed
        .into_iter()
        .filter_map(|r| Some((r.id?, r.name)))
        .collect();
    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    all.dedup_by(|a, b| a.0 == b.0);
    let from = cursor.map_or(0, |c| all.partition_point(|(rid, _)| rid.as_str() <= c));
    all.split_off(from)
}

fn finding(kind: Kind, id: &str, name: &str, found: &[String]) -> HardcodedRegion {
    HardcodedRegion {
        kind,
        id: id.to_string(),
        name: cut(name, STRING_MAX).to_string(),
        found: found
            .iter()
            .take(FOUND_KEPT)
            .map(|s| cut(s, STRING_MAX).to_string())
            .collect(),
        found_total: found.len() as u64,
    }
}

/// What one invocation did to the scan.
pub(crate) struct Resumed {
    /// The scan's position moved: this invocation did some of the work.
    pub moved: bool,
    /// Why it stopped before the end (the invocation's time or Connect's quota ran out).
    pub stopped: Option<ConnectError>,
    pub flows_left: Option<u64>,
    pub modules_left: Option<u64>,
}

/// Scans on from where `scan` stands, within the invocation's deadline, and folds what this
/// invocation found into it; its findings are written to new `HARDCODED#` pages first (a retry
/// after a failed save rewrites the same pages). The caller stores `scan`.
pub(crate) async fn resume<C: Connect, S: PreflightStore>(
    connect: &C,
    store: &S,
    scan: &mut FlowScan,
    now: i64,
) -> Result<Resumed, StepError> {
    let id = scan.instance_id.clone();
    let (flows, modules) = tokio::join!(
        pass(connect, &id, Kind::ContactFlows, scan.flows.clone()),
        pass(connect, &id, Kind::ContactFlowModules, scan.modules.clone()),
    );
    let moved = flows.cursor != scan.flows || modules.cursor != scan.modules;
    let resumed = Resumed {
        moved,
        stopped: flows.stopped.clone().or_else(|| modules.stopped.clone()),
        flows_left: flows.left,
        modules_left: modules.left,
    };
    let hits: Vec<&HardcodedRegion> = flows.hits.iter().chain(&modules.hits).collect();
    write_pages(store, scan, &hits, now).await?;
    for p in [flows, modules] {
        scan.scanned += p.scanned;
        scan.hardcoded += p.hits.len() as u64;
        scan.unpublished += p.unpublished;
        scan.unreadable += p.unreadable;
        let room = LISTED.saturating_sub(scan.sample.len());
        scan.sample.extend(p.hits.into_iter().take(room));
        let room = LISTED.saturating_sub(scan.unpublished_sample.len());
        scan.unpublished_sample
            .extend(p.unpublished_names.into_iter().take(room));
        let room = PROBLEMS_KEPT.saturating_sub(scan.problems.len());
        scan.problems.extend(p.problems.into_iter().take(room));
        match p.kind {
            Kind::ContactFlows => scan.flows = p.cursor,
            _ => scan.modules = p.cursor,
        }
    }
    scan.done = scan.flows.done && scan.modules.done;
    Ok(resumed)
}

/// The findings in pages of at most [`PAGE_BYTES`] of JSON, numbered on from the scan's.
async fn write_pages<S: PreflightStore>(
    store: &S,
    scan: &mut FlowScan,
    hits: &[&HardcodedRegion],
    now: i64,
) -> Result<(), StepError> {
    let mut pages: Vec<Vec<HardcodedRegion>> = Vec::new();
    let mut bytes = 0;
    for hit in hits {
        let size = serde_json::to_string(hit).map_or(PAGE_BYTES, |s| s.len() + 1);
        match pages.last_mut() {
            Some(page) if bytes + size <= PAGE_BYTES => page.push((*hit).clone()),
            _ => {
                pages.push(vec![(*hit).clone()]);
                bytes = 0;
            }
        }
        bytes += size;
    }
    for findings in pages {
        store
            .put_hardcoded_page(&HardcodedPage {
                instance_id: scan.instance_id.clone(),
                run_id: scan.run_id.clone(),
                generation: scan.generation,
                page: scan.pages,
                findings,
                at: now,
            })
            .await?;
        scan.pages += 1;
    }
    Ok(())
}

/// The report's flow checks from the scan as it stands: `flows-scanned` (a warn while flows are
/// left, naming how many), then the first findings, then how many more are in the run table.
pub(crate) fn flow_checks(scan: &FlowScan, resumed: &Resumed, source: &Region) -> Vec<Check> {
    let key = findings_key(scan);
    let mut summary = format!(
        "scanned {} flows and flow modules{}; {} hardcode a region",
        scan.scanned,
        if scan.done { "" } else { " so far" },
        scan.hardcoded
    );
    if scan.hardcoded > scan.sample.len() as u64 {
        summary.push_str(&format!(
            " (the first {} are listed; all are in the run table, items {key}*)",
            scan.sample.len()
        ));
    }
    if scan.unpublished > 0 {
        summary.push_str(&format!(
            "; not published, so not scanned: {} (check them before publishing)",
            first(
                &scan.unpublished_sample,
                scan.unpublished as usize,
                LISTED,
                ", "
            )
        ));
    }
    if scan.unreadable > 0 {
        summary.push_str(&format!(
            "; could not read {}: {}",
            scan.unreadable,
            first(
                &scan.problems,
                scan.unreadable as usize,
                PROBLEMS_KEPT,
                "; "
            )
        ));
    }
    let mut fixes = Vec::new();
    if !scan.done {
        let left = |n: Option<u64>, what: &str| {
            n.map_or(format!("the {what}s are not listed yet"), |n| {
                format!("{n} {what}s remain")
            })
        };
        summary.push_str(&format!(
            "; {} and {} (Connect allows 2 reads/s of each)",
            left(resumed.flows_left, "flow"),
            left(resumed.modules_left, "flow module")
        ));
        fixes.push(format!(
            "Nothing to do when the replication state machine runs preflight: it invokes it again until the scan is done. By hand, invoke preflight again with runId '{}': it reads on after the last flow read.",
            scan.run_id
        ));
    }
    if scan.unreadable > 0 {
        fixes.push(format!("Allow this function's role connect:ListContactFlows, connect:DescribeContactFlow, connect:ListContactFlowModules and connect:DescribeContactFlowModule in {source}, then run again."));
    }
    let mut checks = vec![if fixes.is_empty() {
        Check::pass("flows-scanned", summary)
    } else {
        Check::warn("flows-scanned", summary, fixes.join(" "))
    }];
    for hit in &scan.sample {
        checks.push(Check::warn(
            "hardcoded-region",
            format!(
                "{} '{}' hardcodes a region: {}",
                what(hit.kind),
                hit.name,
                first(&hit.found, hit.found_total as usize, FOUND_SHOWN, ", ")
            ),
            FIX,
        ));
    }
    let more = scan.hardcoded.saturating_sub(scan.sample.len() as u64);
    if more > 0 {
        checks.push(Check::warn(
            "hardcoded-region",
            format!(
                "and {more} more flows and flow modules hardcode a region: all {} are in the run table, items {key}* of INSTANCE#{}",
                scan.hardcoded, scan.instance_id
            ),
            FIX,
        ));
    }
    checks
}

/// The sort key prefix of the pages that list every finding of the scan.
pub(crate) fn findings_key(scan: &FlowScan) -> String {
    hardcoded_prefix(&scan.run_id, scan.generation)
}

pub(crate) fn counts(scan: &FlowScan, resumed: &Resumed) -> FlowCounts {
    FlowCounts {
        scanned: scan.scanned,
        hardcoded: scan.hardcoded,
        unpublished: scan.unpublished,
        unreadable: scan.unreadable,
        flows_left: if scan.done { None } else { resumed.flows_left },
        modules_left: if scan.done {
            None
        } else {
            resumed.modules_left
        },
        findings_key: findings_key(scan),
    }
}
