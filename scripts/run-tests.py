#!/usr/bin/env python3
"""Runs every test binary of the workspace, as `cargo test --workspace` would, but the
end-to-end files (tests/tests/*.rs: each starts its own local stack on free loopback ports)
several at a time: they spend their time waiting on Connect's quotas, not on the CPU.

Usage: scripts/run-tests.py [--jobs N]   (after `cargo test --workspace --no-run`)
Each binary runs from its package's directory, as cargo runs it; its whole output goes to
target/test-logs/<name>.log. Printed: libtest's report of each binary (one line per test, as
`cargo test` prints it), and the whole log of a binary that fails. Exit 1 if any fails.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGS = os.path.join(ROOT, "target", "test-logs")


def test_binaries():
    """(name, executable, package dir, is_e2e) of every test target, from cargo's build plan."""
    out = subprocess.run(
        ["cargo", "test", "--workspace", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    found = []
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        package_dir = os.path.dirname(msg["manifest_path"])
        src = os.path.relpath(target["src_path"], ROOT)
        # the end-to-end files, and the reduced benchmark (which starts stacks of its own)
        e2e = src.startswith(("tests" + os.sep + "tests" + os.sep,
                              os.path.join("bench", "runner", "tests") + os.sep))
        kind = target["kind"][0]
        name = target["name"] if kind == "test" else f"{target['name']}-{kind}"
        found.append((name, msg["executable"], package_dir, e2e))
    return found


def run(binary):
    name, exe, cwd, _ = binary
    log = os.path.join(LOGS, f"{name}.log")
    started = time.monotonic()
    with open(log, "w") as f:
        code = subprocess.run([exe], cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode
    took = time.monotonic() - started
    # libtest's own report (`running N tests`, one `test <name> ... ok` line per test, the
    # `test result:` line), as `cargo test` prints it, without the tests' logs in between.
    report = []
    with open(log) as f:
        for line in f:
            if LIBTEST_LINE.match(line):
                report.append(line.rstrip("\n"))
    rel = os.path.relpath(exe, ROOT)
    block = [f"     Running {name} ({rel})", *report,
             f"{'ok  ' if code == 0 else 'FAIL'} {name} in {took:.1f} s", ""]
    if code != 0:
        with open(log) as f:
            block.insert(-1, f.read())
    print("\n".join(block), flush=True)
    return code == 0


LIBTEST_LINE = re.compile(r"^(running \d+ tests?$|test .+ \.\.\. |test result: )")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=3, help="end-to-end files at a time")
    args = parser.parse_args()
    os.makedirs(LOGS, exist_ok=True)
    binaries = test_binaries()
    started = time.monotonic()
    ok = True
    # Unit and integration tests first, one binary at a time (each uses every core).
    for b in (b for b in binaries if not b[3]):
        ok &= run(b)
    # Then the end-to-end files, the longest first so that they overlap the most.
    e2e = sorted((b for b in binaries if b[3]), key=lambda b: b[0] not in LONGEST)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for passed in pool.map(run, e2e):
            ok &= passed
    print(f"{len(binaries)} test binaries in {time.monotonic() - started:.0f} s: "
          f"{'all passed' if ok else 'FAILED'}")
    return 0 if ok else 1


# The end-to-end files that take minutes: started first.
LONGEST = {"medium", "drill", "state_machines", "chaos", "incident_day", "grctl"}

if __name__ == "__main__":
    sys.exit(main())
