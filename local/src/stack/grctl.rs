//! `grctl` run against a [`Stack`] as an operator runs it: the binary, the stack's published
//! deployment (`--stack acgr` read from each region's moto), Connect at connect-sim.

use std::path::PathBuf;
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

/// A program, its environment and its leading arguments.
type Invocation = (PathBuf, Vec<(String, String)>, Vec<String>);

impl Stack {
    /// grctl's path, environment and leading arguments to reach this stack from `region`.
    fn grctl_invocation(&self, region: &str) -> Result<Invocation> {
        ensure_built(&self.ctx.bins, &["grctl"])?;
        let env = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("AWS_REGION", region.to_string()),
            ("AWS_ACCESS_KEY_ID", "AKIDGRCTLOPERATOR".into()),
            ("AWS_SECRET_ACCESS_KEY", "grctl-secret".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_ENDPOINT_URL_CONNECT", format!("http://{}", self.sim)),
            ("NO_COLOR", "1".into()),
            ("TERM", "xterm".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut args = Vec::new();
        for d in &self.deployments {
            args.push("--endpoint-for".to_string());
            args.push(format!("{}=http://{}", d.region, d.moto));
        }
        args.extend(["--stack", crate::moto::GRCTL_STACK, "--timeout", "3"].map(String::from));
        Ok((self.ctx.bins.join("grctl"), env, args))
    }

    /// Runs `grctl <args>` from `region`, stdin closed (not a terminal).
    pub async fn grctl(&self, region: &str, args: &[&str]) -> GrctlRun {
        let run = async {
            let (program, env, leading) = self.grctl_invocation(region)?;
            let out = tokio::process::Command::new(program)
                .env_clear()
                .envs(env)
                .args(leading)
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

    /// Starts `grctl <args>` from `region` with this process's stdout and stderr (the
    /// rehearsal shows what an operator sees); killed if dropped.
    pub fn grctl_spawn(&self, region: &str, args: &[String]) -> Result<tokio::process::Child> {
        let (program, env, leading) = self.grctl_invocation(region)?;
        tokio::process::Command::new(program)
            .env_clear()
            .envs(env)
            .args(leading)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("grctl")
    }

    /// Runs `grctl <args>` from `region` on a pseudo-terminal (`scripts/pty-run.py`), typing
    /// `answer` when the output matches `prompt`: stdout holds everything the terminal showed.
    pub async fn grctl_on_terminal(
        &self,
        region: &str,
        args: &[&str],
        prompt: Option<(&str, &str)>,
    ) -> GrctlRun {
        let run = async {
            let (program, env, leading) = self.grctl_invocation(region)?;
            let mut cmd = tokio::process::Command::new("python3");
            cmd.env_clear().envs(env);
            cmd.arg(self.ctx.root.join("scripts/pty-run.py"));
            if let Some((expect, send)) = prompt {
                cmd.args(["--expect", expect, "--send", send]);
            }
            cmd.arg("--").arg(program).args(leading).args(args);
            let out = cmd
                .stdin(Stdio::null())
                .output()
                .await
                .context("pty-run.py")?;
            let report: Value = serde_json::from_slice(&out.stdout)
                .with_context(|| format!("pty-run.py: {}", String::from_utf8_lossy(&out.stderr)))?;
            Ok::<_, anyhow::Error>(GrctlRun {
                code: report["code"].as_i64().unwrap_or(-1) as i32,
                stdout: report["output"].as_str().unwrap_or("").to_string(),
                stderr: format!("answered: {}", report["answered"]),
            })
        };
        run.await
            .unwrap_or_else(|e| panic!("grctl {args:?} on a terminal: {e:#}"))
    }
}

impl Stack {
    /// Every CloudWatch EMF document the function processes wrote (their logs, every region),
    /// with the file it came from under `"_file"`.
    pub fn emf_documents(&self) -> Vec<Value> {
        let mut docs = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.logs) else {
            return docs;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for line in text.lines().filter(|l| l.contains("\"_aws\"")) {
                if let Ok(mut doc) = serde_json::from_str::<Value>(line) {
                    doc["_file"] = Value::String(
                        path.file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    );
                    docs.push(doc);
                }
            }
        }
        docs
    }
}
