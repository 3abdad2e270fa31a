#!/usr/bin/env bash
# The rehearsal: installs the pinned tools, builds, then runs replication, failover and failback
# against the local stack (connect-sim, moto with Step Functions, cargo lambda watch).
# SCENARIO=small|conflict|findings|medium|large (default small); extra arguments go to the rehearse binary
# (--time-scale, --poll-seconds, --timeout, --quota-factor). Every process it starts listens on
# 127.0.0.1 and is stopped by PID before it exits, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --bins
exec target/debug/rehearse --scenario "${SCENARIO:-small}" "$@"
