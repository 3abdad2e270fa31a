//! SDK configuration for the local servers (moto, connect-sim, the watch): their endpoint, the
//! region, fixed test credentials, and how long a caller waits.

use std::net::SocketAddr;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;

/// SDK configuration for a local server in `region`.
pub async fn local_config(server: SocketAddr, region: &str) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(format!("http://{server}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "AKIDE2ETEST",
            "e2e-secret",
            None,
            None,
            "e2e",
        ))
        .load()
        .await
}

/// `conf` with one attempt per call, each given up after `timeout`.
pub fn one_attempt(conf: &SdkConfig, timeout: Duration) -> SdkConfig {
    conf.to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_timeout(timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}
