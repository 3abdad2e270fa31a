use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    acgr::init_tracing();
    let ctx = acgr::Context::from_env().await?;
    let pacing = associate_agents::Pacing::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        associate_agents::handler(&ctx, &pacing, event)
    }))
    .await
}
