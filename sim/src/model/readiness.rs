//! Test case executions: what a synthetic contact meets when it walks the flows of the region
//! it runs in (Lambda functions and Lex V2 aliases deployed and associated there, no ARN of
//! another region, S3 prompts reachable), decided when the execution completes.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{lambda_name, Instance, Observation, Outcome, World};
use crate::kinds::Kind;

/// A UUID-shaped identifier derived from `key` (FNV-1a), so that identifiers made for scenario
/// and replica setups do not move the seeded ID generator.
pub fn stable_uuid(key: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in key.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// `(region, account, bot ID, alias ID)` of a Lex V2 alias ARN
/// (`arn:aws:lex:REGION:ACCOUNT:bot-alias/BOT/ALIAS`).
pub fn lex_alias_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("lex"), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let mut seg = rest.split('/');
    match (seg.next(), seg.next(), seg.next(), seg.next()) {
        (Some("bot-alias"), Some(bot), Some(alias), None)
            if !bot.is_empty() && !alias.is_empty() =>
        {
            Some((region, account, bot, alias))
        }
        _ => None,
    }
}

/// The placeholder a flow may use for the region it runs in (admin guide: `$.AwsRegion` is
/// supported in Lambda and Lex ARNs).
const RUNTIME_REGION: &str = "$.AwsRegion";

struct Walk<'a> {
    w: &'a World,
    inst: &'a Instance,
    region: &'a str,
    /// The other region of the instance's replication, if any.
    paired: Option<&'a str>,
    seen: BTreeSet<String>,
    total: usize,
    failures: Vec<Observation>,
}

impl World {
    /// Decides the executions that complete by `now`.
    pub(super) fn decide_executions(&mut self, now: f64) {
        let due: Vec<usize> = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.outcome.is_none() && e.stopped.is_none() && e.ends <= now)
            .map(|(i, _)| i)
            .collect();
        for i in due {
            let e = &self.executions[i];
            let (total, failures) = self.run_test_case(&e.region, &e.instance_id, &e.test_case_id);
            let at = e.ends;
            self.executions[i].outcome = Some(Outcome {
                at,
                total,
                failures,
            });
        }
    }

    /// Walks a test case's entry point in `region`: the observations made and those failed.
    pub fn run_test_case(
        &self,
        region: &str,
        instance_id: &str,
        test_case_id: &str,
    ) -> (usize, Vec<Observation>) {
        let fail = |flow: &str, block: &str, dependency: &str, message: String| {
            (
                1,
                vec![Observation {
                    flow: flow.into(),
                    block: block.into(),
                    dependency: dependency.into(),
                    message,
                }],
            )
        };
        let Some(inst) = self.instance(region, instance_id) else {
            return fail(
                "",
                "",
                "instance",
                format!("instance {instance_id} does not exist in {region}"),
            );
        };
        let Some(tc) = inst.set(Kind::TestCases).and_then(|s| s.get(test_case_id)) else {
            return fail(
                "",
                "",
                "test case",
                format!("test case {test_case_id} does not exist in {region}"),
            );
        };
        let entry = tc.attrs.get("EntryPoint");
        let params = entry.and_then(|e| {
            e.get("VoiceCallEntryPointParameters")
                .or_else(|| e.get("ChatEntryPointParameters"))
        });
        let flow_label = params.and_then(|p| p.get("FlowId")).and_then(Value::as_str);
        let number = params
            .and_then(|p| p.get("DestinationPhoneNumber"))
            .and_then(Value::as_str);
        let flow_id = match (flow_label, number) {
            (Some(f), _) => f.rsplit('/').next().unwrap_or(f).to_string(),
            (None, Some(n)) => match self.number_flow(region, instance_id, n) {
                Some(f) => f,
                None => {
                    return fail(
                        "",
                        "",
                        n,
                        format!(
                            "phone number {n} has no flow in instance {instance_id} in {region}"
                        ),
                    )
                }
            },
            (None, None) => {
                return fail(
                    "",
                    "",
                    "entry point",
                    format!("test case '{}' has no entry flow or phone number", tc.name),
                )
            }
        };
        let paired = self
            .replications
            .get(instance_id)
            .and_then(|r| r.other(region));
        let mut walk = Walk {
            w: self,
            inst,
            region,
            paired,
            seen: BTreeSet::new(),
            total: 0,
            failures: Vec::new(),
        };
        walk.enter(&flow_id, "entry point", "");
        (walk.total.max(1), walk.failures)
    }

    /// The flow a phone number points at, as seen from `region` for `instance_id`: a number of
    /// that region, or one claimed to a group of the instance (listed from both regions); the
    /// flow must exist in the region's instance.
    pub fn number_flow(&self, region: &str, instance_id: &str, number: &str) -> Option<String> {
        let n = self.numbers.values().find(|p| {
            p.number == number && p.instance_id == instance_id && self.number_seen_from(p, region)
        })?;
        let flow = n.flow_id.clone()?;
        self.instance(region, instance_id)?
            .set(Kind::ContactFlows)?
            .get(&flow)
            .map(|_| flow)
    }

    /// Whether a number is visible from `region`: its own, or claimed to a group whose pair
    /// includes `region`.
    pub fn number_seen_from(&self, n: &super::PhoneNumber, region: &str) -> bool {
        if n.region == region {
            return true;
        }
        self.tdgs
            .values()
            .any(|t| self.tdg_arn(t) == n.target_arn && (t.home == region || t.other == region))
    }
}

impl Walk<'_> {
    /// Enters a flow or module by ID.
    fn enter(&mut self, id: &str, from_flow: &str, from_block: &str) {
        if !self.seen.insert(id.to_string()) {
            return;
        }
        self.total += 1;
        let flow = self
            .inst
            .set(Kind::ContactFlows)
            .and_then(|s| s.get(id))
            .map(|r| ("flow", r))
            .or_else(|| {
                self.inst
                    .set(Kind::ContactFlowModules)
                    .and_then(|s| s.get(id))
                    .map(|r| ("module", r))
            });
        let Some((what, r)) = flow else {
            let message = format!(
                "flow '{from_flow}' block '{from_block}': flow {id} does not exist in instance {} in {}",
                self.inst.id, self.region
            );
            self.fail(from_flow, from_block, id, message);
            return;
        };
        let name = format!("{what} '{}'", r.name);
        let content = match r.attrs.get("Content") {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let actions = content
            .get("Actions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for action in actions {
            let block = action
                .get("Identifier")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut strings = Vec::new();
            if let Some(p) = action.get("Parameters") {
                leaves(p, "", &mut strings);
            }
            for (key, s) in strings {
                self.check(&name, &r.name, &block, &key, &s);
            }
        }
    }

    fn fail(&mut self, flow: &str, block: &str, dependency: &str, message: String) {
        self.failures.push(Observation {
            flow: flow.into(),
            block: block.into(),
            dependency: dependency.into(),
            message,
        });
    }

    /// Resolves the region an ARN names for this run: the region itself, the placeholder, or
    /// the other region of the pair (mapped by name, as the guide asks for the same names in
    /// both regions) are served here; any other region is not.
    fn served_here(&self, arn_region: &str) -> bool {
        arn_region == self.region || arn_region == RUNTIME_REGION || Some(arn_region) == self.paired
    }

    fn check(&mut self, label: &str, flow: &str, block: &str, key: &str, s: &str) {
        let at = format!("{label} block '{block}'");
        let (region, iid) = (self.region.to_string(), self.inst.id.clone());
        if s.starts_with("arn:aws:lambda:") {
            self.total += 1;
            let arn_region = s.split(':').nth(3).unwrap_or("");
            let name = lambda_name(s);
            if !self.served_here(arn_region) {
                let m = format!("{at}: Lambda function ARN {s} names {arn_region}, not {region}");
                return self.fail(flow, block, &name, m);
            }
            let deployed = self
                .w
                .lambda_functions
                .get(&region)
                .is_none_or(|d| d.contains(&name));
            if !deployed {
                let m = format!("{at}: Lambda function {name} is not deployed in {region}");
                return self.fail(flow, block, &name, m);
            }
            let associated =
                self.inst.lambda_functions.iter().any(|a| {
                    lambda_name(a) == name && a.split(':').nth(3) == Some(region.as_str())
                });
            if !associated {
                let m = format!(
                    "{at}: Lambda function {name} is not associated with instance {iid} in {region}"
                );
                self.fail(flow, block, &name, m);
            }
        } else if s.starts_with("arn:aws:lex:") {
            self.total += 1;
            let Some((arn_region, account, bot, alias)) = lex_alias_parts(s) else {
                return;
            };
            if !self.served_here(arn_region) {
                let m = format!("{at}: Lex V2 alias ARN {s} names {arn_region}, not {region}");
                return self.fail(flow, block, s, m);
            }
            let local = format!("arn:aws:lex:{region}:{account}:bot-alias/{bot}/{alias}");
            let deployed = self
                .w
                .lex_aliases
                .get(&region)
                .is_none_or(|d| d.contains(&local));
            if !deployed {
                let m = format!("{at}: Lex V2 alias {local} is not deployed in {region}");
                return self.fail(flow, block, &local, m);
            }
            if !self.inst.lex_v2.contains(&local) {
                let m = format!(
                    "{at}: Lex V2 alias {local} is not associated with instance {iid} in {region}"
                );
                self.fail(flow, block, &local, m);
            }
        } else if s.starts_with("arn:aws:connect:") {
            let arn_region = s.split(':').nth(3).unwrap_or("");
            if arn_region != region && arn_region != RUNTIME_REGION {
                self.total += 1;
                let m = format!("{at}: {s} is a resource of {arn_region}, not {region}");
                return self.fail(flow, block, s, m);
            }
            for segment in ["/contact-flow/", "/flow-module/"] {
                if let Some((_, id)) = s.split_once(segment) {
                    let id = id.split([':', '/']).next().unwrap_or(id).to_string();
                    self.enter(&id, flow, block);
                }
            }
        } else if s.starts_with("s3://") {
            self.s3(&at, flow, block, s);
        } else if self.is_flow_id(s) || key.ends_with("FlowId") || key.ends_with("FlowModuleId") {
            self.enter(s, flow, block);
        } else if let Some(uri) = self
            .inst
            .set(Kind::Prompts)
            .and_then(|p| p.get(s))
            .and_then(|p| p.attrs.get("S3Uri"))
            .and_then(Value::as_str)
        {
            let uri = uri.to_string();
            self.s3(&at, flow, block, &uri);
        }
    }

    fn s3(&mut self, at: &str, flow: &str, block: &str, uri: &str) {
        self.total += 1;
        if self.w.s3_outages.contains(self.region) {
            let m = format!(
                "{at}: prompt {uri} is unreachable: S3 is unavailable in {}",
                self.region
            );
            self.fail(flow, block, uri, m);
        }
    }

    fn is_flow_id(&self, s: &str) -> bool {
        [Kind::ContactFlows, Kind::ContactFlowModules]
            .iter()
            .any(|k| self.inst.set(*k).and_then(|set| set.get(s)).is_some())
    }
}

/// Every string leaf of a block's parameters, with the key it is under.
fn leaves(v: &Value, key: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((key.to_string(), s.clone())),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, key, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| leaves(x, k, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_uuids_are_uuid_shaped_and_stable() {
        let a = stable_uuid("x");
        assert_eq!(a, stable_uuid("x"));
        assert_ne!(a, stable_uuid("y"));
        assert!(crate::wire::is_uuid(&a), "{a}");
    }

    #[test]
    fn lex_alias_arns_are_split() {
        assert_eq!(
            lex_alias_parts("arn:aws:lex:us-east-1:123456789012:bot-alias/B/A"),
            Some(("us-east-1", "123456789012", "B", "A"))
        );
        assert_eq!(lex_alias_parts("arn:aws:lex:us-east-1:1:bot/B"), None);
    }
}
