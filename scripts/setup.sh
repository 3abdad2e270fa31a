#!/usr/bin/env bash
# Installs, pinned and inside the project, every tool the tests and the rehearsal need.
# Safe to run again: it only installs what is missing or at another version.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python tools, in a project-local virtualenv (never on the system python).
PY_PINS=(
  "awscli==1.46.3"
  "boto3==1.44.8"  # the benchmark's runbook loop; the version of the CLI's botocore
  "cargo-lambda==1.9.2"
  "moto[server]==5.2.5"
  "cfn-lint==1.58.0"
)

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed" >&2; exit 1; }; }
need python3
need cargo
cargo fmt --version >/dev/null 2>&1 || { echo "setup: rustfmt is missing (rustup component add rustfmt)" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { echo "setup: clippy is missing (rustup component add clippy)" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
want="${PY_PINS[*]}"
if [[ "$(cat .venv/.pins 2>/dev/null)" != "$want" ]]; then
  echo "setup: installing ${want} into .venv/"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  echo "$want" > .venv/.pins
fi
.venv/bin/aws --version >/dev/null
# Called by path (local/src/stack.rs): the venv's bin/ is never put first on PATH.
.venv/bin/cargo-lambda lambda --version >/dev/null
[[ -x .venv/bin/moto_server ]] || { echo "setup: .venv/bin/moto_server is missing" >&2; exit 1; }

# Headless Chromium renders grctl's report in tests/tests/grctl.rs: Debian's package (the
# distribution's security updates replace its builds, so the major version is checked instead of
# one build pinned).
CHROMIUM_MIN_MAJOR=140
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium"
  sudo=""; [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
chromium_major="$(chromium --version 2>/dev/null | sed -E 's/^Chromium ([0-9]+).*/\1/')"
if [[ ! "$chromium_major" =~ ^[0-9]+$ ]] || (( chromium_major < CHROMIUM_MIN_MAJOR )); then
  echo "setup: chromium >= $CHROMIUM_MIN_MAJOR is required (Debian's package chromium)" >&2
  exit 1
fi

# Rust tools, built from crates.io into a project-local root (cargo-deny: about 4 minutes cold).
CARGO_DENY_VERSION="0.20.2"
if [[ "$(.tools/cargo-deny/bin/cargo-deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]]; then
  echo "setup: installing cargo-deny $CARGO_DENY_VERSION into .tools/cargo-deny/"
  cargo install --quiet --locked cargo-deny --version "$CARGO_DENY_VERSION" --root .tools/cargo-deny
fi

# Node tools, in a project-local prefix.
ASL_VALIDATOR="asl-validator@4.0.0"
if [[ "$(cat .tools/node/.pins 2>/dev/null)" != "$ASL_VALIDATOR" ]]; then
  need npm
  echo "setup: installing $ASL_VALIDATOR into .tools/node/"
  npm install --silent --no-audit --no-fund --prefix .tools/node "$ASL_VALIDATOR" >/dev/null
  echo "$ASL_VALIDATOR" > .tools/node/.pins
fi
.venv/bin/cfn-lint --version >/dev/null
