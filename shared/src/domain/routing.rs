//! Cross-region routing of a global-routing instance: which regions are isolated, and what a
//! failover asks for it.

use serde::{Deserialize, Serialize};

use super::Region;

/// Cross-region routing as GetCrossRegionRouting answers it in one region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingState {
    /// The regions whose contacts are not offered to agents elsewhere, and whose agents get no
    /// contacts from elsewhere (`IsolatedRegions`); empty while routing crosses regions.
    pub isolated_regions: Vec<String>,
}

impl RoutingState {
    pub fn isolated(&self) -> bool {
        !self.isolated_regions.is_empty()
    }

    /// `on` (contacts cross regions) or `isolated (REGIONS)`.
    pub fn describe(&self) -> String {
        if self.isolated() {
            format!("isolated ({})", self.isolated_regions.join(", "))
        } else {
            "on".to_string()
        }
    }
}

/// Whether a failover isolates cross-region routing (UpdateCrossRegionRouting `IsolatedAll`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Isolate {
    /// When the region being left is impaired (the incident path); a planned shift with both
    /// regions answering keeps routing on, so contacts already queued in the region left are
    /// still answered by the agents of the region taking the traffic.
    #[default]
    Auto,
    Always,
    Never,
}

impl Isolate {
    pub fn as_str(self) -> &'static str {
        match self {
            Isolate::Auto => "auto",
            Isolate::Always => "always",
            Isolate::Never => "never",
        }
    }
}

/// Whether an instance access URL is region-subdomained (`https://us-east-1.acme.my.connect.aws`),
/// as Connect names instances enabled for global routing; `https://acme.my.connect.aws` is not.
pub fn region_subdomained(access_url: &str) -> bool {
    let host = access_url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let mut labels = host.split('.');
    let first = labels.next().unwrap_or_default();
    Region::parse(first).is_ok() && labels.count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_urls_tell_global_routing() {
        assert!(region_subdomained("https://us-east-1.acme.my.connect.aws"));
        assert!(region_subdomained("https://us-west-2.acme.my.connect.aws/"));
        assert!(!region_subdomained("https://acme.my.connect.aws"));
        assert!(!region_subdomained("https://acme.awsapps.com/connect"));
        assert!(!region_subdomained(""));
        assert!(!region_subdomained("https://us-east-1"));
    }

    #[test]
    fn states_describe_themselves() {
        assert_eq!(RoutingState::default().describe(), "on");
        let s = RoutingState {
            isolated_regions: vec!["us-east-1".into(), "us-west-2".into()],
        };
        assert!(s.isolated());
        assert_eq!(s.describe(), "isolated (us-east-1, us-west-2)");
        assert_eq!(
            serde_json::to_value(&s).unwrap()["isolatedRegions"][1],
            "us-west-2"
        );
        assert_eq!(serde_json::to_value(Isolate::Always).unwrap(), "always");
        assert!(serde_json::from_str::<Isolate>("\"sometimes\"").is_err());
    }
}
