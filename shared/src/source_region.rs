//! Finding an instance's source region, as the ACGR guide describes: from the `InstanceArn` of
//! its traffic distribution groups, else from DescribeInstance's `ReplicationConfiguration`.

use crate::connect::Connect;
use crate::domain::{region_of_arn, Region};
use crate::error::StepError;

pub async fn source_region<C: Connect>(
    connect: &C,
    instance_id: &str,
) -> Result<Option<Region>, StepError> {
    let groups = connect.list_groups(instance_id).await?;
    if let Some(r) = groups.iter().find_map(|g| region_of_arn(&g.instance_arn)) {
        return Ok(Some(r));
    }
    let info = connect.describe_instance(instance_id).await?;
    Ok(info
        .and_then(|i| i.replication)
        .and_then(|r| r.source_region))
}
