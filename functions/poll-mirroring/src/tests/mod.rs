//! Unit tests of poll-mirroring over the in-memory Connect and run store: the set-up they share
//! here, then one file per family of behaviour.

mod agent_sync;
mod completion;
mod conflict_findings;
mod cost_and_emergency_access;
mod deadlines;
mod finding_classes;
mod hostile;
mod input_and_handler;

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::{Finding, Findings, ReplicationOperation, ResourceSummary};
use acgr::domain::{Kind, DEFAULT_QUEUE, DEFAULT_ROUTING_PROFILE};
use acgr::run::{Begin, Hold, StepRun};
use acgr::store::memory::MemoryRunStore;

/// The instance of the shipped scenarios and example events.
const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

const EAST: &str = "us-east-1";

const WEST: &str = "us-west-2";

const LIST: &str = "ListResources";

type Ctx = Context<FakeConnect, MemoryRunStore>;

fn res(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

fn users(n: usize) -> Vec<ResourceSummary> {
    (0..n)
        .map(|i| res(&format!("u{i}"), &format!("agent{i}")))
        .collect()
}

/// An instance replicated with `status`, its `n` users, two queues and the default routing
/// profile in both regions.
fn world(status: &str, n: usize) -> Ctx {
    FakeWorld::replicated(ID, EAST, WEST, status)
        .with_everywhere(
            ID,
            Kind::Queues,
            &[res("q0", DEFAULT_QUEUE), res("q1", "Billing")],
        )
        .with_everywhere(
            ID,
            Kind::RoutingProfiles,
            &[res("rp0", DEFAULT_ROUTING_PROFILE)],
        )
        .with_everywhere(ID, Kind::Users, &users(n))
        .context(EAST, WEST)
        .unwrap()
}

fn ctx(status: &str) -> Ctx {
    world(status, 2)
}

fn input() -> Input {
    run("run-1")
}

fn run(id: &str) -> Input {
    Input {
        header: Header::new(id, ID),
    }
}

/// A replication run (begun by an earlier step), not an agent sync.
async fn replication_run(ctx: &Ctx, id: &str) {
    let header = Header::new(id, ID);
    let replicate = Begin {
        header: &header,
        instance_id: ID,
        kind: RunKind::Replication,
        step: "replicate",
        inputs: Value::Null,
        hold: Hold::Nothing,
        lease_seconds: 900,
    };
    StepRun::begin(&ctx.store, replicate, 1).await.unwrap();
}

/// A replication run's poll (a name conflict fails it once replication has finished).
async fn replication(ctx: &Ctx, id: &str) -> Input {
    replication_run(ctx, id).await;
    run(id)
}

/// A finding of `code` on `operation`, in the replica region.
fn finding(id: &str, name: &str, code: &str, operation: ReplicationOperation) -> Finding {
    Finding {
        id: id.into(),
        name: Some(name.into()),
        region: Some(WEST.into()),
        message: Some(format!("{code} ({name})")),
        operation: Some(operation),
        reference_code: Some(code.into()),
        resource_type: None,
    }
}

/// A name conflict as Connect (and connect-sim) reports it.
fn conflict(id: &str, name: &str) -> Finding {
    finding(
        id,
        name,
        "RESOURCE_NAME_CONFLICT",
        ReplicationOperation::Create,
    )
}

/// The run ends (the association step would release the lock).
async fn end(ctx: &Ctx, run_id: &str) {
    ctx.store.release_lock(ID, run_id).await.unwrap();
}

fn drift(ctx: &Ctx, kind: Kind, n: i64, findings: Vec<Finding>) {
    ctx.source.world().findings.insert(
        (ID.into(), kind.finding_type().to_string()),
        Findings {
            findings,
            drift: vec![(EAST.into(), 0), (WEST.into(), n)],
            statuses: vec![],
        },
    );
}

fn set_status(ctx: &Ctx, status: &str) {
    for i in ctx.source.world().instances.values_mut() {
        for s in &mut i.replication.as_mut().unwrap().statuses {
            s.status = status.into();
        }
    }
}

/// The calls of a poll that lists nothing: DescribeInstance in each region, and one
/// ListReplicationFindings per resource type (the twelve kinds and every other documented type).
fn per_poll() -> usize {
    2 + Kind::ALL.len() + acgr::mirroring::finding_types::others(&[]).len()
}

fn calls(ctx: &Ctx) -> usize {
    ctx.source.world().calls.len()
}

/// Listing pages made, per kind key.
fn listings(ctx: &Ctx) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(LIST)
        .iter()
        .map(|c| format!("{}:{}", c.region, c.target))
        .collect()
}

fn clear_calls(ctx: &Ctx) {
    ctx.source.world().calls.clear();
}
