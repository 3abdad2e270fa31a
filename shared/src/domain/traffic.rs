//! Traffic plans, which can only hold a valid distribution, and distributions as read back.

use serde::{Deserialize, Serialize};

use super::{Region, RegionPair};
use crate::error::StepError;

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
                "a distribution names each of {} and {} exactly once, not {}",
                pair.source,
                pair.replica,
                entries
                    .iter()
                    .map(|(r, _)| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
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
