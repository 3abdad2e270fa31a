//! A typed client of the control API (feature `client`), over hyper's client.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::paths::*;
use super::{
    AccessPolicies, AccessPolicy, Advance, Advanced, CallFilter, CallLog, CallRecord, ClockReading,
    Disassociate, Disassociated, Done, Faults, FindingStaged, FindingsCleared, GroupFailure,
    GroupStaged, Health, LambdaFunctions, LexAliases, Outage, QuotaFactor, RegionOutage,
    RegionStatus, Regions, ReplicaFailure, ReplicaStaged, S3Outages, SetLambdaFunctions,
    SetLexAliases, SetOutage, SetQuota, SetS3Outage, SettingsChange, SimSettings, SimState,
    StagedFinding, SyncFailure, SyncStaged,
};

/// A client of one running connect-sim's control API (`/_sim/`).
///
/// Each call opens its own connection (no pool), so a client outlives a server that is stopped
/// and started again on the same address.
#[derive(Clone, Debug)]
pub struct Client {
    addr: SocketAddr,
    http: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: the server is not there, or the connection broke.
    #[error("{call}: {source}")]
    Unreachable {
        call: String,
        source: hyper_util::client::legacy::Error,
    },
    /// The answer's body could not be read.
    #[error("{call}: reading the answer: {source}")]
    Body { call: String, source: hyper::Error },
    /// The server refused the call (400 for a bad body, query or region).
    #[error("{call}: HTTP {status} {code}: {message}")]
    Refused {
        call: String,
        status: u16,
        /// `x-amzn-ErrorType`.
        code: String,
        message: String,
    },
    /// A body that is not the JSON the call takes, or an answer not the JSON it gives.
    #[error("{call}: {source}")]
    Json {
        call: String,
        source: serde_json::Error,
    },
    /// The request could not be built (an address or body that does not make one).
    #[error("{call}: {source}")]
    Request {
        call: String,
        source: hyper::http::Error,
    },
}

impl Client {
    /// A client of the control plane listening on `addr`.
    pub fn new(addr: SocketAddr) -> Client {
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http();
        Client { addr, http }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET /_sim/health`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get(HEALTH).await
    }

    /// `GET /_sim/state`: instances, replications, groups, numbers and outages.
    pub async fn state(&self) -> Result<SimState, ClientError> {
        self.get(STATE).await
    }

    /// `GET /_sim/calls`: the calls logged that `filter` matches, in order.
    pub async fn calls(&self, filter: &CallFilter) -> Result<Vec<CallRecord>, ClientError> {
        let mut query = Vec::new();
        let mut add = |key: &str, value: &str| {
            query.push(format!(
                "{key}={}",
                utf8_percent_encode(value, NON_ALPHANUMERIC)
            ));
        };
        if let Some(op) = &filter.operation {
            add("operation", op);
        }
        if let Some(region) = &filter.region {
            add("region", region);
        }
        if let Some(since) = filter.since {
            add("since", &since.to_string());
        }
        let path = if query.is_empty() {
            CALLS.to_string()
        } else {
            format!("{CALLS}?{}", query.join("&"))
        };
        let log: CallLog = self.get(&path).await?;
        Ok(log.calls)
    }

    /// The calls of one operation (by name).
    pub async fn calls_of(&self, operation: &str) -> Result<Vec<CallRecord>, ClientError> {
        self.calls(&CallFilter::default().operation(operation))
            .await
    }

    /// `DELETE /_sim/calls`: empties the call log.
    pub async fn clear_calls(&self) -> Result<(), ClientError> {
        let _: Done = self.send(Method::DELETE, CALLS, None::<&()>).await?;
        Ok(())
    }

    /// `GET /_sim/faults`.
    pub async fn faults(&self) -> Result<Faults, ClientError> {
        self.get(FAULTS).await
    }

    /// `PUT /_sim/faults`: replaces every fault setting; answers the new settings.
    pub async fn set_faults(&self, faults: &Faults) -> Result<Faults, ClientError> {
        self.send(Method::PUT, FAULTS, Some(faults)).await
    }

    /// `GET /_sim/regions`: every region played, with its outage.
    pub async fn regions(&self) -> Result<Vec<RegionStatus>, ClientError> {
        let regions: Regions = self.get(REGIONS).await?;
        Ok(regions.regions)
    }

    /// `PUT /_sim/regions/{region}`: starts or changes (`Some`) or ends (`None`) an outage that
    /// takes the whole region down.
    pub async fn set_outage(
        &self,
        region: &str,
        outage: Option<Outage>,
    ) -> Result<RegionStatus, ClientError> {
        self.set_region_outage(region, outage.map(RegionOutage::from))
            .await
    }

    /// `PUT /_sim/regions/{region}`: starts or changes (`Some`) or ends (`None`) an outage of
    /// any kind, the messier ones included (partial, some operations, reset, degraded).
    pub async fn set_region_outage(
        &self,
        region: &str,
        outage: Option<RegionOutage>,
    ) -> Result<RegionStatus, ClientError> {
        let path = format!("{REGIONS}/{}", segment(region));
        self.send(Method::PUT, &path, Some(&SetOutage { outage }))
            .await
    }

    /// `PUT /_sim/quota`: a new quota factor (1: the real quotas), with fresh buckets.
    pub async fn set_quota_factor(&self, factor: f64) -> Result<f64, ClientError> {
        let set: QuotaFactor = self
            .send(Method::PUT, QUOTA, Some(&SetQuota { factor }))
            .await?;
        Ok(set.quota_factor)
    }

    /// `GET /_sim/clock`.
    pub async fn clock(&self) -> Result<ClockReading, ClientError> {
        self.get(CLOCK).await
    }

    /// `POST /_sim/clock/advance`: moves simulated time forward and applies everything due;
    /// answers the new simulated now.
    pub async fn advance_clock(&self, seconds: f64) -> Result<f64, ClientError> {
        let advanced: Advanced = self
            .send(Method::POST, CLOCK_ADVANCE, Some(&Advance { seconds }))
            .await?;
        Ok(advanced.now)
    }

    /// `POST /_sim/reset`: back to the scenario's start.
    pub async fn reset(&self) -> Result<(), ClientError> {
        let _: Done = self.send(Method::POST, RESET, None::<&()>).await?;
        Ok(())
    }

    /// `PUT /_sim/replicas/{instanceId}`: stages a failure of the instance's replica (armed for
    /// its next ReplicateInstance when it is not replicated yet).
    pub async fn stage_replica_failure(
        &self,
        instance_id: &str,
        failure: &ReplicaFailure,
    ) -> Result<ReplicaStaged, ClientError> {
        let path = format!("{REPLICAS}/{}", segment(instance_id));
        self.send(Method::PUT, &path, Some(failure)).await
    }

    /// `GET /_sim/settings`: the settings a running control plane can change.
    pub async fn settings(&self) -> Result<SimSettings, ClientError> {
        self.get(SETTINGS).await
    }

    /// `PUT /_sim/settings`: changes the members given; answers every setting.
    pub async fn change_settings(
        &self,
        change: &SettingsChange,
    ) -> Result<SimSettings, ClientError> {
        self.send(Method::PUT, SETTINGS, Some(change)).await
    }

    /// `POST /_sim/groups/failures`: stages a traffic distribution group failure.
    pub async fn stage_group_failure(
        &self,
        failure: &GroupFailure,
    ) -> Result<GroupStaged, ClientError> {
        self.send(Method::POST, GROUP_FAILURES, Some(failure)).await
    }

    /// `POST /_sim/sync-failures`: a change of a resource that fails to sync.
    pub async fn stage_sync_failure(
        &self,
        failure: &SyncFailure,
    ) -> Result<SyncStaged, ClientError> {
        self.send(Method::POST, SYNC_FAILURES, Some(failure)).await
    }

    /// `POST /_sim/findings`: stages a replication finding; answers its resource ID.
    pub async fn stage_finding(&self, finding: &StagedFinding) -> Result<String, ClientError> {
        let staged: FindingStaged = self.send(Method::POST, FINDINGS, Some(finding)).await?;
        Ok(staged.id)
    }

    /// `DELETE /_sim/findings`: removes every staged finding; answers how many there were.
    pub async fn clear_findings(&self) -> Result<usize, ClientError> {
        let cleared: FindingsCleared = self.send(Method::DELETE, FINDINGS, None::<&()>).await?;
        Ok(cleared.cleared)
    }

    /// `GET /_sim/lambda-functions`: the functions deployed per region.
    pub async fn lambda_functions(&self) -> Result<LambdaFunctions, ClientError> {
        self.get(LAMBDA_FUNCTIONS).await
    }

    /// `PUT /_sim/lambda-functions/{region}`: the functions deployed in `region` (`None`: every
    /// function the flows name); answers every region's.
    pub async fn set_lambda_functions(
        &self,
        region: &str,
        functions: Option<Vec<String>>,
    ) -> Result<LambdaFunctions, ClientError> {
        let path = format!("{LAMBDA_FUNCTIONS}/{}", segment(region));
        self.send(Method::PUT, &path, Some(&SetLambdaFunctions { functions }))
            .await
    }

    /// `GET /_sim/lex-aliases`: the Lex V2 aliases deployed per region.
    pub async fn lex_aliases(&self) -> Result<LexAliases, ClientError> {
        self.get(LEX_ALIASES).await
    }

    /// `PUT /_sim/lex-aliases/{region}`: the alias ARNs deployed in `region` (`None`: every
    /// alias); answers every region's.
    pub async fn set_lex_aliases(
        &self,
        region: &str,
        aliases: Option<Vec<String>>,
    ) -> Result<LexAliases, ClientError> {
        let path = format!("{LEX_ALIASES}/{}", segment(region));
        self.send(Method::PUT, &path, Some(&SetLexAliases { aliases }))
            .await
    }

    /// `GET /_sim/s3-outage`: the regions whose S3 buckets are unreachable.
    pub async fn s3_outages(&self) -> Result<S3Outages, ClientError> {
        self.get(S3_OUTAGE).await
    }

    /// `PUT /_sim/s3-outage/{region}`: S3 unreachable in `region` (prompts stored in S3 fail
    /// test case executions there) or reachable again; answers every region unreachable.
    pub async fn set_s3_outage(
        &self,
        region: &str,
        unreachable: bool,
    ) -> Result<S3Outages, ClientError> {
        let path = format!("{S3_OUTAGE}/{}", segment(region));
        self.send(Method::PUT, &path, Some(&SetS3Outage { unreachable }))
            .await
    }

    /// `GET /_sim/access`: the access policies by access key ID.
    pub async fn access_policies(&self) -> Result<AccessPolicies, ClientError> {
        self.get(ACCESS).await
    }

    /// `PUT /_sim/access/{accessKeyId}`: sets one key's policy (enforced on every API call).
    pub async fn set_access_policy(
        &self,
        access_key_id: &str,
        policy: &AccessPolicy,
    ) -> Result<AccessPolicy, ClientError> {
        let path = format!("{ACCESS}/{}", segment(access_key_id));
        self.send(Method::PUT, &path, Some(policy)).await
    }

    /// `DELETE /_sim/access/{accessKeyId}`: the key may do everything again.
    pub async fn remove_access_policy(&self, access_key_id: &str) -> Result<(), ClientError> {
        let path = format!("{ACCESS}/{}", segment(access_key_id));
        let _: Done = self.send(Method::DELETE, &path, None::<&()>).await?;
        Ok(())
    }

    /// `POST /_sim/groups/disassociate`: disassociates users (IDs or usernames) from a group
    /// as if someone had done it by hand: no API call is logged. Answers the IDs removed.
    pub async fn disassociate_outside(
        &self,
        group: &str,
        users: &[&str],
    ) -> Result<Vec<String>, ClientError> {
        let body = Disassociate {
            group: group.to_string(),
            instance_id: None,
            users: users.iter().map(|u| u.to_string()).collect(),
        };
        let done: Disassociated = self
            .send(Method::POST, GROUP_DISASSOCIATE, Some(&body))
            .await?;
        Ok(done.users)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(Method::GET, path, None::<&()>).await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let call = format!("{method} {path}");
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|source| ClientError::Json {
                call: call.clone(),
                source,
            })?,
            None => Vec::new(),
        };
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|source| ClientError::Request {
                call: call.clone(),
                source,
            })?;
        let response =
            self.http
                .request(request)
                .await
                .map_err(|source| ClientError::Unreachable {
                    call: call.clone(),
                    source,
                })?;
        let status = response.status();
        let code = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|source| ClientError::Body {
                call: call.clone(),
                source,
            })?
            .to_bytes();
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ClientError::Refused {
                call,
                status: status.as_u16(),
                code,
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Json { call, source })
    }
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}
