//! Region names and the Global Resiliency pairs they form.

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
                "'{}' is not an AWS region name",
                crate::error::shown(s)
            )))
        }
    }

    /// [`Region::parse`] of an input member, the member named in the error.
    pub fn parse_member(member: &str, s: &str) -> Result<Region, StepError> {
        Region::parse(s).map_err(|e| StepError::InvalidInput(format!("{member}: {e}")))
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
    pub(super) fn sorted(&self) -> [&Region; 2] {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
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
}
