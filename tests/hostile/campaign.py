#!/usr/bin/env python3
# campaign.py: many seeds of the randomized hostile guest (ninja -C build hostile-campaign): boots
# the hostile test kernel in Bochs in batches, judges every seed as suite hostile does, names failures.
"""Run the randomized hostile guest over a range of seeds.

    tests/hostile/campaign.py --kernel build/tests/hostile/hostile.elf --stub build/common/romstub.bin
        --guest build/guests/hostile/hostile.bin [--seeds 1-200] [--batch 40] [--model M]

Each batch is one Bochs boot running one fresh VM per seed; each seed's "random" and
"integrity" lines are judged with the expectations of tests/hostile/checkpoints.toml. A
failing seed is printed with the command that reproduces it alone (seeds=N). Exit status 1
if any seed failed or a boot did not end cleanly.
"""
import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import checkpoints  # noqa: E402
import runner  # noqa: E402

STEPS = 300


def seed_key(value):
    """A seed as an int, whatever parse_value made of it ("12" -> 12, "012" stays text there)."""
    try:
        return int(str(value), 10)
    except ValueError:
        return value


def judge_batch(chapter, facts, nonce, serial):
    """{seed: [problems]} for every seed that printed lines, from the run's own lines."""
    cps = {c.id: c for c in chapter.checkpoints}
    seeds = {}
    for kind, line_nonce, ident, fields, raw in checkpoints.parse_log(serial):
        if kind != "ckpt" or line_nonce != nonce or ident not in ("random", "integrity"):
            continue
        if ident == "integrity" and fields.get("case") != "random":
            continue
        seed = seed_key(fields.get("seed"))
        problem = checkpoints.check_line(cps[ident], fields, facts, nonce)
        seeds.setdefault(seed, [])
        if problem:
            seeds[seed].append("%s: %s" % (ident, problem))
    return seeds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--stub", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--seeds", default=os.environ.get("HOSTILE_SEEDS", "1-200"))
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--model", default="corei7_haswell_4770")
    args = ap.parse_args(argv)
    for name in ("kernel", "stub", "guest"):   # ninja passes paths relative to the build tree
        setattr(args, name, os.path.abspath(getattr(args, name)))
    first, _, last = args.seeds.partition("-")
    first, last = int(first), int(last or first)
    chapter = checkpoints.load_chapter(HERE)
    facts = checkpoints.load_cpu(args.model)
    failed, judged, t0 = {}, 0, time.monotonic()
    for lo in range(first, last + 1, args.batch):
        hi = min(lo + args.batch - 1, last)
        nonce = runner.new_nonce()
        cmdline = "nonce=%s cases=random seeds=%d-%d steps=%d budget_ms=5000 tsc_khz=5000" % (
            nonce, lo, hi, STEPS)
        res = runner.run_kernel(args.kernel, args.stub, model=args.model, cmdline=cmdline,
                                modules=[(args.guest, "guest")], timeout=60 + 3 * (hi - lo + 1))
        seeds = judge_batch(chapter, facts, nonce, res.serial)
        shutil.rmtree(res.workdir, ignore_errors=True)
        for s in range(lo, hi + 1):
            problems = seeds.get(s, ["no line for this seed (%s)" % res.describe()])
            judged += 1
            if problems:
                failed[s] = problems
        print("seeds %d-%d: %s, %d failed" % (lo, hi, res.describe(),
                                             sum(1 for s in range(lo, hi + 1) if s in failed)))
    print("hostile campaign: %d seeds (%d steps each) on %s in %.0f s: %d failed" % (
        judged, STEPS, args.model, time.monotonic() - t0, len(failed)))
    for s, problems in sorted(failed.items()):
        print("FAILED seed %d: %s" % (s, "; ".join(problems)))
        print("  reproduce: tools/runner.py --model %s --stub %s --module %s=guest --cmdline "
              "'cases=random seeds=%d steps=%d budget_ms=5000 tsc_khz=5000' %s"
              % (args.model, args.stub, args.guest, s, STEPS, args.kernel))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
