//! Scenario entries: one resource from its JSON entry, references resolved by name.

use serde_json::{Map, Value};

use crate::error::SimError;
use crate::kinds::Kind;
use crate::model::{default_attrs, Instance, Resource, World};

pub(super) fn lookup(inst: &Instance, kind: Kind, name: &str) -> Result<String, SimError> {
    inst.set(kind)
        .and_then(|s| s.by_name(name))
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            SimError::BadRequest(format!(
                "{kind:?} '{name}' is referenced but not defined (define it first)"
            ))
        })
}

fn str_field<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entry.get(key).and_then(Value::as_str)
}

/// Turns one scenario entry into a resource, resolving references by name.
pub(super) fn resource_from(
    world: &mut World,
    inst: &Instance,
    kind: Kind,
    entry: &Map<String, Value>,
    now: f64,
) -> Result<Resource, SimError> {
    let name = str_field(entry, "name")
        .or_else(|| str_field(entry, "username"))
        .ok_or_else(|| SimError::BadRequest(format!("a {kind:?} entry has no name")))?
        .to_string();
    let mut attrs = default_attrs(kind);
    if let Some(Value::Object(extra)) = entry.get("attrs") {
        attrs.extend(extra.clone());
    }
    let set = |attrs: &mut Map<String, Value>, key: &str, v: Value| {
        attrs.insert(key.to_string(), v);
    };
    match kind {
        Kind::Queues => {
            if let Some(h) = str_field(entry, "hours") {
                set(
                    &mut attrs,
                    "HoursOfOperationId",
                    lookup(inst, Kind::HoursOfOperations, h)?.into(),
                );
            }
            if let Some(t) = str_field(entry, "type") {
                set(&mut attrs, "QueueType", t.into());
            }
        }
        Kind::RoutingProfiles => {
            let mut ids = Vec::new();
            for q in entry
                .get("queues")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let q = q.as_str().ok_or_else(|| {
                    SimError::BadRequest("routing profile queues must be names".into())
                })?;
                ids.push(Value::String(lookup(inst, Kind::Queues, q)?));
            }
            set(&mut attrs, "QueueIds", Value::Array(ids));
        }
        Kind::Users => {
            if let Some(rp) = str_field(entry, "routingProfile") {
                set(
                    &mut attrs,
                    "RoutingProfileId",
                    lookup(inst, Kind::RoutingProfiles, rp)?.into(),
                );
            }
            let mut sps = Vec::new();
            for sp in entry
                .get("securityProfiles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let sp = sp.as_str().ok_or_else(|| {
                    SimError::BadRequest("security profiles must be names".into())
                })?;
                sps.push(Value::String(lookup(inst, Kind::SecurityProfiles, sp)?));
            }
            set(&mut attrs, "SecurityProfileIds", Value::Array(sps));
            if let Some(h) = str_field(entry, "hierarchyGroup") {
                set(
                    &mut attrs,
                    "HierarchyGroupId",
                    lookup(inst, Kind::UserHierarchyGroups, h)?.into(),
                );
            }
            set(
                &mut attrs,
                "PhoneConfig",
                serde_json::json!({"PhoneType": "SOFT_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 0}),
            );
        }
        Kind::ContactFlows | Kind::ContactFlowModules => {
            if let Some(t) = str_field(entry, "type") {
                set(&mut attrs, "ContactFlowType", t.into());
            }
            match entry.get("content") {
                Some(Value::String(s)) => set(&mut attrs, "Content", s.clone().into()),
                Some(v @ Value::Object(_)) => set(&mut attrs, "Content", v.to_string().into()),
                _ => set(&mut attrs, "Content", empty_flow().into()),
            }
        }
        Kind::AgentStatuses => {
            if let Some(t) = str_field(entry, "type") {
                set(&mut attrs, "Type", t.into());
            }
        }
        Kind::Prompts => {
            // A prompt stored in S3: never mirrored.
            if let Some(uri) = str_field(entry, "s3Uri") {
                if !uri.starts_with("s3://") {
                    return Err(SimError::BadRequest(format!(
                        "prompt '{name}': s3Uri must be an s3:// URI"
                    )));
                }
                set(&mut attrs, "S3Uri", uri.into());
            }
        }
        Kind::QuickConnects => {
            if let Some(t) = str_field(entry, "type") {
                set(&mut attrs, "QuickConnectType", t.into());
            }
        }
        _ => {}
    }
    let id = if kind.has_id() {
        str_field(entry, "id")
            .map(str::to_string)
            .unwrap_or_else(|| world.ids.uuid())
    } else {
        name.clone()
    };
    Ok(Resource {
        id,
        name,
        attrs,
        last_modified: now - 3_600.0,
        last_modified_region: inst.region.clone(),
        default: entry
            .get("default")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn empty_flow() -> String {
    r#"{"Version":"2019-10-30","StartAction":"end","Actions":[{"Identifier":"end","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}"#.into()
}
