#!/usr/bin/env bash
# `make chaos`: the chaos drill in its long form, on the local stack. Runs tests/tests/chaos.rs
# with CHAOS=full (faults on every Connect call, seeded process kills over several rounds,
# concurrent runs, hostile machine input), the hostile-input tests of every step (HOSTILE_CASES,
# default 10,000 per step), the least-privilege run and the log check; prints each experiment's
# figures and writes them, dated, to target/chaos/RELIABILITY.md (the README's "Reliability"
# section quotes a run). `make test` runs the same tests in their reduced form.
# Every process it starts listens on 127.0.0.1 and is stopped by PID by the test that started it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --bins
cargo test --workspace --no-run
mkdir -p target/chaos
log=target/chaos/chaos.log
: > "$log"
status=0
run() { "$@" >> "$log" 2>&1 || status=1; }
run env CHAOS=full cargo test --workspace --test chaos -- --nocapture
run env HOSTILE_CASES="${HOSTILE_CASES:-10000}" cargo test --workspace --lib hostile -- --nocapture
run cargo test --workspace --test least_privilege -- --nocapture
run scripts/check-logs.py
figures=$(grep -E '^(chaos:|hostile input:|logs:|least privilege|[a-z-]+ +us-(east|west)-[0-9] +granted)|^test .* (FAILED|ok)$' "$log" || true)
{
  echo "# Reliability: make chaos"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sm); full log: $log"
  echo
  echo '```'
  echo "$figures"
  echo '```'
} > target/chaos/RELIABILITY.md
echo "$figures"
echo "written: target/chaos/RELIABILITY.md ($( ((status == 0)) && echo 'every experiment passed' || echo 'FAILED: see the log'))"
exit "$status"
