//! Unit tests of associate-agents over the in-memory Connect and run store: the set-up they
//! share here, then one file per family of behaviour.

mod association;
mod call_costs;
mod failures;
mod group_choice;
mod hostile;
mod input_lock_and_handler;
mod members_check;
mod resuming;

use super::*;
use acgr::connect::fake::{self, FakeConnect, FakeWorld};
use acgr::connect::pace::Pacer;
use acgr::connect::{GroupSummary, ResourceSummary};
use acgr::run::{handler as deadline, Begin, Hold, Lock, LockOutcome, RunStatus, StepRun};
use acgr::store::memory::MemoryRunStore;
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

const EAST: &str = "us-east-1";

const WEST: &str = "us-west-2";

const ASSOCIATE: &str = "AssociateTrafficDistributionGroupUser";

const DEFAULT_GROUP: &str = "0b8e6f3a-1111-4c41-9a7e-2f1d5c8b9e10";

const CUSTOM_GROUP: &str = "0b8e6f3a-2222-4c41-9a7e-2f1d5c8b9e10";

fn group_arn(id: &str) -> String {
    fake::group(EAST, ID, id, false).arn
}

fn group(id: &str, instance: &str, status: &str, is_default: bool) -> GroupSummary {
    GroupSummary {
        status: status.into(),
        ..fake::group(EAST, instance, id, is_default)
    }
}

fn user(n: usize) -> ResourceSummary {
    ResourceSummary {
        id: Some(format!("u-{n:04}")),
        name: format!("agent{n:04}"),
    }
}

/// `users` agents in the source, the first `mirrored` of them in the replica, and an ACTIVE
/// default group.
fn ctx(users: usize, mirrored: usize) -> Context<FakeConnect, MemoryRunStore> {
    let all: Vec<ResourceSummary> = (0..users).map(user).collect();
    FakeWorld::default()
        .with_resources(EAST, ID, Kind::Users, &all)
        .with_resources(WEST, ID, Kind::Users, &all[..mirrored])
        .with_group(EAST, WEST, group(DEFAULT_GROUP, ID, "ACTIVE", true))
        .context(EAST, WEST)
        .unwrap()
}

fn input(run: &str) -> Input {
    Input {
        header: Header::new(run, ID),
        traffic_distribution_group: None,
        cursor: None,
        check_members: false,
    }
}

fn hire(ctx: &Context<FakeConnect, MemoryRunStore>, n: usize, regions: &[&str]) {
    let mut w = ctx.source.world();
    for r in regions {
        w.resources
            .get_mut(&(r.to_string(), ID.to_string(), Kind::Users))
            .unwrap()
            .push(user(n));
    }
}

fn associate_targets(ctx: &Context<FakeConnect, MemoryRunStore>) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(ASSOCIATE)
        .iter()
        .map(|c| c.target.clone())
        .collect()
}

fn group_members(ctx: &Context<FakeConnect, MemoryRunStore>, id: &str) -> usize {
    ctx.source
        .world()
        .group_users
        .get(&group_arn(id))
        .map_or(0, |s| s.len())
}

fn count(ctx: &Context<FakeConnect, MemoryRunStore>, operation: &str) -> usize {
    ctx.source.world().calls_of(operation).len()
}

fn assert_unique(targets: &[String]) {
    let set: HashSet<&String> = targets.iter().collect();
    assert_eq!(set.len(), targets.len(), "someone was associated twice");
}

/// Another run holds the instance's lock (taken at 50 for 900 s).
async fn locked_by(store: &MemoryRunStore, run_id: &str, kind: RunKind) {
    let lock = Lock::new(ID, run_id, kind, 900, 50);
    let taken = store.acquire_lock(&lock, 50).await.unwrap();
    assert!(matches!(taken, LockOutcome::Acquired { .. }), "{taken:?}");
}
