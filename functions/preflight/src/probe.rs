//! What preflight needs to know about the replica region outside Connect: whether a Lambda
//! function exists there by name, and whether the AWS managed key for Connect exists there.
//! A narrow port, an adapter over `aws-sdk-lambda` and `aws-sdk-kms`, and a fake for tests.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use acgr::domain::Region;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tracing::instrument;

/// The alias of the key AWS creates for Connect the first time an instance is created in a region.
pub const CONNECT_KEY_ALIAS: &str = "alias/aws/connect";

/// The answer to "is it there?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    Found,
    NotFound,
    /// The question could not be answered (access denied, no endpoint, timeout, ...): why.
    Unknown(String),
}

/// Read-only questions about the replica region.
pub trait ReplicaProbe: Send + Sync {
    fn region(&self) -> &Region;

    /// Whether a Lambda function of this name exists in the replica region.
    fn lambda_function(&self, name: &str) -> impl Future<Output = Probe> + Send;

    /// Whether `alias/aws/connect` exists in the replica region.
    fn connect_key(&self) -> impl Future<Output = Probe> + Send;
}

/// The probe over the AWS SDK, with clients for the replica region.
#[derive(Clone, Debug)]
pub struct SdkProbe {
    region: Region,
    lambda: aws_sdk_lambda::Client,
    kms: aws_sdk_kms::Client,
}

impl SdkProbe {
    /// Clients for `region`, with short timeouts and one retry: a missing or unreachable endpoint
    /// is a quick "could not check", not a stalled step. Endpoints for local runs come from
    /// `AWS_ENDPOINT_URL_LAMBDA` / `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL`.
    pub async fn for_region(region: &Region) -> SdkProbe {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .load()
            .await;
        SdkProbe {
            region: region.clone(),
            lambda: aws_sdk_lambda::Client::new(&conf),
            kms: aws_sdk_kms::Client::new(&conf),
        }
    }
}

/// Why a call gave no answer, in a few words.
fn why<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(se) => format!(
            "{}: {}",
            se.err().code().unwrap_or("service error"),
            se.err().message().unwrap_or("no message")
        ),
        SdkError::TimeoutError(_) => "the call timed out".to_string(),
        SdkError::DispatchFailure(_) => format!("the endpoint did not answer: {}", root_cause(e)),
        _ => DisplayErrorContext(e).to_string(),
    }
}

/// The innermost error of a chain: "Connection refused (os error 111)" rather than every layer.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl ReplicaProbe for SdkProbe {
    fn region(&self) -> &Region {
        &self.region
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn lambda_function(&self, name: &str) -> Probe {
        match self.lambda.get_function().function_name(name).send().await {
            Ok(_) => Probe::Found,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                Probe::NotFound
            }
            Err(e) => Probe::Unknown(why(&e)),
        }
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn connect_key(&self) -> Probe {
        match self
            .kms
            .describe_key()
            .key_id(CONNECT_KEY_ALIAS)
            .send()
            .await
        {
            Ok(_) => Probe::Found,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_not_found_exception()) =>
            {
                Probe::NotFound
            }
            Err(e) => Probe::Unknown(why(&e)),
        }
    }
}

/// A replica region set up by the test: functions that exist, functions whose check fails, the key.
#[derive(Clone, Debug)]
pub struct FakeProbe {
    pub region: Region,
    pub functions: BTreeSet<String>,
    /// Functions whose check cannot run, with why.
    pub errors: HashMap<String, String>,
    pub key: Probe,
}

impl FakeProbe {
    /// A replica region with the Connect key and no functions.
    pub fn new(region: Region) -> FakeProbe {
        FakeProbe {
            region,
            functions: BTreeSet::new(),
            errors: HashMap::new(),
            key: Probe::Found,
        }
    }
}

impl ReplicaProbe for FakeProbe {
    fn region(&self) -> &Region {
        &self.region
    }

    async fn lambda_function(&self, name: &str) -> Probe {
        if let Some(why) = self.errors.get(name) {
            Probe::Unknown(why.clone())
        } else if self.functions.contains(name) {
            Probe::Found
        } else {
            Probe::NotFound
        }
    }

    async fn connect_key(&self) -> Probe {
        self.key.clone()
    }
}
