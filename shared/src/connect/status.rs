//! The statuses Connect reports, as enums at the port: one place knows their spellings. A
//! status the model does not list (a newer service value) is kept as `Other`, never dropped.

use serde::{Deserialize, Serialize};

macro_rules! status {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)+
            /// A value this build does not know.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name::from(s.as_str())
            }
        }

        impl From<$name> for String {
            fn from(s: $name) -> String {
                s.as_str().to_string()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status!(
    /// `Instance.InstanceStatus`.
    InstanceStatus {
        CreationInProgress = "CREATION_IN_PROGRESS",
        Active = "ACTIVE",
        CreationFailed = "CREATION_FAILED",
    }
);

status!(
    /// `Instance.IdentityManagementType`.
    IdentityType {
        Saml = "SAML",
        ConnectManaged = "CONNECT_MANAGED",
        ExistingDirectory = "EXISTING_DIRECTORY",
    }
);

status!(
    /// `TrafficDistributionGroup.Status`.
    GroupStatus {
        CreationInProgress = "CREATION_IN_PROGRESS",
        Active = "ACTIVE",
        CreationFailed = "CREATION_FAILED",
        PendingDeletion = "PENDING_DELETION",
        DeletionFailed = "DELETION_FAILED",
        UpdateInProgress = "UPDATE_IN_PROGRESS",
    }
);

status!(
    /// `ReplicationStatusSummary.ReplicationStatus`, per region.
    ReplicationStatus {
        InProgress = "INSTANCE_REPLICATION_IN_PROGRESS",
        Complete = "INSTANCE_REPLICATION_COMPLETE",
        Failed = "INSTANCE_REPLICATION_FAILED",
        ReplicaDeleting = "INSTANCE_REPLICA_DELETING",
        DeletionFailed = "INSTANCE_REPLICATION_DELETION_FAILED",
        ResourceReplicationNotStarted = "RESOURCE_REPLICATION_NOT_STARTED",
    }
);

status!(
    /// `ReplicationFinding.Operation`: the replication operation that produced a finding.
    ReplicationOperation {
        Create = "CREATE",
        Update = "UPDATE",
        Delete = "DELETE",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        assert_eq!(
            GroupStatus::from("UPDATE_IN_PROGRESS"),
            GroupStatus::UpdateInProgress
        );
        assert_eq!(
            serde_json::to_string(&GroupStatus::Active).unwrap(),
            "\"ACTIVE\""
        );
        let later: ReplicationStatus = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(later, ReplicationStatus::Other("SOMETHING_NEW".into()));
        assert_eq!(later.to_string(), "SOMETHING_NEW");
        assert_eq!(IdentityType::from("SAML"), IdentityType::Saml);
        assert_eq!(InstanceStatus::from("ACTIVE").as_str(), "ACTIVE");
    }
}
