//! The resource types ListReplicationFindings reports, as data: the twelve kinds this tool also
//! lists, and every other type the service documents, each polled the same way. The service adds
//! types over time ("Additional resource types can be supported over time"); a deployment names
//! the ones this version does not know in `EXTRA_FINDING_TYPES`, and their findings are read like
//! any other (an unknown reference code is shown as unknown, never as a known class).

use crate::domain::Kind;

/// A resource type of ListReplicationFindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingType {
    /// `ResourceType` as the API spells it.
    pub code: &'static str,
    /// What it is, in the words of the admin guide.
    pub label: &'static str,
}

/// Every `ResourceType` botocore 1.44.18's Connect model documents for ListReplicationFindings.
pub const DOCUMENTED: &[FindingType] = &[
    FindingType {
        code: "AGENT",
        label: "users",
    },
    FindingType {
        code: "AGENT_GROUP",
        label: "user hierarchy groups",
    },
    FindingType {
        code: "AGENT_GROUP_LEVEL",
        label: "agent hierarchy levels",
    },
    FindingType {
        code: "AGENT_STATE",
        label: "agent statuses",
    },
    FindingType {
        code: "ATTRIBUTE",
        label: "predefined attributes",
    },
    FindingType {
        code: "CONTACT_FLOW",
        label: "flows",
    },
    FindingType {
        code: "DATA_TABLE",
        label: "data tables",
    },
    FindingType {
        code: "DATA_TABLE_ATTRIBUTE",
        label: "data table attributes",
    },
    FindingType {
        code: "DATA_TABLE_RECORD",
        label: "data table records",
    },
    FindingType {
        code: "DATA_TABLE_VALUE",
        label: "data table values",
    },
    FindingType {
        code: "FLOW_MODULE",
        label: "flow modules",
    },
    FindingType {
        code: "FLOW_MODULE_ALIAS",
        label: "flow module aliases",
    },
    FindingType {
        code: "FLOW_MODULE_VERSION",
        label: "flow module versions",
    },
    FindingType {
        code: "METRIC",
        label: "custom metrics",
    },
    FindingType {
        code: "NOTIFICATION",
        label: "notifications",
    },
    FindingType {
        code: "OPERATING_HOURS",
        label: "hours of operation",
    },
    FindingType {
        code: "PHONE_NUMBER",
        label: "phone numbers",
    },
    FindingType {
        code: "PROMPT",
        label: "prompts",
    },
    FindingType {
        code: "QUEUE",
        label: "queues",
    },
    FindingType {
        code: "REPORT",
        label: "saved reports",
    },
    FindingType {
        code: "ROUTING_PROFILE",
        label: "routing profiles",
    },
    FindingType {
        code: "SECURITY_PROFILE",
        label: "security profiles",
    },
    FindingType {
        code: "TASK_TEMPLATE",
        label: "task templates",
    },
    FindingType {
        code: "TEST_CASE",
        label: "test cases",
    },
    FindingType {
        code: "TRANSFER_DESTINATION",
        label: "quick connects",
    },
    FindingType {
        code: "VIEW",
        label: "views",
    },
    FindingType {
        code: "WORKSPACE",
        label: "workspaces",
    },
];

/// What global routing never mirrors, by design, and what the team does about each (admin
/// guide, "Global routing across ACGR Regions").
pub const NOT_MIRRORED_BY_DESIGN: &[(&str, &str)] = &[
    (
        "chat quick responses",
        "create them in the replica instance too (Amazon Q in Connect knowledge base of each region)",
    ),
    (
        "task templates",
        "create the templates in the replica instance too, with the same names",
    ),
    (
        "email templates",
        "create them in the replica instance too; keep email agents at 100 % in one region",
    ),
    (
        "third-party applications",
        "associate them with the replica instance too, and add their approved origins there",
    ),
];

/// The resource types a poll asks about beside the twelve listed kinds: every documented type
/// that no kind covers, then `extra` (types AWS added since), each once, in that order.
pub fn others(extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = DOCUMENTED
        .iter()
        .map(|t| t.code)
        .filter(|c| Kind::by_finding_type(c).is_none())
        .map(String::from)
        .collect();
    for e in extra {
        if Kind::by_finding_type(e).is_none() && !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// The label of a type, or the type itself when this version does not know it.
pub fn label(code: &str) -> &str {
    DOCUMENTED
        .iter()
        .find(|t| t.code == code)
        .map_or(code, |t| t.label)
}

/// `EXTRA_FINDING_TYPES`, read once per process (a function's cold start: its environment does
/// not change afterwards); a bad value is `Misconfigured` at every poll, never half-read.
pub fn configured_extra() -> Result<&'static [String], crate::error::StepError> {
    static EXTRA: std::sync::OnceLock<Result<Vec<String>, crate::error::StepError>> =
        std::sync::OnceLock::new();
    match EXTRA.get_or_init(extra_from_env) {
        Ok(types) => Ok(types),
        Err(e) => Err(e.clone()),
    }
}

/// `EXTRA_FINDING_TYPES`: comma-separated resource types (upper case, digits, underscores).
pub fn extra_from_env() -> Result<Vec<String>, crate::error::StepError> {
    parse_extra(&std::env::var("EXTRA_FINDING_TYPES").unwrap_or_default())
}

pub fn parse_extra(value: &str) -> Result<Vec<String>, crate::error::StepError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let ok = t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if ok {
                Ok(t.to_string())
            } else {
                Err(crate::error::StepError::Misconfigured(format!(
                    "EXTRA_FINDING_TYPES: '{}' is not a resource type (upper case, digits, \
                     underscores)",
                    crate::error::shown(t)
                )))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_a_documented_type_and_the_others_are_polled_as_data() {
        for k in Kind::ALL {
            assert!(
                DOCUMENTED.iter().any(|t| t.code == k.finding_type()),
                "{k:?}"
            );
        }
        let others = others(&["EVALUATION_FORM".into(), "QUEUE".into(), "VIEW".into()]);
        assert_eq!(others.len(), DOCUMENTED.len() - Kind::ALL.len() + 1);
        assert!(others.contains(&"TEST_CASE".to_string()));
        assert_eq!(others.last().map(String::as_str), Some("EVALUATION_FORM"));
        assert!(!others.contains(&"QUEUE".to_string()));
        assert_eq!(label("DATA_TABLE"), "data tables");
        assert_eq!(label("EVALUATION_FORM"), "EVALUATION_FORM");
    }

    #[test]
    fn extra_types_are_read_from_a_list() {
        assert_eq!(
            parse_extra(" EVALUATION_FORM, ,RULE_V2 ").unwrap(),
            ["EVALUATION_FORM", "RULE_V2"]
        );
        assert!(parse_extra("").unwrap().is_empty());
        let e = parse_extra("view").unwrap_err();
        assert_eq!(e.error_type(), "Misconfigured");
    }
}
