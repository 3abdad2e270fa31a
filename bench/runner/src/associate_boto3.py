"""The runbook's loop: AssociateTrafficDistributionGroupUser for each agent, one after another,
with boto3's default client and retries, as an operator would write it. Reads
{endpoint, region, instanceId, groupId, userIds} as JSON on stdin; prints
{seconds, ok, failed, errors} as JSON (seconds: the loop, after the import and the client)."""

import json
import sys
import time

import boto3

args = json.load(sys.stdin)
client = boto3.client("connect", endpoint_url=args["endpoint"], region_name=args["region"])
ok = 0
errors = {}
start = time.perf_counter()
for user_id in args["userIds"]:
    try:
        client.associate_traffic_distribution_group_user(
            TrafficDistributionGroupId=args["groupId"],
            UserId=user_id,
            InstanceId=args["instanceId"],
        )
        ok += 1
    except Exception as e:  # the loop notes the failure and goes on, as a runbook's would
        name = type(e).__name__
        errors[name] = errors.get(name, 0) + 1
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "ok": ok, "failed": sum(errors.values()), "errors": errors}))
