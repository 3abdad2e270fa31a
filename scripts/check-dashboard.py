#!/usr/bin/env python3
"""The dashboard of template.yaml is valid CloudWatch dashboard JSON once !Sub has substituted it,
and every ACGR metric it shows is one acgr::metrics writes (shared/src/metrics.rs), with the
dimensions the functions give it. cfn-lint checks the resource, not the body."""
import json
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def tag(loader, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


for t in ["!Sub", "!Ref", "!GetAtt", "!If", "!Equals", "!And", "!Not", "!Condition", "!Join",
          "!Select", "!Split", "!FindInMap", "!ImportValue", "!GetAZs", "!Base64", "!Or"]:
    Loader.add_constructor(t, tag)

template = yaml.load(open("template.yaml"), Loader=Loader)
body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
body = re.sub(r"\$\{[^}]+\}", "x", body)
dashboard = json.loads(body)
metrics_rs = open("shared/src/metrics.rs").read()
emitted = set(re.findall(r'(?:gauge|counter|histogram)!\(\s*"(\w+)"', metrics_rs))
shown = set()
for w in dashboard["widgets"]:
    for m in w["properties"]["metrics"]:
        if m and isinstance(m[0], str) and m[0] == "ACGR":
            shown.add(m[1])
        elif m and isinstance(m[0], dict):
            shown.update(re.findall(r'MetricName=\\?"(\w+)\\?"', m[0]["expression"]))
missing = shown - emitted
if missing:
    sys.exit(f"check-dashboard: the dashboard shows metrics nothing writes: {sorted(missing)}")
print(f"dashboard: {len(dashboard['widgets'])} widgets, {len(shown)} ACGR metrics, all written by acgr::metrics")
