use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let metrics = acgr::metrics::init("associate-agents");
    let ctx = acgr::Context::from_env(acgr::Tables::Local).await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        acgr::metrics::flushed(metrics, associate_agents::handler(&ctx, event))
    }))
    .await
}
