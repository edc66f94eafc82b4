#!/usr/bin/env python3
# interactive_test.py: the README's run command for chapter 07 as a person uses it: runner.py
# --interactive on a pseudo-terminal, typing at tinyos's prompt under the hypervisor, and Ctrl-].
"""Type into a guest through tools/runner.py --interactive on a pseudo-terminal (TAP).

    tests/interactive/interactive_test.py --kernel build/chapters/07-nimbos/ch07.elf \\
        --guest build/guests/tinyos/tinyos.bin

1. `hello` then `exit` at tinyos's prompt: the program runs, tinyos powers off, the
   hypervisor reports, the runner exits 0; the terminal saw CRLF line ends.
2. Ctrl-] at the prompt ends the run at once (runner exit 0, "stopped from the keyboard").
"""
import argparse
import os
import pty
import select
import sys
import time

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")


def session(kernel, guest, keys, seconds=60):
    """Run the runner on a pty; type each (wait_for, bytes) when the output shows wait_for."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.executable, [sys.executable, os.path.join(TOOLS, "runner.py"), "--interactive",
                                   "--timeout", str(seconds), "--module", guest + "=guest", kernel])
    out, steps, deadline = b"", list(keys), time.monotonic() + seconds + 15
    while time.monotonic() < deadline:
        if steps and steps[0][0] in out:
            os.write(fd, steps.pop(0)[1])
        if select.select([fd], [], [], 0.1)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:                  # the child closed the terminal: it has exited
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return out.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--guest", required=True)
    args = ap.parse_args()
    try:                                 # a container without /dev/pts has no terminal to offer
        for fd in os.openpty():
            os.close(fd)
    except OSError as e:
        print("TAP version 13\n1..0 # SKIP no pseudo-terminal on this machine (%s): mount devpts" % e)
        return 0
    checks = []
    out, rc = session(args.kernel, args.guest, [(b">> ", b"hello\r"), (b"exited with code 0", b""),
                                                (b">> ", b"exit\r")])
    checks.append(("typed commands reach the guest; it powers off; the runner exits 0",
                   rc == 0 and "Hello world from user mode program!" in out and
                   "power off: all tasks exited" in out and "@end nonce=" in out))
    checks.append(("the raw terminal gets CRLF line ends", "\r\n>> " in out and "\n\n" not in out))
    out, rc = session(args.kernel, args.guest, [(b">> ", b"\x1d")])
    checks.append(("Ctrl-] ends the run", rc == 0 and "stopped from the keyboard" in out))
    print("TAP version 13")
    print("1..%d" % len(checks))
    for n, (name, ok) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not all(ok for _, ok in checks):
        print("# last output:\n" + "\n".join("#   " + line for line in out.splitlines()[-15:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
