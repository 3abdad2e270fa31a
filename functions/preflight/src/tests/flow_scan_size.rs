//! The flow scan at any size: the output and every stored item stay small.

use super::*;

/// An item's size as DynamoDB counts it: attribute names and values (the record is the JSON
/// string `data`; `expiresAt` a number).
fn item_size<T: serde::Serialize>(sk: String, record: &T) -> (String, usize) {
    let data = serde_json::to_string(record).unwrap();
    let bytes = "pk".len()
        + acgr::store::pk(ID).len()
        + "sk".len()
        + sk.len()
        + "data".len()
        + data.len()
        + "expiresAt".len()
        + 21;
    (sk, bytes)
}

/// Every item the run store holds: (sort key, size).
fn stored_items(store: &MemoryRunStore) -> Vec<(String, usize)> {
    let s = store.state();
    let mut out = Vec::new();
    for r in s.runs.values() {
        out.push(item_size(format!("RUN#{}", r.run_id), r));
    }
    for f in s.flow_scans.values() {
        out.push(item_size(format!("SCAN#{}", f.run_id), f));
    }
    for ((_, sk), p) in &s.hardcoded_pages {
        out.push(item_size(sk.clone(), p));
    }
    for c in s.conflicts.values() {
        out.push(item_size(
            format!("CONFLICT#{}#{}", c.kind.key(), c.name),
            c,
        ));
    }
    out
}

#[tokio::test]
async fn a_thousand_flows_hardcoding_a_region_keep_the_output_and_every_item_small() {
    // given 1,000 flows that each hardcode a Lambda ARN and a region name
    let (ctx, probe) = with_hardcoding_flows(1_000);

    // when preflight runs (one invocation: no deadline, no pacing)
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();

    // then it is done, and the report lists the first 20 and counts the rest
    assert!(report.done && report.ok);
    let flows = report.flows.as_ref().unwrap();
    assert_eq!((flows.scanned, flows.hardcoded), (1_000, 1_000));
    let hardcoded: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "hardcoded-region")
        .collect();
    assert_eq!(
        hardcoded.len(),
        flows::LISTED + 1,
        "20 listed and one that counts the rest"
    );
    assert!(
        hardcoded[0].message.contains("'Flow 0000'")
            && hardcoded[0].message.contains("acme-lookup-0,")
    );
    let more = hardcoded.last().unwrap();
    assert!(
        more.message.contains("980 more") && more.message.contains("HARDCODED#run-1#0001#"),
        "{}",
        more.message
    );
    // and the output, serialized, stays well under Step Functions' 256 KB
    let output = serde_json::to_string(&report).unwrap().len();
    assert!(output < 32 * 1024, "output: {output} bytes");
    // and every stored item stays well under DynamoDB's 400 KB
    let items = stored_items(&ctx.store);
    let (largest, bytes) = items.iter().max_by_key(|(_, b)| *b).unwrap();
    assert!(*bytes < 100 * 1024, "{largest}: {bytes} bytes");
    println!(
        "1,000 flows: output {output} bytes; largest item {largest} {bytes} bytes; {} items",
        items.len()
    );
    // and every finding is in the run table, once
    let pages = ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap();
    let ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| &p.findings)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(ids.len(), 1_000);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        1_000
    );
    assert!(pages.len() > 1, "paged: {}", pages.len());
    assert!(pages
        .iter()
        .all(|p| serde_json::to_string(p).unwrap().len() <= flows::PAGE_BYTES + 1024));
}

#[tokio::test]
async fn flows_with_huge_names_and_many_arns_are_cut_short_in_every_item() {
    // given 1,000 flows with 500-character names, each naming 200 distinct regional ARNs
    let long = "N".repeat(500);
    let contents: Vec<(String, String, String)> = (0..1_000)
        .map(|i| {
            let arns: String = (0..200)
                .map(|k| {
                    format!(
                        r#""arn:aws:lambda:us-east-1:123456789012:function:{}-{i}-{k}","#,
                        "f".repeat(60)
                    )
                })
                .collect();
            (
                format!("f-{i:05}"),
                format!("{long} {i}"),
                format!("[{arns}]"),
            )
        })
        .collect();
    let flows: Vec<(&str, &str, Option<&str>)> = contents
        .iter()
        .map(|(id, name, c)| (id.as_str(), name.as_str(), Some(c.as_str())))
        .collect();
    let ctx = FakeWorld::instance(ID, EAST)
        .with_flows(EAST, ID, &flows)
        .context(EAST, WEST)
        .unwrap();
    let probe = FakeProbe::new(r(WEST));

    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();

    assert_eq!(report.flows.as_ref().unwrap().hardcoded, 1_000);
    let output = serde_json::to_string(&report).unwrap().len();
    assert!(output < 128 * 1024, "output: {output} bytes");
    let items = stored_items(&ctx.store);
    let (largest, bytes) = items.iter().max_by_key(|(_, b)| *b).unwrap();
    assert!(*bytes < 100 * 1024, "{largest}: {bytes} bytes");
    println!("huge flows: output {output} bytes; largest item {largest} {bytes} bytes");
    let pages = ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap();
    let f = &pages[0].findings[0];
    assert_eq!((f.found.len(), f.found_total), (10, 200));
    assert!(report
        .checks
        .iter()
        .any(|c| c.message.contains("and 195 more")));
}
