#!/usr/bin/env python3
# handout_check.py: CI's proof that the exercises are graded: the reference scores full marks,
# the handout builds, boots without hanging and scores zero on the removed work, and removing
# any single exercise region fails at least one checkpoint.
"""Check the reference, the handout and every exercise region against the checkpoints.

    grading/handout_check.py --jobs 2                 every chapter and exercise
    grading/handout_check.py --exercises 02 --jobs 2  chapter 02's regions only

1. The reference tree scores full marks on every chosen chapter.
2. The handout (every chosen region removed) builds, every run ends (no hang), each
   checkpoint that depends on a removed region of its chapter scores 0, and no document
   in it quotes a line of removed code.
3. Per region: a handout with just that region removed fails at least one checkpoint
   of the region's chapter (else the region is badly checked), and fails every
   checkpoint that names the region in `exercises = [...]` (else that checkpoint is bad).
   The checkpoints that fail are the ones that "depend" on the region in step 2.
Exit status 0 when all holds, 1 with a list of problems otherwise.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grade  # noqa: E402
import handout  # noqa: E402
import report  # noqa: E402
import submission  # noqa: E402


def failing(chapter_report):
    return {c.id for c in chapter_report.checkpoints if c.status == "fail"}


def find(sub_report, chapter_id):
    return next((c for c in sub_report.chapters if c.id == chapter_id), None)


def check(chapters, regions, reports, problems, say):
    """Judge the graded reference, handout and per-region mutants; append problems."""
    ref, full = reports["reference"], reports["handout"]
    for sub in (ref, full):
        if sub.error:
            problems.append("%s: %s" % (sub.name, sub.error.strip()))
    for ch in chapters:
        c = find(ref, ch.id)
        if c is None or c.build != "ok" or c.earned != c.possible:
            problems.append("reference: chapter %s scores %s, not full marks%s" % (
                ch.id, "nothing" if c is None else "%d/%d" % (c.earned, c.possible),
                "" if c is None or c.build == "ok" else " (build failed: %s)" % c.build_message))
    declared = {}
    for ch in chapters:
        for cp in ch.checkpoints:
            for ex in cp.exercises:
                declared.setdefault(ex, []).append((ch.id, cp.id))
    known = {r.id for r in handout.scan()}
    for ex, cps in declared.items():
        if ex not in known:
            problems.append("checkpoint %s names exercise %s, which has no region" % (
                ", ".join("%s/%s" % c for c in cps), ex))

    owned = set(submission.grader_files())
    for r in regions:
        if r.path in owned:
            problems.append("exercise %s (%s) is in a file the grader replaces with its own "
                            "(grading/submission.py OVERLAY_*): students' work there is never graded"
                            % (r.id, r.where()))
    depends = {}                                   # chapter id -> {checkpoint: [regions]}
    for r in regions:
        mutant = reports.get("only-" + r.id)
        c = find(mutant, r.chapter) if mutant else None
        if c is None or c.build != "ok":
            problems.append("exercise %s (%s): the tree without it does not build: %s" % (
                r.id, r.where(), c.build_message if c else "not graded"))
            continue
        hung = [x.name for x in c.runs if x.outcome == "timeout"]
        if hung:
            problems.append("exercise %s: without it, runs %s hang" % (r.id, ", ".join(hung)))
        fails = failing(c)
        for chap_id, cp in declared.get(r.id, []):
            if chap_id == r.chapter and cp not in fails:
                problems.append("checkpoint %s/%s names exercise %s but still passes without it: "
                                "a bad checkpoint" % (chap_id, cp, r.id))
        if not fails:
            problems.append("exercise %s (%s) is badly checked: removing it fails no checkpoint "
                            "of chapter %s" % (r.id, r.where(), r.chapter))
        for cp in fails | {cp for chap_id, cp in declared.get(r.id, []) if chap_id == r.chapter}:
            depends.setdefault(r.chapter, {}).setdefault(cp, []).append(r.id)
        say("exercise %-5s removed: %d checkpoint(s) of chapter %s fail: %s" % (
            r.id, len(fails), r.chapter, " ".join(sorted(fails)) or "NONE"))

    for ch in chapters:
        c = find(full, ch.id)
        if c is None or c.build != "ok":
            problems.append("handout: chapter %s does not build: %s" % (ch.id, c.build_message if c else "-"))
            continue
        hung = [x.name for x in c.runs if x.outcome == "timeout"]
        if hung:
            problems.append("handout: chapter %s hangs in runs %s" % (ch.id, ", ".join(hung)))
        for cp in c.checkpoints:
            regions_of = depends.get(ch.id, {}).get(cp.id)
            if regions_of and cp.earned:
                problems.append("handout: checkpoint %s/%s depends on removed exercise %s but scores "
                                "%d/%d" % (ch.id, cp.id, ", ".join(regions_of), cp.earned, cp.points))
        say("handout chapter %s: builds, %d runs end, scores %d/%d" % (
            ch.id, len(c.runs), c.earned, c.possible))


def leaks(regions, tree, source=grade.REPO, min_len=30):
    """Problems: a removed region's code (a line of at least min_len characters) is quoted in
    a document of the handout (source files are skipped: code legitimately repeats there)."""
    wanted = {}
    for r in regions:
        with open(os.path.join(source, r.path), encoding="utf-8") as f:
            code = f.read().split("\n")[r.code:r.end]
        for line in (l.strip() for l in code):
            if len(line) >= min_len:
                wanted.setdefault(line, r.id)
    found = []
    for rel in handout.tree_files(tree):
        if handout.comment_leader(rel)[0] is not None:
            continue
        try:
            with open(os.path.join(tree, rel), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        for line, rid in wanted.items():
            if line in text:
                found.append("handout: %s shows exercise %s's solution: %s" % (rel, rid, line[:80]))
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[2:]))
    ap.add_argument("--exercises", default="all", help="chapters (NN) or exercises (NN-k) to check")
    ap.add_argument("--jobs", "-j", type=int, default=1)
    ap.add_argument("--timeout-multiplier", type=float,
                    default=float(os.environ.get("HVT_TIMEOUT_MULTIPLIER", "1")))
    ap.add_argument("--out", help="keep logs and trees here (default: a temporary folder)")
    ap.add_argument("--json", metavar="FILE", help="write every grading result as JSON")
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args(argv)
    say = (lambda t: None) if args.quiet else (lambda t: print("handout-check: " + t, flush=True))
    try:
        pick = handout.selector(args.exercises)
        regions = [r for r in handout.scan() if pick(r)]
    except handout.MarkerError as e:
        print("handout-check: %s" % e, file=sys.stderr)
        return 1
    known = grade.discover()
    chapters = [known[c] for c in sorted({r.chapter for r in regions}) if c in known]
    if not regions or not chapters:
        print("handout-check: no exercise region matches %s" % args.exercises, file=sys.stderr)
        return 1
    work = args.out or tempfile.mkdtemp(prefix="hvt-handout-check-")
    os.makedirs(work, exist_ok=True)
    try:
        trees = {"handout": os.path.join(work, "trees", "handout")}
        shutil.rmtree(os.path.join(work, "trees"), ignore_errors=True)
        handout.make_handout(trees["handout"], ",".join(r.id for r in regions))
        for r in regions:
            trees["only-" + r.id] = os.path.join(work, "trees", "only-" + r.id)
            handout.make_handout(trees["only-" + r.id], r.id, listing=False)
        subs = [submission.Submission(grade.REPO, "reference", grade.REPO)]
        subs += [submission.Submission(path, name, path) for name, path in trees.items()]
        plan = {"only-" + r.id: [known[r.chapter]] for r in regions if r.chapter in known}
        opts = grade.Options(emu="bochs", jobs=args.jobs, multiplier=args.timeout_multiplier,
                             out=os.path.join(work, "logs"), progress=None if args.quiet else
                             (lambda t: None))
        say("grading the reference, the handout and %d trees with one region removed each "
            "(chapters %s, %d jobs)" % (len(regions), ",".join(c.id for c in chapters), args.jobs))
        reports = {r.name: r for r in grade.Grader(chapters, opts, threading.Event()).grade(subs, plan)}
        if args.json:
            with open(args.json, "w") as f:
                f.write(report.to_json(list(reports.values())))
        problems = leaks(regions, trees["handout"])
        check(chapters, regions, reports, problems, say)
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("handout-check: %d problem(s):" % len(problems))
        for p in problems:
            print("  - " + p)
        return 1
    print("handout-check: ok: the reference scores full marks, the handout scores 0 on the removed "
          "work, and each of the %d exercise regions is checked" % len(regions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
