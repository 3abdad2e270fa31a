//! Unit tests of preflight over the in-memory Connect and run store: the set-up they share
//! here, then one file per family of checks.

mod dependency_checks;
mod flow_scan_at_quotas;
mod flow_scan_errors;
mod flow_scan_size;
mod hostile;
mod instance_and_pair;
mod name_conflict_checks;
mod run_and_report;

use super::*;
use crate::probe::FakeProbe;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::ResourceSummary;
use acgr::store::memory::MemoryRunStore;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

const EAST: &str = "us-east-1";

const WEST: &str = "us-west-2";

const LOOKUP: &str = "arn:aws:lambda:us-east-1:123456789012:function:acme-customer-lookup";

fn r(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn res(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

/// A clean instance in `source` (ACTIVE, alias, SAML, one Lambda function present in the
/// replica, one clean flow, one unpublished flow, one clean module), deployed to `replica`.
fn setup(source: &str, replica: &str) -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    let ctx = FakeWorld::instance(ID, source)
        .with_flows(
            source,
            ID,
            &[
                (
                    "f-1",
                    "Regional greeting",
                    Some(r#"{"Actions":[{"Parameters":{"Text":"Served from $.AwsRegion"}}]}"#),
                ),
                ("f-2", "Draft callback", None),
            ],
        )
        .with_modules(source, ID, &[("m-1", "Order status", r#"{"Actions":[]}"#)])
        .with_lambdas(ID, &[LOOKUP])
        .context(source, replica)
        .unwrap();
    let mut probe = FakeProbe::new(r(replica));
    probe.functions.insert("acme-customer-lookup".into());
    (ctx, probe)
}

fn ctx() -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    setup(EAST, WEST)
}

fn input() -> Input {
    Input {
        header: Header::new("run-1", ID),
        replica_region: WEST.into(),
        replica_alias: None,
        fail_on_error: Some(false),
    }
}

fn only<'r>(report: &'r Report, id: &str) -> &'r Check {
    let found: Vec<&Check> = report.checks.iter().filter(|c| c.id == id).collect();
    assert_eq!(found.len(), 1, "{id} in {:#?}", report.checks);
    found[0]
}

fn edit(ctx: &Context<FakeConnect, MemoryRunStore>, f: impl FnOnce(&mut InstanceInfo)) {
    let mut w = ctx.source.world();
    f(w.instances.get_mut(&(EAST.into(), ID.into())).unwrap());
}

/// `n` published flows named `Flow 0000`..., each hardcoding its own Lambda ARN and a region
/// name; no modules.
fn with_hardcoding_flows(n: usize) -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    let contents: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("f-{i:05}"),
                format!("Flow {i:04}"),
                format!(r#"{{"Actions":[{{"Parameters":{{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:acme-lookup-{i}"}}}},{{"Parameters":{{"ComparisonValue":"us-east-1"}}}}]}}"#),
            )
        })
        .collect();
    let flows: Vec<(&str, &str, Option<&str>)> = contents
        .iter()
        .map(|(id, name, c)| (id.as_str(), name.as_str(), Some(c.as_str())))
        .collect();
    let ctx = FakeWorld::instance(ID, EAST)
        .with_flows(EAST, ID, &flows)
        .with_modules(EAST, ID, &[])
        .context(EAST, WEST)
        .unwrap();
    (ctx, FakeProbe::new(r(WEST)))
}

fn reads_of(ctx: &Context<FakeConnect, MemoryRunStore>, op: &str) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(op)
        .iter()
        .map(|c| c.target.clone())
        .collect()
}
