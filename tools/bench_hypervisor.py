#!/usr/bin/env python3
# bench_hypervisor.py: prints chapter 07's figures: tinyos booted to its prompt under the hypervisor
# against the same tinyos bare in the same Bochs, console output rate, timer lateness (and NimbOS).
"""Benchmark chapter 07's hypervisor against bare Bochs.

    tools/bench_hypervisor.py [--build build] [--runs 3] [--ips 5000000] [--nimbos IMAGE]

1. Boot to the `>> ` prompt: tinyos bare (ROM route, tools/bench_guest.py's method) and
   the same tinyos under chapter 07 (flat image as a boot module), same Bochs model and
   ips, in x2APIC mode and with x2APIC hidden (xAPIC MMIO). Wall time from launching
   Bochs, and "running": from when Bochs started executing (it waits for the scripted
   console to connect); emulated instructions (TSC with clock sync=none) to the prompt,
   for the hypervisor also split into its start-up (until the guest's first instruction)
   and the rest (the guest's boot and the exits it causes).
2. Console output: the print probe (guests/probe, PROBE_PRINT) writes 32 KiB through
   COM1's polled LSR/THR, timed with RDTSC, bare and under the hypervisor.
3. Timer accuracy: tinyos's `sleep` program (200 sleeps of 1 ms), worst and average
   lateness, bare and under the hypervisor.
4. With --nimbos (or HVT_NIMBOS_IMAGE): NimbOS under the hypervisor to its prompt and
   through usertests, with its cyclictest latencies.
Medians of --runs runs; Bochs runs are deterministic in instructions, not in wall time.
"""
import argparse
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_guest  # noqa: E402
import runner  # noqa: E402

MODEL = "corei7_haswell_4770"
GUEST_START_RE = re.compile(r"^---- guest console \(TSC (\d+)\) ----$", re.M)
PRINT_RE = re.compile(r"^probe: 32768 bytes printed in TSC ticks: 0x([0-9a-f]+)$", re.M)
CYCLIC_RE = re.compile(r"T:0 .*C:(\d+) Min:(\d+) Act:\d+ Avg:(\d+) Max:(\d+)")


def run(kernel, stub, ips, **kw):
    res = runner.run_kernel(kernel, stub, model=MODEL, ips=ips, timeout=kw.pop("timeout", 120), **kw)
    shutil.rmtree(res.workdir, ignore_errors=True)
    if res.outcome not in ("matched", "finished"):
        raise RuntimeError("%s; last output: %s" % (res.describe(), res.serial[-300:]))
    return res


def tinyos(build, ips, hypervisor, cmdline=""):
    """One boot: the prompt (wall, instructions), and the sleep test's lateness."""
    stub = os.path.join(build, "common", "romstub.bin")
    if hypervisor:
        kernel = os.path.join(build, "chapters", "07-nimbos", "ch07.elf")
        mods = [(os.path.join(build, "guests", "tinyos", "tinyos.bin"), "guest")]
    else:
        kernel, mods = os.path.join(build, "guests", "tinyos", "tinyos.elf"), []
    res = run(kernel, stub, ips, cmdline=("nonce=0 " + cmdline).strip(), modules=mods,
              script=bench_guest.SCRIPT, until=r"power off")
    stats, sleep = bench_guest.STATS_RE.search(res.serial), bench_guest.SLEEP_RE.search(res.serial)
    start = GUEST_START_RE.search(res.serial)
    if not stats or not sleep:
        raise RuntimeError("no stats or sleep line: %s" % res.serial[-300:])
    return {"wall": res.step_seconds[0], "connected": res.step_seconds[0] - res.connect_seconds,
            "instr": int(stats.group(1)),
            "guest_start": int(start.group(1)) if start else 0,
            "worst": int(sleep.group(1)), "avg": int(sleep.group(2))}


def console(build, ips, hypervisor):
    """Ticks per byte of the print probe, and the wall time of its 32 KiB."""
    stub = os.path.join(build, "common", "romstub.bin")
    probe = os.path.join(build, "guests", "probe", "probe-print")
    if hypervisor:
        res = run(os.path.join(build, "chapters", "07-nimbos", "ch07.elf"), stub, ips,
                  cmdline="nonce=0", modules=[(probe + ".bin", "guest")], until="probe: done")
    else:
        res = run(probe + ".elf", stub, ips, cmdline="nonce=0", until="probe: done")
    m = PRINT_RE.search(res.serial)
    if not m:
        raise RuntimeError("no timing line: %s" % res.serial[-300:])
    return int(m.group(1), 16) / 32768.0


def nimbos(build, ips, image):
    """NimbOS to its prompt, then through usertests typed by the hypervisor's own script
    (no socket: an emulator whose serial output waits on a busy client would be measured)."""
    stub = os.path.join(build, "common", "romstub.bin")
    kernel = os.path.join(build, "chapters", "07-nimbos", "ch07.elf")
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "chapters", "07-nimbos", "scripts", "nimbos-usertests.txt")
    prompt = run(kernel, stub, ips, cmdline="nonce=0", modules=[(image, "guest")], until=r">> ")
    res = run(kernel, stub, ips, cmdline="nonce=0", modules=[(image, "guest"), (script, "input")],
              timeout=600)
    cyc = CYCLIC_RE.findall(res.serial)
    return {"prompt": prompt.wall_seconds, "total": res.wall_seconds, "ended": res.describe(),
            "passed": "usertests passed!" in res.serial,
            "cyclic": tuple(int(x) for x in cyc[-1]) if cyc else None}


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ips", type=int, default=runner.DEFAULT_IPS)
    ap.add_argument("--nimbos-ips", type=int, default=20_000_000,
                    help="ips for NimbOS (default 20,000,000: docs/07-nimbos.md, 'Time in an emulator')")
    ap.add_argument("--nimbos", default=os.environ.get("HVT_NIMBOS_IMAGE", ""),
                    help="a NimbOS image (default: $HVT_NIMBOS_IMAGE)")
    args = ap.parse_args(argv)
    if not os.path.exists(os.path.join(args.build, "chapters", "07-nimbos", "ch07.elf")):
        print("bench_hypervisor: build first (ninja -C %s)" % args.build, file=sys.stderr)
        return 1
    us = 1e6 / args.ips
    print("Bochs %s, ips %d (1 instruction = %.2f us of guest time), median of %d runs"
          % (MODEL, args.ips, us, args.runs))
    print("\n1. tinyos to its prompt, and 3. its sleep test (200 x 1 ms)")
    print("%-20s %7s %7s %9s %7s %12s %12s %9s %9s %7s" % ("", "wall s", "ratio", "running s",
          "ratio", "instructions", "(start-up)", "(guest)", "worst us", "avg us"))
    bare = [tinyos(args.build, args.ips, False) for _ in range(args.runs)]
    rows = [("bare", bare)]
    for name, cmd in (("hypervisor, x2APIC", ""), ("hypervisor, xAPIC", "x2apic=0")):
        rows.append((name, [tinyos(args.build, args.ips, True, cmd) for _ in range(args.runs)]))
    for name, r in rows:
        gs = median(r, "guest_start")
        print("%-20s %7.3f %6.2fx %9.3f %6.2fx %12d %12s %9d %9d %7d" % (
            name, median(r, "wall"), median(r, "wall") / median(bare, "wall"), median(r, "connected"),
            median(r, "connected") / median(bare, "connected"), median(r, "instr"),
            "%d" % gs if gs else "-", median(r, "instr") - gs, median(r, "worst"), median(r, "avg")))
    print("\n2. console output: 32 KiB through COM1's polled LSR and THR")
    for name, hv in (("bare", False), ("hypervisor", True)):
        t = statistics.median(console(args.build, args.ips, hv) for _ in range(args.runs))
        print("%-22s %7.0f instructions per byte = %6.0f bytes per second of guest time" % (
            name, t, args.ips / t))
    if args.nimbos:
        print("\n4. NimbOS under the hypervisor (x2APIC), ips %d" % args.nimbos_ips)
        n = nimbos(args.build, args.nimbos_ips, args.nimbos)
        print("prompt after %.2f s wall; usertests %s, the run %s after %.1f s wall"
              % (n["prompt"], "passed" if n["passed"] else "DID NOT PASS", n["ended"], n["total"]))
        if n["cyclic"]:
            c = n["cyclic"]
            print("cyclictest: %d loops of 1 ms, latency min %d us, avg %d us, max %d us" % c)
    return 0


if __name__ == "__main__":
    sys.exit(main())
