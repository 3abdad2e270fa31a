#!/usr/bin/env bash
# The deployable package of every function, as `sam build` makes it (template.yaml's BuildMethod
# rust-cargolambda runs `cargo lambda build --release --arm64` per function): one cargo lambda
# build for all of them and bench/hello (the benchmark's floor), zipped:
# target/lambda/<function>/bootstrap.zip. Prints each package's size.
#   --x86-64    the same release build for x86-64, unzipped, into target/lambda-x86_64 (what
#               `make bench` runs on this machine to measure init and memory)
#   --baseline  the arm64 packages built as before the workspace had a [profile.release]
#               (cargo-lambda's defaults), in their own target dir, into target/lambda-baseline
# Cold, a build takes tens of minutes on 2 cores; an unchanged tree takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# cargo-lambda links with zig; the pinned one is the ziglang wheel that came with it in .venv/.
CARGO_ZIGBUILD_ZIG_PATH="$(.venv/bin/python -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
export CARGO_ZIGBUILD_ZIG_PATH

packages=()
for dir in functions/*/; do
  packages+=(-p "$(basename "$dir")")
done
packages+=(-p hello)

build=(.venv/bin/cargo-lambda lambda build --release)
case "${1:-}" in
  "")
    rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1
    "${build[@]}" --arm64 --output-format zip "${packages[@]}"
    out=target/lambda
    ;;
  --x86-64)
    "${build[@]}" --x86-64 --lambda-dir target/lambda-x86_64 "${packages[@]}"
    out=target/lambda-x86_64
    ;;
  --baseline)
    rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1
    # cargo-lambda's own release settings, which it applies only where Cargo.toml sets none.
    CARGO_TARGET_DIR=target/baseline "${build[@]}" --arm64 --output-format zip \
      --lambda-dir target/lambda-baseline \
      --config 'profile.release.opt-level=3' --config 'profile.release.lto="thin"' \
      --config 'profile.release.codegen-units=1' --config 'profile.release.panic="abort"' \
      --config 'profile.release.strip="symbols"' "${packages[@]}"
    out=target/lambda-baseline
    ;;
  *)
    echo "usage: scripts/package.sh [--x86-64 | --baseline]" >&2
    exit 2
    ;;
esac

for dir in "$out"/*/; do
  dir="${dir%/}"
  file="$dir/bootstrap.zip"
  [[ -f "$file" ]] || file="$dir/bootstrap"
  awk -v n="$(basename "$dir")" -v b="$(stat -c %s "$file")" -v f="$file" \
    'BEGIN { printf "%-20s %8.2f MiB  %s\n", n, b / 1048576, f }'
done
