use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let intake = incident_intake::SfnStarter::from_env().await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        incident_intake::handler(&intake, event)
    }))
    .await
}
