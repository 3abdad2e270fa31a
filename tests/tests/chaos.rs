//! The chaos drill: the real state machines on the local stack under injected faults, killed
//! processes, concurrent runs and hostile machine input. Every invariant is read from connect-sim's
//! call log and state and from the run table, never from our own output. Each experiment prints a
//! `chaos:` line of figures (`make chaos` collects them); `CHAOS=full` runs the long form, else
//! the reduced pass `make test` runs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use acgr::hostile::MUTATING;
use acgr_e2e::sim_api::{Fault, Faults};
use acgr_e2e::{
    default_group, replication_input, Options, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION,
};
use local_stack::drill::{splits, GroupSplit};
use local_stack::dynamodb_faults::FaultCounts;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(300);

fn full() -> bool {
    std::env::var("CHAOS").is_ok_and(|v| v == "full")
}

async fn stack() -> Stack {
    Stack::start(Options::state_machines("small", 100.0))
        .await
        .expect("the local stack starts")
}

async fn run(stack: &Stack, machine: &str, name: &str, input: &Value) -> acgr_e2e::Execution {
    stack
        .run_execution(machine, name, input, LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The invariants of a replication, a failover and a failback of `small`, from the control
/// plane and the table: the violations found.
async fn violations(
    stack: &Stack,
    runs: usize,
    before: &[GroupSplit],
    repeats_allowed: usize,
) -> Vec<String> {
    let mut v = Vec::new();
    let replicas = stack.accepted_calls("ReplicateInstance").await.len();
    if replicas != 1 {
        v.push(format!("{replicas} accepted ReplicateInstance, not 1"));
    }
    let state = stack.sim_state().await;
    let group = default_group(&state);
    let members: BTreeSet<&str> = group["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if members.len() != 50 {
        v.push(format!(
            "{} of 50 users in the default group",
            members.len()
        ));
    }
    let accepted = stack
        .accepted_calls("AssociateTrafficDistributionGroupUser")
        .await
        .len();
    // each association is recorded as Connect accepts it: a process killed between the two
    // repeats that one (idempotent) call, and no other
    if !(50..=50 + repeats_allowed).contains(&accepted) {
        v.push(format!(
            "{accepted} accepted associations for 50 users, {repeats_allowed} repeats allowed"
        ));
    }
    let after = splits(stack).await;
    if after != before {
        v.push(format!(
            "the distribution after failback {after:?} is not {before:?}"
        ));
    }
    if stack.item(INSTANCE_ID, "LOCK").await.is_some() {
        v.push("a lock is left".into());
    }
    let runs_ok = stack
        .items_under(INSTANCE_ID, "RUN#")
        .await
        .iter()
        .filter(|r| r.data["status"] == "succeeded")
        .count();
    if runs_ok < runs {
        v.push(format!("{runs_ok} runs recorded succeeded, not {runs}"));
    }
    for s in stack.items_under(INSTANCE_ID, "SHIFT#").await {
        if s.data["status"] != "done" {
            v.push(format!("shift {} left {}", s.sk, s.data["status"]));
        }
    }
    v
}

/// Replication, failover, failback; `before` is the distribution after replication.
async fn full_cycle(stack: &Stack, tag: &str) -> Vec<GroupSplit> {
    let e = run(
        stack,
        "replication",
        &format!("{tag}-repl"),
        &replication_input(1, 240),
    )
    .await;
    assert_eq!(e.status, "SUCCEEDED", "{e:#?}");
    let before = splits(stack).await;
    let failover = json!({"instanceId": INSTANCE_ID, "targetRegion": REPLICA_REGION});
    let e = run(stack, "failover", &format!("{tag}-over"), &failover).await;
    assert_eq!(e.status, "SUCCEEDED", "{e:#?}");
    let failback = json!({"instanceId": INSTANCE_ID, "preset": "failback"});
    let e = run(stack, "failover", &format!("{tag}-back"), &failback).await;
    assert_eq!(e.status, "SUCCEEDED", "{e:#?}");
    before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_every_connect_call_lose_nothing() {
    // given 10% of every Connect call answered 500 InternalServiceException, 100 ms added to
    // each, and Connect's real quotas (every operation's bucket at factor 1); and 10% of the
    // functions' DynamoDB requests failed (500 or throttled before they reach the table, or 500
    // after it applied them); one round, five with CHAOS=full, each its own seed
    let rounds: u64 = if full() { 5 } else { 1 };
    let started = Instant::now();
    let (mut connect, mut injected, mut throttled) = (0, 0, 0);
    let mut table = FaultCounts::default();
    let mut all = Vec::new();
    for round in 0..rounds {
        let seed = 2026 + round;
        let opts = Options::state_machines("small", 100.0).dynamodb_faults(0.1, seed);
        let stack = Stack::start(opts).await.expect("the local stack starts");
        let mut faults = Faults::default();
        faults.0.insert(
            "*".into(),
            Fault {
                error_rate: 0.1,
                latency_ms: 100,
            },
        );
        stack
            .sim_client()
            .set_faults(&faults)
            .await
            .expect("faults");

        // when replication, failover and failback run
        let before = full_cycle(&stack, "faults").await;

        // then nothing is lost or done twice
        let calls = stack.sim_calls(None).await;
        connect += calls.len();
        injected += calls
            .iter()
            .filter(|c| c["errorType"] == "InternalServiceException")
            .count();
        throttled += calls.iter().filter(|c| c["status"] == 429).count();
        table = table + stack.dynamodb_faults();
        // the SDK's retries of the faults are in the functions' metrics, per operation
        let retried = stack
            .emf_documents()
            .iter()
            .filter(|d| d["ConnectRetries"].as_f64().is_some_and(|n| n > 0.0))
            .filter(|d| d["Operation"].is_string())
            .count();
        if retried == 0 {
            all.push(format!(
                "seed {seed}: no ConnectRetries metric for the faults"
            ));
        }
        let v = violations(&stack, 3, &before, 0).await;
        all.extend(v.into_iter().map(|v| format!("seed {seed}: {v}")));
    }
    println!(
        "chaos: faults: {rounds} rounds in {:.0} s: {connect} Connect calls, {injected} \
         InternalServiceException injected (10%), {throttled} throttled, +100 ms each; {} \
         DynamoDB requests, {} failed (10%: {} 500 before, {} throttled, {} 500 after applying); \
         replication, failover, failback each round; {} invariant violations",
        started.elapsed().as_secs_f64(),
        table.requests,
        table.injected(),
        table.errors_before,
        table.throttles,
        table.errors_after,
        all.len()
    );
    assert!(injected > 0, "no Connect fault was injected");
    assert!(
        table.errors_after > 0,
        "no DynamoDB answer was lost: {table:?}"
    );
    assert!(all.is_empty(), "{all:#?}");
}

/// One seeded kill point: SIGKILL `function`'s process once its key has `after` more accepted
/// calls (of `operation`, or of any operation) than when the watch began, unless the machine has
/// moved on (`next` has called Connect, or the execution ended).
#[derive(Debug, Clone, Copy)]
struct KillPoint {
    function: &'static str,
    operation: Option<&'static str>,
    after: usize,
    next: Option<&'static str>,
}

impl KillPoint {
    fn new(function: &'static str, operation: Option<&'static str>, after: usize) -> Self {
        KillPoint {
            function,
            operation,
            after,
            next: None,
        }
    }

    fn before(mut self, next: &'static str) -> Self {
        self.next = Some(next);
        self
    }
}

/// Waits for `point` and kills there: true if it killed.
async fn kill_at(stack: &Stack, execution: &str, point: KillPoint) -> bool {
    let key = |f: &str| local_stack::permissions::access_key(f, SOURCE_REGION);
    let (mine, next) = (key(point.function), point.next.map(key));
    let counted = |calls: &[Value]| {
        calls
            .iter()
            .filter(|c| c["accessKeyId"] == mine.as_str() && c["status"] == 200)
            .filter(|c| point.operation.is_none_or(|op| c["operation"] == op))
            .count()
    };
    let from = counted(&stack.sim_calls(None).await);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let calls = stack.sim_calls(None).await;
        if counted(&calls) >= from + point.after {
            stack
                .crash_function(SOURCE_REGION, point.function)
                .await
                .expect("SIGKILL");
            return true;
        }
        let moved_on = next
            .as_ref()
            .is_some_and(|k| calls.iter().any(|c| c["accessKeyId"] == k.as_str()));
        if moved_on
            || stack
                .describe_execution(execution)
                .await
                .is_ok_and(|e| e.status != "RUNNING")
        {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// A round's kill points in the replication: preflight twice mid-checks, replicate right after
/// ReplicateInstance and in its retry, poll-mirroring twice mid-poll, associate-agents right after
/// three seeded associations.
fn replication_kills(seed: usize) -> Vec<KillPoint> {
    // (each count from the kill before: a restarted step begins again)
    let mut points = vec![
        KillPoint::new("preflight", None, 1 + seed % 3).before("replicate"),
        KillPoint::new("preflight", None, 2 + seed % 3).before("replicate"),
        // right after ReplicateInstance, then in the retry that adopts the replica
        KillPoint::new("replicate", Some("ReplicateInstance"), 1).before("poll-mirroring"),
        KillPoint::new("replicate", None, 1).before("poll-mirroring"),
        KillPoint::new("poll-mirroring", None, 2 + seed % 3).before("associate-agents"),
        KillPoint::new("poll-mirroring", None, 1 + seed % 4).before("associate-agents"),
    ];
    // three of the 50 associations
    points.extend([1 + seed % 15, 1 + seed % 14, 1 + seed % 13].map(|n| {
        KillPoint::new(
            "associate-agents",
            Some("AssociateTrafficDistributionGroupUser"),
            n,
        )
    }));
    points
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_killed_mid_work_lose_nothing() {
    // Seeded kill points, right after each mutating call (ReplicateInstance, associations, each
    // update) and mid-read (preflight's checks, the polls); the machines' retries go on in new
    // processes. The full drill runs 10 rounds: at least 20 kills of each function.
    let rounds = if full() { 10 } else { 1 };
    let mut kills: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut all = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        let stack = stack().await;
        // seed 33 found associations repeated after a kill inside the first burst of 5 (each
        // written before the next call since): the reduced pass runs it
        let seed = if full() { 7 + round * 13 } else { 33 };
        let mut kill = async |arn: &str, point: KillPoint| {
            if kill_at(&stack, arn, point).await {
                *kills.entry(point.function).or_default() += 1;
            }
        };
        let repl = stack
            .start_execution(
                "replication",
                &format!("kill-{round}-repl"),
                &replication_input(1, 240),
            )
            .await
            .expect("start");
        for point in replication_kills(seed) {
            kill(&repl, point).await;
        }
        let e = stack.wait_execution(&repl, LIMIT).await.expect("ends");
        assert_eq!(e.status, "SUCCEEDED", "{e:#?}");
        let before = splits(&stack).await;

        // a kill right after the first or the second group's update, each way
        let update = |n| KillPoint::new("shift-traffic", Some("UpdateTrafficDistribution"), n);
        let failover = json!({"instanceId": INSTANCE_ID, "targetRegion": REPLICA_REGION});
        let over = stack
            .start_execution("failover", &format!("kill-{round}-over"), &failover)
            .await
            .expect("start");
        kill(&over, update(1 + seed % 2)).await;
        let e = stack.wait_execution(&over, LIMIT).await.expect("ends");
        assert_eq!(e.status, "SUCCEEDED", "{e:#?}");
        let failback = json!({"instanceId": INSTANCE_ID, "preset": "failback"});
        let back = stack
            .start_execution("failover", &format!("kill-{round}-back"), &failback)
            .await
            .expect("start");
        kill(&back, update(1 + (seed / 2) % 2)).await;
        let e = stack.wait_execution(&back, LIMIT).await.expect("ends");
        assert_eq!(e.status, "SUCCEEDED", "{e:#?}");

        let updates = stack
            .accepted_calls("UpdateTrafficDistribution")
            .await
            .len();
        // each association killed right after Connect accepted it may be repeated once
        let mut v = violations(&stack, 3, &before, 3).await;
        if updates != 4 {
            v.push(format!(
                "{updates} accepted updates for two groups moved twice, not 4"
            ));
        }
        all.extend(
            v.into_iter()
                .map(|v| format!("round {round} (seed {seed}): {v}")),
        );
    }
    let total: usize = kills.values().sum();
    println!(
        "chaos: crashes: {rounds} rounds in {:.0} s, {total} processes SIGKILLed ({}); {} \
         invariant violations",
        started.elapsed().as_secs_f64(),
        kills
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        all.len()
    );
    assert!(all.is_empty(), "{all:#?}");
    // associate-agents and shift-traffic are killed at every point; the others' later points
    // count only while their invocation is still at work (a short step may have returned)
    for (f, least) in [
        ("associate-agents", 3 * rounds),
        ("shift-traffic", 2 * rounds),
        ("poll-mirroring", rounds),
        ("preflight", rounds),
        ("replicate", rounds),
    ] {
        let n = kills.get(f).copied().unwrap_or(0);
        assert!(
            n >= least,
            "{f} killed {n} times in {rounds} rounds: {kills:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_one_wins_and_the_other_changes_nothing() {
    let mut opts = Options::state_machines("small", 100.0);
    opts.functions.push("incident-intake".into());
    let stack = Stack::start(opts).await.expect("the local stack starts");

    // two replications of one instance started together
    let input = replication_input(1, 240);
    let (a, b) = tokio::join!(
        stack.start_execution("replication", "twin-a", &input),
        stack.start_execution("replication", "twin-b", &input),
    );
    let (a, b) = (a.expect("start a"), b.expect("start b"));
    let (a, b) = tokio::join!(
        stack.wait_execution(&a, LIMIT),
        stack.wait_execution(&b, LIMIT)
    );
    let mut outcomes = [a.expect("a ends"), b.expect("b ends")];
    outcomes.sort_by(|x, y| x.status.cmp(&y.status));
    assert_eq!(outcomes[0].status, "FAILED", "{outcomes:#?}");
    assert_eq!(outcomes[0].error.as_deref(), Some("RunInProgress"));
    assert_eq!(outcomes[1].status, "SUCCEEDED", "{outcomes:#?}");
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    let steady = splits(&stack).await;
    let steady_items: Vec<Value> = stack
        .items_under(INSTANCE_ID, "GROUP#")
        .await
        .into_iter()
        .map(|i| i.data["steady"].clone())
        .collect();

    // two failovers to different regions started together: one plan applied
    let west = json!({"instanceId": INSTANCE_ID, "targetRegion": REPLICA_REGION});
    let east = json!({"instanceId": INSTANCE_ID, "plan": {
        "telephony": {SOURCE_REGION: 50, REPLICA_REGION: 50},
        "agents": {SOURCE_REGION: 50, REPLICA_REGION: 50},
        "signIn": {SOURCE_REGION: true, REPLICA_REGION: true}}});
    let (w, e) = tokio::join!(
        stack.start_execution("failover", "to-west", &west),
        stack.start_execution("failover", "to-half", &east),
    );
    let (w, e) = (w.expect("start"), e.expect("start"));
    let (w, e) = tokio::join!(
        stack.wait_execution(&w, LIMIT),
        stack.wait_execution(&e, LIMIT)
    );
    let (w, e) = (w.expect("ends"), e.expect("ends"));
    let won: Vec<&acgr_e2e::Execution> = [&w, &e]
        .into_iter()
        .filter(|x| x.status == "SUCCEEDED")
        .collect();
    assert_eq!(won.len(), 1, "{w:#?} {e:#?}");
    let lost = if w.status == "SUCCEEDED" { &e } else { &w };
    // refused at the lock, or, if it came second, because the split moved under it
    assert!(
        matches!(lost.error.as_deref(), Some("RunInProgress" | "Unsafe")),
        "{lost:#?}"
    );
    let updates = stack.accepted_calls("UpdateTrafficDistribution").await;
    assert_eq!(updates.len(), 2, "one plan, two groups: {updates:#?}");
    let during = default_group(&stack.sim_state().await);
    let want = if w.status == "SUCCEEDED" {
        json!({SOURCE_REGION: 0, REPLICA_REGION: 100})
    } else {
        json!({SOURCE_REGION: 50, REPLICA_REGION: 50})
    };
    assert_eq!(during["telephony"], want, "{during:#}");
    let steady_now: Vec<Value> = stack
        .items_under(INSTANCE_ID, "GROUP#")
        .await
        .into_iter()
        .map(|i| i.data["steady"].clone())
        .collect();
    if w.status == "SUCCEEDED" {
        // a failover opens an episode: the failback point stays the replication's, and the
        // refused plan left no trace; failback returns to it
        assert_eq!(steady_now, steady_items);
        let failback = json!({"instanceId": INSTANCE_ID, "preset": "failback"});
        let back = run(&stack, "failover", "back", &failback).await;
        assert_eq!(back.status, "SUCCEEDED", "{back:#?}");
        assert_eq!(splits(&stack).await, steady);
    } else {
        // a plan is a deliberate split: by design it is the new failback point
        assert_ne!(
            steady_now, steady_items,
            "the plan is the new failback point"
        );
    }
    let before_incident = stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .len();

    // one incident event delivered twice at once (EventBridge is at-least-once): one execution
    let event = acgr_e2e::event("incident-intake", "failover");
    let mut first = event.clone();
    first["detail"]["requestId"] = json!("INC-twice");
    // an event put now (the example's time is days old: it would be refused as stale)
    first["time"] = json!(acgr::run::request::rfc3339(
        acgr::run::handler::epoch_millis() as i64
    ));
    let (x, y) = tokio::join!(
        stack.invoke_in(SOURCE_REGION, "incident-intake", first.clone()),
        stack.invoke_in(SOURCE_REGION, "incident-intake", first.clone())
    );
    // (Step Functions answers a second StartExecution of the same name and input with the
    // first execution, or ExecutionAlreadyExists: either way one execution)
    let (x, y) = (x.expect("first delivery"), y.expect("second delivery"));
    assert_eq!(x["executionArn"], y["executionArn"], "{x:#} {y:#}");
    let arn = x["executionArn"].as_str().expect("arn").to_string();
    let done = stack.wait_execution(&arn, LIMIT).await.expect("ends");
    assert_eq!(done.status, "SUCCEEDED", "{done:#?}");
    let updates = stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .len();
    assert_eq!(
        updates,
        before_incident + 2,
        "one more failover of two groups"
    );
    println!(
        "chaos: concurrency: 2 replications at once (1 ran, 1 RunInProgress, 1 ReplicateInstance); \
         2 failovers to different splits at once (1 applied, 1 refused, failback point as \
         designed); 1 incident delivered twice at once (1 execution); 0 invariant violations"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_machine_input_fails_by_name_and_changes_nothing() {
    let stack = stack().await;
    let other =
        "arn:aws:connect:eu-west-1:123456789012:instance/4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
    let cases: Vec<(&str, Value)> = vec![
        ("replication", json!({"replicaRegion": REPLICA_REGION})),
        (
            "replication",
            json!({"instanceId": other, "replicaRegion": REPLICA_REGION}),
        ),
        (
            "replication",
            json!({"instanceId": INSTANCE_ID, "replicaRegion": "eu-west-2"}),
        ),
        (
            "replication",
            json!({"instanceId": "x".repeat(5000), "replicaRegion": REPLICA_REGION}),
        ),
        ("agent-sync", json!({"instanceId": 42})),
        (
            "agent-sync",
            json!({"instanceId": INSTANCE_ID, "runId": "no/slashes"}),
        ),
        ("agent-sync", json!({"instanceId": other})),
        (
            "failover",
            json!({"instanceId": INSTANCE_ID, "targetRegion": "eu-west-1"}),
        ),
        (
            "failover",
            json!({"instanceId": INSTANCE_ID, "plan": {
            "telephony": {SOURCE_REGION: 60, REPLICA_REGION: 60},
            "agents": {SOURCE_REGION: 50, REPLICA_REGION: 50}}}),
        ),
        (
            "failover",
            json!({"instanceId": INSTANCE_ID, "preset": "sideways"}),
        ),
        (
            "failover",
            json!({"instanceId": INSTANCE_ID, "breakLock": true,
            "targetRegion": REPLICA_REGION}),
        ),
    ];
    let mut refused = 0;
    for (i, (machine, input)) in cases.iter().enumerate() {
        let e = run(&stack, machine, &format!("hostile-{i}"), input).await;
        assert_eq!(e.status, "FAILED", "{machine} {input}: {e:#?}");
        let error = e.error.as_deref().unwrap_or("");
        assert!(
            // refused on its input, or by preflight's checks (read-only)
            matches!(error, "InvalidInput" | "NoInstance" | "PreflightFailed"),
            "{machine} {input}: {e:#?}"
        );
        refused += 1;
    }
    // a misspelt member: Step Functions would carry it along unread (a `dryrun` would shift for
    // real); the machine's first step refuses it by name
    let misspelt = [
        (
            "replication",
            json!({"instanceId": INSTANCE_ID, "replicaRegion": REPLICA_REGION, "pollSecond": 5}),
            "pollSecond",
        ),
        (
            "failover",
            json!({"instanceId": INSTANCE_ID, "targetRegion": REPLICA_REGION, "dryrun": true}),
            "dryrun",
        ),
        (
            "agent-sync",
            json!({"instanceId": INSTANCE_ID, "checkmembers": true}),
            "checkmembers",
        ),
    ];
    for (i, (machine, input, member)) in misspelt.iter().enumerate() {
        let e = run(&stack, machine, &format!("misspelt-{i}"), input).await;
        assert_eq!(e.status, "FAILED", "{machine} {input}: {e:#?}");
        assert_eq!(e.error.as_deref(), Some("InvalidInput"), "{e:#?}");
        let cause = e.cause.as_deref().unwrap_or("");
        assert!(cause.contains(member), "{machine}: {cause}");
        refused += 1;
    }
    let mutating: Vec<Value> = stack
        .sim_calls(None)
        .await
        .into_iter()
        .filter(|c| MUTATING.contains(&c["operation"].as_str().unwrap_or("")))
        .collect();
    assert!(mutating.is_empty(), "{mutating:#?}");
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
    println!(
        "chaos: hostile machine input: {refused} of {} inputs to the 3 machines failed by name \
         (misspelt members included), 0 mutating Connect calls, no lock",
        cases.len() + misspelt.len()
    );
}

/// A small seeded generator (xorshift64*): the same seed, the same interleavings.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// What a shift run asked for of the default group, from its run item: the telephony percent of
/// us-west-2 in its plan.
async fn planned_west(stack: &Stack, region: &str, run_id: &str) -> Option<u64> {
    let item = stack
        .deployment(region)
        .instance_items(acgr_e2e::INSTANCE_ID)
        .await
        .into_iter()
        .find(|i| i.sk == format!("RUN#{run_id}"))?;
    let groups = item.data["steps"]["shift-traffic"]["groups"]
        .as_array()?
        .clone();
    let default = groups.iter().find(|g| g["isDefault"] == true)?;
    default["after"]["telephony"]
        .as_array()?
        .iter()
        .find(|e| e[0] == REPLICA_REGION)
        .and_then(|e| e[1].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_shifting_at_once_end_with_one_outcome() {
    use acgr_e2e::sim_api::{OutageCode, RegionOutage, SettingsChange};
    // Failovers, plans and failbacks started together from both regions' deployments, in a
    // seeded order, with the table replicating 10 s late, Connect's regions seeing each other's
    // changes 3 s late, and a partial outage (writes refused, reads answered) in one region in
    // some rounds. Invariant after each round: both regions' Connect read one split, and every
    // run that ended Shifted asked for that split (at most one of a round's runs did, when
    // they asked for different ones). Two rounds reduced, twelve with CHAOS=full.
    let rounds: u64 = if full() { 12 } else { 2 };
    let started = Instant::now();
    let lag = Duration::from_secs(10);
    let stack = Stack::start(Options::two_regions("small", 100.0).replication_lag(lag))
        .await
        .expect("the two-region stack starts");
    let e = run(&stack, "replication", "repl", &replication_input(1, 120)).await;
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    tokio::time::sleep(2 * lag).await;
    stack
        .sim_client()
        .change_settings(&SettingsChange {
            cross_region_lag_seconds: Some(300.0),
            call_latency_ms: Some(30),
            call_latency_jitter_ms: Some(50),
            ..Default::default()
        })
        .await
        .expect("the cross-region lag and the latency model");
    let id = acgr_e2e::INSTANCE_ID;
    let regions = [SOURCE_REGION, REPLICA_REGION];
    let mut dice = Dice(0x5eed_0019);
    let (mut shifted, mut unsafe_, mut other, mut partial) = (0, 0, 0, 0);
    let mut violations = Vec::new();
    for round in 0..rounds {
        let outage = (dice.below(3) == 0).then(|| regions[dice.below(2) as usize]);
        if let Some(r) = outage {
            partial += 1;
            stack
                .sim_client()
                .set_region_outage(
                    r,
                    Some(RegionOutage::Partial {
                        code: OutageCode::ServiceUnavailable,
                    }),
                )
                .await
                .expect("the partial outage");
        }
        let mut requests = Vec::new();
        for n in 0..2 {
            let from = regions[dice.below(2) as usize];
            let input = match dice.below(3) {
                0 => json!({"instanceId": id, "targetRegion": regions[dice.below(2) as usize]}),
                1 => {
                    let east = 10 * (1 + dice.below(9));
                    let split = json!({SOURCE_REGION: east, REPLICA_REGION: 100 - east});
                    json!({"instanceId": id, "plan": {"telephony": split, "agents": split,
                        "signIn": {SOURCE_REGION: true, REPLICA_REGION: true}}})
                }
                _ => json!({"instanceId": id, "preset": "failback"}),
            };
            requests.push((from, format!("r{round}-{n}"), input));
        }
        let delay = Duration::from_millis(dice.below(1500));
        let start = |(from, name, input): &(&'static str, String, Value)| {
            let (from, name, input) = (*from, name.clone(), input.clone());
            let stack = &stack;
            async move {
                let arn = stack
                    .start_execution_in(from, "failover", &name, &input)
                    .await
                    .unwrap_or_else(|e| panic!("start {name}: {e}"));
                stack.wait_execution_in(from, &arn, LIMIT).await.unwrap()
            }
        };
        let (a, b) = tokio::join!(start(&requests[0]), async {
            tokio::time::sleep(delay).await;
            start(&requests[1]).await
        });
        if let Some(r) = outage {
            stack.sim_client().set_region_outage(r, None).await.unwrap();
        }
        // Connect's regions converge, then the invariant
        tokio::time::sleep(Duration::from_secs(5)).await;
        let state = stack.sim_state().await;
        let g = default_group(&state);
        let views: Vec<Option<u64>> = regions
            .iter()
            .map(|v| g["views"][v]["telephony"][REPLICA_REGION].as_u64())
            .collect();
        if views[0] != views[1] {
            violations.push(format!("round {round}: the regions read {views:?}"));
        }
        let stands = views[1];
        for ((from, name, input), e) in requests.iter().zip([&a, &b]) {
            match (e.status.as_str(), e.error.as_deref()) {
                ("SUCCEEDED", _) => {
                    shifted += 1;
                    let asked = planned_west(&stack, from, name).await;
                    if asked != stands {
                        violations.push(format!(
                            "round {round}: {name} from {from} ({input}) ended Shifted asking \
                             {asked:?}% in {REPLICA_REGION}, but {stands:?}% stands"
                        ));
                    }
                }
                (_, Some("Unsafe")) => unsafe_ += 1,
                _ => other += 1,
            }
        }
        eprintln!(
            "round {round}: {} {:?} / {} {:?}, stands {stands:?}",
            requests[0].1, a.error, requests[1].1, b.error
        );
        // time passes before the next round (an incident is not a stream of requests)
        tokio::time::sleep(lag + Duration::from_secs(2)).await;
    }
    println!(
        "chaos: regions: {rounds} rounds in {:.0} s ({partial} with a partial outage): {shifted} \
         runs Shifted, {unsafe_} Unsafe, {other} other failures; {} violations",
        started.elapsed().as_secs_f64(),
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
}
