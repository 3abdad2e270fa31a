use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let ctx = acgr::Context::from_env().await?;
    let pacing = associate_agents::Pacing::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        associate_agents::handler(&ctx, &pacing, event)
    }))
    .await
}
