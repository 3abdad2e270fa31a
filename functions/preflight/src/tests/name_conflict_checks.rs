//! Name conflicts with an existing replica: found, recorded, and found fast at any size.

use super::*;
use std::time::Duration;

use acgr::mirroring::ConflictRecord;

#[tokio::test]
async fn a_name_conflict_with_an_existing_replica_fails_and_is_recorded() {
    let (ctx, probe) = ctx();
    {
        let mut w = ctx.source.world();
        let mut replica = w.instances[&(EAST.to_string(), ID.to_string())].clone();
        replica.arn = replica.arn.replace(EAST, WEST);
        w.instances.insert((WEST.into(), ID.into()), replica);
        w.resources.insert(
            (EAST.into(), ID.into(), Kind::Queues),
            vec![res("q-1", "Billing"), res("q-2", "Support")],
        );
        w.resources.insert(
            (WEST.into(), ID.into(), Kind::Queues),
            vec![res("q-9", "Billing"), res("q-2", "Support")],
        );
    }
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "name-conflicts");
    assert_eq!(check.verdict, Verdict::Fail);
    for part in ["queues", "'Billing'", "q-1", "q-9"] {
        assert!(check.message.contains(part), "{part}: {}", check.message);
    }
    assert!(!check.message.contains("Support"));
    let conflicts = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (
            c.kind,
            c.name.as_str(),
            c.source_id.as_deref(),
            c.replica_id.as_deref()
        ),
        (Kind::Queues, "Billing", Some("q-1"), Some("q-9"))
    );
    preflight(&ctx, &probe, input(), 200).await.unwrap();
    let again = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(
        (again.len(), again[0].first_seen, again[0].last_seen),
        (1, 100, 200),
        "upserted, first seen kept"
    );
}

#[tokio::test]
async fn name_conflicts_are_found_in_one_pass_over_twenty_thousand_names_each_side() {
    // given a replica where half of 20,000 queue names are another queue, a quarter mirror the
    // source, and a quarter are the replica's own; and 40,000 conflicts of old on record
    let (ctx, probe) = ctx();
    let source: Vec<ResourceSummary> = (0..20_000)
        .map(|n| res(&format!("src-{n}"), &format!("Queue {n}")))
        .collect();
    let mut replica: Vec<ResourceSummary> = (0..20_000)
        .map(|n| match n % 4 {
            0 | 2 => res(&format!("rep-{n}"), &format!("Queue {n}")),
            1 => res(&format!("src-{n}"), &format!("Queue {n}")),
            _ => res(&format!("rep-{n}"), &format!("Replica only {n}")),
        })
        .collect();
    replica.reverse();
    {
        let mut w = ctx.source.world();
        let mut there = w.instances[&(EAST.to_string(), ID.to_string())].clone();
        there.arn = there.arn.replace(EAST, WEST);
        w.instances.insert((WEST.into(), ID.into()), there);
        w.resources
            .insert((EAST.into(), ID.into(), Kind::Queues), source);
        w.resources
            .insert((WEST.into(), ID.into(), Kind::Queues), replica);
    }
    for n in 0..40_000 {
        ctx.store
            .put_conflict(&ConflictRecord {
                instance_id: ID.into(),
                kind: Kind::Queues,
                name: format!("Old queue {n}"),
                source_id: Some(format!("old-{n}")),
                replica_id: Some(format!("older-{n}")),
                region: Some(WEST.into()),
                first_seen: 1,
                last_seen: 2,
                resolved: true,
                resolved_at: Some(3),
            })
            .await
            .unwrap();
    }

    // when preflight checks the names
    let started = std::time::Instant::now();
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let took = started.elapsed();

    // then it finds exactly the 10,000 planted conflicts, fast, and names the first few
    let check = only(&report, "name-conflicts");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(
        check.message.starts_with("10000 name conflicts: "),
        "{}",
        &check.message[..80]
    );
    assert!(
        check.message.ends_with("and 9980 more"),
        "{}",
        check.message
    );
    let recorded: Vec<String> = ctx
        .store
        .conflicts(ID)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| !c.resolved)
        .map(|c| c.name)
        .collect();
    let planted: std::collections::BTreeSet<String> = (0..20_000)
        .filter(|n| n % 2 == 0)
        .map(|n| format!("Queue {n}"))
        .collect();
    assert_eq!(recorded.len(), 10_000);
    assert_eq!(
        recorded
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        planted
    );
    // (under 0.2 s in a debug build; comparing each sighting with each record took over 5 s)
    assert!(took < Duration::from_millis(2_500), "{took:?}");
    println!("20,000 names each side, 10,000 conflicts, 40,000 on record: {took:?}");
}
