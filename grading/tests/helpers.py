# helpers.py: shared pieces of the grader's own tests: copies of this tree, running
# grading/run.py as a user would, and finding emulator processes a run left behind.
"""Helpers for grading/tests/test_*.py (standard library unittest)."""
import os
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
GRADING = os.path.dirname(TESTS)
REPO = os.path.dirname(GRADING)
sys.path.insert(0, GRADING)
sys.path.insert(0, os.path.join(REPO, "tools"))
import handout  # noqa: E402

FAKE = "grading/tests/fake"


def copy_tree(dest, source=REPO):
    """A copy of the tree as a fresh clone would have it: the files git knows, no build."""
    for rel in handout.tree_files(source):
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(source, rel), dst, follow_symlinks=False)
    return dest


def tempdir(test, prefix="hvt grader test "):
    """A temporary folder with a space in its name, removed after the test."""
    d = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, d, True)
    return d


def grader(args, cwd=None, env=None, timeout=300, grader_repo=REPO):
    """Run grading/run.py of grader_repo as an instructor would; CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("HVT_TIMEOUT_MULTIPLIER", None)
    e.update(env or {})
    return subprocess.run([sys.executable, os.path.join(grader_repo, "grading", "run.py")] + args,
                          cwd=cwd or grader_repo, env=e, capture_output=True, text=True, timeout=timeout)


def processes_mentioning(marker):
    """[(pid, command line)] of live processes whose command line or working directory
    contains marker: how a test finds the emulators of its own runs and no others."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if marker in cmd or marker in cwd:
            found.append((int(pid), cmd.strip()))
    return found


def fake_bochs(folder):
    """A bochs first in PATH: crashes (SIGSEGV) on the fake kernel's case=crash, else runs
    the real Bochs. Returns the PATH value to use."""
    bindir = os.path.join(folder, "fakebin")
    os.makedirs(bindir, exist_ok=True)
    real = shutil.which("bochs") or "/usr/bin/bochs"
    with open(os.path.join(bindir, "bochs"), "w") as f:
        f.write('#!/bin/sh\n# a Bochs that crashes on one kernel\n'
                'if grep -q "case=crash" kernel.rom 2>/dev/null; then\n'
                '    echo "fake bochs: crashing"; kill -SEGV $$\nfi\n'
                'exec "%s" "$@"\n' % real)
    os.chmod(os.path.join(bindir, "bochs"), 0o755)
    return bindir + os.pathsep + os.environ.get("PATH", "")
