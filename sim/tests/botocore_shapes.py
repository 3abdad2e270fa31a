"""Checks connect-sim's raw JSON answers against botocore's Connect model.

Usage: botocore_shapes.py ENDPOINT INSTANCE_ID

Run by `botocore_shapes.rs` against a running connect-sim whose instance is replicated between
us-east-1 and us-west-2, with findings staged. For GetCrossRegionRouting,
UpdateCrossRegionRouting and ListReplicationFindings (every documented resource type), the
answer's body must fit the operation's output shape: every required member present, no member
the shape does not know, the types the model gives (timestamps as epoch numbers), enums where
the model has them, string lengths and list sizes within the model's bounds. Then one boto3
call of each operation goes through the sim. First, the checker is tried on documents that are
wrong on purpose: it must find each fault, or the script fails.

Exits 0 when everything fits; else prints each mismatch with its member path and exits 1.
"""

import json
import sys
import urllib.request

import boto3
import botocore.session

ACCOUNT_REGIONS = ("us-east-1", "us-west-2")
FINDING_TYPES = [
    "AGENT", "AGENT_GROUP", "AGENT_GROUP_LEVEL", "AGENT_STATE", "ATTRIBUTE", "CONTACT_FLOW",
    "DATA_TABLE", "DATA_TABLE_ATTRIBUTE", "DATA_TABLE_RECORD", "DATA_TABLE_VALUE", "FLOW_MODULE",
    "FLOW_MODULE_ALIAS", "FLOW_MODULE_VERSION", "METRIC", "NOTIFICATION", "OPERATING_HOURS",
    "PHONE_NUMBER", "PROMPT", "QUEUE", "REPORT", "ROUTING_PROFILE", "SECURITY_PROFILE",
    "TASK_TEMPLATE", "TEST_CASE", "TRANSFER_DESTINATION", "VIEW", "WORKSPACE",
]


def check(value, shape, path, errors):
    """Appends to `errors` every way `value` (decoded JSON) does not fit `shape`."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a structure, got {type(value).__name__}")
            return
        for name in shape.required_members:
            if name not in value:
                errors.append(f"{path}.{name}: required member missing")
        for name, member in value.items():
            if name not in shape.members:
                errors.append(f"{path}.{name}: member unknown to {shape.name}")
                continue
            check(member, shape.members[name], f"{path}.{name}", errors)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        bounds(len(value), shape, path, "items", errors)
        for i, item in enumerate(value):
            check(item, shape.member, f"{path}[{i}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for k, v in value.items():
            check(k, shape.key, f"{path}<key>", errors)
            check(v, shape.value, f"{path}[{k!r}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        enum = shape.enum
        if enum and value not in enum:
            errors.append(f"{path}: {value!r} is not one of {shape.name}'s {len(enum)} values")
        bounds(len(value), shape, path, "characters", errors)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an {kind}, got {value!r}")
            return
        bounds(value, shape, path, "", errors)
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a timestamp as epoch seconds, got {value!r}")
    elif kind == "blob":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a base64 string, got {value!r}")
    else:
        errors.append(f"{path}: the checker does not know shape type {kind}")


def bounds(n, shape, path, unit, errors):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and n < low:
        errors.append(f"{path}: {n} {unit} is below {shape.name}'s min {low}".replace("  ", " "))
    if high is not None and n > high:
        errors.append(f"{path}: {n} {unit} is above {shape.name}'s max {high}".replace("  ", " "))


def expect(condition, message):
    """Fails the script (not an `assert`: it must hold under `python -O` too)."""
    if not condition:
        print(message)
        sys.exit(1)


def self_test(model):
    """The checker must find each fault of documents that are wrong on purpose."""
    findings = model.operation_model("ListReplicationFindings").output_shape
    routing = model.operation_model("GetCrossRegionRouting").output_shape
    good = {
        "ReplicationFindingsList": [
            {"Arn": "arn:x", "Id": "i", "ResourceType": "QUEUE", "Region": "us-east-1"}
        ],
        "ApproximateDriftedResourceCounts": [
            {"Region": "us-east-1", "Count": 0, "Timestamp": 1.5}
        ],
        "ResourceReplicationStatuses": [{"Region": "us-east-1", "Status": "ENABLED"}],
    }
    errors = []
    check(good, findings, "$", errors)
    expect(not errors, f"the checker refuses a good document: {errors}")

    def broken(change):
        doc = json.loads(json.dumps(good))
        change(doc)
        return doc

    wrong = {
        "missing required": broken(lambda d: d.pop("ReplicationFindingsList")),
        "missing nested required": broken(
            lambda d: d["ReplicationFindingsList"][0].pop("Arn")),
        "unknown member": broken(lambda d: d.update(Extra=1)),
        "string as count": broken(
            lambda d: d["ApproximateDriftedResourceCounts"][0].update(Count="0")),
        "float as long": broken(
            lambda d: d["ApproximateDriftedResourceCounts"][0].update(Count=0.5)),
        "timestamp as text": broken(
            lambda d: d["ApproximateDriftedResourceCounts"][0].update(
                Timestamp="2026-01-01T00:00:00Z")),
        "too many counts": broken(
            lambda d: d["ApproximateDriftedResourceCounts"].extend([
                {"Region": "us-west-2", "Count": 0, "Timestamp": 1},
                {"Region": "eu-west-2", "Count": 0, "Timestamp": 1}])),
        "no statuses": broken(lambda d: d.update(ResourceReplicationStatuses=[])),
        "region too short": broken(
            lambda d: d["ResourceReplicationStatuses"][0].update(Region="us")),
        "empty id": broken(lambda d: d["ReplicationFindingsList"][0].update(Id="")),
        "list as object": broken(lambda d: d.update(ReplicationFindingsList={})),
    }
    for what, doc in wrong.items():
        errors = []
        check(doc, findings, "$", errors)
        expect(errors, f"the checker missed: {what}")
    errors = []
    check({"IsolatedRegions": "us-east-1"}, routing, "$", errors)
    expect(errors, "the checker missed: a string for a list")
    # An enum, from another shape of the model.
    enum_shape = model.shape_for("TrafficDistributionGroupStatus")
    errors = []
    check("SOMETIMES", enum_shape, "$", errors)
    expect(errors, "the checker missed: a value outside an enum")
    errors = []
    check("ACTIVE", enum_shape, "$", errors)
    expect(not errors, f"the checker refuses ACTIVE: {errors}")
    print(f"checker self-test: {len(wrong) + 2} faults found, good documents pass")


def call(endpoint, region, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(endpoint + path, data=data, method=method)
    request.add_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential=AKIDSHAPES/20260101/{region}/connect/aws4_request, "
        "SignedHeaders=host, Signature=00",
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def test_cases_and_flow_associations(endpoint, instance, fits):
    """ListTestCases, DescribeTestCase, ListTestCaseExecutions, GetTestCaseExecutionSummary,
    ListTestCaseExecutionRecords (running and completed, passed in us-east-1 and failed in
    us-west-2, where `findings` lacks a function) and BatchGetFlowAssociation, from both
    regions."""
    errors = []
    flows = call(endpoint, "us-east-1", "GET", f"/contact-flows-summary/{instance}")
    main_flow = next(f["Id"] for f in flows["ContactFlowSummaryList"]
                     if f["Name"] == "Main inbound")
    created = call(endpoint, "us-east-1", "PUT", f"/test-cases/{instance}", {
        "Name": "Shapes", "Content": "{}", "Status": "PUBLISHED",
        "EntryPoint": {"Type": "VOICE_CALL",
                       "VoiceCallEntryPointParameters": {"FlowId": main_flow}},
        "Tags": {"acgr:readiness": "true"},
    })
    errors += fits("CreateTestCase", created, "us-east-1")
    case = created["TestCaseId"]
    call(endpoint, "us-east-1", "POST", "/_sim/clock/advance", {"seconds": 11})
    executions = {}
    for region in ACCOUNT_REGIONS:
        listed = call(endpoint, region, "GET", f"/test-cases-summary/{instance}")
        errors += fits("ListTestCases", listed, region)
        if not any(t["Id"] == case for t in listed["TestCaseSummaryList"]):
            errors.append(f"ListTestCases ({region}): the test case is not listed")
        described = call(endpoint, region, "GET", f"/test-cases/{instance}/{case}")
        errors += fits("DescribeTestCase", described, region)
        started = call(endpoint, region, "PUT",
                       f"/test-cases/{instance}/{case}/start-execution",
                       {"ClientToken": f"shapes-{region}"})
        errors += fits("StartTestCaseExecution", started, region)
        executions[region] = started["TestCaseExecutionId"]
    for phase, seconds in (("running", 2), ("completed", 40)):
        call(endpoint, "us-east-1", "POST", "/_sim/clock/advance", {"seconds": seconds})
        for region, execution in executions.items():
            where = f"{region} {phase}"
            base = f"/test-cases/{instance}/{case}/{execution}"
            summary = call(endpoint, region, "GET", f"{base}/summary")
            errors += fits("GetTestCaseExecutionSummary", summary, where)
            wanted = {"running": "IN_PROGRESS", "completed":
                      "PASSED" if region == "us-east-1" else "FAILED"}[phase]
            if summary.get("Status") != wanted:
                errors.append(f"GetTestCaseExecutionSummary ({where}): {summary}, not {wanted}")
            records = call(endpoint, region, "GET", f"{base}/records")
            errors += fits("ListTestCaseExecutionRecords", records, where)
            listed = call(endpoint, region, "GET",
                          f"/test-case-executions/{instance}?testCaseId={case}")
            errors += fits("ListTestCaseExecutions", listed, where)
            if len(listed["TestCaseExecutions"]) != 1:
                errors.append(f"ListTestCaseExecutions ({where}): {listed}")
    numbers = call(endpoint, "us-east-1", "POST", "/phone-number/list", {"InstanceId": instance})
    arns = [n["PhoneNumberArn"] for n in numbers["ListPhoneNumbersSummaryList"]]
    for region in ACCOUNT_REGIONS:
        batch = call(endpoint, region, "POST", f"/flow-associations-batch/{instance}",
                     {"ResourceIds": arns, "ResourceType": "VOICE_PHONE_NUMBER"})
        errors += fits("BatchGetFlowAssociation", batch, region)
        if len(batch["FlowAssociationSummaryList"]) != len(arns):
            errors.append(f"BatchGetFlowAssociation ({region}): {batch}")
    return errors


def main():
    endpoint, instance = sys.argv[1], sys.argv[2]
    model = botocore.session.get_session().get_service_model("connect")
    self_test(model)

    def fits(operation, answer, where):
        errors = []
        check(answer, model.operation_model(operation).output_shape, "$", errors)
        return [f"{operation} ({where}): {e}" for e in errors]

    errors = []
    seen_findings = 0
    for region in ACCOUNT_REGIONS:
        got = call(endpoint, region, "GET", f"/cross-region-routing/{instance}")
        errors += fits("GetCrossRegionRouting", got, region)
        put = call(endpoint, region, "PUT", f"/cross-region-routing/{instance}",
                   {"IsolatedAll": region == "us-west-2"})
        errors += fits("UpdateCrossRegionRouting", put, region)
        for t in FINDING_TYPES:
            listed = call(endpoint, region, "GET",
                          f"/replication-findings/{instance}?resourceType={t}")
            seen_findings += len(listed.get("ReplicationFindingsList", []))
            errors += fits("ListReplicationFindings", listed, f"{region} {t}")
    got = call(endpoint, "us-west-2", "GET", f"/cross-region-routing/{instance}")
    if got.get("IsolatedRegions") != list(ACCOUNT_REGIONS):
        errors.append(f"GetCrossRegionRouting: isolated regions {got} after IsolatedAll")
    errors += fits("GetCrossRegionRouting", got, "isolated")
    if seen_findings == 0:
        errors.append("ListReplicationFindings listed no finding: nothing was checked")
    errors += test_cases_and_flow_associations(endpoint, instance, fits)

    client = boto3.client(
        "connect", endpoint_url=endpoint, region_name="us-west-2",
        aws_access_key_id="AKIDBOTO3", aws_secret_access_key="x",
    )
    routing = client.get_cross_region_routing(InstanceId=instance)
    if routing["IsolatedRegions"] != list(ACCOUNT_REGIONS):
        errors.append(f"boto3 get_cross_region_routing: {routing['IsolatedRegions']}")
    client.update_cross_region_routing(InstanceId=instance, IsolatedAll=False)
    if client.get_cross_region_routing(InstanceId=instance)["IsolatedRegions"] != []:
        errors.append("boto3: IsolatedAll=False did not clear the isolation")
    page = client.list_replication_findings(InstanceId=instance, ResourceType="VIEW")
    if not page["ReplicationFindingsList"] or len(page["ResourceReplicationStatuses"]) != 2:
        errors.append(f"boto3 list_replication_findings: {page}")
    count = page["ApproximateDriftedResourceCounts"][0]
    if not hasattr(count["Timestamp"], "year"):
        errors.append(f"boto3 did not read Timestamp as a time: {count}")

    for e in errors:
        print(e)
    if errors:
        sys.exit(1)
    print(f"ok: {seen_findings} findings and every answer fit botocore's Connect model")


if __name__ == "__main__":
    main()
