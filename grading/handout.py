#!/usr/bin/env python3
# handout.py: turns the reference tree into the student handout: every exercise region
# (docs/contributing.md) loses its code and gets a stub that stops naming the exercise.
"""Generate the student starter tree from the reference solution.

    grading/handout.py OUT                       every exercise of every chapter removed
    grading/handout.py OUT --exercises 03,04     chapters 01-02 stay reference code
    grading/handout.py OUT --exercises 02-1      just one region (what handout_check does)
    grading/handout.py --list                    the exercise regions and where they are

A region in any source file (C, assembly, Python, shell, linker script):

    // BEGIN EXERCISE 02-1: lock IA32_FEATURE_CONTROL with VMX enabled
    // Instruction: ...what to write...
    // Hint: ...where to look...
    ...reference code...
    // END EXERCISE 02-1

(`#` instead of `//` where that is the comment). The handout keeps the comment lines
at the top of the region and the END line, and replaces the code with a stub: in C
`TODO_EXERCISE("02-1");` (common/include/exercise.h), in Python `raise
NotImplementedError(...)`. Other languages need a `Stub:` comment line in the region
saying what replaces the code.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Files that can hold regions, and the comment leader of each kind.
COMMENT = {".c": "//", ".h": "//", ".S": "//", ".s": "//", ".ld": "//", ".py": "#", ".sh": "#",
           ".toml": "#", ".build": "#"}
STUBS = {".c": 'TODO_EXERCISE("{id}");', ".h": 'TODO_EXERCISE("{id}");',
         ".py": 'raise NotImplementedError("exercise {id} is not done yet")'}
ID_RE = r"(\d\d-\d+)"
SKIP_DIRS = {".git", "__pycache__"}


class MarkerError(Exception):
    """A malformed exercise region: the message names the file and line."""


@dataclass
class Region:
    id: str
    title: str
    path: str            # relative to the tree's root
    begin: int           # line index of BEGIN
    code: int            # line index of the first code line (after the header comments)
    end: int             # line index of END
    instruction: str
    hint: str
    stub: str

    @property
    def chapter(self):
        return self.id.split("-")[0]

    def where(self):
        return "%s:%d" % (self.path, self.begin + 1)


def comment_leader(path):
    base = os.path.basename(path)
    ext = ".build" if base == "meson.build" else os.path.splitext(base)[1]
    return COMMENT.get(ext), ext


def parse_regions(text, path):
    """Return the regions of one file (path: relative, for messages and the stub kind)."""
    leader, ext = comment_leader(path)
    if leader is None or "EXERCISE" not in text:
        return []
    lead = re.escape(leader)
    begin_re = re.compile(r"^\s*%s\s*BEGIN EXERCISE\b\s*(\S*?)(?::\s*(.*))?\s*$" % lead)
    end_re = re.compile(r"^\s*%s\s*END EXERCISE\b\s*(\S*)\s*$" % lead)
    comment_re = re.compile(r"^\s*%s ?(.*)$" % lead)
    lines = text.split("\n")
    regions, i = [], 0
    while i < len(lines):
        m = begin_re.match(lines[i])
        if end_re.match(lines[i]):
            raise MarkerError("%s:%d: END EXERCISE without BEGIN" % (path, i + 1))
        if not m:
            i += 1
            continue
        rid, title = m.group(1), (m.group(2) or "").strip()
        where = "%s:%d" % (path, i + 1)
        if not re.fullmatch(ID_RE, rid):
            raise MarkerError("%s: exercise id '%s' is not NN-k (chapter, running number)" % (where, rid))
        header, j = [], i + 1
        while j < len(lines) and comment_re.match(lines[j]) and not end_re.match(lines[j]) \
                and not begin_re.match(lines[j]):
            header.append(comment_re.match(lines[j]).group(1).strip())
            j += 1
        k = j
        while k < len(lines) and not end_re.match(lines[k]):
            if begin_re.match(lines[k]):
                raise MarkerError("%s: BEGIN EXERCISE inside exercise %s" % (where, rid))
            k += 1
        if k == len(lines):
            raise MarkerError("%s: exercise %s has no END EXERCISE %s" % (where, rid, rid))
        if end_re.match(lines[k]).group(1) != rid:
            raise MarkerError("%s:%d: END EXERCISE %s closes exercise %s" % (
                path, k + 1, end_re.match(lines[k]).group(1), rid))
        if not any(line.strip() for line in lines[j:k]):
            raise MarkerError("%s: exercise %s has no code between its comments and END" % (where, rid))
        fields = _header_fields(header)
        for name in ("instruction", "hint"):
            if not fields.get(name):
                raise MarkerError("%s: exercise %s needs a '%s %s:' comment line"
                                  % (where, rid, leader, name.capitalize()))
        stub = fields.get("stub") or STUBS.get(ext, "")
        if not stub:
            raise MarkerError("%s: exercise %s: no default stub for %s files; add a '%s Stub: ...' "
                              "line that stops with the exercise id" % (where, rid, ext, leader))
        regions.append(Region(rid, title, path, i, j, k, fields["instruction"], fields["hint"],
                              stub.replace("{id}", rid)))
        i = k + 1
    return regions


def _header_fields(header):
    """'Instruction: ...' and 'Hint: ...' (with indented continuation lines), 'Stub: ...'."""
    fields, current = {}, None
    for line in header:
        m = re.match(r"(Instruction|Hint|Stub):\s*(.*)$", line)
        if m:
            current = m.group(1).lower()
            fields[current] = m.group(2)
        elif current and line:
            fields[current] += " " + line
    return fields


def tree_files(root):
    """The files of a tree: git's list (tracked and untracked, not ignored) or a walk."""
    if os.path.isdir(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, ".git")):
        try:
            out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                                  "--exclude-standard"], capture_output=True, check=True).stdout
            files = sorted({f for f in out.decode().split("\0") if f})
            return [f for f in files if os.path.isfile(os.path.join(root, f))]
        except (OSError, subprocess.CalledProcessError):
            pass
    files = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("build"))
        rel = os.path.relpath(dirpath, root)
        files += [os.path.normpath(os.path.join(rel, n)) for n in sorted(names)]
    return files


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def scan(root=REPO, files=None):
    """Every region in the tree, checked: ids unique, a chapter's ids in its own folder."""
    regions = []
    for rel in files if files is not None else tree_files(root):
        if comment_leader(rel)[0] is None:
            continue
        text = _read_text(os.path.join(root, rel))
        if text is not None:
            regions += parse_regions(text, rel)
    seen = {}
    for r in regions:
        if r.id in seen:
            raise MarkerError("exercise %s is defined twice: %s and %s" % (r.id, seen[r.id], r.where()))
        seen[r.id] = r.where()
        m = re.match(r"chapters/(\d\d)-", r.path)
        if m and m.group(1) != r.chapter:
            raise MarkerError("%s: exercise %s lives in chapter %s's folder" % (r.where(), r.id, m.group(1)))
    return sorted(regions, key=lambda r: (r.chapter, int(r.id.split("-")[1])))


def selector(spec):
    """'all', or a comma list of chapters (03) and exercise ids (02-1): a Region predicate."""
    if spec in (None, "", "all"):
        return lambda r: True
    items = {s.strip() for s in spec.split(",") if s.strip()}
    for s in items:
        if not re.fullmatch(r"\d\d|" + ID_RE, s):
            raise MarkerError("--exercises: '%s' is neither a chapter (NN) nor an exercise (NN-k)" % s)
    return lambda r: r.id in items or r.chapter in items


def strip_text(text, regions):
    """text with the code of the given regions (all from this text) replaced by stubs."""
    lines = text.split("\n")
    for r in sorted(regions, key=lambda r: r.begin, reverse=True):
        code = [line for line in lines[r.code:r.end] if line.strip()]
        indent = re.match(r"\s*", code[0]).group(0) if code else re.match(r"\s*", lines[r.begin]).group(0)
        lines[r.code:r.end] = [indent + r.stub]
    return "\n".join(lines)


def apply(root, regions):
    """Strip regions in the tree at root, in place (root is a copy, never the reference)."""
    by_file = {}
    for r in regions:
        by_file.setdefault(r.path, []).append(r)
    for rel, rs in by_file.items():
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        mode = os.stat(path).st_mode
        with open(path, "w", encoding="utf-8") as f:
            f.write(strip_text(text, rs))
        os.chmod(path, mode)


def exercise_list(regions, removed):
    """EXERCISES.md for the handout: what to do, where, in chapter order."""
    out = ["# Exercises in this tree", "",
           "Each exercise is a `TODO_EXERCISE(\"id\")` in the source, below its instruction and",
           "hint. Until it is done, the kernel stops there and prints which exercise it reached.",
           "Test a chapter with `meson test -C build --suite chNN -v`; `grading/run.py",
           "--chapters NN` grades it as the instructor will (grading/README.md).", ""]
    for r in regions:
        if r not in removed:
            continue
        out += ["## %s: %s" % (r.id, r.title), "", "- where: `%s`" % r.where(),
                "- instruction: %s" % r.instruction, "- hint: %s" % r.hint, ""]
    return "\n".join(out)


def make_handout(out, spec="all", source=REPO, listing=True):
    """Copy source's files to out (which must not exist) with the chosen regions stripped.
    Returns (removed regions, kept regions)."""
    files = tree_files(source)
    regions = scan(source, files)
    pick = selector(spec)
    removed = [r for r in regions if pick(r)]
    if spec not in (None, "", "all") and not removed:
        raise MarkerError("--exercises %s matches no exercise region" % spec)
    os.makedirs(out)
    for rel in files:
        dst = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(source, rel), dst, follow_symlinks=False)
    apply(out, removed)
    if listing and removed:
        with open(os.path.join(out, "EXERCISES.md"), "w") as f:
            f.write(exercise_list(regions, removed))
    return removed, [r for r in regions if r not in removed]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", help="directory to create with the handout")
    ap.add_argument("--exercises", default="all",
                    help="chapters (NN) and exercises (NN-k) to remove, comma-separated; the "
                         "other regions stay reference code (default: all)")
    ap.add_argument("--source", default=REPO, help="the reference tree (default: this repository)")
    ap.add_argument("--list", action="store_true", help="list the exercise regions and exit")
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args(argv)
    try:
        if args.list:
            for r in scan(args.source):
                print("%-6s %-45s %s" % (r.id, r.where(), r.title))
            return 0
        if not args.out:
            ap.error("give the output directory, or --list")
        if os.path.exists(args.out):
            if not args.force:
                print("handout: %s exists (use --force to replace it)" % args.out, file=sys.stderr)
                return 1
            shutil.rmtree(args.out)
        removed, kept = make_handout(args.out, args.exercises, args.source)
    except MarkerError as e:
        print("handout: %s" % e, file=sys.stderr)
        return 1
    print("handout in %s: %d exercises removed (%s), %d kept as reference code" % (
        args.out, len(removed), " ".join(r.id for r in removed) or "none", len(kept)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
