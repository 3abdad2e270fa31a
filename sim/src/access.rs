//! Access policies: which calls an access key may make, and the resource ARN each call is
//! authorised against, as IAM names them for Amazon Connect.

use serde_json::Value;

use crate::error::SimError;
use crate::model::staging::AccessPolicy;
use crate::model::{arn, World};
use crate::ops::Operation;
use crate::wire::{split_arn, ApiError, ErrorCode, Input};

impl AccessPolicy {
    pub fn validate(&self) -> Result<(), SimError> {
        for s in &self.statements {
            if s.actions.is_empty() {
                return Err(SimError::BadRequest(
                    "a statement needs at least one action".to_string(),
                ));
            }
            if let Some(bad) = s
                .actions
                .iter()
                .find(|a| *a != "*" && !a.to_ascii_lowercase().starts_with("connect:"))
            {
                return Err(SimError::BadRequest(format!(
                    "action '{bad}' is not connect:Operation (wildcards allowed) or *"
                )));
            }
            if let Some(bad) = s
                .resources
                .iter()
                .find(|r| *r != "*" && !r.starts_with("arn:"))
            {
                return Err(SimError::BadRequest(format!(
                    "resource '{bad}' is not an ARN pattern or *"
                )));
            }
        }
        Ok(())
    }

    /// Whether a statement allows `action` (`connect:Op`) on `resource`.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let action = action.to_ascii_lowercase();
        self.statements.iter().any(|s| {
            s.actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action))
                && s.resources.iter().any(|r| glob(r, resource))
        })
    }
}

/// Matches `text` against a pattern where `*` is any run of characters and `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The labels of a route, in path order: `/users/{InstanceId}/{UserId}` gives both names.
fn label_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The ARN a call is authorised against: the instance, the resource in it (user, queue, flow,
/// module), the group or the phone number it names; `.../instance/*` (or the kind's `*`) when
/// it names none.
pub fn resource_arn(
    w: &World,
    op: Operation,
    region: &str,
    labels: &[String],
    input: Option<&Input>,
) -> String {
    let names = label_names(op.spec().path);
    let label = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| labels.get(i))
            .map(String::as_str)
    };
    let instance = |l: &str| {
        if l.starts_with("arn:") {
            l.to_string()
        } else {
            w.instance_arn(region, l)
        }
    };
    let all = |what: &str| arn(&w.account, region, &format!("{what}/*"));
    // Cross-region routing is the instance's wherever it is called from: authorised against the
    // instance ARN of the calling region, even when the call names the other region's ARN.
    if matches!(
        op,
        Operation::GetCrossRegionRouting | Operation::UpdateCrossRegionRouting
    ) {
        if let Some(i) = label("InstanceId") {
            let id = split_arn(i).map_or(i, |(_, _, _, id)| id);
            return w.instance_arn(region, id);
        }
    }
    if let Some(g) = label("TrafficDistributionGroupId").or(label("Id")) {
        if g.starts_with("arn:") {
            return g.to_string();
        }
        return w.tdgs.get(g).map_or_else(
            || {
                arn(
                    &w.account,
                    region,
                    &format!("traffic-distribution-group/{g}"),
                )
            },
            |t| w.tdg_arn(t),
        );
    }
    if let Some(p) = label("PhoneNumberId") {
        if p.starts_with("arn:") {
            return p.to_string();
        }
        let home = w.numbers.get(p).map_or(region, |n| n.region.as_str());
        return arn(&w.account, home, &format!("phone-number/{p}"));
    }
    if let Some(i) = label("InstanceId") {
        let base = instance(i);
        for (name, segment) in [
            ("UserId", "agent"),
            ("QueueId", "queue"),
            ("ContactFlowId", "contact-flow"),
            ("ContactFlowModuleId", "flow-module"),
            ("TestCaseId", "test-case"),
        ] {
            if let Some(sub) = label(name) {
                if sub.starts_with("arn:") {
                    return sub.to_string();
                }
                let id = sub.split(':').next().unwrap_or(sub);
                return format!("{base}/{segment}/{id}");
            }
        }
        return base;
    }
    let body = |k: &str| input.and_then(|i| i.body.get(k)).and_then(Value::as_str);
    match op {
        Operation::CreateTrafficDistributionGroup => {
            body("InstanceId").map_or_else(|| all("instance"), instance)
        }
        Operation::ListTrafficDistributionGroups => input
            .and_then(|i| i.query_one("instanceId").ok().flatten())
            .map_or_else(|| all("traffic-distribution-group"), instance),
        Operation::ListPhoneNumbersV2 => match (body("TargetArn"), body("InstanceId")) {
            (Some(t), _) if split_arn(t).is_some() => t.to_string(),
            (_, Some(i)) => instance(i),
            _ => all("phone-number"),
        },
        _ => all("instance"),
    }
}

/// Refuses a call the caller's access policy does not allow: 403 `AccessDeniedException`
/// naming the action and the resource, as IAM words it.
pub fn check(
    w: &World,
    op: Operation,
    region: &str,
    access_key_id: &str,
    labels: &[String],
    input: Option<&Input>,
) -> Result<(), ApiError> {
    let Some(policy) = w.access_policies.get(access_key_id) else {
        return Ok(());
    };
    let action = format!("connect:{}", op.name());
    let resource = resource_arn(w, op, region, labels, input);
    if policy.allows(&action, &resource) {
        return Ok(());
    }
    let principal = policy
        .principal
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{}:user/{access_key_id}", w.account));
    Err(ApiError::new(
        ErrorCode::AccessDenied,
        format!(
            "User: {principal} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::staging::Statement;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("*", "anything"));
        assert!(glob("connect:describe*", "connect:describeinstance"));
        assert!(!glob("connect:describe*", "connect:listusers"));
        assert!(glob(
            "arn:aws:connect:us-east-1:123456789012:instance/abc*",
            "arn:aws:connect:us-east-1:123456789012:instance/abc/agent/u1"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob("*:instance/*/queue/*", "arn:x:instance/i/queue/q"));
    }

    #[test]
    fn policies_allow_matching_actions_on_matching_resources() {
        let policy = AccessPolicy {
            principal: None,
            statements: vec![Statement {
                actions: vec!["connect:Describe*".into(), "connect:ListUsers".into()],
                resources: vec!["arn:aws:connect:us-east-1:1:instance/i*".into()],
            }],
        };
        assert!(policy.validate().is_ok());
        assert!(policy.allows(
            "connect:DescribeInstance",
            "arn:aws:connect:us-east-1:1:instance/i"
        ));
        assert!(policy.allows(
            "connect:listusers",
            "arn:aws:connect:us-east-1:1:instance/i"
        ));
        assert!(!policy.allows(
            "connect:DescribeInstance",
            "arn:aws:connect:us-west-2:1:instance/i"
        ));
        assert!(!policy.allows(
            "connect:ListQueues",
            "arn:aws:connect:us-east-1:1:instance/i"
        ));
        let bad = AccessPolicy {
            principal: None,
            statements: vec![Statement {
                actions: vec!["s3:GetObject".into()],
                resources: vec!["*".into()],
            }],
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn label_names_follow_the_route() {
        assert_eq!(
            label_names("/users/{InstanceId}/{UserId}"),
            ["InstanceId", "UserId"]
        );
        assert!(label_names("/instance").is_empty());
    }
}
