//! Debian's headless Chromium for the tests that look at a page: a screenshot of a local file,
//! and the pixels of given colours in it (`scripts/png-colors.py`). No network: the flags keep
//! Chromium from calling out, and the pages it is given fetch nothing.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use crate::workspace;

/// Renders `html` at 900x1600 into `png` (a fresh profile beside it).
pub fn screenshot(html: &Path, png: &Path) -> Result<()> {
    let profile = png.with_extension("profile");
    let out = Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=900,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .context("chromium (scripts/setup.sh installs Debian's package)")?;
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() || !png.exists() {
        bail!(
            "chromium did not render {}: {}",
            html.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// How many pixels of `png` are near each colour (`rrggbb`): `{"width", "height", "counts"}`.
pub fn colours(png: &Path, colours: &[&str]) -> Result<Value> {
    let out = Command::new("python3")
        .arg(workspace().join("scripts/png-colors.py"))
        .arg(png)
        .args(colours)
        .output()
        .context("python3 scripts/png-colors.py")?;
    if !out.status.success() {
        bail!("png-colors.py: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
