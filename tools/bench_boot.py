#!/usr/bin/env python3
# bench_boot.py: prints, per chapter kernel, the wall time of a Bochs boot to power-off
# (median of N runs) and the emulated instruction count, which is exact with clock sync=none.
"""Benchmark chapter boots in Bochs.

    tools/bench_boot.py [--build build] [--runs 5] [--model corei7_haswell_4770] [ch01 ch02 ...]

Wall time depends on the machine and its load; the instruction count does not
(Bochs with `clock: sync=none` counts one TSC tick per instruction), so compare
instruction counts between versions and wall times only on one quiet machine.
"""
import argparse
import glob
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kernels", nargs="*", help="chapter kernels to run, e.g. ch01 (default: all built)")
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", default=runner.DEFAULT_MODEL)
    args = ap.parse_args(argv)
    stub = os.path.join(args.build, "common", "romstub.bin")
    found = sorted(glob.glob(os.path.join(args.build, "chapters", "*", "ch*.elf")))
    chosen = [k for k in found if not args.kernels or os.path.basename(k)[:-4] in args.kernels]
    if not chosen or not os.path.exists(stub):
        print("bench_boot: no built kernels under %s (run: ninja -C %s)" % (args.build, args.build),
              file=sys.stderr)
        return 1
    print("%-6s %-22s %10s %10s %14s  %s" % ("kernel", "model", "median s", "min s",
                                             "instructions", "outcome"))
    for kernel in chosen:
        walls, counts, outcome = [], set(), ""
        for _ in range(args.runs):
            res = runner.run_kernel(kernel, stub, model=args.model, cmdline="nonce=bench",
                                    timeout=120)
            shutil.rmtree(res.workdir, ignore_errors=True)
            walls.append(res.wall_seconds)
            counts.add(res.tsc_at_end)
            outcome = res.describe()
        count = counts.pop() if len(counts) == 1 else "varies: %s" % sorted(counts)
        print("%-6s %-22s %10.3f %10.3f %14s  %s" % (os.path.basename(kernel)[:-4], args.model,
              statistics.median(walls), min(walls), count, outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
