#!/usr/bin/env python3
# trace_test.py: runs tools/vmx_trace.py on a kernel in Bochs and checks its timeline
# against facts known without the trace: exits the code must cause, failures it must name.
"""TAP test of the VMX trace command.

    tests/debug/trace_test.py --kernel build/tests/vmxdemo.elf --demo    # all checks below
    tests/debug/trace_test.py --kernel build/chapters/04-.../ch04.elf     # a chapter: it enters
                                                                          # and exits, no failure
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


def trace(kernel, stub, name, *extra):
    run_dir = os.path.join(os.path.dirname(os.path.abspath(kernel)), "runs", "trace-" + name)
    p = subprocess.run([sys.executable, TOOL, kernel, "--stub", stub, "--keep", run_dir] + list(extra),
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
    yield ("no-failure", "no failure seen" in ok and "\n!!" not in ok, "a good run has no '!!'", ok)
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


def chapter_checks(kernel, stub):
    text = trace(kernel, stub, "chapter")
    entries = len(re.findall(r"^  VM entry", text, re.M))
    yield ("entries", entries >= 1 and len(exits(text)) >= 1,
           "%d VM entries, exits %s" % (entries, exits(text)), text)
    yield ("no-failure", "no failure seen" in text, "a finished chapter has no failure", text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--stub", required=True)
    ap.add_argument("--demo", action="store_true", help="the vmxdemo checks")
    args = ap.parse_args(argv)
    checks = list((demo_checks if args.demo else chapter_checks)(args.kernel, args.stub))
    print("TAP version 13\n1..%d" % len(checks))
    shown = set()
    for n, (name, ok, detail, text) in enumerate(checks, 1):
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", n, name, detail))
        if not ok and id(text) not in shown:
            shown.add(id(text))
            print("\n".join("#   " + line for line in text.splitlines()[-40:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
