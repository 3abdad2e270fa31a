//! Conversions between the SDK's shapes and the port's.

use aws_sdk_connect::types::Distribution;

use crate::connect::{GroupStatus, GroupSummary, ResourceSummary};
use crate::domain::{Region, Split};

pub(super) fn distributions(
    split: &Split,
) -> Result<Vec<Distribution>, aws_sdk_connect::error::BuildError> {
    split
        .entries()
        .iter()
        .map(|(r, p)| {
            Distribution::builder()
                .region(r.as_str())
                .percentage(i32::from(*p))
                .build()
        })
        .collect()
}

pub(super) fn read_split(d: &[Distribution]) -> Vec<(Region, u8)> {
    d.iter()
        .filter_map(|d| {
            Some((
                Region::parse(d.region()).ok()?,
                u8::try_from(d.percentage()).ok()?,
            ))
        })
        .collect()
}

/// A group as both ListTrafficDistributionGroups and DescribeTrafficDistributionGroup give it.
pub(super) fn group_summary(
    [id, arn, name, instance_arn]: [Option<&str>; 4],
    status: Option<&aws_sdk_connect::types::TrafficDistributionGroupStatus>,
    is_default: bool,
) -> GroupSummary {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    GroupSummary {
        id: text(id),
        arn: text(arn),
        name: text(name),
        instance_arn: text(instance_arn),
        status: status.map_or(GroupStatus::Other(String::new()), |s| s.as_str().into()),
        is_default,
    }
}

pub(super) fn summary(id: Option<&str>, name: Option<&str>) -> Option<ResourceSummary> {
    Some(ResourceSummary {
        id: id.map(String::from),
        name: name?.to_string(),
    })
}
