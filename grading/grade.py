# grade.py: the grader's engine: per submission a private copy built out of tree with the
# grader's files, then every declared run booted with a fresh nonce, judged and scored.
"""Grade submissions chapter by chapter; grading/run.py is the command line around this.

Everything about judging comes from tools/: chapter_test.execute() boots one declared
run and judges it (tools/checkpoints.py), checkpoints.score() turns runs into points.
This module adds what a class needs: private copies, builds that fail per chapter,
parallel jobs that never share a file, and an end to every child process on request.
"""
import concurrent.futures
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

GRADING = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(GRADING)
sys.path.insert(0, os.path.join(REPO, "tools"))
import chapter_test  # noqa: E402
import checkpoints  # noqa: E402
import runner  # noqa: E402

import submission  # noqa: E402

EMULATORS = {"bochs": {"bochs", "qemu"}, "qemu": {"qemu"}, "kvm": {"kvm", "qemu"}}
MESSAGE_RE = re.compile(r"\b(error|warning|note):|undefined reference|multiple definition|"
                        r"^\s*\d+ \|.*|^\s+\|\s|^FAILED:|ERROR:|returned \d+ exit status")
KEPT_LOG_SUFFIXES = (".log", ".out", "bochsrc")


class GradeError(Exception):
    """A problem with what the instructor asked for (unknown chapter, missing tool)."""


@dataclass
class Options:
    emu: str = "bochs"             # bochs, qemu or kvm (resolve "auto" with resolve_emu first)
    jobs: int = 1
    multiplier: float = 1.0        # timeouts of every run, times this
    out: str = "grade-results"     # kept logs and reports
    keep_work: bool = False        # keep the private copies and builds (debugging the grader)
    build_timeout: float = 600.0
    max_output: int = 8 << 20      # a kernel printing more than this is stopped
    repo: str = REPO               # the grader's repository: its build and checkpoint files
    progress: object = None        # callable(str) for progress lines, or None


@dataclass
class RunReport:
    name: str
    cpu: str
    emulator: str
    outcome: str                   # runner outcome: finished, timeout, crashed, error
    description: str
    boot: str                      # pass / fail
    boot_message: str
    wall_seconds: float = 0.0
    log_dir: str = ""
    diagnostics: list = field(default_factory=list)


@dataclass
class CheckpointReport:
    id: str
    description: str
    points: int
    earned: int
    status: str                    # pass, fail, skip (skipped in every run: not counted)
    failures: list = field(default_factory=list)   # [{"run", "message", "details"}]


@dataclass
class ChapterReport:
    id: str
    title: str
    build: str = "ok"              # ok, failed
    build_message: str = ""
    earned: int = 0
    possible: int = 0
    runs: list = field(default_factory=list)
    checkpoints: list = field(default_factory=list)
    note: str = ""


@dataclass
class SubmissionReport:
    name: str
    source: str
    chapters: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    error: str = ""

    @property
    def earned(self):
        return sum(c.earned for c in self.chapters)

    @property
    def possible(self):
        return sum(c.possible for c in self.chapters)


def discover(repo=REPO):
    """{id: Chapter} for every chapters/*/checkpoints.toml of the grader's repository."""
    found = {}
    for path in sorted(glob.glob(os.path.join(repo, "chapters", "*", "checkpoints.toml"))):
        ch = checkpoints.load_chapter(os.path.dirname(path))
        found[ch.id] = ch
    return found


def select_chapters(spec, repo=REPO):
    """'all', or comma-separated ids (01), ranges (01-03) and folders with a checkpoints.toml
    relative to the repository (tests/kernels)."""
    known = discover(repo)
    if spec in (None, "", "all"):
        return list(known.values())
    chosen = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if "/" in item:
            d = os.path.normpath(os.path.join(repo, item))
            if not os.path.isfile(os.path.join(d, "checkpoints.toml")) or \
                    os.path.relpath(d, repo).startswith(".."):
                raise GradeError("%s: no checkpoints.toml in this folder of %s" % (item, repo))
            chosen.append(checkpoints.load_chapter(d))
        elif re.fullmatch(r"\d\d-\d\d", item):
            lo, hi = item.split("-")
            chosen += [c for i, c in known.items() if lo <= i <= hi]
        elif item in known:
            chosen.append(known[item])
        else:
            raise GradeError("no chapter %s (chapters: %s)" % (item, ", ".join(known) or "none"))
    unique = []
    for c in chosen:
        if c.directory not in [u.directory for u in unique]:
            unique.append(c)
    return unique


def resolve_emu(emu, models=None):
    """auto: KVM when nested VT-x is usable and tests/cpu-models.toml has facts for a KVM
    CPU, else Bochs, the emulator that runs VMX on any machine."""
    if emu != "auto":
        return emu
    models = models if models is not None else checkpoints._load_toml(checkpoints.CPU_MODELS)
    has_kvm = any(isinstance(m, dict) and m.get("emulator") == "kvm" for m in models.values())
    return "kvm" if has_kvm and runner.kvm_nested_available() else "bochs"


def selected_runs(chapter, emu):
    return [r for r in chapter.runs
            if checkpoints.load_cpu(r.cpu).get("emulator", "bochs") in EMULATORS[emu]]


def run_command(argv, timeout, stop, cwd=None):
    """Run a build command in its own process group; (exit status or None, output).
    None: it ran out of time or the grader was stopped, and the group was ended."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        return 127, "cannot run %s: %s" % (argv[0], e)
    deadline = time.monotonic() + timeout
    while True:
        try:
            out, _ = proc.communicate(timeout=0.2)
            return proc.returncode, out.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            if not stop.is_set() and time.monotonic() < deadline:
                continue
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(3)
                break
            except subprocess.TimeoutExpired:
                continue
        out, _ = proc.communicate()
        why = "stopped" if stop.is_set() else "took more than %.0f s" % timeout
        return None, out.decode("utf-8", "replace") + "\n%s: %s\n" % (argv[0], why)


def compiler_messages(output, root, build, limit=40):
    """The compiler's and linker's own lines from a build log, with paths made short."""
    for path, short in ((build, "build/"), (root, "")):   # absolute, or relative with ../../
        output = re.sub(r"(?:\.\./)*/?" + re.escape(path.lstrip("/")) + "/", short, output)
    text = output
    text = re.sub(r"(\.\./)+(?=(chapters|common|tests|tools)/)", "", text)
    lines = [l.rstrip() for l in text.splitlines() if MESSAGE_RE.search(l) and not l.startswith("[")]
    lines = [l[:300] for l in lines] or text.strip().splitlines()[-15:]
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more lines in the build log)" % (len(lines) - limit)]
    return "\n".join(lines)


def static_results(chapter, run, message):
    """What a run would score without a kernel: every applicable checkpoint fails."""
    facts = chapter_test.run_facts(run)
    results = checkpoints.judge(chapter, run, facts, "-", runner.RunResult("error", "", message=message))
    for r in results:
        if r.status == "fail":
            r.message = message
    return results


class _Sub:
    """One submission while it is being graded: its private folder and collected runs."""

    def __init__(self, sub, chapters):
        self.sub, self.chapters = sub, chapters
        self.report = SubmissionReport(sub.name, sub.spec)
        self.work = ""
        self.runs = {}               # chapter id -> {run index: (RunReport, [Result])}
        self.pending = 0
        self.started = self.finished = False


class Grader:
    """Grades submissions on a pool of opts.jobs threads; stop (a threading.Event) ends
    every build and emulator early (the grader's SIGINT/SIGTERM handler sets it)."""

    def __init__(self, chapters, opts, stop=None):
        self.chapters, self.opts = chapters, opts
        self.stop = stop or threading.Event()
        self.lock = threading.Lock()
        self.futures = set()
        self.pool = None
        self.overlay_files = submission.grader_files(opts.repo)
        self.ninja_jobs = 1

    def say(self, text):
        if self.opts.progress:
            self.opts.progress(text)

    def _submit(self, fn, *args):
        with self.lock:
            self.futures.add(self.pool.submit(self._guard, fn, *args))

    def _guard(self, fn, state, *args):
        try:
            if not self.stop.is_set():
                fn(state, *args)
        except Exception:                       # a grader bug must not lose the other students
            state.report.error += "internal error:\n" + traceback.format_exc()
        finally:
            self._done(state)

    def _done(self, state):
        with self.lock:
            state.pending -= 1
            last = state.pending == 0
        if last:
            if state.work and not self.opts.keep_work:
                shutil.rmtree(state.work, ignore_errors=True)
            state.finished = True

    def grade(self, subs, plan=None):
        """Grade subs; plan: {submission name: [Chapter]} for those graded on other chapters
        than the grader's list (the handout check grades each mutant on its own chapter)."""
        plan = plan or {}
        states = deque(_Sub(s, plan.get(s.name, self.chapters)) for s in subs)
        all_states = list(states)
        self.ninja_jobs = max(1, (os.cpu_count() or 1) // max(1, min(self.opts.jobs, len(subs))))
        self.pool = concurrent.futures.ThreadPoolExecutor(max(1, self.opts.jobs))
        try:
            while True:
                busy = sum(1 for s in all_states if s.started and not s.finished)
                while states and busy < self.opts.jobs and not self.stop.is_set():
                    s = states.popleft()
                    s.started, s.pending = True, 1
                    self._submit(self._build, s)
                    busy += 1
                with self.lock:
                    pending = set(self.futures)
                if not pending and (not states or self.stop.is_set()):
                    break
                done, _ = concurrent.futures.wait(pending, timeout=0.2,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
                with self.lock:
                    self.futures -= done
        finally:
            self.pool.shutdown(wait=True)
        return [self._finish(s) for s in all_states if s.started]

    # -- building ---------------------------------------------------------------------
    def _configure(self, root, build):
        return run_command(["meson", "setup", build, root], self.opts.build_timeout, self.stop)

    def _build(self, state):
        sub, opts = state.sub, self.opts
        out_dir = os.path.join(opts.out, sub.name)
        os.makedirs(out_dir, exist_ok=True)
        state.work = tempfile.mkdtemp(prefix="hvt-grade-")
        if opts.keep_work:
            self.say("%s: private copy and build kept in %s" % (sub.name, state.work))
        root, build = os.path.join(state.work, "src"), os.path.join(state.work, "build")
        try:
            _, notes = submission.materialize(sub, root)
        except (submission.SubmissionError, OSError) as e:
            state.report.error = "cannot read the submission: %s" % e
            for ch in state.chapters:                 # every chapter scores 0 of its points
                state.runs[ch.id] = {}
                self._build_failed(state, ch, selected_runs(ch, opts.emu), state.report.error)
            return
        state.report.notes += notes
        submission.overlay(root, opts.repo, self.overlay_files)
        self.say("%s: configuring" % sub.name)
        rc, setup_log = self._configure(root, build)
        _write(os.path.join(out_dir, "build.log"), setup_log)
        for ch in state.chapters:
            if self.stop.is_set():
                return
            self._build_chapter(state, ch, root, build, rc == 0, setup_log, out_dir)

    def _build_chapter(self, state, ch, root, build, configured, setup_log, out_dir):
        rel = os.path.relpath(ch.directory, self.opts.repo)
        runs = selected_runs(ch, self.opts.emu)
        state.runs[ch.id] = {}
        if not runs:
            state.report.chapters.append(ChapterReport(ch.id, ch.title, note="no run of this chapter "
                                         "uses %s" % self.opts.emu))
            return
        if not configured:
            # Later chapters cannot affect this one's kernel: take the reference for them.
            root, build = root + "-" + ch.id, build + "-" + ch.id
            shutil.copytree(os.path.join(state.work, "src"), root)
            submission.reference_later_chapters(root, ch.id if re.fullmatch(r"\d\d", ch.id) else "",
                                                self.opts.repo)
            rc, setup_log = self._configure(root, build)
            _write(os.path.join(out_dir, "build-%s.log" % ch.id), setup_log)
            if rc != 0:
                return self._build_failed(state, ch, runs, "meson setup failed:\n" +
                                          compiler_messages(setup_log, root, build))
        kernel = os.path.join(build, rel, ch.kernel + ".elf")
        stub = os.path.join(build, "common", "romstub.bin")
        self.say("%s: building chapter %s" % (state.sub.name, ch.id))
        rc, log = run_command(["ninja", "-C", build, "-j", str(self.ninja_jobs),
                               os.path.join(rel, ch.kernel + ".elf"), "common/romstub.bin"],
                              self.opts.build_timeout, self.stop)
        _write(os.path.join(out_dir, "build-%s.log" % ch.id), log)
        if rc != 0 or not os.path.isfile(kernel):
            return self._build_failed(state, ch, runs, compiler_messages(log, root, build))
        state.report.chapters.append(ChapterReport(ch.id, ch.title))
        for i, run in enumerate(runs):
            with self.lock:
                state.pending += 1
            self._submit(self._run, state, ch, i, run, kernel, stub)

    def _build_failed(self, state, ch, runs, message):
        if self.stop.is_set():
            return
        state.report.chapters.append(ChapterReport(ch.id, ch.title, build="failed", build_message=message))
        for i, run in enumerate(runs):
            rr = RunReport(run.name, run.cpu, "", "not run", "not built", "fail", "the build failed")
            state.runs[ch.id][i] = (rr, static_results(ch, run, "the build failed"))

    # -- booting ------------------------------------------------------------------------
    def _run(self, state, ch, index, run, kernel, stub):
        same = [r for r in ch.runs if r.name == run.name]
        name = run.name if len(same) == 1 else "%s-%d" % (run.name, index)   # never a shared folder
        run_dir = os.path.join(self.opts.out, state.sub.name, ch.id, name)
        try:
            ex = chapter_test.execute(ch, run, kernel, stub, run_dir, self.opts.multiplier,
                                      self.stop, self.opts.max_output)
        except (checkpoints.DeclarationError, runner.EmulatorMissing) as e:
            rr = RunReport(run.name, run.cpu, "", "error", str(e), "fail", str(e))
            state.runs[ch.id][index] = (rr, static_results(ch, run, str(e)))
            return
        res, results = ex.result, ex.results
        boot = results[0]
        todo = re.findall(r"^@todo nonce=%s exercise=(\S+)" % re.escape(ex.nonce), res.serial, re.M)
        rr = RunReport(run.name, run.cpu, ex.emu, res.outcome, res.describe(), boot.status,
                       boot.message + ("; it stopped at TODO_EXERCISE(\"%s\"), an exercise not done yet"
                                       % todo[-1] if todo else ""), round(res.wall_seconds, 2), run_dir)
        if any(r.status == "fail" for r in results):
            vmx = "vmx" in ch.requires and ch.id > "01"
            rr.diagnostics = chapter_test.diagnostics(res, kernel, run_dir, vmx)
        for name in os.listdir(run_dir) if os.path.isdir(run_dir) else []:
            if not name.endswith(KEPT_LOG_SUFFIXES):      # the ROM or ISO: big, rebuildable
                os.unlink(os.path.join(run_dir, name))
        state.runs[ch.id][index] = (rr, results)
        count = {k: sum(r.status == k for r in results[1:]) for k in ("pass", "fail", "skip")}
        self.say("%s: chapter %s %s: %s; checkpoints: %d pass, %d fail, %d skip" % (
            state.sub.name, ch.id, run.name, res.describe(), count["pass"], count["fail"],
            count["skip"]))

    # -- scoring ------------------------------------------------------------------------
    def _finish(self, state):
        for cr in state.report.chapters:
            ch = next(c for c in state.chapters if c.id == cr.id)
            runs = [state.runs[cr.id][i] for i in sorted(state.runs.get(cr.id, {}))]
            cr.runs = [rr for rr, _ in runs]
            if not runs:
                continue
            earned, possible, table = checkpoints.score([results for _, results in runs])
            cr.earned, cr.possible = earned, possible
            for cp in ch.checkpoints:
                failures = [{"run": rr.name, "message": r.message, "details": r.details}
                            for rr, results in runs for r in results if r.id == cp.id and r.status == "fail"]
                got, pts = table.get(cp.id, (0, 0))
                status = "skip" if cp.id not in table else "pass" if got == pts else "fail"
                cr.checkpoints.append(CheckpointReport(cp.id, cp.description, pts if cp.id in table
                                                       else cp.points, got, status, failures))
        state.report.chapters.sort(key=lambda c: [x.id for x in state.chapters].index(c.id))
        return state.report


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
