//! What a [`Stack`](crate::stack::Stack) starts: the scenario, the regions and their functions,
//! the simulated clock and quotas.

use std::time::Duration;

use crate::dynamodb_faults::DynamoFaults;
use crate::workspace;

pub const SOURCE_REGION: &str = "us-east-1";
pub const REPLICA_REGION: &str = "us-west-2";
/// The instance of the shipped scenarios (`sim/scenarios/*.json`).
pub const INSTANCE_ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";

/// Every step function, by binary name.
pub const ALL_FUNCTIONS: &[&str] = &[
    "preflight",
    "replicate",
    "poll-mirroring",
    "associate-agents",
    "shift-traffic",
];

/// The function that turns an incident event into a failover execution of its own region.
pub const INCIDENT_INTAKE: &str = "incident-intake";

/// What the replica region runs of a two-region deployment (with [`INCIDENT_INTAKE`]).
pub const REPLICA_FUNCTIONS: &[&str] = &["shift-traffic"];

/// The machines of the replica region's deployment.
pub const REPLICA_MACHINES: &[&str] = &["failover"];

/// [`INCIDENT_INTAKE`] if its crate is in the workspace.
fn incident_intake() -> Option<&'static str> {
    workspace()
        .join("functions")
        .join(INCIDENT_INTAKE)
        .join("Cargo.toml")
        .exists()
        .then_some(INCIDENT_INTAKE)
}

/// How to start a [`Stack`](crate::stack::Stack).
#[derive(Debug, Clone)]
pub struct Options {
    /// A scenario of `sim/scenarios/` by name.
    pub scenario: String,
    /// Connect's quotas in connect-sim *and* our pacers (`CONNECT_QUOTA_FACTOR`), one setting:
    /// the scenario's `settings.quotaFactor`, else 1 (the real quotas).
    pub quota_factor: f64,
    pub time_scale: f64,
    /// The functions (binary names) to start a runtime process for (in the source region).
    pub functions: Vec<String>,
    pub lease_seconds: i64,
    /// Start Step Functions (moto executing the ASL, the adapter) and create the machines.
    pub state_machines: bool,
    /// Extra environment for every function process (after the stack's own).
    pub env: Vec<(String, String)>,
    /// A second deployment in the replica region with these functions (and, with
    /// `state_machines`, the failover machine only), the run table replicated between the two
    /// regions ([`crate::replication`]). None: the source region only.
    pub replica_functions: Option<Vec<String>>,
    /// How long a write takes at least to reach the other region's table.
    pub replication_lag: Duration,
    /// Each function signs its Connect calls with its own key, which connect-sim allows exactly
    /// what `template.yaml` grants the function ([`crate::permissions`]). On by default.
    pub template_permissions: bool,
    /// DynamoDB errors injected between the functions and the run table
    /// ([`crate::dynamodb_faults`]). None: no proxy.
    pub dynamodb_faults: Option<DynamoFaults>,
}

impl Options {
    /// `scenario` at its quota factor (real quotas unless the scenario raises them) and real
    /// time.
    pub fn new(scenario: &str, functions: &[&str]) -> Options {
        Options {
            scenario: scenario.to_string(),
            quota_factor: scenario_quota_factor(scenario).unwrap_or(1.0),
            time_scale: 1.0,
            functions: functions.iter().map(|f| f.to_string()).collect(),
            lease_seconds: 900,
            state_machines: false,
            env: Vec::new(),
            replica_functions: None,
            replication_lag: Duration::from_secs(1),
            template_permissions: true,
            dynamodb_faults: None,
        }
    }

    /// Every function and the three state machines, with the simulated clock running
    /// `time_scale` times faster than real time (replica creation takes 300 simulated seconds).
    pub fn state_machines(scenario: &str, time_scale: f64) -> Options {
        Options {
            time_scale,
            state_machines: true,
            ..Options::new(scenario, ALL_FUNCTIONS)
        }
    }

    /// The failover path deployed in both regions: in the source region every function and the
    /// three machines; in the replica region shift-traffic and incident-intake and the failover
    /// machine; the run table replicated between them with a lag of 1 s. (incident-intake is left
    /// out while its crate is not in the workspace.)
    pub fn two_regions(scenario: &str, time_scale: f64) -> Options {
        let mut opts = Options::state_machines(scenario, time_scale);
        let mut replica: Vec<String> = REPLICA_FUNCTIONS.iter().map(|f| f.to_string()).collect();
        if let Some(f) = incident_intake() {
            opts.functions.push(f.to_string());
            replica.push(f.to_string());
        }
        opts.replica_functions = Some(replica);
        opts
    }

    /// Raises Connect's quotas and our pacers together by `factor`: for a test that needs more
    /// calls than the real quotas allow in its time. The pacing is still exercised.
    pub fn quota_factor(mut self, factor: f64) -> Options {
        self.quota_factor = factor;
        self
    }

    /// Adds one environment variable for every function.
    pub fn env(mut self, name: &str, value: impl ToString) -> Options {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The replication lag of a two-region stack.
    pub fn replication_lag(mut self, lag: Duration) -> Options {
        self.replication_lag = lag;
        self
    }

    /// Fails a seeded share of the functions' DynamoDB requests (see [`DynamoFaults`]).
    pub fn dynamodb_faults(mut self, rate: f64, seed: u64) -> Options {
        self.dynamodb_faults = Some(DynamoFaults { rate, seed });
        self
    }

    /// Whether the stack deploys in both regions.
    pub fn is_two_regions(&self) -> bool {
        self.replica_functions.is_some()
    }
}

/// The quota factor a shipped scenario sets (`settings.quotaFactor`), if any.
pub fn scenario_quota_factor(scenario: &str) -> Option<f64> {
    let path = workspace()
        .join("sim/scenarios")
        .join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["settings"]["quotaFactor"].as_f64()
}
