#!/usr/bin/env python3
"""The Amazon Connect permissions template.yaml grants each function, for connect-sim's access
policies (local/src/permissions.rs), so that the local stack runs every function with exactly the
Connect actions and resources its role allows in AWS.

Usage: template-policies.py TEMPLATE Name=Value...
  Name=Value: the template's parameters and pseudo parameters (InstanceId, SourceRegion,
  ReplicaRegion, AWS::Partition, AWS::AccountId, AWS::Region).
Prints {"<binary>": {"statements": [{"actions": [...], "resources": [...]}]}} for every
AWS::Serverless::Function with a BuildProperties.Binary, with the Allow statements whose actions
are connect:* (other services' statements and SAM policy templates grant no Connect action). A
function without any has no statement: connect-sim then denies it every call.

Fails on what the sim could not enforce faithfully: a Deny, NotAction or NotResource, or a
Condition on a Connect statement, and a ${Name} or !Ref it was not given.
"""

import json
import re
import sys

import yaml  # PyYAML, which cfn-lint and moto bring into .venv


class Loader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Sub, !Ref, ...) as {"Fn::Sub": ...}, {"Ref": ...}."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


Loader.add_multi_constructor("!", _intrinsic)


def resolve(value, params):
    """A resource ARN: a plain string, a !Sub of known names, or a !Ref of one."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        def name(m):
            if m.group(1) not in params:
                raise SystemExit(f"template-policies: no value given for ${{{m.group(1)}}}")
            return params[m.group(1)]
        return re.sub(r"\$\{([A-Za-z0-9:]+)\}", name, value["Fn::Sub"])
    if isinstance(value, dict) and "Ref" in value:
        if value["Ref"] not in params:
            raise SystemExit(f"template-policies: no value given for !Ref {value['Ref']}")
        return params[value["Ref"]]
    raise SystemExit(f"template-policies: cannot resolve the resource {value!r}")


def as_list(value):
    return value if isinstance(value, list) else [value]


def connect_statements(policies, params, function):
    out = []
    for policy in as_list(policies or []):
        if not isinstance(policy, dict) or "Statement" not in policy:
            continue  # a SAM policy template (LambdaInvokePolicy, ...): no Connect action
        for st in as_list(policy["Statement"]):
            actions = [a for a in as_list(st.get("Action", [])) if a.lower().startswith("connect:")]
            unsupported = {"NotAction", "NotResource", "Condition"} & set(st)
            if st.get("Effect") != "Allow" and actions:
                raise SystemExit(f"template-policies: {function}: a Deny on Connect actions")
            if not actions:
                continue
            if unsupported:
                raise SystemExit(
                    f"template-policies: {function}: {sorted(unsupported)} on a Connect statement")
            resources = [resolve(r, params) for r in as_list(st.get("Resource", "*"))]
            out.append({"actions": actions, "resources": resources})
    return out


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    params = dict(arg.split("=", 1) for arg in sys.argv[2:])
    with open(sys.argv[1]) as f:
        template = yaml.load(f, Loader=Loader)
    policies = {}
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            continue
        statements = connect_statements(resource["Properties"].get("Policies"), params, name)
        policies[binary] = {"statements": statements}
    json.dump(policies, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
