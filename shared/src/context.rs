//! The context a Lambda builds once per cold start: regions, Connect clients for both, the store,
//! and the deadline margin. A bad environment is `Misconfigured`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use aws_config::BehaviorVersion;

use crate::connect::pace::{self, Pacer, Policy};
use crate::connect::sdk::SdkConnect;
use crate::connect::Connect;
use crate::domain::{paired_region, Region, RegionPair};
use crate::error::StepError;
use crate::store::dynamo::DynamoRunStore;

/// The run table's replica in the other region.
pub struct Peer<S> {
    pub region: Region,
    pub store: S,
}

/// Everything a step needs, over ports so tests can use fakes.
pub struct Context<C, S> {
    pub source: C,
    pub replica: C,
    pub store: S,
    /// The run table's replica in the other region of the pair than this function's, when it
    /// can be reached: a failback reads there what may not have replicated here yet.
    pub peer: Option<Peer<S>>,
    /// How long a run's lock lasts without renewal.
    pub lease_seconds: i64,
    /// How long before the Lambda deadline a step stops starting work (`DEADLINE_MARGIN_MS`).
    pub deadline_margin: Duration,
}

impl<C: Connect, S> Context<C, S> {
    /// The pair this deployment serves.
    pub fn pair(&self) -> RegionPair {
        RegionPair::new(self.source.region().clone(), self.replica.region().clone())
    }

    /// The client for a region of the pair.
    pub fn connect(&self, region: &Region) -> Result<&C, StepError> {
        if region == self.source.region() {
            Ok(&self.source)
        } else if region == self.replica.region() {
            Ok(&self.replica)
        } else {
            Err(StepError::InvalidInput(format!(
                "this deployment serves {} and {}, not {region}",
                self.source.region(),
                self.replica.region()
            )))
        }
    }

    /// Checks that a requested replica region is this deployment's.
    pub fn check_replica(&self, replica: &Region) -> Result<(), StepError> {
        if replica == self.replica.region() {
            Ok(())
        } else {
            Err(StepError::InvalidInput(format!(
                "replicaRegion {replica} is not this deployment's replica region {}",
                self.replica.region()
            )))
        }
    }
}

/// A region variable that does not name a region.
fn misconfigured(name: &'static str) -> impl Fn(StepError) -> StepError {
    move |e| StepError::Misconfigured(format!("{name}: {e}"))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether a step reads the run table's replica in the other region too (a traffic shift does:
/// a failback merges the episodes written there); the other steps do not build its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tables {
    Local,
    LocalAndPeer,
}

impl Context<SdkConnect, DynamoRunStore> {
    /// From the environment: `TABLE_NAME` (required), `SOURCE_REGION` (default `AWS_REGION`),
    /// `REPLICA_REGION` (default: the source's pair), `LOCK_LEASE_SECONDS` (default 900),
    /// `DEADLINE_MARGIN_MS` (default 5000), and the Connect clients' pacing and retry policy
    /// ([`Policy::from_env`]). Local endpoints come from `AWS_ENDPOINT_URL_CONNECT` /
    /// `AWS_ENDPOINT_URL_DYNAMODB`. Built once, at cold start: one HTTPS client (one TLS
    /// configuration and connection pool) for every client of the context, the Connect clients
    /// paced per region; the peer table's client only for `Tables::LocalAndPeer`.
    pub async fn from_env(tables: Tables) -> Result<Self, StepError> {
        let missing =
            |n: &str| StepError::Misconfigured(format!("environment variable {n} is not set"));
        let table = env("TABLE_NAME").ok_or_else(|| missing("TABLE_NAME"))?;
        let source = env("SOURCE_REGION")
            .or_else(|| env("AWS_REGION"))
            .ok_or_else(|| missing("SOURCE_REGION"))?;
        let source = Region::parse(&source).map_err(misconfigured("SOURCE_REGION"))?;
        let replica = match env("REPLICA_REGION") {
            Some(r) => Region::parse(&r).map_err(misconfigured("REPLICA_REGION"))?,
            None => paired_region(&source).ok_or_else(|| missing("REPLICA_REGION"))?,
        };
        let lease_seconds = env("LOCK_LEASE_SECONDS")
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    StepError::Misconfigured("LOCK_LEASE_SECONDS must be a number".into())
                })
            })
            .transpose()?
            .unwrap_or(900);
        let policy = Policy::from_env()?;
        let deadline_margin = crate::run::handler::deadline_margin_from_env()?;
        let conf = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let conf = match conf.http_client() {
            Some(_) => conf,
            None => conf
                .into_builder()
                .http_client(pace::https_client())
                .build(),
        };
        // One pacer per region: Connect's quotas are per region.
        let for_region = |r: &Region| {
            let pacer = Arc::new(Pacer::new(policy.quota_factor));
            let c = pace::connect_config(&conf, r, &policy, pacer);
            SdkConnect::new(aws_sdk_connect::Client::from_conf(c), r.clone())
        };
        // The table: the SDK's standard retries, as many attempts as Connect's calls get.
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&conf)
            .retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                    .with_max_attempts(policy.max_attempts),
            )
            .build();
        let peer = (tables == Tables::LocalAndPeer)
            .then(|| peer_table(&conf, &source, &replica, policy.max_attempts))
            .flatten()
            .map(|(region, c)| Peer {
                region,
                store: DynamoRunStore::new(c, table.clone()),
            });
        Ok(Context {
            source: for_region(&source),
            replica: for_region(&replica),
            store: DynamoRunStore::new(aws_sdk_dynamodb::Client::from_conf(dynamo), table),
            peer,
            lease_seconds,
            deadline_margin,
        })
    }
}

/// A client of the table's replica in the other region of the pair than this function's
/// (`DEPLOYMENT_REGION`, else `AWS_REGION`): that region's endpoint, or `PEER_DYNAMODB_ENDPOINT`
/// where the endpoints are overridden (`AWS_ENDPOINT_URL_DYNAMODB`, the local stack); `None`
/// when neither can be known. Few attempts: it is read only when it answers at once.
fn peer_table(
    conf: &aws_config::SdkConfig,
    source: &Region,
    replica: &Region,
    max_attempts: u32,
) -> Option<(Region, aws_sdk_dynamodb::Client)> {
    let own = env("DEPLOYMENT_REGION").or_else(|| env("AWS_REGION"))?;
    let peer = RegionPair::new(source.clone(), replica.clone())
        .other(&Region::parse(&own).ok()?)?
        .clone();
    let mut builder = aws_sdk_dynamodb::config::Builder::from(conf)
        .region(aws_sdk_dynamodb::config::Region::new(peer.to_string()))
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(max_attempts.min(2)),
        );
    match (
        env("PEER_DYNAMODB_ENDPOINT"),
        env("AWS_ENDPOINT_URL_DYNAMODB"),
    ) {
        (Some(url), _) => builder = builder.endpoint_url(url),
        // overridden for this region only: the other region's endpoint is not known
        (None, Some(_)) => return None,
        (None, None) => {}
    }
    Some((peer, aws_sdk_dynamodb::Client::from_conf(builder.build())))
}

#[cfg(any(test, feature = "test-util"))]
impl crate::connect::fake::FakeWorld {
    /// A context over this world: Connect clients for `source` and `replica`, a memory store.
    pub fn context(
        self,
        source: &str,
        replica: &str,
    ) -> Result<
        Context<crate::connect::fake::FakeConnect, crate::store::memory::MemoryRunStore>,
        StepError,
    > {
        use crate::connect::fake::FakeConnect;
        let world = Arc::new(std::sync::Mutex::new(self));
        Ok(Context {
            peer: None,
            source: FakeConnect::new(Region::parse(source)?, world.clone()),
            replica: FakeConnect::new(Region::parse(replica)?, world),
            store: Default::default(),
            lease_seconds: 900,
            deadline_margin: crate::run::DEADLINE_MARGIN,
        })
    }
}

/// Epoch seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
