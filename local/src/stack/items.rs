//! The run table of a [`Stack`] as the tests read it: the source region's, or a region's.

use super::{Item, Stack};

impl Stack {
    /// Every item of the (source region's) run table, in key order.
    pub async fn items(&self) -> Vec<Item> {
        self.source().items().await
    }

    /// Every item of a region's run table, in key order.
    pub async fn items_in(&self, region: &str) -> Vec<Item> {
        self.deployment(region).items().await
    }

    /// The items of one instance (`pk = INSTANCE#{id}`), in sort-key order.
    pub async fn instance_items(&self, instance_id: &str) -> Vec<Item> {
        self.source().instance_items(instance_id).await
    }

    /// The items of one instance whose sort key starts with `prefix` (`AGENT#`, `SHIFT#`, ...).
    pub async fn items_under(&self, instance_id: &str, prefix: &str) -> Vec<Item> {
        self.instance_items(instance_id)
            .await
            .into_iter()
            .filter(|i| i.sk.starts_with(prefix))
            .collect()
    }

    /// One item by key.
    pub async fn item(&self, instance_id: &str, sk: &str) -> Option<Item> {
        self.instance_items(instance_id)
            .await
            .into_iter()
            .find(|i| i.sk == sk)
    }
}
