#!/usr/bin/env bash
# connect-sim startup time (process start to "listening on") and peak memory, on `large`,
# against `small` as the baseline measured in the same run. Release build. Prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
cargo build --release -p connect-sim --quiet
bin=target/release/connect-sim

measure() { # scenario -> "startup_ms peak_rss_kib"
  local log pid t0 t1 hwm
  log=$(mktemp)
  t0=$(date +%s%N)
  "$bin" --addr 127.0.0.1:0 --scenario "sim/scenarios/$1.json" >"$log" 2>&1 &
  pid=$!
  until grep -q '^listening on' "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.002
  done
  t1=$(date +%s%N)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -f "$log"
  echo "$(( (t1 - t0) / 1000000 )) $hwm"
}

summarize() { # scenario -> prints median startup and max rss; sets MED and RSS
  local times=() rss=0 out
  for _ in $(seq "$runs"); do
    out=$(measure "$1")
    times+=("${out% *}")
    (( ${out#* } > rss )) && rss=${out#* }
  done
  MED=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  RSS=$rss
  printf '%-8s startup median %5d ms   peak RSS %7d KiB   (%d runs)\n' "$1" "$MED" "$RSS" "$runs"
}

summarize small; base_ms=$MED; base_rss=$RSS
summarize large; large_ms=$MED; large_rss=$RSS
awk -v a="$large_ms" -v b="$base_ms" -v c="$large_rss" -v d="$base_rss" \
  'BEGIN { printf "large/small: startup x%.1f, memory x%.1f\n", a / (b ? b : 1), c / d }'
