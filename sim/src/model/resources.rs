//! The configuration resources of an instance, one set per kind.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use crate::kinds::Kind;

/// One configuration resource of an instance in one region.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The resource ID; kinds without IDs use their name.
    pub id: String,
    pub name: String,
    /// Kind-specific members, keyed by their wire names.
    pub attrs: Map<String, Value>,
    pub last_modified: f64,
    pub last_modified_region: String,
    /// The instance's default queue or routing profile (mirrored first).
    pub default: bool,
}

impl Resource {
    /// A prompt stored in S3: Global Resiliency never mirrors it.
    pub fn in_s3(&self) -> bool {
        self.attrs.contains_key("S3Uri")
    }
}

/// The resources of one kind, in creation order, found by ID or by name.
#[derive(Debug, Default, Clone)]
pub struct ResourceSet {
    next: u64,
    by_pos: BTreeMap<u64, Resource>,
    by_id: HashMap<String, u64>,
    by_name: HashMap<String, u64>,
}

impl ResourceSet {
    pub fn insert(&mut self, r: Resource) {
        self.next += 1;
        self.by_id.insert(r.id.clone(), self.next);
        self.by_name.insert(r.name.clone(), self.next);
        self.by_pos.insert(self.next, r);
    }

    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.by_id.get(id).and_then(|p| self.by_pos.get(p))
    }

    pub fn by_name(&self, name: &str) -> Option<&Resource> {
        self.by_name.get(name).and_then(|p| self.by_pos.get(p))
    }

    pub fn replace(&mut self, r: Resource) {
        let Some(&pos) = self.by_id.get(&r.id) else {
            return self.insert(r);
        };
        if let Some(old) = self.by_pos.get(&pos) {
            if old.name != r.name {
                self.by_name.remove(&old.name);
                self.by_name.insert(r.name.clone(), pos);
            }
        }
        self.by_pos.insert(pos, r);
    }

    pub fn remove(&mut self, id: &str) -> Option<Resource> {
        let pos = self.by_id.remove(id)?;
        let r = self.by_pos.remove(&pos)?;
        self.by_name.remove(&r.name);
        Some(r)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Resource)> {
        self.by_pos.iter().map(|(p, r)| (*p, r))
    }

    pub fn len(&self) -> usize {
        self.by_pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pos.is_empty()
    }
}

/// Attributes a resource of this kind carries when a scenario says nothing more.
pub fn default_attrs(kind: Kind) -> Map<String, Value> {
    let v = match kind {
        Kind::AgentStatuses => json!({"Type": "CUSTOM"}),
        Kind::ContactFlowModules => json!({"State": "ACTIVE"}),
        Kind::ContactFlows => json!({
            "ContactFlowType": "CONTACT_FLOW",
            "ContactFlowState": "ACTIVE",
            "ContactFlowStatus": "PUBLISHED",
        }),
        Kind::Queues => json!({"QueueType": "STANDARD"}),
        Kind::QuickConnects => json!({"QuickConnectType": "QUEUE"}),
        _ => json!({}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_sets_find_by_id_and_name_and_forget_removed_ones() {
        let mut set = ResourceSet::default();
        let r = |id: &str, name: &str| Resource {
            id: id.into(),
            name: name.into(),
            attrs: Map::new(),
            last_modified: 0.0,
            last_modified_region: "us-east-1".into(),
            default: false,
        };
        set.insert(r("1", "Billing"));
        set.insert(r("2", "Sales"));
        assert_eq!(set.by_name("Sales").map(|r| r.id.as_str()), Some("2"));
        set.replace(r("2", "Sales EU"));
        assert!(set.by_name("Sales").is_none());
        assert_eq!(set.get("2").map(|r| r.name.as_str()), Some("Sales EU"));
        assert!(set.remove("1").is_some());
        assert!(set.by_name("Billing").is_none());
        assert_eq!(set.len(), 1);
    }
}
