#!/usr/bin/env python3
# vmx_trace.py: runs a chapter kernel in Bochs with VMX logging and prints a readable
# timeline: the kernel's VMX instructions, VM entries, VM exits, failed entries highlighted.
"""Print the VMX timeline of a chapter kernel run in Bochs.

    tools/vmx_trace.py build/chapters/04-launch/ch04.elf      (or: ninja -C build trace-ch04)
    tools/vmx_trace.py --model corei5_lynnfield_750 --cmdline "..." KERNEL
    tools/vmx_trace.py --insns KERNEL       # also the instructions Bochs traced (iodebug port)
    tools/vmx_trace.py --from DIR           # a run directory kept earlier (serial.log, emulator.log)
    tools/vmx_trace.py KERNEL > good.txt; (break something); tools/vmx_trace.py KERNEL > bad.txt
    diff -I '^VMREAD' good.txt bad.txt

Three sources are merged by time (with "clock: sync=none", Bochs' log tick, its
instruction-trace tick and the kernel's RDTSC are the same counter):
  - the kernel's own "vmxtrace tsc=..." lines (common/vmxtrace.h; the tool passes
    vmxtrace=e9, which writes them to Bochs' port 0xE9, so they cost no serial time):
    VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMWRITE, VMREAD, VMLAUNCH, VMRESUME, VMXOFF from
    chapter 02's wrappers and chapter 04's run loop; "-- checkpoint ID" after the events
    that led to a checkpoint; "== deliberately broken: ..." where a chapter breaks a VMCS
    on purpose (its failures are listed apart in the summary);
  - Bochs' log at "debug: cpu0=report": VMLAUNCH/VMRESUME, each VM entry and exit with
    its reason and qualification, and every error-level line: why Bochs refused a VM
    entry (VMFAIL, VMENTER FAIL) or a VMX instruction (VMXON: ..., VMREAD: ...);
  - with --insns, Bochs' instruction trace between vmx_trace_insns(true) and (false),
    which chapter 04's run loop puts around every VM entry.
Bochs does not log the guest RIP of an exit; the timeline takes it from the kernel's
first VMREAD of GUEST_RIP after the exit. Lines start with "!!" where something failed.
Six or more VMREADs in a row (a VMCS dump, the software checker) are one line unless
--reads. Timestamps are left out (use --tsc), so two runs can be compared with diff.
"""
import argparse
import collections
import os
import re
import shutil
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debug  # noqa: E402
import runner  # noqa: E402
import vmx_names  # noqa: E402

# A trace line may start in the middle of a console line the kernel had not finished.
KERNEL_RE = re.compile(r"vmxtrace tsc=(\d+) (\S+)\s*(.*)$")
FIELD_RE = re.compile(r"(\w+)=(\S+)")
BOCHS_RE = re.compile(r"^(\d+)([a-z])\[CPU\d+\s*\]\s*(.*)$")
INSN_RE = re.compile(r"^\(\d+\)\.\[(\d+)\] \[0x[0-9a-f]+\] [0-9a-f]{4}:([0-9a-f]+) \([^)]*\): "
                     r"(.*?)\s*;\s*[0-9a-f]+\s*$")
# Bochs' VMX debug lines worth keeping (cpu/vmx.cc, cpu/vmexit.cc); everything else at
# debug level (page walks, RDTSC, MSR accesses outside a guest) is noise here.
BOCHS_VMX_RE = re.compile(r"^(VMLAUNCH|VMRESUME|VMENTER|VMEntry|VMEXIT|VMFAIL|VMABORT|"
                          r"VMX preemption|VMX:)")
BOCHS_REFUSAL_RE = re.compile(r"^(VMFAIL|VMENTER FAIL|VMEXIT|VMABORT|VMX|VMPTR|VMCLEAR|VMREAD|"
                              r"VMWRITE|VMLAUNCH|VMRESUME|VMCALL|VMFUNC|INVEPT|INVVPID|#\w+: VM|"
                              r"check_CR4\(\): attempt to clear CR4.VMXE)")
EXIT_RE = re.compile(r"^VMEXIT reason = (\d+) \(([^)]*)\) qualification=(0x[0-9a-f]+)")
RC_TEXT = {1: "VMfailInvalid (no current VMCS, or bad pointer)", 2: "VMfailValid"}
VM_INSTRUCTION_ERROR, VM_EXIT_REASON, GUEST_RIP = 0x4400, 0x4402, 0x681e
CONSOLE_TAIL = 8             # console lines shown after a run that did not end with status 0
COLLAPSE_READS = 6           # this many VMREADs in a row are one line (a dump, a checker)


@dataclass
class Event:
    tick: int
    kind: str                 # "kernel", "entry", "exit", "detail", "fail", "insn",
    text: str                 # "mark" (a checkpoint), "expect" / "expect-end" (deliberate failures)
    failed: bool = False
    exit_number: int = 0
    fields: dict = field(default_factory=dict)


def _num(v):
    try:
        return int(v, 0)
    except (TypeError, ValueError):
        return None


def _explain_read(enc, value):
    """What a VMREAD of an exit or error field means, after its value."""
    v = _num(value)
    if v is None:
        return ""
    if enc == VM_INSTRUCTION_ERROR and v:
        return "  (error %d: %s)" % (v, vmx_names.instruction_error(v))
    if enc == VM_EXIT_REASON:
        return "  (%s)" % vmx_names.exit_reason_name(v)
    return ""


def kernel_event(tick, insn, rest):
    f = dict(FIELD_RE.findall(rest))
    rc = _num(f.get("rc", "0")) or 0
    enc, value = _num(f.get("field")), f.get("value")
    if insn == "CHECKPOINT":
        return Event(tick, "mark", "-- checkpoint %s" % rest.strip(), fields={"insn": insn, "id": rest.strip()})
    if insn == "EXPECT":
        what = rest.strip()
        if what == "end":
            return Event(tick, "expect-end", "", fields={"insn": insn})
        what = re.sub(r"^failure:?\s*", "", what)
        return Event(tick, "expect", "== deliberately broken: %s" % what, fields={"insn": insn, "what": what})
    if insn in ("VMWRITE", "VMREAD") and enc is not None:
        name = "%s (0x%x)" % (vmx_names.field_name(enc), enc)
        if rc:
            text = "%-9s %s" % (insn, name)
        elif insn == "VMWRITE":
            text = "%-9s %s = %s" % (insn, name, value)
        else:
            text = "%-9s %s -> %s%s" % (insn, name, value, _explain_read(enc, value))
    elif "addr" in f:
        text = "%-9s %s" % (insn, f["addr"])
    elif insn == "EXIT":
        text = "EXIT      (kernel) %s" % rest
    elif insn == "INSNS":
        text = "(Bochs instruction trace %s)" % rest
    else:
        text = ("%-9s %s" % (insn, FIELD_RE.sub("", rest).strip())).rstrip()
    failed = rc != 0
    if rc == 3:                          # chapter 02's VMX_FAULT: the instruction raised an exception
        vector = _num(f.get("vector", ""))
        text += "  faulted: %s" % {6: "#UD", 13: "#GP"}.get(vector, "vector %s" % vector)
    elif rc > 0:
        text += "  %s" % RC_TEXT.get(rc, "rc=%d" % rc)
    if "error" in f and _num(f["error"]):
        err = _num(f["error"])
        text += ", VM-instruction error %d: %s" % (err, vmx_names.instruction_error(err))
        failed = True
    return Event(tick, "kernel", text, failed, fields=dict(f, insn=insn))


def bochs_event(tick, level, msg):
    # At error level Bochs says why it refused something: a VM entry (VMFAIL, VMENTER
    # FAIL), a VMX instruction (VMXON: ..., VMREAD: not supported field, #GP: VMXON ...).
    # Its other error-level lines are shown without "!!": an EPT violation is an ordinary
    # exit, a guest's triple fault or an unknown MSR is the kernel's to judge.
    if level == "e" and BOCHS_REFUSAL_RE.match(msg) and not msg.startswith("VMEXIT: EPT violation"):
        return Event(tick, "fail", "Bochs: " + msg, True)
    if level == "e":
        return Event(tick, "detail", "Bochs: " + msg)
    if not BOCHS_VMX_RE.match(msg):
        return None
    m = EXIT_RE.match(msg)
    if m:
        reason = int(m.group(1))
        failed = reason == 33 or reason == 34 or reason == 41
        return Event(tick, "exit", "", failed, fields={"reason": reason, "bochs_name": m.group(2),
                                                       "qual": m.group(3)})
    if msg.startswith(("VMLAUNCH", "VMRESUME")):
        insn, _, ptr = msg.partition(" VMCS ptr: ")
        return Event(tick, "entry", "VM entry (%s), VMCS 0x%x" % (insn, int(ptr, 16) if ptr else 0))
    if msg.startswith("VMENTER to") or msg.startswith("VMEXIT to"):
        return Event(tick, "detail", msg.replace("VMENTER to", "entered:").replace(
            "VMEXIT to", "back to"))
    return Event(tick, "detail", msg)


def parse(serial_text, log_text, trace_text=""):
    """The merged, time-ordered list of events of one run."""
    events = []
    # The kernel's lines are on the console (vmxtrace=1) or, with vmxtrace=e9, in Bochs'
    # output next to its instruction trace.
    for line in (serial_text + "\n" + trace_text).splitlines():
        m = KERNEL_RE.search(line.strip())
        if m:
            events.append(kernel_event(int(m.group(1)), m.group(2), m.group(3)))
    # Instructions only between the kernel's "INSNS on" and "INSNS off" (vmx_trace_insns()):
    # Bochs also prints the instruction it stopped at when the run ends.
    marks = sorted(e.tick for e in events if e.fields.get("insn") == "INSNS")
    windows = list(zip(marks[0::2], marks[1::2] + [float("inf")]))
    for line in trace_text.splitlines():
        m = INSN_RE.match(line.strip())
        if m and any(a <= int(m.group(1)) <= b for a, b in windows):
            events.append(Event(int(m.group(1)), "insn", "%s: %s" % (m.group(2).lstrip("0") or "0",
                                                                      m.group(3))))
    for line in log_text.splitlines():
        m = BOCHS_RE.match(line.strip())
        if m:
            e = bochs_event(int(m.group(1)), m.group(2), m.group(3).strip())
            if e:
                events.append(e)
    # Stable sort: at the same tick the kernel's line, then the instruction, then what
    # Bochs logged while executing it (a VM exit is logged at the tick of its cause).
    events.sort(key=lambda e: e.tick)
    _annotate(events)
    return events


def _annotate(events):
    """Number the exits, give each its guest RIP, mark guest instructions, hide the
    "entered" of an entry that failed, and tie failures to the deliberate section
    (vmx_trace("EXPECT failure ...") up to "EXPECT end" or the next checkpoint)."""
    exits, in_guest, last_exit, entered, section = 0, False, None, None, None
    for e in events:
        if e.kind == "detail" and e.text.startswith("entered:"):
            in_guest, entered = True, e
        elif e.kind == "exit":
            exits += 1
            e.exit_number, last_exit, in_guest = exits, e, False
            if e.failed and entered is not None:
                entered.fields["hidden"] = True
            entered = None
        elif e.kind == "entry":          # Bochs says "VMENTER to" only for some guests
            last_exit, in_guest = None, True
        elif e.kind == "insn":
            e.fields["guest"] = in_guest
        elif e.kind == "fail":
            in_guest = False
            if entered is not None:
                entered.fields["hidden"] = True
        elif e.kind == "kernel" and last_exit is not None:
            f = e.fields
            if f.get("insn") == "VMREAD" and _num(f.get("field")) == GUEST_RIP and "rip" not in last_exit.fields:
                last_exit.fields["rip"] = f.get("value")
            if f.get("insn") == "EXIT" and "rip" in f:
                last_exit.fields["rip"] = f["rip"]
        if e.kind == "expect":
            section = e
            e.fields["failures"] = []
        elif e.kind in ("expect-end", "mark"):
            section = None
        elif e.failed and section is not None:
            e.fields["deliberate"] = section
            section.fields["failures"].append(e)


def render_exit(e):
    f = e.fields
    text = "VM exit #%d: %s (%d), qualification %s" % (
        e.exit_number, vmx_names.exit_reason_name(f["reason"]), f["reason"], f["qual"])
    if "rip" in f:
        text += ", guest RIP %s" % f["rip"]
    return text


def _is_plain_read(e):
    return e.kind == "kernel" and e.fields.get("insn") == "VMREAD" and not e.failed


def _collapse_reads(events, at_least):
    """Runs of at least that many successful VMREADs become one item: ("reads", [events])."""
    out, run = [], []
    for e in events + [None]:
        if e is not None and _is_plain_read(e):
            run.append(e)
            continue
        if len(run) >= at_least:
            out.append(("reads", run))
        else:
            out += run
        run = []
        if e is not None:
            out.append(e)
    return out


def render(events, show_tsc=False, all_reads=False):
    lines = []
    for item in _collapse_reads(events, 10 ** 9 if all_reads else COLLAPSE_READS):
        if isinstance(item, tuple):
            reads = item[1]
            names = [vmx_names.field_name(_num(r.fields["field"])) for r in reads]
            text = "VMREAD    %d fields (%s ... %s)" % (len(reads), names[0], names[-1])
            lines.append(("[%11d] " % reads[0].tick if show_tsc else "") + text)
            continue
        e = item
        if e.kind == "exit":
            text = "  " + render_exit(e)
        elif e.kind == "detail":
            if e.fields.get("hidden"):
                continue
            text = "    " + e.text
        elif e.kind == "insn":
            text = "    %s %s" % ("guest" if e.fields.get("guest") else "host ", e.text)
        elif e.kind == "entry":
            text = "  " + e.text
        elif e.kind == "expect-end":
            continue
        else:
            text = e.text
        if e.failed:
            text = "!! " + text.lstrip()
        lines.append(("[%11d] " % e.tick if show_tsc else "") + text)
    return lines


def collapsed(lines):
    return any(re.match(r"^(\[ *\d+\] )?VMREAD    \d+ fields \(", line) for line in lines)


# Words in Bochs' failure messages -> the VMCS fields (name prefixes) they are about.
SUSPECT_WORDS = [
    ("pin-based", ["PIN_BASED_VM_EXEC_CONTROL"]), ("proc-based", ["CPU_BASED_VM_EXEC_CONTROL"]),
    ("secondary", ["SECONDARY_VM_EXEC_CONTROL"]), ("vmexit controls", ["VM_EXIT_CONTROLS"]),
    ("vmentry controls", ["VM_ENTRY_CONTROLS"]), ("x86-64", ["VM_ENTRY_CONTROLS", "VM_EXIT_CONTROLS"]),
    ("eptptr", ["EPT_POINTER"]), ("interruption info", ["VM_ENTRY_INTR_INFO_FIELD"]),
    ("injected", ["VM_ENTRY_INTR_INFO_FIELD", "VM_ENTRY_EXCEPTION_ERROR_CODE"]),
    ("link pointer", ["VMCS_LINK_POINTER"]), ("interruptibility", ["GUEST_INTERRUPTIBILITY_INFO"]),
    ("blocked by sti", ["GUEST_INTERRUPTIBILITY_INFO", "GUEST_RFLAGS"]),
    ("blocked by mov ss", ["GUEST_INTERRUPTIBILITY_INFO"]),
    ("activity", ["GUEST_ACTIVITY_STATE"]),
]
# MSR lists: Bochs says "LoadMSRs"/"loading guest MSR" for the VM-entry MSR-load list.
MSR_WORDS = [("loadmsrs", "VM_ENTRY_MSR_LOAD"), ("loading guest msr", "VM_ENTRY_MSR_LOAD"),
             ("storemsrs", "VM_EXIT_MSR_STORE"), ("loading host msr", "VM_EXIT_MSR_LOAD")]
REGISTER_WORDS = ["CR0", "CR3", "CR4", "DR7", "RFLAGS", "RIP", "RSP", "EFER", "PAT", "LDTR", "TR",
                  "CS", "SS", "DS", "ES", "FS", "GS", "GDTR", "IDTR", "SYSENTER"]


def suspects(message, events, before_tick):
    """The last value the kernel wrote to each VMCS field a failure message is about."""
    low = message.lower()
    prefixes = [p for word, ps in SUSPECT_WORDS if word in low for p in ps]
    msr_lists = [p for word, p in MSR_WORDS if word in low]
    prefixes += msr_lists or (["VM_ENTRY_MSR_LOAD", "VM_EXIT_MSR"] if "msr" in low else [])
    # A VMENTER FAIL is a guest-state check (SDM Vol. 3C, 26.3) even when it does not say "guest".
    sides = [s for s in ("guest", "host") if s in low] or (["guest"] if "vmenter fail" in low else [])
    for side in sides:
        prefixes += ["%s_%s" % (side.upper(), r) for r in REGISTER_WORDS
                     if re.search(r"\b%s\b" % r, message)]
        prefixes += ["%s_IA32_%s" % (side.upper(), r) for r in ("EFER", "PAT")
                     if r in message]
    written = collections.OrderedDict()
    for e in events:
        if e.tick > before_tick:
            break
        f = e.fields
        if e.kind == "kernel" and f.get("insn") == "VMWRITE" and _num(f.get("field")) is not None:
            name = vmx_names.field_name(_num(f["field"]))
            if any(name == p or name.startswith(p + "_") for p in prefixes):
                written.pop(name, None)
                written[name] = f.get("value")
    return ["%s = %s" % kv for kv in written.items()]


def _describe(e):
    return render_exit(e) if e.kind == "exit" else e.text.strip()


def summary(events):
    entries = sum(1 for e in events if e.kind == "entry")
    exits = [e for e in events if e.kind == "exit"]
    by_reason = collections.Counter(vmx_names.EXIT_REASONS.get(e.fields["reason"], str(e.fields["reason"]))
                                    for e in exits)
    out = ["", "summary: %d VM entries, %d VM exits%s" % (
        entries, len(exits), " (%s)" % ", ".join("%s %d" % kv for kv in sorted(by_reason.items()))
        if by_reason else "")]
    sections = [e for e in events if e.kind == "expect"]
    if sections:
        out.append("deliberately broken, as announced by the kernel (\"==\" lines), and what failed:")
        for s in sections:
            fails = s.fields["failures"]
            if not fails:
                out.append("!! %s: did NOT fail" % s.fields["what"])
                continue
            first = next((f for f in fails if f.kind == "fail"), fails[0])
            named = suspects(first.text, events, first.tick) if first.kind == "fail" else []
            out.append("   %s: %s%s" % (s.fields["what"], _describe(first),
                                        " [%s]" % ", ".join(named) if named else ""))
    failures = [e for e in events if e.failed and "deliberate" not in e.fields]
    failures += [s for s in sections if not s.fields["failures"]]
    if failures:
        first = failures[0]
        out.append("!! first failure%s: %s" % (" not announced as deliberate" if sections else "",
                                               _describe(first) if first.kind != "expect"
                                               else "%s did not fail" % first.fields["what"]))
        fields = suspects(first.text, events, first.tick) if first.kind == "fail" else []
        if fields:
            out.append("!! the fields it names were last written as: " + ", ".join(fields))
    else:
        out.append("no VMX failure seen" if not sections else "no other VMX failure seen")
    return out


def console_lines(serial_text):
    """The kernel's console without the trace lines."""
    out = []
    for line in serial_text.splitlines():
        rest = KERNEL_RE.sub("", line)
        if rest.strip() or not KERNEL_RE.search(line):
            out.append(rest)
    return out


def read_run(run_dir):
    return (runner._read(os.path.join(run_dir, "serial.log")),
            runner._read(os.path.join(run_dir, "emulator.log")),
            runner._read(os.path.join(run_dir, "emulator.out")))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("kernel", nargs="?", help="chapter kernel ELF")
    ap.add_argument("--from", dest="from_dir", metavar="DIR",
                    help="read a kept run directory instead of running the kernel")
    ap.add_argument("--stub", help="romstub.bin (default: the build's common/romstub.bin)")
    ap.add_argument("--model", default=runner.DEFAULT_MODEL, help="Bochs CPU model")
    ap.add_argument("--cmdline", default="", help="extra kernel command line")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[=NAME]",
                    help="a boot module (chapter 07: the guest image, NAME guest)")
    ap.add_argument("--insns", action="store_true",
                    help="also Bochs' instruction trace where the kernel switches it on")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--keep", metavar="DIR", help="run directory (default: <kernel dir>/runs/vmx-trace)")
    ap.add_argument("--tsc", action="store_true", help="prefix every line with its time stamp")
    ap.add_argument("--console", action="store_true", help="also print the kernel's console")
    ap.add_argument("--reads", action="store_true",
                    help="show every VMREAD (by default %d or more in a row are one line)" % COLLAPSE_READS)
    args = ap.parse_args(argv)

    if args.from_dir:
        run_dir, res = args.from_dir, None
    elif args.kernel:
        kdir = os.path.dirname(os.path.abspath(args.kernel))
        run_dir = args.keep or os.path.join(kdir, "runs", "vmx-trace")
        shutil.rmtree(run_dir, ignore_errors=True)
        stub = args.stub or debug.default_stub(args.kernel)
        cmdline = "nonce=%s vmxtrace=%s %s" % (runner.new_nonce(), "insns" if args.insns else "e9",
                                              args.cmdline)
        try:
            res = runner.run_kernel(args.kernel, stub, model=args.model, cmdline=cmdline.strip(),
                                    timeout=args.timeout, vmx_trace=True, keep_dir=run_dir,
                                    modules=[(m.partition("=")[0], m.partition("=")[2] or
                                              os.path.basename(m)) for m in args.module])
        except runner.EmulatorMissing as e:
            print("vmx_trace: %s" % e, file=sys.stderr)
            return 127
        if res.outcome == "error":
            print("vmx_trace: %s" % res.message, file=sys.stderr)
            return 1
    else:
        ap.error("give a kernel or --from DIR")
    serial, log, trace = read_run(run_dir)
    events = parse(serial, log, trace)
    name = os.path.basename(args.kernel) if args.kernel else run_dir
    print("# VMX timeline of %s%s (tools/vmx_trace.py)" % (
        name, "" if args.from_dir else " on Bochs model %s" % args.model))
    if not any(e.kind == "kernel" for e in events):
        print("# no vmxtrace lines from the kernel: it executed no VMX instruction, or its VMX "
              "wrappers do not call vmx_trace()")
    lines = render(events, args.tsc, args.reads)
    if collapsed(lines):
        print("# %d or more VMREADs in a row are one line (--reads shows each)" % COLLAPSE_READS)
    for line in lines:
        print(line)
    for line in summary(events):
        print(line)
    if args.console:
        print("\n# console:")
        print("\n".join(console_lines(serial)))
    if res is not None:
        if res.outcome != "finished" or res.status != 0:
            print("# the kernel's last console lines:")
            for line in console_lines(serial)[-CONSOLE_TAIL:]:
                print("#   | " + line)
        print("# run: %s; files in %s" % (res.describe(), os.path.relpath(run_dir)))
        return 0 if res.outcome == "finished" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
