#!/usr/bin/env python3
# bench_guest.py: prints the project's guest OS figures when booted bare in Bochs: time to its
# shell prompt (wall and emulated instructions) and its sleep-precision test (lateness in us).
"""Benchmark tinyos booted directly in Bochs (no hypervisor).

    tools/bench_guest.py [--build build] [--runs 3] [--ips 5000000] [--model M ...]

Each run boots the guest, types `stats` at the `>> ` prompt (boot-to-prompt TSC,
which equals emulated instructions with Bochs' clock sync=none), then `sleep`
(200 sleeps of 1 ms measured with the TSC), then `exit`. Wall times start when
Bochs is launched; "after connect" leaves out Bochs' own start-up (Bochs runs
the guest only once the runner's console is connected). Chapter 07 compares
the same figures under its hypervisor at the same ips: measure_guest() is the
reusable part.
"""
import argparse
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

PROMPT = ">> "
SCRIPT = [(PROMPT, "stats\r"), (PROMPT, "sleep\r"), (PROMPT, "exit\r")]
UNTIL = r"^\[tinyos\] power off"
STATS_RE = re.compile(r"^stats: boot_to_prompt_tsc=(\d+) boot_to_prompt_us=(\d+)", re.M)
SLEEP_RE = re.compile(r"^sleep-precision: .*worst_late_us=(\d+) avg_late_us=(\d+) early=(\d+)", re.M)


def measure_guest(kernel, stub, model=runner.DEFAULT_MODEL, ips=runner.DEFAULT_IPS, **run_args):
    """Boot once; return a dict of figures, or raise RuntimeError with the reason."""
    res = runner.run_kernel(kernel, stub, model=model, ips=ips, script=SCRIPT, until=UNTIL,
                            timeout=120, **run_args)
    shutil.rmtree(res.workdir, ignore_errors=True)
    stats, sleep = STATS_RE.search(res.serial), SLEEP_RE.search(res.serial)
    if res.outcome not in ("matched", "finished") or not stats or not sleep:
        raise RuntimeError("%s; last output: %s" % (res.describe(), res.serial[-300:]))
    return {
        "prompt_wall": res.step_seconds[0],
        "prompt_after_connect": res.step_seconds[0] - res.connect_seconds,
        "prompt_tsc": int(stats.group(1)), "prompt_guest_us": int(stats.group(2)),
        "sleep_worst_us": int(sleep.group(1)), "sleep_avg_us": int(sleep.group(2)),
        "sleep_early": int(sleep.group(3)), "total_wall": res.wall_seconds,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--kernel", help="default: BUILD/guests/tinyos/tinyos.elf")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ips", type=int, default=runner.DEFAULT_IPS)
    ap.add_argument("--model", action="append",
                    help="Bochs CPU model (repeatable; default: haswell (x2APIC) and sandy bridge (xAPIC))")
    args = ap.parse_args(argv)
    kernel = args.kernel or os.path.join(args.build, "guests", "tinyos", "tinyos.elf")
    stub = os.path.join(args.build, "common", "romstub.bin")
    if not os.path.exists(kernel) or not os.path.exists(stub):
        print("bench_guest: %s or %s not built (run: ninja -C %s)" % (kernel, stub, args.build),
              file=sys.stderr)
        return 1
    models = args.model or ["corei7_haswell_4770", "corei7_sandy_bridge_2600k"]
    print("tinyos bare in Bochs, ips=%d, median of %d runs (wall times depend on the machine)"
          % (args.ips, args.runs))
    print("%-26s %11s %13s %14s %10s %14s %13s" % ("model", "prompt s", "after connect",
          "prompt instr", "guest us", "sleep worst us", "sleep avg us"))
    for model in models:
        try:
            runs = [measure_guest(kernel, stub, model, args.ips) for _ in range(args.runs)]
        except RuntimeError as e:
            print("%-26s failed: %s" % (model, e))
            continue

        def med(key):
            return statistics.median(r[key] for r in runs)
        print("%-26s %11.3f %13.3f %14d %10d %14d %13d" % (
            model, med("prompt_wall"), med("prompt_after_connect"), med("prompt_tsc"),
            med("prompt_guest_us"), med("sleep_worst_us"), med("sleep_avg_us")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
