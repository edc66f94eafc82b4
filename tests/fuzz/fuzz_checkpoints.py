#!/usr/bin/env python3
# fuzz_checkpoints.py: a seeded, bounded mutational fuzzer for the grader's serial-log parser and
# judge (tools/checkpoints.py): a guest writes to the same console, so any bytes may arrive there.
"""Mutate serial logs and check what tools/checkpoints.py makes of them.

The console a kernel prints its checkpoint lines on is also where its guests print: under
chapter 07 a guest's COM1 bytes go straight to it. So parse_log() and judge() meet any
bytes. Invariants, checked on every mutated log:

  1. nothing raises, whatever the text (parse_log, judge, score);
  2. a wrong nonce never scores: with every nonce in the log replaced, no "@ckpt"
     checkpoint passes and the run does not boot;
  3. lines a guest adds cannot change a verdict: whole lines of garbage (without the
     run's nonce) inserted anywhere leave every "@ckpt" verdict and the boot verdict as
     they were;
  4. the boot verdict passes only if a complete "@end" line with the run's nonce and the
     expected status is there;
  5. judging is deterministic, and the score never exceeds what is possible.

Reproducible: the same --seed gives the same logs. A finding prints the seed, the
iteration and the log (repr), and the exit status is 1.
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import checkpoints  # noqa: E402
from runner import RunResult  # noqa: E402

CHAPTER = """
[chapter]
id = "98"
title = "fuzzed"
kernel = "ch98"
requires = ["vmx"]
[[run]]
name = "a"
cpu = "fuzzcpu"
[[checkpoint]]
id = "basic"
points = 3
expect = ["revision == msr('IA32_VMX_BASIC') & 0x7fffffff", "size == 4096"]
[[checkpoint]]
id = "guest-exit"
points = 2
expect = ["stop == 'guest' and status == 0", "seed == int(nonce[:8], 16) ^ 0x5a5a5a5a"]
[[checkpoint]]
id = "many"
points = 1
expect = ["a + b == c", "name == 'tinyos'"]
[[checkpoint]]
id = "console"
points = 1
source = "console"
expect = ["search(r'^usertests passed!$')", "count(r'^Test \\\\w+ ok$') == 2"]
"""
FACTS = {"name": "fuzzcpu", "vendor": "GenuineIntel", "vmx": True,
         "msr": {"IA32_VMX_BASIC": 0x00d810000000002b}}
CKPT_IDS = ("basic", "guest-exit", "many")


def good_log(nonce):
    seed = int(nonce[:8], 16) ^ 0x5a5a5a5a
    return ("boot banner\n"
            "@ckpt basic nonce=%s revision=0x2b size=4096\n"
            "guest says hello\nTest one ok\nTest two ok\nusertests passed!\n"
            "@ckpt guest-exit nonce=%s stop=guest status=0 seed=%d\n"
            "@ckpt many nonce=%s a=1 b=2 c=3 name=tinyos\n"
            "@end nonce=%s status=0 tsc=123\n") % (nonce, nonce, seed, nonce, nonce)


GARBAGE_PIECES = ["@ckpt", "@end", "@skip", "@todo", " nonce=", "nonce=", "status=0", "=", " ",
                  "\t", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\ufffd", "\x1b[0m",
                  "revision=0x2b", "size=4096", "a=1", "c=3", "cpu=1", "msr=2", "lo=3", "stop=guest",
                  "basic", "guest-exit", "many", "usertests passed!", "Test x ok", "0x", "-1",
                  "99999999999999999999999999", "é", "\\", "'", '"', "{", "}", "(", ")"]


def random_text(rng, nonce, n):
    """Guest-like bytes: pieces of the protocol, controls, unicode; never the run's nonce."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            out.append(rng.choice(GARBAGE_PIECES))
        elif r < 0.8:
            out.append(chr(rng.randrange(32, 127)))
        else:
            out.append(chr(rng.randrange(0, 0x3000)))
    text = "".join(out)
    return text.replace(nonce, nonce[:-1] + ("0" if nonce[-1] != "0" else "1"))


def new_nonce(rng):
    kind = rng.random()
    if kind < 0.05:
        return "0" * 16                      # digits only: must stay a string, not become 0
    if kind < 0.1:
        return "".join(rng.choice("0123456789") for _ in range(16))
    return "%016x" % rng.getrandbits(64)


def mutate_bytes(rng, text, nonce):
    """One random edit anywhere (may cut lines, fields, nonces)."""
    if not text:
        return random_text(rng, nonce, 4)
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(6)
    if op == 0:
        return text[:i] + random_text(rng, nonce, rng.randrange(1, 6)) + text[i:]
    if op == 1:
        return text[:i] + text[i + rng.randrange(1, 20):]
    if op == 2 and i < len(text):
        return text[:i] + chr(rng.randrange(0, 0x250)) + text[i + 1:]
    if op == 3:
        j = rng.randrange(len(text) + 1)
        return text[:i] + text[min(i, j):max(i, j)] + text[i:]
    if op == 4:
        return text[:i]                      # a run cut short
    lines = text.split("\n")
    rng.shuffle(lines)
    return "\n".join(lines)


def insert_lines(rng, text, nonce):
    """Whole lines of garbage between lines, as a guest printing on the console adds them."""
    lines = text.split("\n")
    for _ in range(rng.randrange(1, 5)):
        garbage = random_text(rng, nonce, rng.randrange(0, 30)).replace("\n", " ").replace("\r", " ")
        lines.insert(rng.randrange(len(lines) + 1), garbage)
    return "\n".join(lines)


def replace_nonce(text, nonce, other):
    return text.replace(nonce, other)


def verdicts(chapter, run, nonce, text):
    results = checkpoints.judge(chapter, run, FACTS, nonce, RunResult("finished", text))
    return {r.id: r.status for r in results}, results


class Finding(Exception):
    pass


def require(cond, what):
    if not cond:
        raise Finding(what)


def complete_end_line(text, nonce, status):
    for raw in text.splitlines():
        fields = raw.strip().split()
        if fields[:1] == ["@end"] and "nonce=" + nonce in fields[1:] and "status=%d" % status in fields[1:]:
            return True
    return False


def one(rng, chapter, run):
    nonce = new_nonce(rng)
    base = good_log(nonce)
    base_v, _ = verdicts(chapter, run, nonce, base)
    require(all(s == "pass" for s in base_v.values()), "the unmutated log does not pass: %s" % base_v)
    # 1, 4, 5: random edits
    text = base
    for _ in range(rng.randrange(1, 8)):
        text = mutate_bytes(rng, text, nonce)
    v, results = verdicts(chapter, run, nonce, text)
    require(v == verdicts(chapter, run, nonce, text)[0], "judging twice differs")
    earned, possible, _ = checkpoints.score([results])
    require(0 <= earned <= possible, "score %d of %d" % (earned, possible))
    if v["boot"] == "pass":
        require(complete_end_line(text, nonce, 0), "boot passes without a complete @end line")
    checkpoints.parse_log(text)
    # 2: the same log with another nonce scores nothing
    other = new_nonce(rng)
    if other != nonce:
        wrong = replace_nonce(text, nonce, other)
        wv, _ = verdicts(chapter, run, nonce, wrong)
        require(wv["boot"] != "pass", "boot passes with a wrong nonce")
        for cid in CKPT_IDS:
            require(wv[cid] != "pass", "%s passes with a wrong nonce" % cid)
    # 3: garbage lines leave the verdicts of the unmutated log as they were
    noisy = insert_lines(rng, base, nonce)
    nv, _ = verdicts(chapter, run, nonce, noisy)
    for cid in ("boot",) + CKPT_IDS:
        require(nv[cid] == base_v[cid], "garbage lines changed %s: %s -> %s" % (cid, base_v[cid], nv[cid]))
    return text, noisy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "checkpoints.toml"), "w") as f:
            f.write(CHAPTER)
        chapter = checkpoints.load_chapter(d)
    run = chapter.runs[0]
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    findings = 0
    for i in range(args.iterations):
        state = rng.getstate()
        try:
            one(rng, chapter, run)
        except Finding as e:
            findings += 1
            rng2 = random.Random()
            rng2.setstate(state)
            print("FINDING at seed %d iteration %d: %s" % (args.seed, i, e))
            if findings >= 5:
                break
        except Exception as e:  # an exception from the code under test is a finding too
            findings += 1
            print("FINDING at seed %d iteration %d: %s: %s" % (args.seed, i, type(e).__name__, e))
            if findings >= 5:
                break
    elapsed = time.monotonic() - t0
    print("fuzz checkpoints: %d iterations (each: a mutated log, a wrong-nonce copy, a noisy copy) "
          "in %.1f s, seed %d, findings %d" % (i + 1, elapsed, args.seed, findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
