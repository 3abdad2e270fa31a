use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let metrics = acgr::metrics::init("replicate");
    let ctx = acgr::Context::from_env(acgr::Tables::Local).await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        acgr::metrics::flushed(metrics, replicate::handler(&ctx, event))
    }))
    .await
}
