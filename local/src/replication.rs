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

mod state;
mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

pub use state::{key_of, Item, Key, Replication, Table, Write};
pub use store::scan;
use store::write;

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
    /// Each completed pass: when its scans began, and the stamp it gave what they saw.
    passes: std::collections::VecDeque<(Instant, Instant)>,
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
            passes: std::collections::VecDeque::new(),
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

    /// Whether every write made in either region before `t` has reached the other region (or
    /// been superseded): a pass that began after `t` has seen it, and nothing it or an earlier
    /// pass saw is still queued. Writes made after `t` do not count.
    pub async fn delivered_before(&self, t: Instant) -> bool {
        let s = self.shared.lock().await;
        let Some(&(_, stamp)) = s.passes.iter().find(|(began, _)| *began > t) else {
            return false;
        };
        s.core.oldest_pending().is_none_or(|oldest| oldest > stamp)
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
        let began = Instant::now();
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
        // Only the first pass after a given moment is ever asked for: keep a short history.
        if self.passes.len() >= 64 {
            self.passes.pop_front();
        }
        self.passes.push_back((began, now));
    }
}
