//! The domain: regions and their Global Resiliency pairs, instance references, the mirrored
//! resource kinds, and traffic plans that can only hold a valid distribution.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::StepError;

/// An AWS region name, checked against the `AwsRegion` shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Result<Region, StepError> {
        let parts: Vec<&str> = s.split('-').collect();
        let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
        let ok = (8..=31).contains(&s.len())
            && parts.len() >= 3
            && parts[0].len() == 2
            && lower(&parts[0])
            && parts[1..parts.len() - 1].iter().all(lower)
            && parts
                .last()
                .is_some_and(|d| d.len() == 1 && d.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Region(s.to_string()))
        } else {
            Err(StepError::InvalidInput(format!(
                "'{s}' is not an AWS region name"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Region {
    type Error = StepError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Region::parse(&s)
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether ReplicateInstance may create a replica of `source` in `replica`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairSupport {
    /// In the replica-creation guide: us-east-1 <-> us-west-2, eu-central-1 <-> eu-west-2.
    Supported,
    /// ap-northeast-1 -> ap-northeast-3: in the newer API reference, not in the guide.
    ReferenceOnly,
    Unsupported,
}

const GUIDE_PAIRS: &[(&str, &str)] = &[
    ("us-east-1", "us-west-2"),
    ("us-west-2", "us-east-1"),
    ("eu-central-1", "eu-west-2"),
    ("eu-west-2", "eu-central-1"),
];

/// The two regions of an instance and its replica: the source, where the instance was created,
/// and the replica region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionPair {
    pub source: Region,
    pub replica: Region,
}

impl RegionPair {
    pub fn new(source: Region, replica: Region) -> RegionPair {
        RegionPair { source, replica }
    }

    pub fn contains(&self, r: &Region) -> bool {
        *r == self.source || *r == self.replica
    }

    /// The other region of the pair (`None` for a region outside it).
    pub fn other(&self, r: &Region) -> Option<&Region> {
        if *r == self.source {
            Some(&self.replica)
        } else if *r == self.replica {
            Some(&self.source)
        } else {
            None
        }
    }

    /// Both regions, sorted (the order distributions are kept in).
    fn sorted(&self) -> [&Region; 2] {
        let mut both = [&self.source, &self.replica];
        both.sort();
        both
    }
}

impl fmt::Display for RegionPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.source, self.replica)
    }
}

pub fn pair_support(source: &Region, replica: &Region) -> PairSupport {
    let pair = (source.as_str(), replica.as_str());
    if GUIDE_PAIRS.contains(&pair) {
        PairSupport::Supported
    } else if pair == ("ap-northeast-1", "ap-northeast-3") {
        PairSupport::ReferenceOnly
    } else {
        PairSupport::Unsupported
    }
}

/// The region a replica of an instance in `source` goes to, if the guide names one.
pub fn paired_region(source: &Region) -> Option<Region> {
    GUIDE_PAIRS
        .iter()
        .find(|(s, _)| *s == source.as_str())
        .map(|(_, r)| Region(r.to_string()))
}

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
    let Some(rest) = s.strip_prefix("arn:") else {
        return Ok(valid_id(s).then(|| (s.to_string(), None)));
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_partition, "connect", region, account, resource] = parts.as_slice() else {
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
                "instanceId '{s}' is neither an instance ID nor an instance ARN"
            ))
        })?;
        Ok(InstanceRef { id, region })
    }
}

/// An instance alias: 1 to 45 letters, digits and hyphens, not starting with `d-` (directory
/// IDs), not starting or ending with a hyphen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceAlias(String);

impl InstanceAlias {
    pub fn parse(alias: &str) -> Result<InstanceAlias, StepError> {
        let ok = (1..=45).contains(&alias.len())
            && !alias.starts_with("d-")
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !alias.starts_with('-')
            && !alias.ends_with('-');
        if ok {
            Ok(InstanceAlias(alias.to_string()))
        } else {
            Err(StepError::InvalidInput(format!(
                "'{alias}' is not a valid instance alias: 1 to 45 letters, digits and hyphens, \
                 not starting with 'd-', not starting or ending with a hyphen"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
                "trafficDistributionGroup '{s}' is neither a group ID nor a group ARN"
            ))
        })?;
        Ok(GroupRef { id, region })
    }
}

/// The region named in a Connect ARN (instance, group, ...).
pub fn region_of_arn(arn: &str) -> Option<Region> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    let _partition = parts.next()?;
    (parts.next()? == "connect").then_some(())?;
    Region::parse(parts.next()?).ok()
}

/// A configuration kind that Global Resiliency mirrors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    HoursOfOperations,
    AgentStatuses,
    PredefinedAttributes,
    SecurityProfiles,
    Prompts,
    UserHierarchyGroups,
    ContactFlowModules,
    ContactFlows,
    Queues,
    QuickConnects,
    RoutingProfiles,
    Users,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::HoursOfOperations,
        Kind::AgentStatuses,
        Kind::PredefinedAttributes,
        Kind::SecurityProfiles,
        Kind::Prompts,
        Kind::UserHierarchyGroups,
        Kind::ContactFlowModules,
        Kind::ContactFlows,
        Kind::Queues,
        Kind::QuickConnects,
        Kind::RoutingProfiles,
        Kind::Users,
    ];

    /// `ResourceType` in ListReplicationFindings.
    pub fn finding_type(self) -> &'static str {
        match self {
            Kind::HoursOfOperations => "OPERATING_HOURS",
            Kind::AgentStatuses => "AGENT_STATE",
            Kind::PredefinedAttributes => "ATTRIBUTE",
            Kind::SecurityProfiles => "SECURITY_PROFILE",
            Kind::Prompts => "PROMPT",
            Kind::UserHierarchyGroups => "AGENT_GROUP",
            Kind::ContactFlowModules => "FLOW_MODULE",
            Kind::ContactFlows => "CONTACT_FLOW",
            Kind::Queues => "QUEUE",
            Kind::QuickConnects => "TRANSFER_DESTINATION",
            Kind::RoutingProfiles => "ROUTING_PROFILE",
            Kind::Users => "AGENT",
        }
    }

    /// The camelCase name used in payloads and the run store.
    pub fn key(self) -> &'static str {
        match self {
            Kind::HoursOfOperations => "hoursOfOperations",
            Kind::AgentStatuses => "agentStatuses",
            Kind::PredefinedAttributes => "predefinedAttributes",
            Kind::SecurityProfiles => "securityProfiles",
            Kind::Prompts => "prompts",
            Kind::UserHierarchyGroups => "userHierarchyGroups",
            Kind::ContactFlowModules => "contactFlowModules",
            Kind::ContactFlows => "contactFlows",
            Kind::Queues => "queues",
            Kind::QuickConnects => "quickConnects",
            Kind::RoutingProfiles => "routingProfiles",
            Kind::Users => "users",
        }
    }
}

/// Names of the resources Connect creates with every instance; agents can use emergency access
/// to the replica only once these two are mirrored.
pub const DEFAULT_QUEUE: &str = "BasicQueue";
pub const DEFAULT_ROUTING_PROFILE: &str = "Basic Routing Profile";

/// A split between the two regions of a pair, in 10% steps summing to 100.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split(Vec<(Region, u8)>);

impl Split {
    pub fn new(pair: &RegionPair, entries: &[(Region, u8)]) -> Result<Split, StepError> {
        let bad = |m: String| Err(StepError::InvalidInput(m));
        let mut regions: Vec<&Region> = entries.iter().map(|(r, _)| r).collect();
        regions.sort();
        let want = pair.sorted().to_vec();
        if regions != want {
            return bad(format!(
                "a distribution names each of {} and {} exactly once",
                pair.source, pair.replica
            ));
        }
        if let Some((r, p)) = entries.iter().find(|(_, p)| *p > 100 || p % 10 != 0) {
            return bad(format!(
                "{r}: {p}% is not a multiple of 10 between 0 and 100"
            ));
        }
        let sum: u32 = entries.iter().map(|(_, p)| u32::from(*p)).sum();
        if sum != 100 {
            return bad(format!("percentages add up to {sum}, not 100"));
        }
        let mut ordered = vec![
            (pair.source.clone(), Self::find(entries, &pair.source)),
            (pair.replica.clone(), Self::find(entries, &pair.replica)),
        ];
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Split(ordered))
    }

    fn find(entries: &[(Region, u8)], r: &Region) -> u8 {
        entries.iter().find(|(x, _)| x == r).map_or(0, |(_, p)| *p)
    }

    /// Everything to one region.
    pub fn all_to(pair: &RegionPair, target: &Region) -> Result<Split, StepError> {
        let other = pair.other(target).unwrap_or(&pair.replica);
        Split::new(pair, &[(target.clone(), 100), (other.clone(), 0)])
    }

    pub fn percent(&self, r: &Region) -> u8 {
        Self::find(&self.0, r)
    }

    pub fn entries(&self) -> &[(Region, u8)] {
        &self.0
    }
}

/// A full traffic distribution for one group: telephony, agents and (default group only) sign-in.
/// It can only be built valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPlan {
    telephony: Split,
    agents: Split,
    sign_in: Option<Vec<(Region, bool)>>,
}

impl TrafficPlan {
    pub fn new(
        pair: &RegionPair,
        telephony: &[(Region, u8)],
        agents: &[(Region, u8)],
        sign_in: Option<&[(Region, bool)]>,
    ) -> Result<TrafficPlan, StepError> {
        let sign_in = match sign_in {
            None => None,
            Some(list) => {
                let mut regions: Vec<&Region> = list.iter().map(|(r, _)| r).collect();
                regions.sort();
                let want = pair.sorted().to_vec();
                if regions != want {
                    return Err(StepError::InvalidInput(format!(
                        "signIn names each of {} and {} exactly once",
                        pair.source, pair.replica
                    )));
                }
                if list.iter().all(|(_, on)| !on) {
                    return Err(StepError::InvalidInput(
                        "signIn must leave at least one region enabled, or no agent can sign in"
                            .into(),
                    ));
                }
                let mut v = list.to_vec();
                v.sort();
                Some(v)
            }
        };
        Ok(TrafficPlan {
            telephony: Split::new(pair, telephony)?,
            agents: Split::new(pair, agents)?,
            sign_in,
        })
    }

    /// Telephony, agents and sign-in all to `target` (sign-in only where the group allows it).
    pub fn failover_to(
        pair: &RegionPair,
        target: &Region,
        with_sign_in: bool,
    ) -> Result<TrafficPlan, StepError> {
        if !pair.contains(target) {
            return Err(StepError::InvalidInput(format!(
                "{target} is not a region of this instance's pair ({}, {})",
                pair.source, pair.replica
            )));
        }
        let other = pair.other(target).unwrap_or(&pair.replica);
        let sign_in = [(target.clone(), true), (other.clone(), false)];
        TrafficPlan::new(
            pair,
            &[(target.clone(), 100), (other.clone(), 0)],
            &[(target.clone(), 100), (other.clone(), 0)],
            with_sign_in.then_some(&sign_in[..]),
        )
    }

    pub fn telephony(&self) -> &Split {
        &self.telephony
    }
    pub fn agents(&self) -> &Split {
        &self.agents
    }
    pub fn sign_in(&self) -> Option<&[(Region, bool)]> {
        self.sign_in.as_deref()
    }

    /// The same plan without sign-in (for groups other than the default).
    pub fn without_sign_in(mut self) -> TrafficPlan {
        self.sign_in = None;
        self
    }

    /// The region that takes most telephony (where UpdateTrafficDistribution is called).
    pub fn telephony_target(&self) -> &Region {
        let e = self.telephony.entries();
        if e[0].1 >= e[1].1 {
            &e[0].0
        } else {
            &e[1].0
        }
    }
}

/// A traffic distribution group's split as GetTrafficDistribution reads it back (any values,
/// unlike a [`TrafficPlan`], which only holds valid ones).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CurrentDistribution {
    pub telephony: Vec<(Region, u8)>,
    pub agents: Vec<(Region, u8)>,
    pub sign_in: Option<Vec<(Region, bool)>>,
}

impl From<&TrafficPlan> for CurrentDistribution {
    fn from(plan: &TrafficPlan) -> CurrentDistribution {
        CurrentDistribution {
            telephony: plan.telephony().entries().to_vec(),
            agents: plan.agents().entries().to_vec(),
            sign_in: plan.sign_in().map(<[_]>::to_vec),
        }
    }
}

impl CurrentDistribution {
    /// True when this reads back exactly what `plan` asked for.
    pub fn matches(&self, plan: &TrafficPlan) -> bool {
        let same = |have: &[(Region, u8)], want: &Split| {
            want.entries()
                .iter()
                .all(|(r, p)| have.iter().any(|(hr, hp)| hr == r && hp == p))
        };
        let sign_in_ok = match (plan.sign_in(), &self.sign_in) {
            (None, _) => true,
            (Some(want), Some(have)) => want.iter().all(|w| have.contains(w)),
            (Some(_), None) => false,
        };
        same(&self.telephony, plan.telephony()) && same(&self.agents, plan.agents()) && sign_in_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    fn pair() -> RegionPair {
        RegionPair::new(r("us-east-1"), r("us-west-2"))
    }

    #[test]
    fn regions_are_validated() {
        assert!(Region::parse("us-east-1").is_ok());
        assert!(Region::parse("ap-northeast-3").is_ok());
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us_east_1",
            "us-east-12",
            "x-east-1",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_follow_the_guide_and_flag_the_reference_only_pair() {
        assert_eq!(
            pair_support(&r("us-east-1"), &r("us-west-2")),
            PairSupport::Supported
        );
        assert_eq!(
            pair_support(&r("eu-west-2"), &r("eu-central-1")),
            PairSupport::Supported
        );
        assert_eq!(
            pair_support(&r("ap-northeast-1"), &r("ap-northeast-3")),
            PairSupport::ReferenceOnly
        );
        assert_eq!(
            pair_support(&r("ap-northeast-3"), &r("ap-northeast-1")),
            PairSupport::Unsupported
        );
        assert_eq!(
            pair_support(&r("us-east-1"), &r("eu-west-2")),
            PairSupport::Unsupported
        );
        assert_eq!(paired_region(&r("us-west-2")), Some(r("us-east-1")));
        assert_eq!(paired_region(&r("sa-east-1")), None);
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
    fn aliases_follow_the_rule() {
        assert_eq!(
            InstanceAlias::parse("acme-contact").unwrap().as_str(),
            "acme-contact"
        );
        for bad in ["", "d-abc", "-acme", "acme-", "has space", &"a".repeat(46)] {
            assert!(InstanceAlias::parse(bad).is_err(), "{bad}");
        }
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

    #[test]
    fn splits_hold_only_valid_distributions() {
        let p = pair();
        let ok = Split::new(&p, &[(r("us-west-2"), 30), (r("us-east-1"), 70)]).unwrap();
        assert_eq!(ok.percent(&r("us-east-1")), 70);
        assert_eq!(ok.entries()[0].0, r("us-east-1"), "ordered by region");
        assert!(Split::new(&p, &[(r("us-east-1"), 55), (r("us-west-2"), 45)]).is_err());
        assert!(Split::new(&p, &[(r("us-east-1"), 50), (r("us-west-2"), 40)]).is_err());
        assert!(Split::new(&p, &[(r("us-east-1"), 100)]).is_err());
        assert!(Split::new(&p, &[(r("us-east-1"), 50), (r("eu-west-2"), 50)]).is_err());
        assert!(Split::new(&p, &[(r("us-east-1"), 50), (r("us-east-1"), 50)]).is_err());
    }

    #[test]
    fn plans_check_sign_in_and_pick_the_region_to_call() {
        let p = pair();
        let plan = TrafficPlan::failover_to(&p, &r("us-west-2"), true).unwrap();
        assert_eq!(plan.telephony().percent(&r("us-west-2")), 100);
        assert_eq!(plan.telephony_target(), &r("us-west-2"));
        assert_eq!(plan.sign_in().unwrap().len(), 2);
        assert!(plan.clone().without_sign_in().sign_in().is_none());
        assert!(TrafficPlan::failover_to(&p, &r("eu-west-2"), true).is_err());
        let none = [(r("us-east-1"), false), (r("us-west-2"), false)];
        let split = [(r("us-east-1"), 50), (r("us-west-2"), 50)];
        assert!(TrafficPlan::new(&p, &split, &split, Some(&none)).is_err());
    }
}
