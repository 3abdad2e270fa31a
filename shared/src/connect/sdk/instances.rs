//! Instances, their replication and their cross-region routing: DescribeInstance,
//! ReplicateInstance, Get/UpdateCrossRegionRouting.

use super::SdkConnect;
use crate::connect::{InstanceInfo, RegionStatus, ReplicationInfo, ReplicationStatus};
use crate::domain::{Region, RoutingState};
use crate::error::{ConnectError, ConnectErrorClass};

pub(super) async fn describe_instance(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Option<InstanceInfo>, ConnectError> {
    let out = match connect
        .client
        .describe_instance()
        .instance_id(instance_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = connect.error("DescribeInstance", e);
            return if e.class == ConnectErrorClass::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    let Some(i) = out.instance() else {
        return Ok(None);
    };
    let replication = out.replication_configuration().map(|rc| ReplicationInfo {
        source_region: rc.source_region().and_then(|r| Region::parse(r).ok()),
        statuses: rc
            .replication_status_summary_list()
            .iter()
            .map(|s| RegionStatus {
                region: s.region().unwrap_or_default().to_string(),
                status: s
                    .replication_status()
                    .map_or(ReplicationStatus::Other(String::new()), |x| {
                        x.as_str().into()
                    }),
                reason: s.replication_status_reason().map(String::from),
            })
            .collect(),
        global_sign_in_endpoint: rc.global_sign_in_endpoint().map(String::from),
    });
    Ok(Some(InstanceInfo {
        id: i.id().unwrap_or(instance_id).to_string(),
        arn: i.arn().unwrap_or_default().to_string(),
        alias: i.instance_alias().map(String::from),
        identity: i.identity_management_type().map(|t| t.as_str().into()),
        status: i.instance_status().map(|s| s.as_str().into()),
        status_reason: i
            .status_reason()
            .and_then(|r| r.message())
            .map(String::from),
        access_url: i.instance_access_url().map(String::from),
        replication,
    }))
}

pub(super) async fn replicate_instance(
    connect: &SdkConnect,
    instance_id: &str,
    replica: &Region,
    replica_alias: Option<&str>,
    client_token: &str,
) -> Result<String, ConnectError> {
    let out = connect
        .client
        .replicate_instance()
        .instance_id(instance_id)
        .replica_region(replica.as_str())
        .set_replica_alias(replica_alias.map(String::from))
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| connect.error("ReplicateInstance", e))?;
    Ok(out.arn().unwrap_or_default().to_string())
}

pub(super) async fn get_routing(
    connect: &SdkConnect,
    instance_id: &str,
) -> Result<Option<RoutingState>, ConnectError> {
    match connect
        .client
        .get_cross_region_routing()
        .instance_id(instance_id)
        .send()
        .await
    {
        Ok(out) => Ok(Some(RoutingState {
            isolated_regions: out.isolated_regions().to_vec(),
        })),
        Err(e) => {
            let e = connect.error("GetCrossRegionRouting", e);
            // "available only for ACGR instances enabled for global routing": the model's
            // InvalidRequestException is the answer for any other instance
            if e.code == "InvalidRequestException" {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub(super) async fn update_routing(
    connect: &SdkConnect,
    instance_id: &str,
    isolated_all: bool,
) -> Result<(), ConnectError> {
    connect
        .client
        .update_cross_region_routing()
        .instance_id(instance_id)
        .isolated_all(isolated_all)
        .send()
        .await
        .map_err(|e| connect.error("UpdateCrossRegionRouting", e))?;
    Ok(())
}
