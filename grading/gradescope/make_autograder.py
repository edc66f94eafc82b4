#!/usr/bin/env python3
# make_autograder.py: packs this repository as a Gradescope autograder: a zip with setup.sh
# and run_autograder at its top, the tree (grader, checkpoints, facts) beside them.
"""Build the zip to upload as a Gradescope "programming assignment" autograder.

    grading/gradescope/make_autograder.py --chapters 01-03 -o autograder.zip

Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build its
image, then run_autograder for every submission (grading/README.md).
"""
import argparse
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import grade  # noqa: E402
import handout  # noqa: E402

CONF = "grading/gradescope/autograder.conf"


def conf_text(chapters, jobs, multiplier):
    with open(os.path.join(grade.REPO, CONF)) as f:
        text = f.read()
    for key, value in (("CHAPTERS", chapters), ("JOBS", jobs), ("TIMEOUT_MULTIPLIER", multiplier)):
        text = re.sub(r"^%s=\S*" % key, "%s=%s" % (key, value), text, flags=re.M)
    return text


def add(z, name, data, mode):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def make(out, chapters="all", jobs=2, multiplier=2.0, repo=grade.REPO):
    files = [f for f in handout.tree_files(repo) if f != "grading/gradescope/python"]
    with zipfile.ZipFile(out, "w") as z:
        for top in ("setup.sh", "run_autograder"):
            with open(os.path.join(HERE, top), "rb") as f:
                add(z, top, f.read(), 0o755)
        for rel in files:
            path = os.path.join(repo, rel)
            if rel == CONF:
                data = conf_text(chapters, jobs, multiplier).encode()
            else:
                with open(path, "rb") as f:
                    data = f.read()
            add(z, rel, data, os.stat(path).st_mode & 0o777)
    return len(files)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="autograder.zip")
    ap.add_argument("--chapters", default="all", help="what to grade (grading/run.py --chapters)")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel on Gradescope's machine")
    ap.add_argument("--timeout-multiplier", type=float, default=2.0)
    args = ap.parse_args(argv)
    try:
        chosen = grade.select_chapters(args.chapters)
    except grade.GradeError as e:
        ap.error(str(e))
    n = make(args.output, args.chapters, args.jobs, args.timeout_multiplier)
    print("%s: %d files; grades chapters %s; upload it as the autograder" % (
        args.output, n, ",".join(c.id for c in chosen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
