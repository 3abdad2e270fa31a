#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# Dependency policy (deny.toml): licences, banned crates, sources. Duplicate versions are
# reported as warnings; only errors are printed here.
.tools/cargo-deny/bin/cargo-deny --log-level error check bans licenses sources
.venv/bin/cfn-lint template.yaml
.venv/bin/python scripts/check-dashboard.py
for machine in statemachine/*.asl.json; do
  .tools/node/node_modules/.bin/asl-validator --json-path "$machine"
done
# The end-to-end tests (tests/) run the function binaries as Lambda runtime processes: build them
# first, so that no test compiles (see local/src/stack.rs).
cargo build --workspace --bins
# Every test binary, as `cargo test --workspace` runs them, but the end-to-end files three at a
# time: each starts its own local stack, and they wait on Connect's quotas, not on the CPU.
cargo test --workspace --no-run
scripts/run-tests.py --jobs 3
# No secret and no agent's username or email in any log line the suite produced.
scripts/check-logs.py
cargo test --workspace --doc
