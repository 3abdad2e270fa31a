//! The `Connect` port over `aws-sdk-connect`: one client per region.

mod convert;
mod errors;
mod flows;
mod groups;
mod instances;
mod listings;

pub use errors::classify;

use aws_sdk_connect::config::http::HttpResponse;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connect::Client;
use tracing::instrument;

use super::{
    Connect, Findings, GroupSummary, GroupUserPage, InstanceInfo, LexBotRef, LiveDistribution,
    ResourceSummary, UserPage,
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
