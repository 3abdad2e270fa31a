//! `grctl` run against a [`Stack`] as an operator runs it: the binary, the stack's published
//! deployment (`--stack acgr` read from each region's moto), Connect at connect-sim.

use std::process::Stdio;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::Stack;
use crate::build::ensure_built;

/// What one grctl command did.
#[derive(Debug, Clone)]
pub struct GrctlRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl GrctlRun {
    /// stdout as JSON (`--output json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("grctl stdout is not JSON ({e}): {self:#?}"))
    }
}

impl Stack {
    /// The environment and arguments grctl needs to reach this stack from `region`.
    pub fn grctl_command(&self, region: &str) -> Result<tokio::process::Command> {
        ensure_built(&self.ctx.bins, &["grctl"])?;
        let mut cmd = tokio::process::Command::new(self.ctx.bins.join("grctl"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_REGION", region)
            .env("AWS_ACCESS_KEY_ID", "AKIDGRCTLOPERATOR")
            .env("AWS_SECRET_ACCESS_KEY", "grctl-secret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_CONNECT", format!("http://{}", self.sim))
            .env("NO_COLOR", "1");
        for d in &self.deployments {
            cmd.arg("--endpoint-for")
                .arg(format!("{}=http://{}", d.region, d.moto));
        }
        cmd.args(["--timeout", "3"]);
        Ok(cmd)
    }

    /// Runs `grctl <args>` from `region`, stdin closed (not a terminal).
    pub async fn grctl(&self, region: &str, args: &[&str]) -> GrctlRun {
        let run = async {
            let out = self
                .grctl_command(region)?
                .args(args)
                .stdin(Stdio::null())
                .output()
                .await
                .context("grctl")?;
            Ok::<_, anyhow::Error>(GrctlRun {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        };
        run.await
            .unwrap_or_else(|e| panic!("grctl {args:?}: {e:#}"))
    }
}
