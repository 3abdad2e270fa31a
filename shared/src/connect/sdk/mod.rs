//! The `Connect` port over `aws-sdk-connect`: one client per region.

mod convert;
mod errors;
mod flows;
mod groups;
mod instances;
mod listings;
mod readiness;

pub use errors::classify;

use aws_sdk_connect::config::http::HttpResponse;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connect::Client;
use tracing::instrument;

use super::{
    Connect, Findings, GroupSummary, GroupUserPage, InstanceInfo, LexBotRef, LiveDistribution,
    ResourceSummary, TestCase, TestCaseRun, UserPage,
};
use crate::domain::{Kind, Region, RoutingState, TrafficPlan};
use crate::error::ConnectError;

/// Connect in one region.
#[derive(Clone, Debug)]
pub struct SdkConnect {
    client: Client,
    region: Region,
}

impl SdkConnect {
    pub fn new(client: Client, region: Region) -> Self {
        SdkConnect { client, region }
    }

    fn error<E>(&self, operation: &'static str, e: SdkError<E, HttpResponse>) -> ConnectError
    where
        E: ProvideErrorMetadata + std::fmt::Debug,
    {
        classify(operation, &self.region, e)
    }
}

// Each operation lives with its API family; the spans are opened here, as the port is called.
impl Connect for SdkConnect {
    fn region(&self) -> &Region {
        &self.region
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn describe_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceInfo>, ConnectError> {
        instances::describe_instance(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn replicate_instance(
        &self,
        instance_id: &str,
        replica: &Region,
        replica_alias: Option<&str>,
        client_token: &str,
    ) -> Result<String, ConnectError> {
        instances::replicate_instance(self, instance_id, replica, replica_alias, client_token).await
    }

    async fn list_groups(&self, instance_id: &str) -> Result<Vec<GroupSummary>, ConnectError> {
        groups::list_groups(self, instance_id).await
    }

    async fn describe_group(&self, group: &str) -> Result<GroupSummary, ConnectError> {
        groups::describe_group(self, group).await
    }

    async fn get_live(&self, group: &str) -> Result<LiveDistribution, ConnectError> {
        groups::get_live(self, group).await
    }

    #[instrument(skip(self, plan), fields(region = %self.region))]
    async fn update_distribution(
        &self,
        group: &str,
        plan: &TrafficPlan,
    ) -> Result<(), ConnectError> {
        groups::update_distribution(self, group, plan).await
    }

    async fn associate_user(
        &self,
        group: &str,
        user_id: &str,
        instance_id: &str,
    ) -> Result<(), ConnectError> {
        groups::associate_user(self, group, user_id, instance_id).await
    }

    async fn list_group_users_page(
        &self,
        group: &str,
        next_token: Option<&str>,
    ) -> Result<GroupUserPage, ConnectError> {
        groups::list_group_users_page(self, group, next_token).await
    }

    async fn list_resources(
        &self,
        instance_id: &str,
        kind: Kind,
    ) -> Result<Vec<ResourceSummary>, ConnectError> {
        listings::list_resources(self, instance_id, kind).await
    }

    async fn list_users_page(
        &self,
        instance_id: &str,
        next_token: Option<&str>,
        page_size: i32,
    ) -> Result<UserPage, ConnectError> {
        listings::list_users_page(self, instance_id, next_token, page_size).await
    }

    async fn list_findings(
        &self,
        instance_id: &str,
        resource_type: &str,
    ) -> Result<Findings, ConnectError> {
        listings::list_findings(self, instance_id, resource_type).await
    }

    async fn flow_content(
        &self,
        instance_id: &str,
        flow_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        flows::flow_content(self, instance_id, flow_id).await
    }

    async fn module_content(
        &self,
        instance_id: &str,
        module_id: &str,
    ) -> Result<Option<String>, ConnectError> {
        flows::module_content(self, instance_id, module_id).await
    }

    async fn list_lambda_functions(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        flows::list_lambda_functions(self, instance_id).await
    }

    async fn list_lex_bots(&self, instance_id: &str) -> Result<Vec<LexBotRef>, ConnectError> {
        flows::list_lex_bots(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn list_test_cases(&self, instance_id: &str) -> Result<Vec<TestCase>, ConnectError> {
        readiness::list_test_cases(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn describe_test_case(
        &self,
        instance_id: &str,
        test_case_id: &str,
    ) -> Result<Option<TestCase>, ConnectError> {
        readiness::describe_test_case(self, instance_id, test_case_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn start_test_case(
        &self,
        instance_id: &str,
        test_case_id: &str,
        client_token: &str,
    ) -> Result<String, ConnectError> {
        readiness::start_test_case(self, instance_id, test_case_id, client_token).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn test_case_run(
        &self,
        instance_id: &str,
        test_case_id: &str,
        execution_id: &str,
    ) -> Result<TestCaseRun, ConnectError> {
        readiness::test_case_run(self, instance_id, test_case_id, execution_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn test_case_failures(
        &self,
        instance_id: &str,
        test_case_id: &str,
        execution_id: &str,
    ) -> Result<Vec<String>, ConnectError> {
        readiness::test_case_failures(self, instance_id, test_case_id, execution_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn list_approved_origins(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        readiness::list_approved_origins(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn list_applications(&self, instance_id: &str) -> Result<Vec<String>, ConnectError> {
        readiness::list_applications(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn flow_associations(
        &self,
        instance_id: &str,
        numbers: &[String],
    ) -> Result<Vec<(String, String)>, ConnectError> {
        readiness::flow_associations(self, instance_id, numbers).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn get_routing(&self, instance_id: &str) -> Result<Option<RoutingState>, ConnectError> {
        instances::get_routing(self, instance_id).await
    }

    #[instrument(skip(self), fields(region = %self.region))]
    async fn update_routing(
        &self,
        instance_id: &str,
        isolated_all: bool,
    ) -> Result<(), ConnectError> {
        instances::update_routing(self, instance_id, isolated_all).await
    }
}
