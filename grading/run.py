#!/usr/bin/env python3
# run.py: what an instructor runs: grades submissions (folders, git repositories, archives)
# chapter by chapter and writes a table, JSON, JUnit XML or Gradescope's results.json.
"""Grade submissions of the VT-x tutorial.

    grading/run.py --chapters 01 --json out.json                this tree, chapter 01
    grading/run.py --chapters 01-04 submissions/*               a class: folders and archives
    grading/run.py alice.git@v1.0 bob.tar.gz carol.zip --jobs 2
    grading/run.py --gradescope results.json /autograder/submission

Each submission is copied to a private folder, given the grader's own build and
checkpoint files, built, and booted on every run its chapters declare, each with a
fresh nonce. Logs stay in --out (default grade-results/<submission>/<chapter>/<run>/).
Exit status: 0 when everything was graded (whatever the score), 2 for bad usage,
130/143 when interrupted. Details: grading/README.md.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grade  # noqa: E402
import report  # noqa: E402
import submission  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[2:]))
    ap.add_argument("submissions", nargs="*", metavar="SUBMISSION",
                    help="folder, git repository (PATH@REV for a commit/branch/tag), git URL, "
                         ".tar.gz/.tgz/.tar/.zip archive (default: this repository's tree)")
    ap.add_argument("--chapters", default="all",
                    help="chapters to grade: all, ids (01,03), ranges (01-04) or folders with a "
                         "checkpoints.toml (tests/kernels); default all")
    ap.add_argument("--rev", default="", help="revision for every git repository given without @REV")
    ap.add_argument("--emu", choices=["auto", "bochs", "qemu", "kvm"], default="auto",
                    help="bochs: every declared run (Bochs models in Bochs, QEMU models in QEMU); "
                         "qemu: only the QEMU runs (no VMX); kvm: runs on KVM CPU models; "
                         "auto (default): kvm when usable with facts, else bochs")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="builds and emulator runs in parallel")
    ap.add_argument("--timeout-multiplier", type=float,
                    default=float(os.environ.get("HVT_TIMEOUT_MULTIPLIER", "1")),
                    help="multiply every run's timeout (slow machines); default "
                         "$HVT_TIMEOUT_MULTIPLIER or 1")
    ap.add_argument("--out", default="grade-results", help="folder for logs and reports")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--junit", metavar="FILE", help="write the results as JUnit XML")
    ap.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json "
                    "(one submission)")
    ap.add_argument("--details", action="store_true",
                    help="print every submission's checkpoints (default with one submission)")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    ap.add_argument("--keep-work", action="store_true",
                    help="keep the private copies and builds (their folders are printed)")
    ap.add_argument("--build-timeout", type=float, default=600.0,
                    help="seconds for configuring or building one chapter (default 600)")
    ap.add_argument("--max-output-mb", type=float, default=8.0,
                    help="stop a kernel that prints more than this (default 8 MiB)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    return ap, args


class Interrupted:
    """SIGINT/SIGTERM: stop every build and emulator, then leave with 128 + signal."""

    def __init__(self, stop):
        self.stop, self.signum = stop, 0
        self.old = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def handle(self, signum, frame):
        if self.signum:                       # a second signal: the user really wants out
            os._exit(128 + signum)
        self.signum = signum
        self.stop.set()
        print("\ngrader: %s, ending every build and emulator..." % signal.Signals(signum).name,
              file=sys.stderr, flush=True)

    def restore(self):
        for s, h in self.old.items():
            signal.signal(s, h)


def main(argv=None):
    ap, args = parse_args(argv)
    try:
        chapters = grade.select_chapters(args.chapters)
        subs = submission.parse(args.submissions or [grade.REPO], args.rev)
    except (grade.GradeError, submission.SubmissionError, grade.checkpoints.DeclarationError) as e:
        ap.error(str(e))
    if not chapters:
        ap.error("no chapter to grade")
    if args.gradescope and len(subs) != 1:
        ap.error("--gradescope describes one submission; give exactly one")
    for tool in ("meson", "ninja"):
        if not shutil.which(tool):
            print("grader: %s not found: install it with 'sudo apt-get install %s'"
                  % (tool, "meson" if tool == "meson" else "ninja-build"), file=sys.stderr)
            return 127
    emu = grade.resolve_emu(args.emu)
    progress = None if args.quiet else (lambda t: print("grader: " + t, file=sys.stderr, flush=True))
    opts = grade.Options(emu=emu, jobs=args.jobs, multiplier=args.timeout_multiplier,
                         out=os.path.abspath(args.out), keep_work=args.keep_work,
                         max_output=int(args.max_output_mb * (1 << 20)), progress=progress,
                         build_timeout=args.build_timeout)
    os.makedirs(opts.out, exist_ok=True)
    stop = threading.Event()
    interrupted = Interrupted(stop)
    try:
        if progress:
            progress("grading %d submission(s), chapters %s, emulator %s, %d job(s); logs in %s" % (
                len(subs), ",".join(c.id for c in chapters), emu, args.jobs, args.out))
        grader = grade.Grader(chapters, opts, stop)
        reports = grader.grade(subs)
    finally:
        interrupted.restore()
    if interrupted.signum:
        print("grader: interrupted; no results written", file=sys.stderr)
        return 128 + interrupted.signum

    ids = [c.id for c in chapters]
    for r in reports:
        with open(os.path.join(opts.out, r.name, "report.txt"), "w", encoding="utf-8") as f:
            f.write(report.text_report(r))
        if args.details or len(reports) == 1:
            sys.stdout.write(report.text_report(r))
    if len(reports) > 1 or not (args.details or len(reports) == 1):
        sys.stdout.write(report.summary_table(reports, ids))
    outputs = [(args.json, lambda: report.to_json(reports)), (args.junit, lambda: report.to_junit(reports)),
               (args.gradescope, lambda: grade_json(reports[0]))]
    for path, make in outputs:
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write(make())
    return 0


def grade_json(sub):
    return json.dumps(report.to_gradescope(sub), indent=2) + "\n"


if __name__ == "__main__":
    sys.exit(main())
