use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use preflight::probe::SdkProbe;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let metrics = acgr::metrics::init("preflight");
    let ctx = acgr::Context::from_env(acgr::Tables::Local).await?;
    let replica = ctx.pair().replica;
    let probe = SdkProbe::for_region(&replica).await;
    run(service_fn(|event: LambdaEvent<Value>| {
        acgr::metrics::flushed(metrics, preflight::handler(&ctx, &probe, event))
    }))
    .await
}
