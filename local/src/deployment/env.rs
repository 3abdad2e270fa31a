//! The environment of a deployment's function processes: their region's endpoints (connect-sim
//! for Connect, the region's moto for DynamoDB (or the fault proxy before it), Step Functions and
//! Lambda), the run table, the
//! region pair, the failover machine of their region, and the harness's settings.

use std::net::SocketAddr;

use anyhow::Result;

use super::Ctx;
use crate::options::{REPLICA_REGION, SOURCE_REGION};
use crate::process::free_port;
use crate::table::TABLE_NAME;

/// Every variable but the runtime API's and the function's name (set per process).
pub(crate) fn functions_env(
    ctx: &Ctx,
    region: &str,
    moto: SocketAddr,
    dynamodb: SocketAddr,
) -> Result<Vec<(String, String)>> {
    let closed_port = free_port()?;
    let failover_arn = crate::sfn::machine_arn(region, "failover");
    let o = &ctx.opts;
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "e2e".to_string()),
        ("TABLE_NAME", TABLE_NAME.to_string()),
        ("SOURCE_REGION", SOURCE_REGION.to_string()),
        ("REPLICA_REGION", REPLICA_REGION.to_string()),
        ("DEPLOYMENT_REGION", region.to_string()),
        ("FAILOVER_STATE_MACHINE_ARN", failover_arn),
        ("LOCK_LEASE_SECONDS", o.lease_seconds.to_string()),
        ("AWS_REGION", region.to_string()),
        // AWS_ACCESS_KEY_ID: each function's own (crate::permissions), set per process.
        ("AWS_SECRET_ACCESS_KEY", "e2e-secret".to_string()),
        ("AWS_ENDPOINT_URL_CONNECT", format!("http://{}", ctx.sim)),
        ("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{dynamodb}")),
        ("AWS_ENDPOINT_URL_SFN", format!("http://{moto}")),
        // Preflight's replica-region checks: Lambda in moto; KMS nowhere (moto cannot hold
        // the AWS managed key alias/aws/connect), which preflight reports as a warn.
        ("AWS_ENDPOINT_URL_LAMBDA", format!("http://{moto}")),
        (
            "AWS_ENDPOINT_URL_KMS",
            format!("http://127.0.0.1:{closed_port}"),
        ),
        // The Connect clients' policy is the template's (acgr::connect::pace), but for the factor: our
        // pacers run at the control plane's quota factor, one setting for both.
        ("CONNECT_QUOTA_FACTOR", o.quota_factor.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ("RUST_LOG", "info,associate_agents=debug".to_string()),
        ("RUST_BACKTRACE", "1".to_string()),
        ("NO_COLOR", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // the other region's table replica (a failback reads the episodes there)
    if let Some(peer) = ctx.motos.iter().find(|(r, _)| r != region).map(|(_, a)| *a) {
        env.push(("PEER_DYNAMODB_ENDPOINT".into(), format!("http://{peer}")));
    }
    env.extend(o.env.iter().cloned());
    Ok(env)
}
