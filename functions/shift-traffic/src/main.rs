use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    acgr::init_tracing();
    let ctx = acgr::Context::from_env().await?;
    let settings = shift_traffic::Settings::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        shift_traffic::handler(&ctx, &settings, event)
    }))
    .await
}
