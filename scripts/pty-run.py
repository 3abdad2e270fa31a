#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, as a person at a terminal would: stdin, stdout and stderr
are the terminal (120x40). When the output matches --expect, --send is typed (with a newline).
Prints one JSON object: {"code": exit code, "output": everything the terminal showed,
"answered": whether the expected prompt came}. Used by tests/tests/grctl.rs."""
import argparse
import json
import os
import pty
import re
import select
import struct
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--expect")
    p.add_argument("--send", default="")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    try:
        import fcntl
        import termios
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    except OSError:
        pass
    out = b""
    answered = False
    status = None
    deadline = time.time() + a.timeout

    def read():
        nonlocal out, answered
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not chunk:
            return False
        out += chunk
        if a.expect and not answered and re.search(a.expect, out.decode("utf-8", "replace")):
            os.write(fd, (a.send + "\n").encode())
            answered = True
        return True

    while time.time() < deadline and status is None:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r and not read():
            _, status = os.waitpid(pid, 0)
            break
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            while select.select([fd], [], [], 0.2)[0] and read():
                pass
    if status is None:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"code": code, "output": out.decode("utf-8", "replace"), "answered": answered}))


if __name__ == "__main__":
    sys.exit(main())
