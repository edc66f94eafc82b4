#!/usr/bin/env python3
# run_fuzz.py: runs one libFuzzer target for a bounded number of executions (suite "fuzz") or a
# longer campaign (ninja fuzz-campaign), and prints what it did: executions, coverage, findings.
"""Run a libFuzzer binary over the repository's corpus and summarize.

The repository corpus (tests/fuzz/corpus/NAME) is read, never written: new inputs go to a
work folder in the build tree, crash inputs next to it. Exit status 0 means no finding.
A finding prints the command that reproduces it (the fuzzer binary with the saved input).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

STATS_RE = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
DONE_RE = re.compile(r"^Done (\d+) runs in (\d+) second")
ARTIFACT_RE = re.compile(r"Test unit written to (\S+)")


def summarize(name, output, seconds):
    """(executions, coverage, corpus size, artifacts, first error line) from libFuzzer's log."""
    execs, cov, corp = 0, 0, 0
    for line in output.splitlines():
        m = STATS_RE.match(line)
        if m:
            execs, cov, corp = int(m.group(1)), int(m.group(3)), int(m.group(5))
        m = DONE_RE.match(line)
        if m:
            execs = int(m.group(1))
    artifacts = ARTIFACT_RE.findall(output)
    error = next((line for line in output.splitlines()
                  if "ERROR:" in line or "invariant violated" in line or "runtime error:" in line
                  or "panic in" in line), "")
    return execs, cov, corp, artifacts, error


def run(binary, name, corpus, work, runs, seconds, seed, max_len, fresh=False):
    if fresh:
        shutil.rmtree(work, ignore_errors=True)     # the same inputs every time: reproducible
    os.makedirs(work, exist_ok=True)
    crashes = os.path.join(os.path.dirname(work), name + "-findings") + os.sep
    os.makedirs(crashes, exist_ok=True)
    argv = [binary, work] + ([corpus] if os.path.isdir(corpus) else []) + [
        "-seed=%d" % seed, "-max_len=%d" % max_len, "-max_total_time=%d" % seconds,
        "-timeout=10", "-rss_limit_mb=2048", "-artifact_prefix=" + crashes, "-print_final_stats=1"]
    if runs:
        argv.append("-runs=%d" % runs)
    t0 = time.monotonic()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    elapsed = time.monotonic() - t0
    execs, cov, corp, artifacts, error = summarize(name, proc.stdout, elapsed)
    found = proc.returncode != 0 or artifacts
    print("fuzz %s: %d executions in %.1f s (%d/s), seed %d, coverage %d, corpus %d inputs, "
          "findings %d" % (name, execs, elapsed, execs / elapsed if elapsed else 0, seed, cov,
                           corp, len(artifacts) if artifacts else int(bool(found))))
    if found:
        print(proc.stdout[-6000:], file=sys.stderr)
        print("FINDING in %s: %s" % (name, error or "exit status %d" % proc.returncode))
        for a in artifacts:
            print("  reproduce: %s %s" % (binary, a))
    return 1 if found else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("targets", nargs="+", metavar="NAME=BINARY[:MAX_LEN]")
    ap.add_argument("--corpus", required=True, help="the repository's corpus folder (one per target)")
    ap.add_argument("--work", required=True, help="build folder for new inputs and findings")
    ap.add_argument("--runs", type=int, default=0, help="executions per target (0: until --seconds)")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")),
                    help="time bound per target (default: $FUZZ_SECONDS or 60)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=4096)
    ap.add_argument("--fresh", action="store_true",
                    help="start from the repository corpus alone (CI: the same run every time)")
    ap.add_argument("--merge", action="store_true",
                    help="after fuzzing, merge new coverage into the repository corpus")
    args = ap.parse_args(argv)
    status = 0
    for spec in args.targets:
        name, _, binary = spec.partition("=")
        binary, _, max_len = binary.partition(":")
        max_len = int(max_len) if max_len else args.max_len
        corpus = os.path.join(args.corpus, name)
        work = os.path.join(args.work, name)
        status |= run(binary, name, corpus, work, args.runs, args.seconds, args.seed, max_len,
                      args.fresh)
        if args.merge and status == 0:
            os.makedirs(corpus, exist_ok=True)
            subprocess.run([binary, "-merge=1", "-max_len=%d" % max_len, corpus, work],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            print("  merged into %s: %d inputs" % (corpus, len(os.listdir(corpus))))
    return status


if __name__ == "__main__":
    sys.exit(main())
