use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let metrics = acgr::metrics::init("shift-traffic");
    let ctx = acgr::Context::from_env(acgr::Tables::LocalAndPeer).await?;
    let settings = shift_traffic::Settings::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        acgr::metrics::flushed(metrics, shift_traffic::handler(&ctx, &settings, event))
    }))
    .await
}
