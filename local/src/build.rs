//! The binaries the stack runs: built once per test process when missing or older than their
//! sources, with `cargo build --workspace --bins` (see the stack's module doc for why).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context as _, Result};

use crate::workspace;

/// `target/<profile>`: where this executable's binaries live (a test's `.../deps/<test>` -> `..`).
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    let deps = exe.parent().context("the executable has no directory")?;
    let dir = if deps.ends_with("deps") {
        deps.parent().context("deps has no parent")?
    } else {
        deps
    };
    Ok(dir.to_path_buf())
}

/// Newest modification time of the sources a binary is built from.
fn newest_source(dirs: &[PathBuf]) -> Option<SystemTime> {
    fn walk(p: &Path, newest: &mut Option<SystemTime>) {
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(p) {
                for e in entries.flatten() {
                    walk(&e.path(), newest);
                }
            }
        } else if p.extension().is_some_and(|e| e == "rs" || e == "toml") {
            if let Ok(m) = meta.modified() {
                *newest = Some(newest.map_or(m, |n| n.max(m)));
            }
        }
    }
    let mut newest = None;
    for d in dirs {
        walk(d, &mut newest);
    }
    newest
}

/// The sources a binary is built from: its package, and the shared crate for the functions.
fn sources_of(root: &Path, bin: &str) -> Vec<PathBuf> {
    match bin {
        "connect-sim" => vec![root.join("sim/src"), root.join("sim/Cargo.toml")],
        "grctl" => vec![
            root.join("grctl"),
            root.join("shared/src"),
            root.join("shared/Cargo.toml"),
        ],
        "lambda-adapter" | "rehearse" | "invoke" => {
            vec![root.join("local/src"), root.join("local/Cargo.toml")]
        }
        _ => vec![
            root.join("functions").join(bin),
            root.join("shared/src"),
            root.join("shared/Cargo.toml"),
        ],
    }
}

fn is_fresh(bins: &Path, root: &Path, bin: &str) -> bool {
    let Ok(built) = std::fs::metadata(bins.join(bin)).and_then(|m| m.modified()) else {
        return false;
    };
    newest_source(&sources_of(root, bin)).is_none_or(|src| src <= built)
}

/// Variables cargo sets for the crate it runs (not the user's settings such as CARGO_HOME).
fn is_per_crate_cargo_var(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_BIN_EXE_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// Builds the binaries once per test process if any is missing or older than its sources.
pub(crate) fn ensure_built(bins: &Path, wanted: &[&str]) -> Result<()> {
    let root = workspace();
    if wanted.iter().all(|b| is_fresh(bins, &root, b)) {
        return Ok(());
    }
    static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            eprintln!(
                "local stack: binaries missing or stale, running `cargo build --workspace --bins`"
            );
            let mut cmd = Command::new(cargo);
            cmd.current_dir(&root)
                .args(["build", "--workspace", "--bins"]);
            // Under `cargo test` this process carries the test's CARGO_PKG_*, CARGO_MANIFEST_DIR
            // and the like; build scripts that watch those would rerun and rebuild half the
            // dependency tree (then the next plain build rebuilds it back).
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy();
                if is_per_crate_cargo_var(&key) {
                    cmd.env_remove(key.as_ref());
                }
            }
            let status = cmd.status().map_err(|e| e.to_string())?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("cargo build --workspace --bins failed: {status}"))
            }
        })
        .clone()
        .map_err(|e| anyhow!(e))?;
    for b in wanted {
        if !bins.join(b).exists() {
            bail!("{} was not built", bins.join(b).display());
        }
    }
    Ok(())
}
