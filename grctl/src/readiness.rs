//! `grctl readiness`: can each region serve a call? The instance's readiness test cases
//! (published, tagged `acgr:readiness=true`) run as synthetic contacts in each region that
//! answers, and the dependencies its flows need are checked there ([`acgr::readiness`]).

use std::time::Duration;

use acgr::readiness::{self, Needs, Readiness, Run};
use serde::Serialize;
use tokio::time::Instant;

use crate::target::Target;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub instance_id: String,
    /// What the flows need, read in the source region (else the replica region).
    pub needs: Needs,
    pub regions: Vec<RegionReadiness>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionReadiness {
    pub region: String,
    #[serde(flatten)]
    pub readiness: Option<Readiness>,
    /// The region did not answer: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Both regions' readiness; `wait` bounds how long test cases are read.
pub async fn report(t: &Target, wait: Duration, token: &str) -> Report {
    let id = &t.deployment.instance_id;
    let mut needs = Needs::default();
    for c in t.regions_from(&t.deployment.source_region) {
        if let Ok(n) = Needs::of_instance(&c.connect, id).await {
            needs = n;
            break;
        }
    }
    let mut regions = Vec::new();
    for (here, other) in [(&t.source, &t.replica), (&t.replica, &t.source)] {
        let run = Run {
            token,
            poll: Duration::from_secs(2),
            until: Instant::now() + wait,
        };
        let read =
            readiness::check(&here.connect, Some(&other.connect), id, &needs, &[], run).await;
        regions.push(RegionReadiness {
            region: here.region.to_string(),
            error: read.as_ref().err().map(ToString::to_string),
            readiness: read.ok(),
        });
    }
    Report {
        instance_id: id.clone(),
        needs,
        regions,
    }
}

impl Report {
    /// Every region answered and is ready.
    pub fn ready(&self) -> bool {
        self.regions
            .iter()
            .all(|r| r.readiness.as_ref().is_some_and(|x| x.ready))
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "instance {}: flows invoke {} Lambda function(s), {} Lex alias(es)\n",
            self.instance_id,
            self.needs.lambda_functions.len(),
            self.needs.lex_aliases.len()
        );
        for r in &self.regions {
            match (&r.readiness, &r.error) {
                (Some(x), _) => {
                    out.push_str(&format!(
                        "{}: {}\n",
                        r.region,
                        if x.ready { "READY" } else { "CANNOT SERVE" }
                    ));
                    if x.tests.is_empty() {
                        out.push_str("  no published test case tagged acgr:readiness=true\n");
                    }
                    for t in &x.tests {
                        out.push_str(&format!("  test {}: {}\n", t.name, t.status));
                        for f in &t.failures {
                            out.push_str(&format!("    {f}\n"));
                        }
                    }
                    for f in &x.findings {
                        out.push_str(&format!(
                            "  {} {}: {} -> {}\n",
                            f.check, f.subject, f.message, f.fix
                        ));
                    }
                }
                (None, e) => out.push_str(&format!(
                    "{}: DID NOT ANSWER: {}\n",
                    r.region,
                    e.as_deref().unwrap_or("?")
                )),
            }
        }
        out
    }
}
