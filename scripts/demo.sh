#!/usr/bin/env bash
# Starts connect-sim on a scenario (60x simulated time) and drives a replication with the AWS CLI,
# printing each command. Stops the control plane (by PID) when done, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-small}
[[ -f sim/scenarios/$scenario.json ]] || { echo "demo: no scenario sim/scenarios/$scenario.json" >&2; exit 2; }
scripts/setup.sh
cargo build -p connect-sim --quiet

log=$(mktemp)
target/debug/connect-sim --addr 127.0.0.1:0 --scenario "sim/scenarios/$scenario.json" --time-scale 60 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 200); do grep -q '^listening on' "$log" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$log")
[[ -n $url ]] || { echo "demo: connect-sim did not start:" >&2; cat "$log" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
run() { echo "\$ aws connect $*" >&2; .venv/bin/aws connect --endpoint-url "$url" "$@"; }

echo "connect-sim ($scenario, simulated time x60) listening on $url"
id=$(run list-instances --region us-east-1 --query 'InstanceSummaryList[0].Id' --output text)
alias=$(run describe-instance --region us-east-1 --instance-id "$id" --query 'Instance.InstanceAlias' --output text)
run replicate-instance --region us-east-1 --instance-id "$id" --replica-region us-west-2 --replica-alias "$alias-west" --output json
deadline=$((SECONDS + 180))
while :; do
  status=$(.venv/bin/aws connect --endpoint-url "$url" describe-instance --region us-west-2 --instance-id "$id" \
    --query 'ReplicationConfiguration.ReplicationStatusSummaryList[1].ReplicationStatus' --output text)
  users=$(.venv/bin/aws connect --endpoint-url "$url" list-users --region us-west-2 --instance-id "$id" \
    --query 'length(UserSummaryList)' --output text)
  echo "  replica: $status, users mirrored: $users"
  [[ $status == INSTANCE_REPLICATION_COMPLETE ]] && break
  (( SECONDS < deadline )) || { echo "demo: replication did not complete in time" >&2; exit 1; }
  sleep 2
done
arn=$(run list-traffic-distribution-groups --region us-west-2 --instance-id "$id" \
  --query 'TrafficDistributionGroupSummaryList[?IsDefault].Arn | [0]' --output text)
run get-traffic-distribution --region us-west-2 --id "$arn" --output json
echo "done: the control plane is stopped on exit"
