#!/usr/bin/env python3
# checkpoints.py: reads a chapter's checkpoints.toml and judges a run's serial log
# against it. Shared by meson test (tools/chapter_test.py) and the grader (grading/run.py).
"""Checkpoint declarations and their evaluation; the format is in docs/checkpoints.md."""
import os
import re
import tomllib
from dataclasses import dataclass, field
from types import SimpleNamespace

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPU_MODELS = os.path.join(REPO, "tests", "cpu-models.toml")
LINE_RE = re.compile(r"^@(ckpt|skip|end)\s+(.*)$")
FIELD_RE = re.compile(r"(?<!\S)(\w[\w.-]*)=(\S*)")    # whole words only: "x(status=0" is no field
STATUS_NAMES = {0: "ok", 1: "failure reported by the kernel", 2: "panic", 3: "skip"}


class DeclarationError(Exception):
    """A checkpoints.toml or cpu-models.toml that does not follow docs/checkpoints.md."""


@dataclass
class Checkpoint:
    id: str
    description: str
    points: int
    expect: list
    requires: list
    always: bool
    runs: list
    source: str = "ckpt"         # "ckpt": @ckpt lines; "console": the whole console text
    exercises: list = field(default_factory=list)   # exercise ids whose removal must fail it


@dataclass
class Run:
    name: str
    cpu: str
    cmdline: str = ""
    modules: list = field(default_factory=list)
    timeout: float = 0.0
    status: int = -1             # expected end status; -1: 0, or 3 when the CPU lacks requires
    outcome: str = "finished"    # "timeout" for a run that must hang (tests of the tools)
    boot: str = "rom"            # "rom" (our boot ROM) or "grub" (BIOS + GRUB ISO)
    facts: dict = field(default_factory=dict)   # facts this run changes, e.g. what a BIOS set
    input: list = field(default_factory=list)   # [(pattern, text)] typed into COM1 (a shell)
    until: str = ""              # a pattern that ends the run when the console shows it
    mem: int = 128               # RAM of the emulated machine, MiB
    ips: int = 0                 # Bochs instructions per emulated second (0: the runner's default)


@dataclass
class Chapter:
    id: str
    title: str
    kernel: str
    directory: str
    requires: list
    timeout: float
    runs: list
    checkpoints: list


@dataclass
class Result:
    id: str
    status: str                  # "pass", "fail", "skip"
    points: int
    message: str = ""
    details: list = field(default_factory=list)


def _load_toml(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DeclarationError("%s: %s" % (path, e)) from e


def _pattern(path, run, key):
    text = run.get(key, "")
    try:
        re.compile(text)
    except (re.error, TypeError) as e:
        raise DeclarationError("%s: run %s: %s is not a regular expression: %s"
                               % (path, run.get("name"), key, e)) from e
    return text


def _input_steps(path, run):
    """input = [["pattern", "text"], ...]: type text once the console shows pattern."""
    steps = run.get("input", [])
    if not isinstance(steps, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) for x in s) for s in steps):
        raise DeclarationError('%s: run %s: input must be [["pattern", "text"], ...]'
                               % (path, run.get("name")))
    for pattern, _ in steps:
        _pattern(path, {"name": run.get("name"), "input": pattern}, "input")
    return [tuple(s) for s in steps]


def _modules(path, run):
    """modules = ["SOURCE=NAME", ...] (tools/chapter_test.py resolves SOURCE)."""
    mods = run.get("modules", [])
    if not isinstance(mods, list) or not all(isinstance(m, str) and m.partition("=")[0] for m in mods):
        raise DeclarationError('%s: run %s: modules must be ["SOURCE=NAME", ...]' % (path, run.get("name")))
    return list(mods)


def load_chapter(directory):
    """Read <directory>/checkpoints.toml."""
    path = os.path.join(directory, "checkpoints.toml")
    data = _load_toml(path)
    ch = data.get("chapter", {})
    for key in ("id", "title", "kernel"):
        if key not in ch:
            raise DeclarationError("%s: [chapter] needs '%s'" % (path, key))
    runs = [Run(r["name"], r["cpu"], r.get("cmdline", ""), _modules(path, r),
                float(r.get("timeout", 0)), int(r.get("status", -1)), r.get("outcome", "finished"),
                r.get("boot", "rom"), dict(r.get("facts", {})), _input_steps(path, r),
                _pattern(path, r, "until"), int(r.get("mem", 128)), int(r.get("ips", 0)))
            for r in data.get("run", [])]
    cps = []
    for c in data.get("checkpoint", []):
        if "id" not in c or "expect" not in c:
            raise DeclarationError("%s: every [[checkpoint]] needs 'id' and 'expect'" % path)
        if not c["expect"]:
            raise DeclarationError("%s: checkpoint %s checks nothing" % (path, c["id"]))
        if c.get("source", "ckpt") not in ("ckpt", "console"):
            raise DeclarationError("%s: checkpoint %s: source must be ckpt or console" % (path, c["id"]))
        cps.append(Checkpoint(c["id"], c.get("description", c["id"]), int(c.get("points", 1)),
                              list(c["expect"]), list(c.get("requires", [])),
                              bool(c.get("always", False)), list(c.get("runs", [])),
                              c.get("source", "ckpt"), list(c.get("exercises", []))))
    if len({c.id for c in cps}) != len(cps):
        raise DeclarationError("%s: duplicate checkpoint id" % path)
    return Chapter(ch["id"], ch["title"], ch["kernel"], directory, list(ch.get("requires", [])),
                   float(ch.get("timeout", 30)), runs, cps)


def load_cpu(name, path=CPU_MODELS):
    models = _load_toml(path)
    if name not in models:
        raise DeclarationError("%s has no CPU '%s'" % (path, name))
    facts = dict(models[name])
    facts["name"] = name
    facts.setdefault("msr", {})
    return facts


def parse_value(text):
    try:
        return int(text, 0)
    except ValueError:
        return text


def parse_log(serial):
    """Return the protocol lines: [(kind, nonce, id or None, fields, raw line)]."""
    events = []
    for raw in serial.splitlines():
        m = LINE_RE.match(raw.strip())
        if not m:
            continue
        kind, rest = m.groups()
        ident = None
        if kind == "ckpt":
            ident, _, rest = rest.partition(" ")
        pairs = FIELD_RE.findall(rest)
        fields = {k: parse_value(v) for k, v in pairs}
        fields.pop("nonce", None)
        nonce = dict(pairs).get("nonce", "")     # as printed: "0000000000000000" is not 0
        if kind == "skip":
            fields["reason"] = re.sub(r"^nonce=\S+\s*", "", rest)
        events.append((kind, nonce, ident, fields, raw.strip()))
    return events


def _namespace(facts, nonce, fields, emulator_log=""):
    msrs = facts.get("msr", {})

    def msr(name):
        if name not in msrs:
            raise LookupError("CPU %s has no fact for MSR %s" % (facts["name"], name))
        return msrs[name]

    ns = {
        "cpu": SimpleNamespace(**facts), "nonce": nonce, "msr": msr,
        "has_msr": lambda name: name in msrs,
        "lo": lambda v: v & 0xFFFFFFFF, "hi": lambda v: (v >> 32) & 0xFFFFFFFF,
        "bit": lambda v, n: (v >> n) & 1, "bits": lambda v, h, l: (v >> l) & ((1 << (h - l + 1)) - 1),
        "int": int, "str": str, "len": len, "min": min, "max": max, "all": all, "any": any,
        "hex": hex, "True": True, "False": False,
        "emulator_log": emulator_log,
    }
    ns.update(fields)
    return ns


def _explain(expr, ns):
    """Show the values of the names an expression uses, for a failure message."""
    shown = []
    for name in sorted(set(re.findall(r"\b[a-z_][a-z0-9_]*\b", expr))):
        v = ns.get(name)
        if isinstance(v, bool) or v is None or callable(v) or isinstance(v, SimpleNamespace):
            continue
        if name == "emulator_log":
            shown.append("emulator_log=(%d lines, see the emulator error lines)" % len(v.splitlines()))
            continue
        if isinstance(v, str) and len(v) > 60:
            v = v[:60] + "..."
        shown.append("%s=%s" % (name, hex(v) if isinstance(v, int) and v > 9 else v))
    return ", ".join(shown)


def check_line(cp, fields, facts, nonce, emulator_log=""):
    """Evaluate every expectation on one line's fields; return None or a failure message."""
    ns = _namespace(facts, nonce, fields, emulator_log)
    for expr in cp.expect:
        try:
            ok = eval(expr, {"__builtins__": {}}, ns)  # expressions come from the grader's files
        except NameError as e:
            return "the kernel did not report %s (line has: %s)" % (
                str(e).split("'")[1] if "'" in str(e) else e, " ".join(sorted(fields)) or "nothing")
        except LookupError as e:
            return "test data: %s" % e.args[0]
        except Exception as e:  # a malformed value, e.g. text where a number belongs
            return "cannot evaluate %s: %s: %s" % (expr, type(e).__name__, e)
        if not ok:
            return "expected %s; got %s" % (expr, _explain(expr, ns))
    return None


def expected_end(chapter, facts, run=None):
    """The status the kernel should end with on this CPU, and why."""
    missing = [r for r in chapter.requires if not facts.get(r)]
    if missing:
        return 3, "CPU %s has no %s" % (facts["name"], ", ".join(missing))
    if run is not None and run.status >= 0:
        return run.status, "run %s expects status %d" % (run.name, run.status)
    return 0, ""


def judge_end(chapter, run, facts, nonce, run_result, events):
    """The run as a whole: did the kernel end the way this CPU requires?"""
    want, why = expected_end(chapter, facts, run)
    ends = [e for e in events if e[0] == "end" and e[1] == nonce]
    skips = [e for e in events if e[0] == "skip" and e[1] == nonce]
    if run.outcome != "finished":
        ok = run_result.outcome == run.outcome
        return Result("boot", "pass" if ok else "fail", 0, "expected outcome %s: %s"
                      % (run.outcome, run_result.describe()))
    if run.until and run_result.outcome == "matched":
        return Result("boot", "pass", 0, run_result.describe())
    if run_result.outcome != "finished" or not ends:
        return Result("boot", "fail", 0, run_result.describe())
    status = ends[-1][3].get("status")
    if status == want == 3 and skips:
        return Result("boot", "pass", 0, "skipped as expected (%s): %s" % (why, skips[-1][3]["reason"]))
    if status == want:
        return Result("boot", "pass", 0, "kernel powered off with status %d" % status)
    if want == 3:
        return Result("boot", "fail", 0, "%s, yet the kernel ended with status %s (%s)"
                      % (why, status, STATUS_NAMES.get(status, "?")))
    msg = "kernel ended with status %s (%s)" % (status, STATUS_NAMES.get(status, "?"))
    if skips:
        msg += ": %s" % skips[-1][3]["reason"]
    return Result("boot", "fail", 0, msg)


def judge(chapter, run, facts, nonce, run_result, console=None):
    """Return [Result]: the run's "boot" result first, then one per checkpoint of the run.
    console: the text "console" checkpoints see (default: the serial output)."""
    events = parse_log(run_result.serial)
    results = [judge_end(chapter, run, facts, nonce, run_result, events)]
    chapter_skip = expected_end(chapter, facts)[0] == 3
    for cp in chapter.checkpoints:
        if cp.runs and run.name not in cp.runs:
            continue
        results.append(judge_checkpoint(cp, facts, nonce, events, chapter_skip,
                                        run_result.serial if console is None else console,
                                        getattr(run_result, "emulator_log", "")))
    return results


def console_namespace(text):
    """Names for "console" checkpoints: the text and regular-expression helpers."""
    return {
        "console": text,
        "search": lambda pattern: re.search(pattern, text, re.M),
        "findall": lambda pattern: re.findall(pattern, text, re.M),
        "count": lambda pattern: len(re.findall(pattern, text, re.M)),
    }


def judge_checkpoint(cp, facts, nonce, events, chapter_skip, console="", emulator_log=""):
    lacking = [r for r in cp.requires if not facts.get(r)]
    if chapter_skip and not cp.always:
        return Result(cp.id, "skip", cp.points, "CPU %s cannot run this chapter" % facts["name"])
    if lacking:
        return Result(cp.id, "skip", cp.points, "CPU %s has no %s" % (facts["name"], ", ".join(lacking)))
    if cp.source == "console":
        problem = check_line(cp, console_namespace(console), facts, nonce, emulator_log)
        return Result(cp.id, "fail" if problem else "pass", cp.points, problem or "")
    lines = [e for e in events if e[0] == "ckpt" and e[2] == cp.id]
    good = [e for e in lines if e[1] == nonce]
    if not good:
        if lines:
            return Result(cp.id, "fail", cp.points, "only lines with a wrong or missing nonce "
                          "(output not produced by this run)", [lines[0][4]])
        return Result(cp.id, "fail", cp.points, "missing: the kernel never reported it")
    for e in good:
        problem = check_line(cp, e[3], facts, nonce, emulator_log)
        if problem:
            return Result(cp.id, "fail", cp.points, problem, [e[4]])
    return Result(cp.id, "pass", cp.points, "")


def score(results_by_run):
    """Points per checkpoint over all runs: earned if it passed in every run that applied.
    Returns (earned, possible, {id: (earned, possible)}); skipped everywhere = not counted."""
    per = {}
    for results in results_by_run:
        for r in results:
            if r.id == "boot" or r.status == "skip":
                continue
            ok, pts = per.get(r.id, (True, r.points))
            per[r.id] = (ok and r.status == "pass", pts)
    table = {k: (pts if ok else 0, pts) for k, (ok, pts) in per.items()}
    return sum(v[0] for v in table.values()), sum(v[1] for v in table.values()), table
