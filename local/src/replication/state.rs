//! The replication state of two regions, without I/O (see the module documentation of
//! [`crate::replication`] for the rules it implements).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

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

    /// The stamp of the oldest change not replicated yet, if any.
    pub fn oldest_pending(&self) -> Option<Instant> {
        self.pending.values().flatten().map(|v| v.observed).min()
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
}
