#!/usr/bin/env python3
# chapter_test.py: what `meson test` runs for one chapter on one CPU: boot the kernel,
# judge its checkpoints (tools/checkpoints.py) and print the verdicts as TAP.
"""Run one chapter kernel on one of its declared runs and report TAP.

    tools/chapter_test.py chapters/01-detect-vmx --run haswell --kernel K --stub S
    tools/chapter_test.py --list-runs chapters/01-detect-vmx

Environment: HVT_TIMEOUT_MULTIPLIER scales every run's timeout (slow machines).
The run's files (serial.log, emulator.log, bochsrc) stay in
<kernel dir>/runs/<run>/ for reading after a failure.

A run's boot modules (`modules = ["SOURCE=NAME", ...]` in checkpoints.toml) come
from three kinds of SOURCE: a path relative to the chapter folder, `build:PATH`
(a file of the build tree the kernel is in, e.g. build:guests/tinyos/tinyos.bin)
and `env:VARIABLE` (a file the user supplies, e.g. env:HVT_NIMBOS_IMAGE). A run
whose module is not there is skipped, with the reason, never failed.
"""
import argparse
import os
import shutil
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import runner  # noqa: E402

CONTEXT_LINES = 15


def tap_line(n, result, prefix):
    ok = "ok" if result.status in ("pass", "skip") else "not ok"
    text = "%s %d - %s%s" % (ok, n, prefix, result.id)
    if result.status == "skip":
        text += " # SKIP %s" % result.message
    elif result.message:
        text += ": %s" % result.message
    return text


SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def debug_hints(kernel, run, emu, vmx_chapter, source_root=SOURCE_ROOT, chapter_dir=""):
    """The commands that show more about this very run (its CPU model and command line):
    the VMX timeline (Bochs) and a gdb session, to type in the source folder."""
    k = os.path.relpath(os.path.abspath(kernel), source_root)
    if k.startswith(".."):
        k = os.path.abspath(kernel)         # a build folder outside the source folder
    extra = ' --cmdline "%s"' % run.cmdline if run.cmdline else ""
    for entry in getattr(run, "modules", ()):   # the run's boot modules, as the tools take them
        source, _, name = entry.partition("=")
        if source.startswith("build:"):
            path = os.path.join(os.path.relpath(build_root(kernel), source_root), source[6:])
        elif source.startswith("env:"):
            path = "$" + source[4:]
        else:
            path = os.path.relpath(os.path.join(chapter_dir or source_root, source), source_root)
        extra += " --module %s=%s" % (path, name or os.path.basename(path))
    where = "--model %s" % run.cpu if emu == "bochs" else "--emu %s" % emu
    out = ["more on this run, from the source folder %s (docs/debugging.md):" % source_root]
    if vmx_chapter and emu == "bochs":
        out.append("  the VMX timeline (each VMX instruction, VM entry and exit, why an entry failed):")
        out.append("    tools/vmx_trace.py %s%s %s" % (where, extra, k))
    out.append("  gdb: tools/debug.py %s%s %s" % (where, extra, k))
    return out


def diagnostics(run_result, kernel, run_dir, vmx_chapter, run=None, emu="bochs", chapter_dir=""):
    """What a learner needs after a failure: the last lines printed and the emulator's errors."""
    out = ["last %d lines on the serial console:" % CONTEXT_LINES]
    lines = runner.symbolize(run_result.serial, kernel).splitlines()
    out += ["  | " + line for line in lines[-CONTEXT_LINES:]] or ["  | (nothing)"]
    # A VMCS dump probes fields this CPU may lack ("VMREAD: not supported field"): leave
    # those out, or they push the line that names the failed VM-entry check off the list.
    errors = (run_result.emulator_log or "").splitlines() or run_result.emulator_errors
    probes = [line for line in errors if "not supported field" in line]
    errors = [line for line in errors if "not supported field" not in line][-20:]
    if errors or probes:
        out.append("emulator error lines%s:" % (" (%d 'not supported field' lines of VMCS dumps left "
                                                "out)" % len(probes) if probes else ""))
        out += ["  ! " + line for line in errors]
    out.append("full logs: %s/serial.log and %s/emulator.log" % (run_dir, run_dir))
    if run is not None:
        out += debug_hints(kernel, run, emu, vmx_chapter, chapter_dir=chapter_dir)
    return out


@dataclass
class Execution:
    """One declared run, booted and judged."""
    facts: dict
    nonce: str
    emu: str
    timeout: float
    result: object               # runner.RunResult
    results: list                # [checkpoints.Result]: "boot" first


def run_facts(run):
    """The facts of a run's CPU (tests/cpu-models.toml) with the run's own changes."""
    facts = checkpoints.load_cpu(run.cpu)
    facts.update(run.facts)
    return facts


class ModuleMissing(Exception):
    """A run's module is not available (a file the user did not supply): skip the run."""


def build_root(kernel):
    """The build tree a chapter kernel is in: BUILD/chapters/NN-name/chNN.elf."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(kernel))))


def resolve_modules(chapter, run, kernel, environ=None):
    """[(path, name)] for the runner from the run's "SOURCE[=NAME]" entries."""
    environ = os.environ if environ is None else environ
    out = []
    for entry in run.modules:
        source, _, name = entry.partition("=")
        if source.startswith("env:"):
            var = source[4:]
            path = environ.get(var, "")
            if not path:
                raise ModuleMissing("module %s: %s is not set (it names a file you supply; "
                                    "see the chapter's document)" % (name or source, var))
        elif source.startswith("build:"):
            path = os.path.join(build_root(kernel), source[6:])
        else:
            path = os.path.join(chapter.directory, source)
        if not os.path.isfile(path):
            raise ModuleMissing("module %s: no file %s" % (name or source, path))
        out.append((path, name or os.path.basename(path)))
    return out


def skipped(chapter, run, facts, nonce, reason):
    """A run that cannot happen here: every verdict a skip saying why."""
    res = runner.RunResult("skipped", "", message=reason)
    results = [checkpoints.Result("boot", "skip", 0, reason)]
    results += [checkpoints.Result(cp.id, "skip", cp.points, reason) for cp in chapter.checkpoints
                if not cp.runs or run.name in cp.runs]
    return Execution(facts, nonce, facts.get("emulator", "bochs"), 0.0, res, results)


def execute(chapter, run, kernel, stub, run_dir, multiplier=None, stop=None, max_serial=0):
    """Boot kernel for one declared run with a fresh nonce and judge its checkpoints.
    Raises checkpoints.DeclarationError (unknown CPU) and runner.EmulatorMissing; a run
    whose module is missing comes back with every verdict "skip"."""
    facts = run_facts(run)
    try:
        modules = resolve_modules(chapter, run, kernel)
    except ModuleMissing as e:
        return skipped(chapter, run, facts, "", str(e))
    if multiplier is None:
        multiplier = float(os.environ.get("HVT_TIMEOUT_MULTIPLIER", "1"))
    timeout = (run.timeout or chapter.timeout) * multiplier
    shutil.rmtree(run_dir, ignore_errors=True)
    nonce = runner.new_nonce()
    cmdline = ("nonce=%s %s" % (nonce, run.cmdline)).strip()
    emu = facts.get("emulator", "bochs")
    res = runner.run_kernel(kernel, stub, emu=emu, model=run.cpu,
                            qemu_cpu=facts.get("qemu_cpu", "qemu64"), cmdline=cmdline,
                            modules=modules, timeout=timeout, keep_dir=run_dir, boot=run.boot, stop=stop,
                            script=run.input, until=run.until or None, max_serial=max_serial,
                            mem_mb=run.mem)
    results = checkpoints.judge(chapter, run, facts, nonce, res,
                                console=runner.symbolize(res.serial, kernel))
    return Execution(facts, nonce, emu, timeout, res, results)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("chapter_dir")
    ap.add_argument("--list-runs", action="store_true")
    ap.add_argument("--run")
    ap.add_argument("--kernel")
    ap.add_argument("--stub")
    args = ap.parse_args(argv)
    try:
        chapter = checkpoints.load_chapter(args.chapter_dir)
    except checkpoints.DeclarationError as e:
        print("Bail out! %s" % e)
        return 1
    if args.list_runs:
        print("\n".join(r.name for r in chapter.runs))
        return 0
    run = next((r for r in chapter.runs if r.name == args.run), None)
    if not run or not args.kernel or not args.stub:
        print("Bail out! need --run (one of: %s), --kernel and --stub"
              % ", ".join(r.name for r in chapter.runs))
        return 1
    run_dir = os.path.join(os.path.dirname(os.path.abspath(args.kernel)), "runs", run.name)
    try:
        ex = execute(chapter, run, args.kernel, args.stub, run_dir)
    except (checkpoints.DeclarationError, runner.EmulatorMissing) as e:
        print("Bail out! %s" % e)
        return 1
    res, results, emu = ex.result, ex.results, ex.emu
    print("TAP version 13")
    print("1..%d" % len(results))
    print("# chapter %s on %s (%s): %.2f s wall%s" % (
        chapter.id, run.cpu, emu, res.wall_seconds,
        ", %d emulated instructions" % res.tsc_at_end if emu == "bochs" and res.tsc_at_end else ""))
    failed = False
    for n, r in enumerate(results, 1):
        print(tap_line(n, r, ""))
        for d in r.details:
            print("#   line: %s" % d)
        failed |= r.status == "fail"
    if failed:
        # Chapter 01 only reads MSRs; VMX instructions start in chapter 02.
        vmx_chapter = "vmx" in chapter.requires and chapter.id > "01"
        # On stderr: meson shows a TAP test's stderr (with -v or --print-errorlogs) but not
        # the comment lines of its TAP output.
        sys.stdout.flush()
        for line in diagnostics(res, args.kernel, run_dir, vmx_chapter, run, emu,
                                chapter_dir=chapter.directory):
            print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
