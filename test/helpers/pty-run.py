#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal, as a terminal user would, and scripts it.

    pty-run.py STEPS_JSON -- command [args...]

The command runs as a session leader with the pty as its controlling terminal (what
a terminal emulator or `docker run -it` gives). STEPS_JSON is a list of steps:
  {"expect": REGEX, "timeout": seconds}   wait until the output so far matches
  {"send": TEXT}                          type TEXT (use "\\u0003" for Ctrl-C)
  {"sleep": seconds}
Prints one JSON object: {"status": exit code or -signal, "output": transcript,
"failed": step index or null}.
"""
import json
import os
import pty
import re
import select
import sys
import time


def main():
    steps = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b""
    failed = None

    def pump(deadline):
        nonlocal output
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([master], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                output += chunk
                return

    for index, step in enumerate(steps):
        if "send" in step:
            os.write(master, step["send"].encode())
        elif "sleep" in step:
            end = time.monotonic() + step["sleep"]
            while time.monotonic() < end:
                pump(end)
        elif "expect" in step:
            pattern = re.compile(step["expect"].encode())
            end = time.monotonic() + step.get("timeout", 20)
            while not pattern.search(output) and time.monotonic() < end:
                pump(end)
            if not pattern.search(output):
                failed = index
                break
    # Drain until the command exits (bounded).
    end = time.monotonic() + 20
    status = None
    while time.monotonic() < end:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
            break
        pump(time.monotonic() + 0.05)
    if status is None:
        os.kill(pid, 9)
        _, raw = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(raw)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                break
            chunk = os.read(master, 4096)
            if not chunk:
                break
            output += chunk
    except OSError:
        pass
    print(json.dumps({"status": status, "output": output.decode(errors="replace"), "failed": failed}))


main()
