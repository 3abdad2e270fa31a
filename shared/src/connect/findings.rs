//! What a replication finding asks of the operator. ListReplicationFindings names resources that
//! did not mirror; its `ReferenceCode` is a stable class code, but Connect publishes no list of
//! them, so the class is recognised from the words of the code, then from the operation:
//!
//! | class | recognised by | fix |
//! |---|---|---|
//! | name conflict | a code naming a name conflict (`NAME_CONFLICT`, `DUPLICATE`, `ALREADY_EXISTS`), any operation | delete or rename the replica-side look-alike, then resync (the conflict ledger's runbook) |
//! | missing dependency | a code naming a dependency (`DEPENDENCY`, `MISSING`, `NOT_FOUND`, `LAMBDA`, `LEX`, `BOT`) on a create or update | deploy the dependency in that region (a flow's Lambda function, say); delete nothing |
//! | not mirrored by design | a code naming S3 (any operation), or an unsupported resource (`NOT_SUPPORTED`, `UNSUPPORTED`, `NOT_REPLICABLE`, `NOT_MIRRORED`) on a create | recreate it in that region by hand if needed; it does not block completion |
//! | sync failure | a code naming a failed sync (`SYNC`, `FAILED`, `FAILURE`, `TIMED OUT`), or a dependency or unsupported code on an update or delete that did not reach the other region | re-save it in the source, or resync |
//! | unknown | a code naming none of the above, or no code at all | read Connect's message; it holds back nothing by itself |
//!
//! A dependency or unsupported code on a delete is a sync failure: the deletion did not reach the
//! other region, which is not fixed by deploying or recreating anything. A code this version
//! cannot read is never taken for a known class: it is shown as unknown, with its message.

use serde::{Deserialize, Serialize};

use super::{Finding, ReplicationOperation};
use crate::domain::Kind;

/// What a finding asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FindingClass {
    /// The replica holds another resource of the same name.
    NameConflict,
    /// The resource refers to something missing in the region it should mirror to.
    MissingDependency,
    /// A resource Global Resiliency does not mirror (prompts stored in S3, Lambda functions, Lex
    /// bots, other integrations).
    NotMirrored,
    /// A change that failed to reach the other region.
    SyncFailure,
    /// A reference code this version does not know (or none): shown with Connect's message,
    /// holding back nothing by itself.
    Unknown,
}

impl FindingClass {
    pub const ALL: [FindingClass; 5] = [
        FindingClass::NameConflict,
        FindingClass::MissingDependency,
        FindingClass::NotMirrored,
        FindingClass::SyncFailure,
        FindingClass::Unknown,
    ];

    /// Every known class but a resource not mirrored by design keeps mirroring from completing;
    /// an unknown code does not by itself.
    pub fn blocks_completion(self) -> bool {
        !matches!(self, FindingClass::NotMirrored | FindingClass::Unknown)
    }

    pub fn key(self) -> &'static str {
        match self {
            FindingClass::NameConflict => "nameConflict",
            FindingClass::MissingDependency => "missingDependency",
            FindingClass::NotMirrored => "notMirrored",
            FindingClass::SyncFailure => "syncFailure",
            FindingClass::Unknown => "unknown",
        }
    }

    /// What the operator does about a finding of this class in `region`.
    pub fn fix(self, region: &str) -> String {
        match self {
            FindingClass::NameConflict => format!(
                "delete or rename the look-alike in {region} (its ID is on the CONFLICT# item), \
                 then run the replication again: it asks for a resync"
            ),
            FindingClass::MissingDependency => format!(
                "deploy what it depends on in {region} under the same name (for a flow: the \
                 Lambda functions, Lex bots and other integrations it invokes), then re-save it \
                 in the source region; do not delete anything"
            ),
            FindingClass::NotMirrored => format!(
                "not mirrored by design (prompts stored in S3, Lambda functions, Lex bots, other \
                 integrations): recreate it in {region} by hand if the replica needs it; it does \
                 not block completion"
            ),
            FindingClass::SyncFailure => format!(
                "the change did not reach {region}; Connect retries a failed sync for up to 30 \
                 minutes: if it stays, re-save the resource in the source region, or run the \
                 replication again (a resync)"
            ),
            FindingClass::Unknown => format!(
                "a finding this version of the tool does not know: read Connect's message and \
                 act on it in {region}; it does not hold back completion by itself"
            ),
        }
    }
}

/// Word sequences of a reference code, by the class they name, in the order they are tried: S3
/// first (a prompt stored there is never mirrored, whatever else the code says), then name
/// conflicts, dependencies, unsupported resources and failed syncs. Anything else is unknown.
const S3: &[&[&str]] = &[&["S3"]];
const NAME_CONFLICT: &[&[&str]] = &[
    &["NAME", "CONFLICT"],
    &["DUPLICATE"],
    &["ALREADY", "EXISTS"],
    &["NAME", "EXISTS"],
    &["NAME", "TAKEN"],
];
const DEPENDENCY: &[&[&str]] = &[
    &["DEPENDENCY"],
    &["DEPENDENCIES"],
    &["DEPENDENT"],
    &["MISSING"],
    &["NOT", "FOUND"],
    &["LAMBDA"],
    &["LEX"],
    &["BOT"],
];
const SYNC: &[&[&str]] = &[
    &["SYNC"],
    &["SYNCHRONIZATION"],
    &["FAILED"],
    &["FAILURE"],
    &["TIMED", "OUT"],
];
const UNSUPPORTED: &[&[&str]] = &[
    &["NOT", "SUPPORTED"],
    &["UNSUPPORTED"],
    &["NOT", "REPLICABLE"],
    &["NOT", "MIRRORED"],
];

/// The class of a finding, from its reference code and its operation.
pub fn classify(finding: &Finding) -> FindingClass {
    let words = words(finding.reference_code.as_deref().unwrap_or(""));
    let names = |patterns: &[&[&str]]| {
        patterns.iter().any(|p| {
            words
                .windows(p.len())
                .any(|w| w.iter().zip(p.iter()).all(|(a, b)| a == b))
        })
    };
    let deletion = finding.operation == Some(ReplicationOperation::Delete);
    let creation = matches!(finding.operation, None | Some(ReplicationOperation::Create));
    if names(S3) {
        FindingClass::NotMirrored
    } else if names(NAME_CONFLICT) {
        FindingClass::NameConflict
    } else if names(DEPENDENCY) && !deletion {
        FindingClass::MissingDependency
    } else if names(UNSUPPORTED) && creation {
        FindingClass::NotMirrored
    } else if names(SYNC) || names(DEPENDENCY) || names(UNSUPPORTED) {
        // a failed sync named, or a known class on an operation it does not fix
        FindingClass::SyncFailure
    } else {
        FindingClass::Unknown
    }
}

/// The words of a code, upper case: `RESOURCE_NAME_CONFLICT`, `resource-name-conflict` and
/// `ResourceNameConflict` all read RESOURCE NAME CONFLICT.
fn words(code: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut previous_lower = false;
    for c in code.chars() {
        if !c.is_ascii_alphanumeric() {
            previous_lower = false;
            out.push(String::new());
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            out.push(String::new());
        }
        previous_lower = c.is_ascii_lowercase();
        match out.last_mut() {
            Some(w) => w.push(c.to_ascii_uppercase()),
            None => out.push(c.to_ascii_uppercase().to_string()),
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

/// A finding as the output and the snapshots report it: what Connect said, its class and the fix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedFinding {
    /// The mirrored kind, for the types this tool lists ([`Kind::finding_type`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// `ResourceType`, as asked (`QUEUE`, `VIEW`, a type AWS added since).
    #[serde(default)]
    pub resource_type: String,
    pub class: FindingClass,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the replication failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<ReplicationOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub fix: String,
}

impl ReportedFinding {
    /// `finding` of `resource_type`, classified; `replica_region` where the finding names no region.
    pub fn new(resource_type: &str, finding: &Finding, replica_region: &str) -> ReportedFinding {
        let class = classify(finding);
        let region = finding.region.as_deref().unwrap_or(replica_region);
        ReportedFinding {
            kind: Kind::by_finding_type(resource_type),
            resource_type: resource_type.to_string(),
            class,
            id: finding.id.clone(),
            name: finding.name.clone(),
            region: finding.region.clone(),
            operation: finding.operation.clone(),
            reference_code: finding.reference_code.clone(),
            message: finding.message.clone(),
            fix: class.fix(region),
        }
    }

    /// The resource's name, else its ID.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// Findings by class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassCounts {
    pub name_conflict: u64,
    pub missing_dependency: u64,
    pub not_mirrored: u64,
    pub sync_failure: u64,
    #[serde(default)]
    pub unknown: u64,
}

impl ClassCounts {
    pub fn add(&mut self, class: FindingClass, n: u64) {
        *self.get_mut(class) += n;
    }

    pub fn get(&self, class: FindingClass) -> u64 {
        match class {
            FindingClass::NameConflict => self.name_conflict,
            FindingClass::MissingDependency => self.missing_dependency,
            FindingClass::NotMirrored => self.not_mirrored,
            FindingClass::SyncFailure => self.sync_failure,
            FindingClass::Unknown => self.unknown,
        }
    }

    fn get_mut(&mut self, class: FindingClass) -> &mut u64 {
        match class {
            FindingClass::NameConflict => &mut self.name_conflict,
            FindingClass::MissingDependency => &mut self.missing_dependency,
            FindingClass::NotMirrored => &mut self.not_mirrored,
            FindingClass::SyncFailure => &mut self.sync_failure,
            FindingClass::Unknown => &mut self.unknown,
        }
    }

    pub fn total(&self) -> u64 {
        FindingClass::ALL.iter().map(|c| self.get(*c)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Option<&str>, op: Option<&str>) -> Finding {
        Finding {
            id: "r1".into(),
            name: Some("Main menu".into()),
            reference_code: code.map(String::from),
            operation: op.map(ReplicationOperation::from),
            ..Default::default()
        }
    }

    fn class(code: &str, op: &str) -> FindingClass {
        classify(&finding(Some(code), Some(op)))
    }

    #[test]
    fn the_reference_code_names_the_class() {
        use FindingClass::*;
        for (code, op, expected) in [
            ("RESOURCE_NAME_CONFLICT", "CREATE", NameConflict),
            ("DUPLICATE_RESOURCE_NAME", "UPDATE", NameConflict),
            ("ResourceAlreadyExists", "CREATE", NameConflict),
            ("MISSING_DEPENDENCY", "CREATE", MissingDependency),
            ("LAMBDA_FUNCTION_NOT_FOUND", "UPDATE", MissingDependency),
            ("LEX_BOT_MISSING", "CREATE", MissingDependency),
            ("PROMPT_STORED_IN_S3", "CREATE", NotMirrored),
            ("S3_PROMPT_NOT_FOUND", "UPDATE", NotMirrored),
            ("RESOURCE_NOT_SUPPORTED", "CREATE", NotMirrored),
            ("UNSUPPORTED_RESOURCE", "CREATE", NotMirrored),
            ("SYNC_FAILED", "UPDATE", SyncFailure),
            ("REPLICATION_TIMED_OUT", "CREATE", SyncFailure),
            ("XYZ_0042", "UPDATE", Unknown),
            ("VIEW_VERSION_SKEW", "CREATE", Unknown),
        ] {
            assert_eq!(class(code, op), expected, "{code} on {op}");
        }
    }

    #[test]
    fn the_operation_decides_what_the_code_does_not() {
        use FindingClass::*;
        // A deletion that did not reach the other region is fixed by neither deploying nor
        // recreating anything.
        assert_eq!(class("DEPENDENCY_IN_USE", "DELETE"), SyncFailure);
        // A mirrored resource whose one update is not supported there did not sync.
        assert_eq!(class("FEATURE_NOT_SUPPORTED", "UPDATE"), SyncFailure);
        // A code this build does not know, or none at all: never a known class.
        assert_eq!(class("XYZ_0042", "UPDATE"), Unknown);
        assert_eq!(class("XYZ_0042", "CREATE"), Unknown);
        assert_eq!(classify(&finding(None, None)), Unknown);
        assert!(!Unknown.blocks_completion());
        // A name conflict whatever the operation (an update renaming it to a taken name).
        assert_eq!(class("NAME_CONFLICT", "UPDATE"), NameConflict);
        // Words, not substrings: "S3" inside another word is not S3.
        assert_eq!(class("ACCESS3_FAILED", "CREATE"), SyncFailure);
        assert_eq!(class("ACCESS3_BROKEN", "CREATE"), Unknown);
        assert_eq!(
            words("ResourceNameConflict"),
            ["RESOURCE", "NAME", "CONFLICT"]
        );
        assert_eq!(words("s3-prompt__x"), ["S3", "PROMPT", "X"]);
        assert!(!NotMirrored.blocks_completion());
        assert!(MissingDependency.blocks_completion() && SyncFailure.blocks_completion());
    }

    #[test]
    fn each_class_has_its_own_fix() {
        let fixes: Vec<String> = FindingClass::ALL
            .iter()
            .map(|c| c.fix("us-west-2"))
            .collect();
        assert!(fixes[0].contains("delete or rename the look-alike in us-west-2"));
        assert!(fixes[1].contains("deploy") && fixes[1].contains("do not delete"));
        assert!(fixes[2].contains("recreate it in us-west-2 by hand"));
        assert!(fixes[3].contains("re-save") && fixes[3].contains("resync"));
        let r = ReportedFinding::new(
            Kind::ContactFlows.finding_type(),
            &Finding {
                region: Some("us-west-2".into()),
                ..finding(Some("MISSING_DEPENDENCY"), Some("CREATE"))
            },
            "us-west-2",
        );
        assert_eq!(r.class, FindingClass::MissingDependency);
        assert_eq!(r.kind, Some(Kind::ContactFlows));
        assert_eq!(r.label(), "Main menu");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["class"], "missingDependency");
        assert_eq!(json["operation"], "CREATE");
        let mut counts = ClassCounts::default();
        counts.add(r.class, 2);
        counts.add(FindingClass::NotMirrored, 1);
        assert_eq!((counts.missing_dependency, counts.total()), (2, 3));
    }
}
