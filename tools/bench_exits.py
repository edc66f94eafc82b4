#!/usr/bin/env python3
# bench_exits.py: prints what a VM exit costs: chapter 05's guest times round trips through the
# hypervisor (CPUID, VMCALL, IN) in TSC ticks; in Bochs with clock sync=none, instructions.
"""Benchmark the exit path of chapter 05.

    tools/bench_exits.py [--build build] [--runs 2] [MODEL ...]

Boots build/chapters/05-exits/ch05.elf with "bench=1": after its tests the kernel runs the
exittest guest in its benchmark mode, which executes 2000 CPUIDs (leaf 0), 2000 VMCALLs
(a hypercall that does nothing) and 2000 INs from COM1's line-status register, timing each
loop with RDTSC, and subtracts the cost of an empty loop. With Bochs' `clock: sync=none`
the TSC advances one tick per instruction, so the figures are the instructions the guest
and the hypervisor execute per exit and are the same on every run ("deterministic" below).
"""
import argparse
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

BENCH_RE = re.compile(r"^@ckpt bench nonce=\S+ iterations=(\d+) cpuid=(\d+) vmcall=(\d+) io=(\d+) loop=(\d+)", re.M)
DEFAULT_MODELS = ["corei7_haswell_4770", "corei5_lynnfield_750", "core2_penryn_t9600"]


def measure(kernel, stub, model):
    res = runner.run_kernel(kernel, stub, model=model, cmdline="nonce=%s bench=1" % runner.new_nonce(),
                            timeout=120)
    shutil.rmtree(res.workdir, ignore_errors=True)
    m = BENCH_RE.search(res.serial)
    if not m:
        raise RuntimeError("%s: no benchmark line (%s)" % (model, res.describe()))
    return tuple(int(x) for x in m.groups())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="Bochs CPU models (default: %s)" % ", ".join(DEFAULT_MODELS))
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=2, help="runs per model, to show they agree")
    args = ap.parse_args(argv)
    kernel = os.path.join(args.build, "chapters", "05-exits", "ch05.elf")
    stub = os.path.join(args.build, "common", "romstub.bin")
    if not os.path.exists(kernel) or not os.path.exists(stub):
        print("bench_exits: %s not built (run: ninja -C %s)" % (kernel, args.build), file=sys.stderr)
        return 1
    print("TSC ticks per exit round trip, guest loop overhead subtracted (Bochs: instructions)")
    print("%-22s %7s %7s %9s %6s  %s" % ("model", "CPUID", "VMCALL", "IN 0x3fd", "loop", "runs"))
    for model in args.models or DEFAULT_MODELS:
        try:
            results = [measure(kernel, stub, model) for _ in range(max(1, args.runs))]
        except (RuntimeError, runner.EmulatorMissing) as e:
            print("bench_exits: %s" % e, file=sys.stderr)
            return 1
        n, cpuid, vmcall, io, loop = results[0]
        same = all(r == results[0] for r in results)
        print("%-22s %7d %7d %9d %6d  %d x %d iterations, %s" % (
            model, cpuid, vmcall, io, loop, len(results), n,
            "deterministic" if same else "VARY: %s" % sorted(set(results))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
