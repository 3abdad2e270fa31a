#!/usr/bin/env bash
# `make bench`: installs the pinned tools, builds, then measures every section of BENCHMARKS.md in
# one run on the local control plane (bench/runner/, the `bench` binary of acgr-bench), prints the
# table and writes BENCHMARKS.md. Section 6 measures the packages `make package` builds (built
# here if missing or stale, with the x86-64 build it runs on this machine and, once, the
# baseline without the release profile): the first full run takes long, later ones reuse them.
#   --only-packages  section 6 alone, its rows replaced in BENCHMARKS.md (make bench-packages)
#   --reduced   small sizes and no packaging, about a minute once built; writes
#               target/bench/BENCHMARKS.reduced.md (bench/runner/tests/reduced.rs runs the same)
# Every process it starts listens on 127.0.0.1 and is stopped by PID before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --bins
if [[ "${1:-}" != "--reduced" ]]; then
  scripts/package.sh
  scripts/package.sh --x86-64
  [[ -d target/lambda-baseline || "${1:-}" == "--only-packages" ]] || scripts/package.sh --baseline
fi
exec target/debug/bench "$@"
