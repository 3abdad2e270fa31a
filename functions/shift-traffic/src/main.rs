use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let ctx = acgr::Context::from_env().await?;
    let settings = shift_traffic::Settings::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        shift_traffic::handler(&ctx, &settings, event)
    }))
    .await
}
