#!/usr/bin/env python3
"""Reads every log line the test suite produced (target/e2e-logs: each stack's processes, the
functions, moto, connect-sim, the watch; target/test-logs: each test binary's output) and fails if
one holds a secret or an agent's identity:

- the secret access keys the local stack and the benchmark hand their processes, and anything
  shaped like an AWS secret key or session token given a name (aws_secret_access_key=...,
  X-Amz-Security-Token: ...);
- an agent's username or email: every user the shipped scenarios name (their `username` and
  `email` members) or generate (`generate.users`: prefix and five digits), and any e-mail address.

Usage: scripts/check-logs.py [DIR ...]   (default: target/e2e-logs target/test-logs)
Prints what it read and each hit (file, line number, the match); exit 1 on any hit.
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What the local stack (local/src/deployment/env.rs) and the benchmark give their processes.
LOCAL_SECRETS = ["e2e-secret", "bench-secret"]

SECRET_SHAPES = [
    re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*\S+"),
    re.compile(r"(?i)x-amz-security-token\s*[=:]\s*\S+"),
    re.compile(r"(?i)aws_session_token\s*[=:]\s*\S+"),
    re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),  # a secret key's shape
]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def scenario_users():
    """Usernames and emails the shipped scenarios name, and the patterns of those they generate."""
    names, prefixes = set(), set()
    for path in glob.glob(os.path.join(ROOT, "sim", "scenarios", "*.json")):
        with open(path) as f:
            scenario = json.load(f)

        def walk(v):
            if isinstance(v, dict):
                for k, child in v.items():
                    if k in ("username", "email") and isinstance(child, str) and len(child) > 3:
                        names.add(child)
                    if k == "users" and isinstance(child, dict) and "prefix" in child:
                        prefixes.add(child["prefix"])
                    walk(child)
            elif isinstance(v, list):
                for child in v:
                    walk(child)

        walk(scenario)
    return names, [re.compile(re.escape(p) + r"\d{5}") for p in sorted(prefixes)]


def hits_in(line, names, patterns):
    for s in LOCAL_SECRETS:
        if s in line:
            yield "secret key", s
    for shape in SECRET_SHAPES:
        m = shape.search(line)
        # 40 characters of base64 also match hashes and IDs in URLs: only with a secret's mix
        if m and (shape is not SECRET_SHAPES[-1] or looks_like_secret(m.group(0))):
            yield "secret", m.group(0)
    for n in names:
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(n) + r"(?![A-Za-z0-9])", line):
            yield "agent", n
    for p in patterns:
        m = p.search(line)
        if m:
            yield "agent", m.group(0)
    m = EMAIL.search(line)
    if m:
        yield "email", m.group(0)


def looks_like_secret(s):
    """An AWS secret key mixes upper, lower case and digits, with '/' or '+' often."""
    return (
        any(c.isupper() for c in s)
        and any(c.islower() for c in s)
        and any(c.isdigit() for c in s)
        and ("/" in s or "+" in s)
    )


def main():
    dirs = sys.argv[1:] or [
        os.path.join(ROOT, "target", "e2e-logs"),
        os.path.join(ROOT, "target", "test-logs"),
    ]
    names, patterns = scenario_users()
    files = lines = 0
    found = []
    for d in dirs:
        for dirpath, _, filenames in os.walk(d):
            for name in filenames:
                path = os.path.join(dirpath, name)
                files += 1
                with open(path, errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        lines += 1
                        for kind, what in hits_in(line, names, patterns):
                            found.append((os.path.relpath(path, ROOT), n, kind, what))
    print(
        f"logs: {files} files, {lines} lines read; {len(found)} secrets or agent identities "
        f"({len(names)} named users, {len(patterns)} generated user patterns checked)"
    )
    for path, n, kind, what in found[:50]:
        print(f"  {path}:{n}: {kind}: {what[:80]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
