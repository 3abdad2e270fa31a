//! Unit tests of shift-traffic over the in-memory Connect and run store: the set-up they share
//! here, then one file per family of behaviour.

mod failover_and_failback;
mod gates_and_plans;
mod handler_and_dry_run;
mod hostile;
mod lock_and_concurrency;
mod retries_and_crashes;
mod routing;
mod several_groups;

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::{GroupSummary, ResourceSummary};
use acgr::domain::{Kind, Region};
use acgr::run::{RunKind, RunStatus};
use acgr::store::memory::MemoryRunStore;
use acgr::store::ports::*;
use acgr::traffic::steady::{record_steady_state, AgentCounts};
use acgr::traffic::ShiftStatus;

/// The instance of the shipped scenarios and example events.
const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

const EAST: &str = "us-east-1";

const WEST: &str = "us-west-2";

const ARN: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1";

const SALES: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g2";

type Ctx = Context<FakeConnect, MemoryRunStore>;

fn r(s: &str) -> Region {
    Region::parse(s).unwrap()
}

/// Every call before and including the update goes to the region taking the traffic (us-west-2);
/// the other region gets only the reads that confirm the shift stands there too, after it.
fn only_confirms_elsewhere(calls: &[acgr::connect::fake::FakeCall]) {
    let update = calls
        .iter()
        .position(|c| c.operation == "UpdateTrafficDistribution")
        .expect("an update");
    assert!(
        calls[..=update].iter().all(|c| c.region == WEST),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .filter(|c| c.region != WEST)
            .all(|c| c.operation == "GetTrafficDistribution"),
        "{calls:?}"
    );
}

fn settings() -> Settings {
    Settings {
        min_agent_share: 0.9,
        verify_timeout: Duration::from_millis(50),
        verify_interval: Duration::from_millis(1),
        confirm_timeout: Duration::from_millis(50),
        impaired_probe: Duration::from_millis(50),
    }
}

fn split(east: u8, sign_in: bool) -> CurrentDistribution {
    CurrentDistribution {
        telephony: vec![(r(EAST), east), (r(WEST), 100 - east)],
        agents: vec![(r(EAST), east), (r(WEST), 100 - east)],
        sign_in: sign_in.then(|| vec![(r(EAST), east > 0), (r(WEST), east < 100)]),
    }
}

fn group(id: &str, arn: &str, name: &str, is_default: bool) -> GroupSummary {
    GroupSummary {
        id: id.into(),
        arn: arn.into(),
        name: name.into(),
        instance_arn: format!("arn:aws:connect:us-east-1:1:instance/{ID}"),
        status: "ACTIVE".into(),
        is_default,
    }
}

/// A replicated instance, its default group at `east`% in us-east-1, ten agents.
fn ctx_at(east: u8) -> Ctx {
    let users: Vec<ResourceSummary> = (0..10)
        .map(|i| ResourceSummary {
            id: Some(format!("u{i}")),
            name: format!("agent{i}"),
        })
        .collect();
    let mut world = FakeWorld::replicated(ID, EAST, WEST, "INSTANCE_REPLICATION_COMPLETE")
        .with_everywhere(ID, Kind::Users, &users);
    world.groups.push((
        EAST.into(),
        WEST.into(),
        group("g1", ARN, "acme-default", true),
    ));
    world.distributions.insert(ARN.into(), split(east, true));
    world.context(EAST, WEST).unwrap()
}

/// `ctx_at`, with the steady state and 10 of 10 agents recorded by an agent-sync run.
async fn synced_at(east: u8) -> Ctx {
    let ctx = ctx_at(east);
    sync(&ctx, 10).await;
    ctx
}

async fn sync(ctx: &Ctx, associated: u64) {
    let counts = AgentCounts {
        group_arn: ARN.into(),
        associated,
        total: 10,
        members_checked_at: None,
    };
    record_steady_state(&ctx.source, &ctx.store, ID, "sync", Some(&counts), 1)
        .await
        .unwrap();
    ctx.source.world().calls.clear();
}

fn failover(run: &str) -> Input {
    Input {
        header: Header::new(run, ID),
        preset: Some(Preset::FailoverTo {
            failover_to: WEST.into(),
        }),
        ..Input::default()
    }
}

fn failback(run: &str) -> Input {
    Input {
        preset: Some(Preset::Named("failback".into())),
        ..failover(run)
    }
}

async fn go(ctx: &Ctx, input: Input, now: i64) -> Result<Output, StepError> {
    shift(ctx, &settings(), input, now, None).await
}

fn updates(ctx: &Ctx) -> Vec<(String, String)> {
    ctx.source
        .world()
        .calls_of("UpdateTrafficDistribution")
        .iter()
        .map(|c| (c.region.clone(), c.target.clone()))
        .collect()
}

fn live(ctx: &Ctx, arn: &str) -> CurrentDistribution {
    ctx.source.world().distributions[arn].clone()
}
