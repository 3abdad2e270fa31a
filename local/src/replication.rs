//! The run table as a DynamoDB global table, locally: moto 5.2.5 has no global tables, so the
//! two-region [`Stack`](crate::stack::Stack) runs one table per region (each in that region's
//! moto) and this replicator keeps them converging the way global-table replication does.
//!
//! How it works: a tokio task of the stack's process (not a separate binary: the stack pauses and
//! resumes it in step with a region outage, and tests wait on its state, so sharing memory is
//! simpler than a control API; it stops when the stack is dropped). Every `tick` (a quarter of the
//! lag, from 50 to 500 ms) one *pass* scans both tables (consistent reads), compares each side with
//! what that side held after the previous pass, and queues every difference as a *version* of the
//! key: a put, an update (any attribute changed) or a delete, stamped with the time the pass saw
//! it. A version is applied to the other region once it is `lag` old (default 1 s), so a write
//! shows up in the other region no sooner than `lag` after it was made, and usually within
//! `lag + tick`. It is applied with a conditional write that expects the item the pass just read
//! in the target region (all its scalar attributes equal; `attribute_not_exists(pk)` for an absent
//! item), so the replicator never overwrites a write it has not seen: if the target changed in
//! between, the write is dropped and the next pass sees the target's change.
//!
//! Conflicts: last writer wins, as observed by the replicator. Of the queued versions of a key the
//! newest due one is applied; an older version from either side is superseded, and a version is
//! dropped when the target region has a newer change of the same key (which then travels the other
//! way). When both regions changed one key between two passes (the same stamp), the region listed
//! first (the source region) wins. DynamoDB itself resolves by write timestamp; here the order is
//! the order of observation, so two writes closer together than a tick can resolve either way.
//!
//! Outages: nothing is scanned in, or written to, a region that is down, and nothing queued from
//! it is applied elsewhere while it is down (its moto is frozen). Writes queued for it wait. When
//! it comes back, the first pass compares it with what it held before: a write made there just
//! before the outage that had not replicated yet arrives late, stamped with the time the region went
//! down. It is applied to the other region at once, unless the other region changed the same key
//! during the outage (a later stamp): then the other region's value wins in both.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use tokio::sync::Mutex;

/// One item: attribute name to value.
pub type Item = HashMap<String, AttributeValue>;
/// The key of an item of the run table: (`pk`, `sk`).
pub type Key = (String, String);
/// A whole table by key.
pub type Table = BTreeMap<Key, Item>;

/// The (`pk`, `sk`) of an item (both strings in the run table).
pub fn key_of(item: &Item) -> Option<Key> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    Some((s("pk")?, s("sk")?))
}

/// One change of a key seen in one region, not yet replicated.
#[derive(Debug, Clone)]
struct Version {
    side: usize,
    value: Option<Item>,
    observed: Instant,
}

/// The order of versions: by stamp, and at equal stamps the first region is the newer.
fn order(observed: Instant, side: usize) -> (Instant, Reverse<usize>) {
    (observed, Reverse(side))
}

impl Version {
    fn order(&self) -> (Instant, Reverse<usize>) {
        order(self.observed, self.side)
    }
}

/// A write the replicator is to make: `value` (None: delete) into region `to`, expecting `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub key: Key,
    pub from: usize,
    pub to: usize,
    pub expected: Option<Item>,
    pub value: Option<Item>,
    observed: Instant,
}

#[derive(Debug)]
struct Side {
    region: String,
    up: bool,
    /// The table as the last pass left it (after the replicator's own writes).
    seen: Table,
    down_since: Option<Instant>,
    /// The stamp of changes first seen on the pass after a recovery.
    late_stamp: Option<Instant>,
}

/// The replication state of two regions, without I/O: [`Replication::observe`] each region's
/// table, then [`Replication::due`] gives the writes, and [`Replication::applied`] records those
/// that were made.
#[derive(Debug)]
pub struct Replication {
    lag: Duration,
    sides: Vec<Side>,
    pending: BTreeMap<Key, Vec<Version>>,
}

impl Replication {
    /// Two regions, the first one winning ties.
    pub fn new(regions: [&str; 2], lag: Duration) -> Replication {
        Replication {
            lag,
            sides: regions
                .iter()
                .map(|r| Side {
                    region: r.to_string(),
                    up: true,
                    seen: Table::new(),
                    down_since: None,
                    late_stamp: None,
                })
                .collect(),
            pending: BTreeMap::new(),
        }
    }

    pub fn lag(&self) -> Duration {
        self.lag
    }

    pub fn regions(&self) -> Vec<&str> {
        self.sides.iter().map(|s| s.region.as_str()).collect()
    }

    /// The index of a region.
    pub fn side(&self, region: &str) -> Option<usize> {
        self.sides.iter().position(|s| s.region == region)
    }

    pub fn is_up(&self, side: usize) -> bool {
        self.sides[side].up
    }

    /// The region is down from `now`: nothing crosses to or from it.
    pub fn down(&mut self, side: usize, now: Instant) {
        let s = &mut self.sides[side];
        if s.up {
            s.up = false;
            s.down_since = Some(now);
        }
    }

    /// The region is back: its changes not seen before the outage are stamped with its start.
    pub fn up(&mut self, side: usize) {
        let s = &mut self.sides[side];
        if !s.up {
            s.up = true;
            s.late_stamp = s.down_since.take();
        }
    }

    /// How many keys have changes not replicated yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes in a region's whole table: every difference from the last pass is a new version.
    pub fn observe(&mut self, side: usize, table: &Table, now: Instant) {
        let stamp = self.sides[side].late_stamp.take().unwrap_or(now);
        let seen = &self.sides[side].seen;
        let keys: BTreeSet<&Key> = table.keys().chain(seen.keys()).collect();
        for key in keys {
            let current = table.get(key);
            if current != seen.get(key) {
                let versions = self.pending.entry(key.clone()).or_default();
                versions.push(Version {
                    side,
                    value: current.cloned(),
                    observed: stamp,
                });
                versions.sort_by_key(Version::order);
            }
        }
        self.sides[side].seen = table.clone();
    }

    /// The writes due at `now`, given each region's table as this pass read it (None: down).
    /// Versions that need no write (superseded, or already there) are settled here.
    pub fn due(&mut self, now: Instant, tables: [Option<&Table>; 2]) -> Vec<Write> {
        let mut writes = Vec::new();
        let all_up = self.sides.iter().all(|s| s.up) && tables.iter().all(Option::is_some);
        if !all_up {
            return writes;
        }
        for (key, versions) in self.pending.iter_mut() {
            let Some(at) = versions.iter().rposition(|v| v.observed + self.lag <= now) else {
                continue;
            };
            let w = &versions[at];
            let to = 1 - w.side;
            // A newer change of this key in the target region wins: it travels the other way.
            let target_is_newer = versions[at + 1..].iter().any(|v| v.side == to);
            let current = tables[to].and_then(|t| t.get(key));
            if target_is_newer || current == w.value.as_ref() {
                versions.drain(..=at);
                continue;
            }
            writes.push(Write {
                key: key.clone(),
                from: w.side,
                to,
                expected: current.cloned(),
                value: w.value.clone(),
                observed: w.observed,
            });
        }
        self.pending.retain(|_, v| !v.is_empty());
        writes
    }

    /// A write of [`Replication::due`] was made: the target holds it, and every version up to the
    /// one written is settled.
    pub fn applied(&mut self, w: &Write) {
        let seen = &mut self.sides[w.to].seen;
        match &w.value {
            Some(item) => {
                seen.insert(w.key.clone(), item.clone());
            }
            None => {
                seen.remove(&w.key);
            }
        }
        let upto = order(w.observed, w.from);
        if let Some(versions) = self.pending.get_mut(&w.key) {
            versions.retain(|v| v.order() > upto);
            if versions.is_empty() {
                self.pending.remove(&w.key);
            }
        }
    }
}

/// What the replicator has done, for tests and logs.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub passes: u64,
    /// Puts and deletes applied to the other region.
    pub writes: u64,
    /// Writes dropped because the target changed between the scan and the write.
    pub lost_races: u64,
    /// The last failed pass or write, if any.
    pub last_error: Option<String>,
}

struct Shared {
    core: Replication,
    clients: [aws_sdk_dynamodb::Client; 2],
    table: String,
    stats: Stats,
}

/// The replicator task of a two-region stack (see the module documentation). Aborted on drop.
pub struct Replicator {
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The period of passes for a lag.
pub fn tick(lag: Duration) -> Duration {
    (lag / 4).clamp(Duration::from_millis(50), Duration::from_millis(500))
}

impl Replicator {
    /// Starts replicating `table` between two regions (`(region, client of its DynamoDB)`); the
    /// first region wins ties. The clients should time out quickly (a frozen region must not
    /// stall a pass for long).
    pub fn spawn(
        regions: [(String, aws_sdk_dynamodb::Client); 2],
        table: &str,
        lag: Duration,
    ) -> Replicator {
        let [(r0, c0), (r1, c1)] = regions;
        let shared = Arc::new(Mutex::new(Shared {
            core: Replication::new([&r0, &r1], lag),
            clients: [c0, c1],
            table: table.to_string(),
            stats: Stats::default(),
        }));
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                loop {
                    {
                        let mut s = shared.lock().await;
                        s.pass().await;
                    }
                    tokio::time::sleep(tick(lag)).await;
                }
            }
        });
        Replicator { shared, task }
    }

    /// Stops replication to and from `region` (waits for a pass under way to end).
    pub async fn pause(&self, region: &str) -> anyhow::Result<()> {
        let mut s = self.shared.lock().await;
        let side = s
            .core
            .side(region)
            .ok_or_else(|| anyhow::anyhow!("no region {region} in the replication"))?;
        s.core.down(side, Instant::now());
        Ok(())
    }

    /// Resumes replication to and from `region`.
    pub async fn resume(&self, region: &str) -> anyhow::Result<()> {
        let mut s = self.shared.lock().await;
        let side = s
            .core
            .side(region)
            .ok_or_else(|| anyhow::anyhow!("no region {region} in the replication"))?;
        s.core.up(side);
        Ok(())
    }

    pub async fn stats(&self) -> Stats {
        self.shared.lock().await.stats.clone()
    }

    pub async fn lag(&self) -> Duration {
        self.shared.lock().await.core.lag()
    }

    /// Whether both regions are up, hold equal tables, and nothing is queued (between passes).
    pub async fn converged(&self) -> anyhow::Result<bool> {
        let s = self.shared.lock().await;
        if let Some(down) = (0..2).find(|&i| !s.core.is_up(i)) {
            anyhow::bail!("{} is down", s.core.regions()[down]);
        }
        if s.core.pending() > 0 {
            return Ok(false);
        }
        let a = scan(&s.clients[0], &s.table).await?;
        let b = scan(&s.clients[1], &s.table).await?;
        Ok(a == b)
    }
}

impl Shared {
    async fn pass(&mut self) {
        self.stats.passes += 1;
        let mut tables: [Option<Table>; 2] = [None, None];
        for (side, slot) in tables.iter_mut().enumerate() {
            if !self.core.is_up(side) {
                continue;
            }
            match scan(&self.clients[side], &self.table).await {
                Ok(t) => *slot = Some(t),
                Err(e) => {
                    self.stats.last_error = Some(format!("scan {side}: {e:#}"));
                    return;
                }
            }
        }
        // Stamped after the scans: a write they saw was made before this instant.
        let now = Instant::now();
        for (side, t) in tables.iter().enumerate() {
            if let Some(t) = t {
                self.core.observe(side, t, now);
            }
        }
        let writes = self.core.due(now, [tables[0].as_ref(), tables[1].as_ref()]);
        for w in writes {
            match write(&self.clients[w.to], &self.table, &w).await {
                Ok(true) => {
                    self.core.applied(&w);
                    self.stats.writes += 1;
                }
                Ok(false) => self.stats.lost_races += 1,
                Err(e) => self.stats.last_error = Some(format!("write: {e:#}")),
            }
        }
    }
}

/// The whole table (consistent reads).
pub async fn scan(client: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<Table> {
    let mut out = Table::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "scan {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
        for item in page.items.unwrap_or_default() {
            if let Some(k) = key_of(&item) {
                out.insert(k, item);
            }
        }
        start = page.last_evaluated_key.filter(|k| !k.is_empty());
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// A condition that holds while the item is still `expected`: its scalar attributes equal (the
/// others present), or no item.
fn condition(expected: Option<&Item>) -> (String, Item, HashMap<String, String>) {
    let mut names = HashMap::new();
    let mut values = Item::new();
    let Some(item) = expected else {
        names.insert("#pk".to_string(), "pk".to_string());
        return ("attribute_not_exists(#pk)".into(), values, names);
    };
    let mut terms = Vec::new();
    let mut attrs: Vec<(&String, &AttributeValue)> = item.iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, value)) in attrs.into_iter().enumerate() {
        names.insert(format!("#a{i}"), name.clone());
        match value {
            AttributeValue::S(_)
            | AttributeValue::N(_)
            | AttributeValue::B(_)
            | AttributeValue::Bool(_) => {
                values.insert(format!(":v{i}"), value.clone());
                terms.push(format!("#a{i} = :v{i}"));
            }
            _ => terms.push(format!("attribute_exists(#a{i})")),
        }
    }
    (terms.join(" AND "), values, names)
}

/// Makes one write; Ok(false) when the target changed since it was read.
async fn write(client: &aws_sdk_dynamodb::Client, table: &str, w: &Write) -> anyhow::Result<bool> {
    use aws_sdk_dynamodb::error::DisplayErrorContext;
    let (expression, values, names) = condition(w.expected.as_ref());
    let values = (!values.is_empty()).then_some(values);
    let failed = |what: &str, e: &dyn std::error::Error| {
        anyhow::anyhow!("{what} {:?} in {table}: {}", w.key, DisplayErrorContext(e))
    };
    match &w.value {
        Some(item) => {
            let result = client
                .put_item()
                .table_name(table)
                .set_item(Some(item.clone()))
                .condition_expression(expression)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(values)
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(failed("put", &e)),
            }
        }
        None => {
            let result = client
                .delete_item()
                .table_name(table)
                .key("pk", AttributeValue::S(w.key.0.clone()))
                .key("sk", AttributeValue::S(w.key.1.clone()))
                .condition_expression(expression)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(values)
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(failed("delete", &e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAG: Duration = Duration::from_secs(1);

    fn item(pk: &str, sk: &str, data: &str) -> Item {
        Item::from([
            ("pk".to_string(), AttributeValue::S(pk.into())),
            ("sk".to_string(), AttributeValue::S(sk.into())),
            ("data".to_string(), AttributeValue::S(data.into())),
        ])
    }

    fn table(items: &[Item]) -> Table {
        items
            .iter()
            .map(|i| (key_of(i).unwrap(), i.clone()))
            .collect()
    }

    /// One pass: observe both (or the up ones), return the due writes, apply them all.
    fn pass(r: &mut Replication, tables: &mut [Table; 2], now: Instant) -> Vec<Write> {
        for (side, table) in tables.iter().enumerate() {
            if r.is_up(side) {
                r.observe(side, table, now);
            }
        }
        let views = [
            r.is_up(0).then(|| tables[0].clone()),
            r.is_up(1).then(|| tables[1].clone()),
        ];
        let writes = r.due(now, [views[0].as_ref(), views[1].as_ref()]);
        for w in &writes {
            let t = &mut tables[w.to];
            assert_eq!(t.get(&w.key), w.expected.as_ref());
            match &w.value {
                Some(i) => t.insert(w.key.clone(), i.clone()),
                None => t.remove(&w.key),
            };
            r.applied(w);
        }
        writes
    }

    #[test]
    fn a_put_crosses_after_the_lag_and_a_delete_follows() {
        let t0 = Instant::now();
        let mut r = Replication::new(["east", "west"], LAG);
        let mut t = [Table::new(), Table::new()];
        pass(&mut r, &mut t, t0);
        t[0] = table(&[item("A", "1", "x")]);
        assert!(pass(&mut r, &mut t, t0 + Duration::from_millis(100)).is_empty());
        assert!(pass(&mut r, &mut t, t0 + Duration::from_millis(1099)).is_empty());
        assert_eq!(
            pass(&mut r, &mut t, t0 + Duration::from_millis(1100)).len(),
            1
        );
        assert_eq!(t[0], t[1]);
        assert_eq!(r.pending(), 0);
        // the write it made is not seen as a change of the target
        assert!(pass(&mut r, &mut t, t0 + Duration::from_secs(5)).is_empty());
        assert_eq!(r.pending(), 0);

        t[1].clear();
        pass(&mut r, &mut t, t0 + Duration::from_secs(6));
        let w = pass(&mut r, &mut t, t0 + Duration::from_secs(7));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].value, None);
        assert!(t[0].is_empty() && t[1].is_empty());
    }

    #[test]
    fn the_later_change_wins_and_the_source_region_wins_ties() {
        let t0 = Instant::now();
        let mut r = Replication::new(["east", "west"], LAG);
        let mut t = [Table::new(), Table::new()];
        pass(&mut r, &mut t, t0);
        // east first, west later: west's value ends in both
        t[0] = table(&[item("A", "1", "east")]);
        pass(&mut r, &mut t, t0 + Duration::from_millis(100));
        t[1] = table(&[item("A", "1", "west")]);
        pass(&mut r, &mut t, t0 + Duration::from_millis(200));
        pass(&mut r, &mut t, t0 + Duration::from_millis(1150));
        assert_eq!(
            t[1],
            table(&[item("A", "1", "west")]),
            "east's older write dropped"
        );
        pass(&mut r, &mut t, t0 + Duration::from_millis(1250));
        assert_eq!(t[0], t[1]);
        assert_eq!(t[0], table(&[item("A", "1", "west")]));

        // both in one pass: the first region (east) wins
        t[0] = table(&[item("A", "1", "east-2")]);
        t[1] = table(&[item("A", "1", "west-2")]);
        pass(&mut r, &mut t, t0 + Duration::from_secs(3));
        pass(&mut r, &mut t, t0 + Duration::from_secs(4));
        assert_eq!(t[0], t[1]);
        assert_eq!(t[0], table(&[item("A", "1", "east-2")]));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn nothing_crosses_while_a_region_is_down_and_late_writes_lose_to_newer_ones() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut r = Replication::new(["east", "west"], LAG);
        let mut t = [Table::new(), Table::new()];
        pass(&mut r, &mut t, t0);
        // east writes A and B; a pass sees them, then east goes down before they are due
        t[0] = table(&[item("A", "1", "east"), item("B", "1", "east")]);
        pass(&mut r, &mut t, t0 + s(1));
        // and writes C just before going down, unseen
        t[0].insert(("C".into(), "1".into()), item("C", "1", "east"));
        r.down(0, t0 + s(1) + Duration::from_millis(500));
        // west writes B (newer) and D while east is down
        t[1] = table(&[item("B", "1", "west"), item("D", "1", "west")]);
        for i in 2..10 {
            assert!(
                pass(&mut r, &mut t, t0 + s(i)).is_empty(),
                "nothing crosses"
            );
        }
        assert_eq!(t[1].len(), 2);
        r.up(0);
        pass(&mut r, &mut t, t0 + s(10));
        assert_eq!(t[0], t[1], "converged in one pass");
        assert_eq!(
            t[0],
            table(&[
                item("A", "1", "east"),
                item("B", "1", "west"),
                item("C", "1", "east"),
                item("D", "1", "west"),
            ])
        );
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn conditions_name_every_attribute() {
        let (expr, values, names) = condition(Some(&item("A", "1", "x")));
        assert_eq!(expr, "#a0 = :v0 AND #a1 = :v1 AND #a2 = :v2");
        assert_eq!(names["#a0"], "data");
        assert_eq!(values.len(), 3);
        let (expr, values, _) = condition(None);
        assert_eq!(expr, "attribute_not_exists(#pk)");
        assert!(values.is_empty());
    }
}
