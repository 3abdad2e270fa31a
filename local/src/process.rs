//! The local stack's child processes: each started with its output in a log file, waited for by
//! a log line, a port or an HTTP answer, and killed by PID and waited for when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::http::http;

/// A child process, killed by PID and waited for on drop.
pub(crate) struct Proc {
    pub(crate) name: String,
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl Proc {
    pub(crate) fn spawn(name: &str, mut cmd: Command, logs: &Path) -> Result<Proc> {
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out));
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}: {cmd:?}"))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            log,
        })
    }

    pub(crate) fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status}); log {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// Sends `STOP` or `CONT` to this process (by its PID).
    pub(crate) fn signal(&self, signal: &str) -> Result<()> {
        let status = Command::new("kill")
            .args(["-s", signal])
            .arg(self.child.id().to_string())
            .status()
            .context("kill")?;
        if !status.success() {
            bail!(
                "kill -s {signal} {} ({}): {status}",
                self.child.id(),
                self.name
            );
        }
        Ok(())
    }

    pub(crate) fn dump(&self) {
        eprintln!(
            "---- {} ({}) ----\n{}",
            self.name,
            self.log.display(),
            tail(&self.log, 40)
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A free loopback port for a child to bind, chosen below the kernel's ephemeral range
/// (32768-60999 here): a port the kernel hands out for `bind(0)` or for an outgoing connection
/// can be taken by anyone between our check and the child's bind, and with several stacks
/// running at once (the end-to-end files run in parallel) that happened. Below the range only
/// explicit binds compete: each process starts at its own offset and checks the port is free.
pub fn free_port() -> Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOW + (start + n.wrapping_mul(37)) % SPAN;
        let port = u16::try_from(port).context("port range")?;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits for a line containing `prefix` in the process's log; returns the rest of it.
pub(crate) async fn wait_for_line(proc: &mut Proc, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let file = File::open(&proc.log)?;
        for line in BufReader::new(file).lines() {
            let line = line?;
            if let Some(at) = line.find(prefix) {
                return Ok(line[at + prefix.len()..].trim().to_string());
            }
        }
        proc.check_alive()?;
        if Instant::now() > deadline {
            bail!("{}: no '{prefix}' line in 20 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `addr` accepts connections.
pub(crate) async fn wait_tcp(proc: &mut Proc, addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        proc.check_alive()?;
        if Instant::now() > deadline {
            bail!("{} did not listen on {addr} in 30 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Waits until `addr` answers HTTP at all (any status).
pub(crate) async fn wait_http(proc: &mut Proc, addr: SocketAddr, path: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        proc.check_alive()?;
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(2), http(addr, "GET", path, None)).await
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{} did not answer HTTP on {addr} in 30 s", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
