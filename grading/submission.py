# submission.py: turns what a student handed in (a folder, a git repository at a commit,
# a .tar.gz or .zip) into a private copy with the grader's own build and checkpoint files.
"""Submissions: materialize into a private directory, then overlay the grader's files.

The grader never writes into a submission: everything happens in a copy. The copy
then gets the grader's own build description (every meson.build), checkpoint
declarations (every checkpoints.toml), test tools and facts (tools/, tests/,
grading/) and boot files (the linker scripts and the ROM stub), so a student
cannot change what is checked or how.
"""
import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass

import handout

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERLAY_DIRS = ["tools", "tests", "grading", "guests"]      # guests: the given guest OS
OVERLAY_FILES = ["common/linker.ld", "common/romstub.S", "common/romstub.ld"]
OVERLAY_NAMES = {"meson.build", "meson_options.txt", "meson.options", "checkpoints.toml"}
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.bz2", ".zip")
IGNORED = {".git", "__pycache__"}


class SubmissionError(Exception):
    """The submission cannot be read: not found, a bad archive, an unknown revision."""


@dataclass
class Submission:
    spec: str            # as given: a path, PATH@REV, an archive or a git URL
    name: str            # unique, for output folders and reports
    source: str          # the path or URL
    rev: str = ""        # git revision ("" = the working tree, or HEAD of a URL)

    @property
    def kind(self):
        if is_url(self.source):
            return "git-url"
        if self.source.endswith(ARCHIVES):
            return "archive"
        return "git" if self.rev else "directory"


def is_url(s):
    return "://" in s or re.match(r"^[\w.-]+@[\w.-]+:", s) is not None


def _name_of(source):
    base = os.path.basename(source.rstrip("/")) or "submission"
    for ext in ARCHIVES + (".git",):
        if base.endswith(ext):
            base = base[:-len(ext)]
    return re.sub(r"[^\w.+-]+", "_", base) or "submission"


def parse(specs, rev=""):
    """Submissions from command-line words: PATH, PATH@REV, ARCHIVE, URL[@REV]; rev: default
    revision for git repositories given without one."""
    subs, names = [], set()
    for spec in specs:
        source, r = spec, rev
        at = spec.rfind("@")
        if not os.path.exists(spec) and at > 0 and (os.path.exists(spec[:at]) or is_url(spec[:at])):
            source, r = spec[:at], spec[at + 1:]
        if not is_url(source) and not os.path.exists(source):
            raise SubmissionError("%s: no such file or directory" % source)
        if r and not is_url(source) and not os.path.exists(os.path.join(source, ".git")):
            if r != rev:
                raise SubmissionError("%s: a revision (%s) needs a git repository" % (source, r))
            r = ""                               # --rev applies to git repositories only
        name = base = _name_of(source) + ("@" + re.sub(r"[^\w.+-]+", "_", r) if r else "")
        n = 2
        while name in names:
            name, n = "%s-%d" % (base, n), n + 1
        names.add(name)
        subs.append(Submission(spec, name, source, r))
    return subs


def _git(args, **kw):
    try:
        return subprocess.run(["git"] + args, capture_output=True, check=True, timeout=300, **kw)
    except subprocess.CalledProcessError as e:
        lines = e.stderr.decode(errors="replace").strip().splitlines()
        raise SubmissionError("git %s: %s" % (" ".join(args[:3]), lines[-1] if lines else e)) from e
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SubmissionError("git: %s" % e) from e


def _extract_tar(data_path, dest):
    try:
        with tarfile.open(data_path) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:                                   # Python < 3.11.4: check names ourselves
                for m in tar.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                        raise SubmissionError("%s: unsafe member %s" % (data_path, m.name))
                tar.extractall(dest)
    except (tarfile.TarError, OSError) as e:
        raise SubmissionError("%s: not a readable archive: %s" % (data_path, e)) from e


def _git_export(repo_args, rev, dest):
    """Write the files of rev (committed files only, no .git) into dest."""
    tar_path = dest + ".tar"
    with open(tar_path, "wb") as f:
        f.write(_git(repo_args + ["archive", "--format=tar", rev + "^{tree}"]).stdout)
    _extract_tar(tar_path, dest)
    os.unlink(tar_path)


def _copy_tree(src, dest):
    def ignore(directory, names):
        return [n for n in names if n in IGNORED or (n.startswith("build") and
                os.path.isdir(os.path.join(directory, n)))]
    shutil.copytree(src, dest, symlinks=True, ignore=ignore)


def _drop_links(root):
    """Symbolic links could point out of the private copy: a submission has none."""
    dropped = []
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                os.unlink(p)
                dropped.append(os.path.relpath(p, root))
    return dropped


def find_root(top):
    """The folder of the tree inside an unpacked archive: the shallowest with chapters/."""
    for dirpath, dirs, _ in sorted(os.walk(top), key=lambda w: w[0].count(os.sep)):
        dirs[:] = [d for d in dirs if d not in IGNORED]
        if "chapters" in dirs or os.path.isfile(os.path.join(dirpath, "meson.build")):
            return dirpath
    raise SubmissionError("no chapters/ folder or meson.build in the submission")


def materialize(sub, dest):
    """Put the submission's files into dest (a new folder); return (root, notes)."""
    raw = dest + ".in"
    if sub.kind == "archive":
        os.makedirs(raw)
        if sub.source.endswith(".zip"):
            try:
                with zipfile.ZipFile(sub.source) as z:
                    z.extractall(raw)       # zipfile drops absolute paths and ".." itself
            except (zipfile.BadZipFile, OSError) as e:
                raise SubmissionError("%s: not a readable zip file: %s" % (sub.source, e)) from e
        else:
            _extract_tar(sub.source, raw)
    elif sub.kind == "git-url":
        clone = dest + ".git"
        _git(["clone", "--quiet", "--bare", sub.source, clone])     # every branch and tag
        _git_export(["-C", clone], sub.rev or "HEAD", raw)
        shutil.rmtree(clone, ignore_errors=True)
    elif sub.kind == "git":
        _git_export(["-C", sub.source], sub.rev, raw)
    else:
        if not os.path.isdir(sub.source):
            raise SubmissionError("%s: not a folder, git repository or archive (%s)"
                                  % (sub.source, ", ".join(ARCHIVES)))
        _copy_tree(sub.source, raw)
    notes = ["removed symbolic link %s" % p for p in _drop_links(raw)]
    shutil.move(find_root(raw), dest)
    shutil.rmtree(raw, ignore_errors=True)
    return dest, notes


def grader_files(repo=REPO):
    """The grader's own files that replace the submission's (relative paths)."""
    out = []
    for rel in handout.tree_files(repo):
        parts = rel.split(os.sep)
        if parts[0] in OVERLAY_DIRS or rel in OVERLAY_FILES or parts[-1] in OVERLAY_NAMES:
            out.append(rel)
    return out


def overlay(root, repo=REPO, files=None):
    """Replace the grader-owned files and folders of the copy at root with repo's."""
    for d in OVERLAY_DIRS:
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
    for rel in files if files is not None else grader_files(repo):
        dst = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and not os.path.isfile(dst):
            shutil.rmtree(dst, ignore_errors=True)
        shutil.copy2(os.path.join(repo, rel), dst)


def reference_later_chapters(root, chapter_id, repo=REPO):
    """Fallback when the build cannot even be configured: chapters after chapter_id take the
    grader's reference files. A chapter's kernel links only itself and earlier chapters, so
    this cannot change what is graded for chapter_id; it only lets the build start."""
    chapters = os.path.join(repo, "chapters")
    for name in sorted(os.listdir(chapters)):
        m = re.match(r"(\d\d)-", name)
        if not m or m.group(1) <= chapter_id:
            continue
        shutil.rmtree(os.path.join(root, "chapters", name), ignore_errors=True)
        shutil.copytree(os.path.join(chapters, name), os.path.join(root, "chapters", name))
