//! Instances and traffic distribution groups named by ID or by Connect ARN.

use super::{Arn, Region, RegionPair};
use crate::error::StepError;

/// A Connect resource ID: 1 to 100 letters, digits, `-` or `_`.
fn valid_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A resource named by ID, or by a Connect ARN `arn:PARTITION:connect:REGION:ACCOUNT:KIND/ID`.
/// `Ok(None)` when `s` is neither.
fn parse_ref(s: &str, kind: &str) -> Result<Option<(String, Option<Region>)>, StepError> {
    if !s.starts_with("arn:") {
        return Ok(valid_id(s).then(|| (s.to_string(), None)));
    }
    let Some(Arn {
        service: "connect",
        region,
        account,
        resource,
        ..
    }) = Arn::parse(s)
    else {
        return Ok(None);
    };
    let Some(id) = resource
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return Ok(None);
    };
    if !valid_id(id) || account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(Some((id.to_string(), Some(Region::parse(region)?))))
}

/// An instance, named by ID or by ARN (which also gives its region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRef {
    pub id: String,
    pub region: Option<Region>,
}

impl InstanceRef {
    pub fn parse(s: &str) -> Result<InstanceRef, StepError> {
        let (id, region) = parse_ref(s, "instance")?.ok_or_else(|| {
            StepError::InvalidInput(format!(
                "instanceId '{}' is neither an instance ID nor an instance ARN",
                crate::error::shown(s)
            ))
        })?;
        Ok(InstanceRef { id, region })
    }

    /// Refuses an ARN of a region outside `pair` (an ID names no region), naming `member`.
    pub fn check_in(&self, pair: &RegionPair, member: &str) -> Result<(), StepError> {
        match &self.region {
            Some(r) if !pair.contains(r) => Err(StepError::InvalidInput(format!(
                "{member} names {r}, outside this deployment's pair ({}, {})",
                pair.source, pair.replica
            ))),
            _ => Ok(()),
        }
    }
}

/// A traffic distribution group, named by ID or by ARN (which also gives its home region, the
/// instance's source region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub region: Option<Region>,
}

impl GroupRef {
    pub fn parse(s: &str) -> Result<GroupRef, StepError> {
        let (id, region) = parse_ref(s, "traffic-distribution-group")?.ok_or_else(|| {
            StepError::InvalidInput(format!(
                "trafficDistributionGroup '{}' is neither a group ID nor a group ARN",
                crate::error::shown(s)
            ))
        })?;
        Ok(GroupRef { id, region })
    }
}

/// The region named in a Connect ARN (instance, group, ...).
pub fn region_of_arn(arn: &str) -> Option<Region> {
    Arn::parse(arn)
        .filter(|a| a.service == "connect")
        .and_then(|a| Region::parse(a.region).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    #[test]
    fn instance_refs_take_ids_and_arns() {
        let id = InstanceRef::parse("4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10").unwrap();
        assert_eq!(id.region, None);
        let arn =
            InstanceRef::parse("arn:aws:connect:eu-west-2:123456789012:instance/abc-1").unwrap();
        assert_eq!(arn.id, "abc-1");
        assert_eq!(arn.region, Some(r("eu-west-2")));
        for bad in [
            "",
            "has space",
            "arn:aws:s3:::bucket",
            "arn:aws:connect:us-east-1:123:queue/x",
            &"a".repeat(101),
        ] {
            assert!(InstanceRef::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            region_of_arn("arn:aws:connect:us-east-1:1:traffic-distribution-group/x"),
            Some(r("us-east-1"))
        );
    }

    #[test]
    fn group_refs_take_ids_and_group_arns_only() {
        let g = GroupRef::parse(
            "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g-1",
        )
        .unwrap();
        assert_eq!((g.id.as_str(), g.region), ("g-1", Some(r("us-east-1"))));
        assert_eq!(GroupRef::parse("g-1").unwrap().region, None);
        for bad in [
            "",
            "a b",
            "arn:aws:connect:us-east-1:123456789012:instance/i-1",
            "arn:aws:connect:us-east-1::traffic-distribution-group/g",
            "arn:aws:connect:mars-1:1:traffic-distribution-group/g",
        ] {
            let err = GroupRef::parse(bad).unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput", "{bad}");
        }
    }
}
