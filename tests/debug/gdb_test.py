#!/usr/bin/env python3
# gdb_test.py: the batch-gdb test: boots a kernel waiting for gdb (tools/debug.py), drives
# "gdb -batch" through tests/debug/gdb_checks.py and reports TAP. Bounded; leaves no emulator.
"""Test the kernel's gdb stub with a real gdb.

    tests/debug/gdb_test.py --kernel build/chapters/01-detect-vmx/ch01.elf --stub S
    tests/debug/gdb_test.py --kernel build/tests/vmxdemo.elf --stub S --interrupt \\
        --vmx-break demo_enter --expect 'demo_exits == 0' --step-entry demo_enter:10
    tests/debug/gdb_test.py --kernel build/chapters/04-launch/ch04.elf --stub S \\
        --vmx-break handle_exit --expect 'v->regs.rax == 1' --vmx-step --step-entry vmx_vcpu_enter:18
    tests/debug/gdb_test.py --kernel build/chapters/07-nimbos/ch07.elf --stub S \\
        --module build/guests/tinyos/tinyos.bin=guest --module SCRIPT=input \\
        --vmx-break 'platform_com1_access if a->port == 0x3fd' --console '^>> '

What each check means: tests/debug/gdb_checks.py. A new chapter gets the test with one
line in tests/meson.build (gdb_tests).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import debug  # noqa: E402
import runner  # noqa: E402

BASE_CHECKS = ["attach", "breakpoint", "registers", "variables", "step", "bad-memory"]


def expected_checks(args):
    names = list(BASE_CHECKS)
    if args.interrupt:
        names.append("interrupt")
    if args.vmx_break:
        names.append("vmx-root")
        if args.expect:
            names.append("expect")
        if args.vmx_step:
            names.append("vmx-step")
        if args.step_entry:
            names.append("step-entry")
    return names + ["exit"]


def _terminate(signum, frame):
    raise SystemExit(128 + signum)      # so the finally clauses stop the emulator


def run_gdb(argv, env, timeout, interrupt_after):
    """Run gdb, send it SIGINT when it asks for it (Ctrl-C), return its output lines."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, text=True)
    lines = []

    def reader():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "HVT-INTERRUPT-ME" in line:
                threading.Timer(interrupt_after, lambda: proc.poll() is None
                                and proc.send_signal(signal.SIGINT)).start()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        lines.append("gdb_test: gdb did not finish within %.0f s, killed" % timeout)
    t.join(5)
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--stub", required=True)
    ap.add_argument("--name", help="run name (default: the kernel's)")
    ap.add_argument("--model", default=runner.DEFAULT_MODEL, help="Bochs CPU model")
    ap.add_argument("--emu", choices=["bochs", "qemu"], default="bochs")
    ap.add_argument("--qemu-cpu", default="qemu64,vendor=GenuineIntel")
    ap.add_argument("--qemu-gdbstub", action="store_true", help="QEMU's own stub, not the kernel's")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--mem", type=int, default=128)
    ap.add_argument("--vmx-break", help="a function that runs in VMX root operation")
    ap.add_argument("--expect", help="gdb expressions true there, separated by ';' "
                    "($nonce: the run's nonce, $vmread(ENC): a field of the current VMCS)")
    ap.add_argument("--vmx-step", action="store_true",
                    help="'next' there: another line, still VMX root, --expect still true")
    ap.add_argument("--step-entry", metavar="FUNC:REASON",
                    help="stepi over the VMLAUNCH/VMRESUME in FUNC: lands at HOST_RIP with that exit reason")
    ap.add_argument("--at-entry", help="gdb expressions true at that VMLAUNCH/VMRESUME, ';'-separated")
    ap.add_argument("--interrupt", action="store_true",
                    help="Ctrl-C a kernel that spins (vmxdemo's spin=1)")
    ap.add_argument("--status", type=int, default=0,
                    help="the kernel's expected exit status (3: skips, e.g. no VMX in QEMU)")
    ap.add_argument("--module", action="append", default=[], metavar="FILE=NAME",
                    help="a boot module (chapter 07: its guest, NAME guest; its console script, input)")
    ap.add_argument("--console", action="append", default=[], metavar="REGEX",
                    help="the kernel's console must match this (after gdb let it run to the end)")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)

    multiplier = float(os.environ.get("HVT_TIMEOUT_MULTIPLIER", "1"))
    timeout = args.timeout * multiplier
    name = args.name or os.path.splitext(os.path.basename(args.kernel))[0]
    run_dir = os.path.join(os.path.dirname(os.path.abspath(args.kernel)), "runs", "gdb-" + name)
    os.makedirs(run_dir, exist_ok=True)
    gdbinit = os.path.join(run_dir, "test.gdbinit")
    debug.write_gdbinit(gdbinit, args.kernel)
    cmdline = args.cmdline + (" spin=1" if args.interrupt else "")
    session = debug.Session(args.kernel, args.stub, emu=args.emu, model=args.model,
                            qemu_cpu=args.qemu_cpu, cmdline=cmdline, qemu_gdbstub=args.qemu_gdbstub,
                            timeout=timeout, keep_dir=run_dir, mem_mb=args.mem,
                            modules=[(m.partition("=")[0], m.partition("=")[2] or os.path.basename(m))
                                     for m in args.module])
    env = dict(os.environ, HVT_NONCE=session.nonce, HVT_MEM_MB=str(args.mem),
               HVT_VMX_BREAK=args.vmx_break or "", HVT_EXPECT=args.expect or "",
               HVT_VMX_STEP="1" if args.vmx_step else "", HVT_STEP_ENTRY=args.step_entry or "",
               HVT_AT_ENTRY=args.at_entry or "",
               HVT_INTERRUPT="1" if args.interrupt else "",
               HVT_QEMU_STUB="1" if args.qemu_gdbstub else "", HVT_STATUS=str(args.status))
    gdb_argv = ["gdb", "-batch", "-nx", "-x", gdbinit,
                "-ex", "target remote 127.0.0.1:%d" % session.gdb_port,
                "-x", os.path.join(HERE, "gdb_checks.py")]
    start = time.monotonic()
    try:
        session.start()
        lines = run_gdb(gdb_argv, env, timeout, interrupt_after=1.0)
        res = session.wait(max(5.0, timeout - (time.monotonic() - start)))
    finally:
        res = session.stop()
    wall = time.monotonic() - start

    results = {}
    for line in lines:
        if line.startswith("HVT-CHECK "):
            _, status, rest = line.split(" ", 2)
            check, _, detail = rest.partition(": ")
            results.setdefault(check, (status == "ok", detail))
    names = expected_checks(args)
    print("TAP version 13")
    print("1..%d" % (len(names) + 1 + len(args.console)))
    where = "Bochs (%s)" % args.model if args.emu == "bochs" else "QEMU (%s)" % args.qemu_cpu
    print("# gdb against %s in %s, %s: %.1f s wall" % (
        name, where, "QEMU's gdb stub" if args.qemu_gdbstub else "the kernel's stub", wall))
    failed = False
    for n, check in enumerate(names, 1):
        ok, detail = results.get(check, (False, "never reported (gdb stopped early?)"))
        failed |= not ok
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", n, check, detail))
    emu_ok = res is not None and res.outcome == "finished" and res.status == args.status
    failed |= not emu_ok
    print("%s %d - emulator: %s" % ("ok" if emu_ok else "not ok", len(names) + 1,
                                    res.describe() if res else "no result"))
    for n, regex in enumerate(args.console, len(names) + 2):
        ok = res is not None and re.search(regex, res.serial, re.M) is not None
        failed |= not ok
        print("%s %d - console: %s %s" % ("ok" if ok else "not ok", n, "shows" if ok else "does NOT show",
                                          regex))
    if failed:                          # on stderr, which meson shows (not TAP comments)
        sys.stdout.flush()
        err = sys.stderr
        print("gdb output:", file=err)
        for line in lines[-60:]:
            print("  " + line, file=err)
        if res:
            print("last console lines:", file=err)
            for line in res.serial.splitlines()[-15:]:
                print("  | " + line, file=err)
            for line in res.emulator_errors:
                print("  ! " + line, file=err)
        print("files: %s" % run_dir, file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
