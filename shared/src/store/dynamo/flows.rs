//! preflight's flow scans and their pages in the table.

use super::*;

impl ScanLedger for DynamoRunStore {
    async fn get_flow_scan(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> Result<Option<FlowScan>, StoreError> {
        self.get(instance_id, &format!("SCAN#{run_id}"))
            .await?
            .map(|i| decode(&i))
            .transpose()
    }

    async fn put_flow_scan(&self, scan: &FlowScan) -> Result<(), StoreError> {
        let ttl = scan.updated_at + RUN_TTL_SECONDS;
        self.put(item(
            &scan.instance_id,
            format!("SCAN#{}", scan.run_id),
            scan,
            Some(ttl),
        )?)
        .await
    }

    async fn put_hardcoded_page(&self, page: &HardcodedPage) -> Result<(), StoreError> {
        let ttl = page.at + RUN_TTL_SECONDS;
        self.put(item(
            &page.instance_id,
            hardcoded_key(page),
            page,
            Some(ttl),
        )?)
        .await
    }

    async fn hardcoded_pages(
        &self,
        instance_id: &str,
        run_id: &str,
        generation: u32,
    ) -> Result<Vec<HardcodedPage>, StoreError> {
        self.query(instance_id, &hardcoded_prefix(run_id, generation), false)
            .await
    }
}
