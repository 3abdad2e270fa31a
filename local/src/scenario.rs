//! The shipped scenarios of connect-sim (`sim/scenarios/<name>.json`), as the stack and the
//! drill read them.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

/// The first instance of a shipped scenario (`sim/scenarios/<name>.json`).
pub fn scenario_instance(root: &Path, scenario: &str) -> Result<String> {
    let path = root.join("sim/scenarios").join(format!("{scenario}.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    v["instances"][0]["id"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{} has no instances[0].id", path.display()))
}
