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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::fake::{FakeConnect, FakeWorld};
    use crate::connect::{GroupSummary, InstanceInfo, ReplicationInfo};
    use std::sync::{Arc, Mutex};

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    #[tokio::test]
    async fn from_a_group_arn_else_from_the_replication_configuration_else_none() {
        let world = Arc::new(Mutex::new(FakeWorld::default()));
        let west = FakeConnect::new(r("us-west-2"), world.clone());
        assert_eq!(source_region(&west, "i").await.unwrap(), None);

        world.lock().unwrap().instances.insert(
            ("us-west-2".into(), "i".into()),
            InstanceInfo {
                replication: Some(ReplicationInfo {
                    source_region: Some(r("eu-central-1")),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        assert_eq!(
            source_region(&west, "i").await.unwrap(),
            Some(r("eu-central-1"))
        );

        world.lock().unwrap().groups.push((
            "us-east-1".into(),
            "us-west-2".into(),
            GroupSummary {
                id: "g".into(),
                arn: "arn:aws:connect:us-east-1:1:traffic-distribution-group/g".into(),
                name: "default".into(),
                instance_arn: "arn:aws:connect:us-east-1:1:instance/i".into(),
                status: "ACTIVE".into(),
                is_default: true,
            },
        ));
        assert_eq!(
            source_region(&west, "i").await.unwrap(),
            Some(r("us-east-1")),
            "the group wins"
        );
    }
}
