#!/usr/bin/env python3
# trace_test.py: runs tools/vmx_trace.py on a kernel in Bochs and checks its timeline
# against facts known without the trace: exits the code must cause, failures it must name.
"""TAP test of the VMX trace command.

    tests/debug/trace_test.py --kernel build/tests/vmxdemo.elf --demo    # the vmxdemo checks
    tests/debug/trace_test.py --kernel build/chapters/04-launch/ch04.elf --chapter chapters/04-launch \
        --sequence "VMXON VMCLEAR VMPTRLD VMLAUNCH VMRESUME VMXOFF" --exits VMCALL \
        --exit-rip VMCALL:guest64_hello-guest64_start --deliberate 10

A chapter's line in tests/meson.build (trace_tests) says what its timeline must show,
from facts known without the trace:
  --sequence    VMX instructions the chapter executes, in this order (its design)
  --exits       exit reasons its guests cause; every exit of a guest that ran must have
                its reason name and guest RIP
  --exit-rip    the first exit of that reason is at the GUEST_RIP written before the
                entry plus the distance between two symbols of the ELF (the guest's code)
  --chapter     the chapter's checkpoints.toml: every "'X' in emulator_log" expectation
                (why Bochs refuses a deliberate mistake) must appear highlighted ("!! Bochs:")
                in the timeline section that ends with that checkpoint
  --insns       a second run with --insns: right before each VM exit of a guest that ran,
                Bochs' trace shows the guest instruction at the exit's guest RIP
  --shows       texts the timeline must contain (';'-separated), e.g. the SDM's meaning of
                the VM-instruction error a demonstration must cause
  --exit        (repeatable) "REASON fact ...": some exit of that reason has all these
                facts: qual=Q (its qualification), qual&M=V (masked), gpa=A and gla=L (the
                guest-physical and linear address of Bochs' EPT line before that exit);
                the values come from the chapter's checkpoints.toml facts
  --counts      "CHECKPOINT:REASON=key,...,total=key": the timeline's exits of each reason
                (and of all) are what that checkpoint's key=value pairs report
  --deliberate  N entries announced as deliberately broken (vmx_trace("EXPECT failure
                ...")), each failed, and no other failure; --no-failure: none at all
Without any of these options: at least one VM entry and exit, and no failure.

vmxdemo facts (tests/vmxdemo/vmxdemo.c): its guest executes CPUID, CPUID, VMCALL, so
the exits are CPUID (10), CPUID (10), VMCALL (18); the first CPUID is 2 bytes into
demo_guest (after "xor eax, eax"), whose address comes from the ELF's symbol table.
break=guest-tr writes GUEST_TR_AR_BYTES = 0x83 (a 16-bit TSS), which Bochs must name;
break=host-tr must give VM-instruction error 8.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "vmx_trace.py")
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import checkpoints  # noqa: E402

MODULES = []                    # --module arguments for the trace tool (chapter 07's guest)


def trace(kernel, stub, name, *extra):
    run_dir = os.path.join(os.path.dirname(os.path.abspath(kernel)), "runs", "trace-" + name)
    p = subprocess.run([sys.executable, TOOL, kernel, "--stub", stub, "--keep", run_dir] + MODULES + list(extra),
                       capture_output=True, text=True, timeout=120)
    return p.stdout + p.stderr


def symbol(kernel, name):
    out = subprocess.run(["nm", kernel], capture_output=True, text=True).stdout
    m = re.search(r"^([0-9a-f]+) \w %s$" % re.escape(name), out, re.M)
    return int(m.group(1), 16) if m else None


def exits(text):
    return re.findall(r"VM exit #\d+: EXIT_REASON_(\w+)", text)


def demo_checks(kernel, stub):
    guest = symbol(kernel, "demo_guest")
    ok = trace(kernel, stub, "ok")
    yield ("exits", exits(ok) == ["CPUID", "CPUID", "VMCALL"], "exits %s" % exits(ok), ok)
    want = "EXIT_REASON_CPUID (10), qualification 0x0, guest RIP 0x%x" % (guest + 2)
    yield ("guest-rip", want in ok, "want %r" % want, ok)
    yield ("names", "VMWRITE   GUEST_RIP (0x681e) = 0x%x" % guest in ok
           and re.search(r"^VMXON\s+0x[0-9a-f]+$", ok, re.M) is not None,
           "VMXON and VMWRITE GUEST_RIP decoded", ok)
    yield ("no-failure", "no VMX failure seen" in ok and "\n!!" not in ok, "a good run has no '!!'", ok)
    bad = trace(kernel, stub, "guest-tr", "--cmdline", "break=guest-tr")
    yield ("entry-failure", "!! first failure: Bochs: VMENTER FAIL: VMCS guest incorrect TR type" in bad
           and "GUEST_TR_AR_BYTES = 0x83" in bad and "EXIT_REASON_INVALID_STATE (33)" in bad,
           "VMENTER FAIL named, GUEST_TR_AR_BYTES suspected", bad)
    host = trace(kernel, stub, "host-tr", "--cmdline", "break=host-tr")
    yield ("vmfail", "VM-instruction error 8: VM entry with invalid host-state field(s)" in host
           and "HOST_TR_SELECTOR = 0x0" in host, "VMfailValid 8 and HOST_TR_SELECTOR", host)
    ins = trace(kernel, stub, "insns", "--insns")
    yield ("insns", re.search(r"^    guest %x: cpuid$" % (guest + 2), ins, re.M) is not None,
           "the guest's CPUID at 0x%x in the instruction trace" % (guest + 2), ins)


def sections(text):
    """{checkpoint id: the timeline lines since the previous checkpoint}."""
    out, current = {}, []
    for line in text.splitlines():
        m = re.match(r"^-- checkpoint (\S+)$", line)
        if m:
            out[m.group(1)] = current
            current = []
        else:
            current.append(line)
    return out


def _int(v):
    try:
        return int(v, 0)
    except (TypeError, ValueError):
        return None


def exit_facts(text):
    """Each exit of the timeline: number, reason, qual, rip, and the guest-physical and
    linear address Bochs logged for it (EPT violations and misconfigurations)."""
    out, addr = [], {}
    for line in text.splitlines():
        if re.match(r"^  VM entry", line):
            addr = {}
        m = re.search(r"Bochs: VMEXIT: EPT \w+ for guest paddr (0x[0-9a-f]+) laddr (0x[0-9a-f]+)", line)
        if m:
            addr = {"gpa": int(m.group(1), 16), "gla": int(m.group(2), 16)}
        m = re.match(r"^(?:!! )?  VM exit #(\d+): EXIT_REASON_(\w+) \(\d+\), qualification (0x[0-9a-f]+)"
                     r"(?:, guest RIP (0x[0-9a-f]+))?", line)
        if m:
            out.append(dict(addr, number=int(m.group(1)), reason=m.group(2), qual=int(m.group(3), 16),
                            rip=_int(m.group(4))))
            addr = {}
    return out


def fact_holds(x, key, want):
    if "&" in key:
        name, _, mask = key.partition("&")
        return x.get(name) is not None and x[name] & _int(mask) == _int(want)
    return x.get(key) is not None and x[key] == _int(want)


def checkpoint_fields(kernel, cid):
    """The key=value pairs of checkpoint CID in the trace run's console."""
    run_dir = os.path.join(os.path.dirname(os.path.abspath(kernel)), "runs", "trace-chapter")
    try:
        with open(os.path.join(run_dir, "serial.log"), errors="replace") as f:
            serial = f.read()
    except OSError:
        return {}
    m = re.search(r"^@ckpt %s (.*)$" % re.escape(cid), serial, re.M)
    return dict(re.findall(r"(\w+)=(\S+)", m.group(1))) if m else {}


def emulator_log_strings(chapter_dir):
    """Per checkpoint, the strings its expectations want in Bochs' log ("'X' in emulator_log"):
    facts about why Bochs refuses each deliberate mistake, declared with the chapter."""
    cps = checkpoints.load_chapter(chapter_dir).checkpoints
    return {cp.id: re.findall(r"""(?:'([^']+)'|"([^"]+)") in emulator_log""", " ".join(cp.expect))
            for cp in cps}


def chapter_checks(kernel, stub, args):
    text = trace(kernel, stub, "chapter")
    words = args.sequence.split()
    seen = [m.group(1) for m in re.finditer(r"^(?:!! )?(VM[A-Z]+)\b", text, re.M)]
    it = iter(seen)
    missing = [w for w in words if w not in it]       # each word after the previous one
    yield ("sequence", not missing, "%s in this order%s" % (" ".join(words),
           ", missing: %s" % missing if missing else ""), text)

    if args.legacy:
        entries = len(re.findall(r"^  VM entry", text, re.M))
        yield ("entries", entries >= 1 and len(exits(text)) >= 1,
               "%d VM entries, %d VM exits" % (entries, len(exits(text))), text)

    if args.exits is not None:
        exit_lines = re.findall(r"^(?:!! )?  VM exit #\d+: (.*)$", text, re.M)
        ran = [x for x in exit_lines if not x.startswith(("EXIT_REASON_INVALID_STATE",
                                                     "EXIT_REASON_MSR_LOAD_FAIL"))]
        named = [x for x in ran if re.match(r"EXIT_REASON_\w+ \(\d+\), qualification 0x[0-9a-f]+, "
                                            r"guest RIP 0x[0-9a-f]+$", x)]
        got = [re.match(r"EXIT_REASON_(\w+)", x).group(1) for x in ran]
        want = args.exits.split()
        yield ("exits", ran and len(named) == len(ran) and all(w in got for w in want),
               "%d VM exits of guests that ran, each with its reason name and guest RIP: %s (want %s)"
               % (len(ran), sorted(set(got)), want), text)

    for spec in args.exit_rip or []:
        reason, _, syms = spec.partition(":")
        a, _, b = syms.partition("-")
        offset = symbol(kernel, a) - symbol(kernel, b)
        lines = text.splitlines()
        idx = next((i for i, l in enumerate(lines) if re.match(
            r"^  VM exit #\d+: EXIT_REASON_%s \(" % reason, l)), None)
        rip = (int(re.search(r"guest RIP (0x[0-9a-f]+)", lines[idx]).group(1), 16)
               if idx is not None else None)
        start = next((int(m.group(1), 16) for l in reversed(lines[:idx or 0])
                      for m in [re.match(r"^VMWRITE   GUEST_RIP \(0x681e\) = (0x[0-9a-f]+)$", l)] if m),
                     None)
        ok = rip is not None and start is not None and rip == start + offset
        yield ("exit-rip-" + reason.lower(), ok,
               "first %s exit at guest RIP %s = GUEST_RIP written before the entry (%s) + %s (%d)"
               % (reason, hex(rip) if rip else None, hex(start) if start else None, syms, offset), text)

    if args.chapter:
        wanted = {cid: strs for cid, strs in emulator_log_strings(args.chapter).items() if strs}
        secs = sections(text)
        bad = []
        for cid, strs in wanted.items():
            lines = secs.get(cid, [])
            for pair in strs:
                s = pair[0] or pair[1]
                if not any(l.startswith("!! Bochs: ") and s in l for l in lines):
                    bad.append("%s: %r" % (cid, s))
        yield ("bochs-reasons", bool(secs) and not bad,
               "%d checkpoint sections; Bochs' reason highlighted before each of %s%s"
               % (len(secs), sorted(wanted), ", missing: %s" % bad if bad else ""), text)

    if args.shows:
        want = [w.strip() for w in args.shows.split(";") if w.strip()]
        missing = [w for w in want if w not in text]
        yield ("shows", not missing, "%d facts shown%s" % (len(want), ", missing: %s" % missing
                                                           if missing else ": %s" % want), text)

    if args.insns:
        ins = trace(kernel, stub, "insns", "--insns")
        lines = ins.splitlines()
        at_exit = [(i, int(m.group(1), 16)) for i, l in enumerate(lines)
                 for m in [re.match(r"^  VM exit #\d+: EXIT_REASON_\w+ \(\d+\), qualification "
                                    r"0x[0-9a-f]+, guest RIP (0x[0-9a-f]+)$", l)] if m]
        seen = [rip for i, rip in at_exit if lines[i - 1].startswith("    guest %x: " % rip)]
        yield ("insns", at_exit and len(seen) == len(at_exit),
               "the guest instruction at each of %d exits' guest RIP is in Bochs' trace, marked guest"
               "%s" % (len(at_exit), "" if len(seen) == len(at_exit) else ", missing at %s" % [
                   hex(r) for i, r in at_exit if r not in seen]), ins)

    for spec in args.exit or []:
        words = spec.split()
        reason, facts = words[0], dict(w.split("=", 1) for w in words[1:])
        found = [x for x in exit_facts(text) if x["reason"] == reason and all(
            fact_holds(x, k, v) for k, v in facts.items())]
        yield ("exit-" + reason.lower(), bool(found), "an exit %s with %s: %s" % (
            reason, facts, "#%s" % found[0]["number"] if found else "none; exits of that reason: %s"
            % [(x["number"], hex(x["qual"]), hex(x["gpa"]) if "gpa" in x else None) for x in exit_facts(text)
               if x["reason"] == reason][:6]), text)

    if args.counts:
        cid, _, pairs = args.counts.partition(":")
        reported = checkpoint_fields(kernel, cid)
        by_reason = {}
        for x in exit_facts(text):
            by_reason[x["reason"]] = by_reason.get(x["reason"], 0) + 1
        bad = []
        for pair in pairs.split(","):
            reason, _, key = pair.partition("=")
            seen = sum(by_reason.values()) if reason == "total" else by_reason.get(reason, 0)
            if _int(reported.get(key)) != seen:
                bad.append("%s: %d in the timeline, %s=%s" % (reason, seen, key, reported.get(key)))
        yield ("counts", bool(reported) and not bad, "exits per reason as checkpoint %s reports "
               "(%s)%s" % (cid, pairs, ": " + "; ".join(bad) if bad else ""), text)

    if args.deliberate is not None:
        announced = re.findall(r"^== deliberately broken: (.*)$", text, re.M)
        did_not = re.findall(r"^!! (.*): did NOT fail$", text, re.M)
        clean = "no other VMX failure seen" in text
        yield ("deliberate", len(announced) == args.deliberate and not did_not and clean,
               "%d deliberately broken entries announced (want %d), each failed%s; %s"
               % (len(announced), args.deliberate, "" if not did_not else " except %s" % did_not,
                  "no other failure" if clean else "OTHER FAILURES"), text)
    elif args.no_failure:
        yield ("no-failure", "no VMX failure seen" in text, "no failure in this chapter", text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--stub", required=True)
    ap.add_argument("--demo", action="store_true", help="the vmxdemo checks")
    ap.add_argument("--sequence", default="VMXON VMXOFF",
                    help="VMX instructions the timeline must show in this order")
    ap.add_argument("--exits", help="exit reasons (EXIT_REASON_ without prefix) guests must cause")
    ap.add_argument("--exit-rip", action="append", metavar="REASON:SYM1-SYM2",
                    help="the first such exit is at GUEST_RIP + (SYM1 - SYM2)")
    ap.add_argument("--chapter", help="the chapter's folder: Bochs' reasons its checkpoints expect")
    ap.add_argument("--shows", help="texts the timeline must contain, separated by ';'")
    ap.add_argument("--insns", action="store_true",
                    help="also with --insns: the instruction at each exit's guest RIP is traced")
    ap.add_argument("--module", action="append", default=[], metavar="FILE=NAME",
                    help="a boot module for the kernel (chapter 07: its guest)")
    ap.add_argument("--exit", action="append", metavar="'REASON fact ...'",
                    help="some exit of that reason has these facts (qual=, qual&MASK=, gpa=, gla=)")
    ap.add_argument("--counts", metavar="CHECKPOINT:REASON=key,...",
                    help="exits per reason (total: all) as that checkpoint reports them")
    ap.add_argument("--deliberate", type=int,
                    help="this many deliberately broken entries, each failing, and no other failure")
    ap.add_argument("--no-failure", action="store_true", help="no failure at all")
    args = ap.parse_args(argv)
    # A chapter with no options: it enters a guest, the guest exits, nothing fails.
    args.legacy = not any([args.chapter, args.exits, args.exit_rip, args.shows, args.insns,
                           args.no_failure, args.deliberate is not None, args.exit, args.counts])
    global MODULES
    MODULES = [a for m in args.module for a in ("--module", m)]
    args.no_failure = args.no_failure or args.legacy
    checks = list(demo_checks(args.kernel, args.stub) if args.demo
                  else chapter_checks(args.kernel, args.stub, args))
    print("TAP version 13\n1..%d" % len(checks))
    shown = set()
    for n, (name, ok, detail, text) in enumerate(checks, 1):
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", n, name, detail))
        if not ok and id(text) not in shown:
            shown.add(id(text))
            sys.stdout.flush()          # on stderr, which meson shows (not TAP comments)
            print("\n".join("  " + line for line in text.splitlines()[-40:]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
