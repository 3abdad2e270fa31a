//! A deployment's processes: `cargo lambda watch` serving the Lambda APIs, the adapter, and one
//! runtime process per function; all stopped for a region outage and started again after it
//! (moto is frozen and thawed instead), and one function's process crashed on demand.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{Ctx, Deployment};
use crate::process::{free_port, wait_for_line, wait_tcp, Proc};
use crate::sim_control::Outage;

/// What a deployment runs besides moto: the same at every start.
pub(crate) struct Processes {
    /// The prefix of log names (the region, with two regions).
    pub(crate) label: String,
    pub(crate) region: String,
    pub(crate) functions: Vec<String>,
    /// The functions' environment, but for the runtime API (which names the watch).
    pub(crate) env: Vec<(String, String)>,
    pub(crate) moto: SocketAddr,
    /// The adapter's address, the same at every start (moto knows it as MOTO_PORT).
    pub(crate) adapter: Option<SocketAddr>,
}

/// A deployment's processes as they run now.
pub(crate) struct Running {
    pub(crate) moto: Proc,
    /// The watch's Lambda APIs (a new port at every start).
    pub(crate) watch: SocketAddr,
    /// A Lambda client of the watch.
    pub(crate) lambda: aws_sdk_lambda::Client,
    /// The watch, the adapter, then the functions.
    pub(crate) procs: Vec<Proc>,
    /// Starts so far (log names of restarts carry the count).
    pub(crate) starts: u32,
    /// Function processes killed by [`Deployment::crash_function`] so far.
    pub(crate) crashes: u32,
}

impl Drop for Running {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.procs.iter().for_each(Proc::dump);
            self.moto.dump();
        }
        // Functions first, then the servers they talk to; moto last (SIGKILL ends it even frozen).
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
    }
}

impl Running {
    /// Each process: running, or how it ended (with its log's tail).
    pub(crate) fn liveness(&mut self) -> Vec<String> {
        self.procs
            .iter_mut()
            .map(|p| match p.check_alive() {
                Ok(()) => format!("{} running", p.name),
                Err(e) => format!("{e:#}"),
            })
            .collect()
    }
}

impl Processes {
    /// The watch, the adapter and the function processes (`start` 0 first, then one per
    /// restart). The adapter only connects to moto per request, so moto may still be starting
    /// (or frozen).
    pub(crate) async fn start(&self, ctx: &Ctx, start: u32) -> Result<(SocketAddr, Vec<Proc>)> {
        let again = if start == 0 {
            String::new()
        } else {
            format!(".{start}")
        };
        let name = |what: &str| format!("{}{what}{again}", self.label);
        let mut procs = Vec::new();

        // The Lambda APIs only; the functions are started below.
        let watch_port = free_port()?;
        let mut cmd = Command::new(ctx.root.join(".venv/bin/cargo-lambda"));
        cmd.current_dir(&ctx.root)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(watch_port.to_string())
            .env("NO_COLOR", "1");
        procs.push(Proc::spawn(&name("cargo-lambda-watch"), cmd, &ctx.logs)?);
        let watch: SocketAddr = ([127, 0, 0, 1], watch_port).into();
        // Any HTTP path of the watch is an invocation of some function: wait for the socket only.
        let p = procs.last_mut().context("watch")?;
        wait_for_line(p, "starting Runtime server").await?;
        wait_tcp(p, watch).await?;

        if let Some(adapter) = self.adapter {
            let mut cmd = Command::new(ctx.bins.join("lambda-adapter"));
            cmd.arg("--listen")
                .arg(adapter.to_string())
                .arg("--moto")
                .arg(format!("http://{}", self.moto))
                .arg("--lambda")
                .arg(format!("http://{watch}"));
            procs.push(Proc::spawn(&name("lambda-adapter"), cmd, &ctx.logs)?);
            let p = procs.last_mut().context("adapter")?;
            wait_for_line(p, "listening on http://").await?;
        }

        for f in &self.functions {
            procs.push(self.spawn_function(ctx, &name(f), f, watch)?);
        }
        // A function that dies at init (bad env) shows up here, not as a hung invoke.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for p in &mut procs {
            p.check_alive()?;
        }
        Ok((watch, procs))
    }

    /// One function's runtime process, polling the watch's runtime API.
    fn spawn_function(&self, ctx: &Ctx, name: &str, f: &str, watch: SocketAddr) -> Result<Proc> {
        let mut cmd = Command::new(ctx.bins.join(f));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{watch}/.rt/{f}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", f)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{f}"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "AWS_ACCESS_KEY_ID",
                crate::permissions::access_key(f, &self.region),
            );
        Proc::spawn(name, cmd, &ctx.logs)
    }
}

impl Deployment {
    /// Stops the function processes, the watch and the adapter; freezes moto (SIGSTOP), so its
    /// tables and executions survive as a region's storage does, and calls to it hang.
    pub(crate) async fn stop(&self, outage: Outage) -> Result<()> {
        let mut running = self.running.lock().await;
        self.set_outage(Some(outage));
        while let Some(p) = running.procs.pop() {
            drop(p);
        }
        running.moto.signal("STOP")
    }

    /// Thaws moto and starts the watch (on a new port), the adapter (on its port, which moto
    /// knows as MOTO_PORT) and the functions again.
    pub(crate) async fn restart(&self, ctx: &Ctx) -> Result<()> {
        let mut running = self.running.lock().await;
        if self.outage().is_none() {
            return Ok(());
        }
        running.moto.signal("CONT")?;
        crate::moto::wait_ready(&mut running.moto, self.moto).await?;
        let (watch, procs) = self.processes.start(ctx, running.starts).await?;
        running.starts += 1;
        running.watch = watch;
        running.lambda = crate::invoke::client(&self.conf, watch);
        running.procs = procs;
        self.set_outage(None);
        Ok(())
    }

    /// SIGKILLs a function's runtime process wherever it is in its work, then starts a new one,
    /// as Lambda starts a new execution environment after a crash.
    pub(crate) async fn crash_function(&self, ctx: &Ctx, f: &str) -> Result<()> {
        let mut running = self.running.lock().await;
        let own = format!("{}{f}", self.processes.label);
        let at = running
            .procs
            .iter()
            .position(|p| {
                p.name == own
                    || p.name
                        .strip_prefix(&own)
                        .is_some_and(|r| r.starts_with('.'))
            })
            .with_context(|| format!("no {f} process in {}", self.region))?;
        let mut p = running.procs.remove(at);
        p.signal("KILL")?;
        let _ = p.child.wait();
        running.crashes += 1;
        let name = format!("{own}.crash{}", running.crashes);
        let watch = running.watch;
        running
            .procs
            .push(self.processes.spawn_function(ctx, &name, f, watch)?);
        // As Lambda answers an invocation whose runtime exited.
        if let Some(adapter) = self.adapter {
            crate::adapter::report_crash(adapter, f).await?;
        }
        Ok(())
    }
}
