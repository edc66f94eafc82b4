# gdb_checks.py: runs inside "gdb -batch" against a kernel's gdb stub and prints one
# "HVT-CHECK ok|not-ok NAME: detail" line per check; tests/debug/gdb_test.py reads them.
"""Checks, in order (settings come from the environment, see gdb_test.py):

  attach      gdb connected and the kernel waits in gdbstub_init()
  breakpoint  "break chapter_main", "continue": stopped at its first instruction
  registers   RIP is chapter_main; RSP is in the boot stack and 8 mod 16 (SysV call);
              CR4.PAE is set (long mode); a register written by gdb reads back
  variables   boot_info.ram_end is the RAM the test gave; the command line holds its nonce
  step        stepi moves RIP; "next" moves to another source line
  bad-memory  reading an unmapped address is an error in gdb, and the kernel goes on
  interrupt   (HVT_INTERRUPT) Ctrl-C stops a kernel spinning with interrupts off, in VMX root
  vmx-root    (HVT_VMX_BREAK, "FUNC" or "FUNC if COND") at that function: "monitor vmx" says VMX root operation,
              CR4.VMXE is set
  expect      (HVT_EXPECT) gdb expressions, separated by ';', all true at HVT_VMX_BREAK;
              $nonce is the run's nonce, $vmread(ENC) a field of the current VMCS
  vmx-step    (HVT_VMX_STEP) "next" there moves to another line of that function, still
              in VMX root operation, and the expressions are still true
  step-entry  (HVT_STEP_ENTRY=FUNC:REASON) at the VMLAUNCH or VMRESUME in FUNC the
              expressions HVT_AT_ENTRY hold; stepi over it lands at HOST_RIP after a VM
              exit with that basic exit reason
  exit        continue to the end: gdb sees the kernel exit with its status (HVT_STATUS)
"""
import os
import re

import gdb

env = os.environ.get
exit_codes = []
stops = []
gdb.events.exited.connect(lambda ev: exit_codes.append(getattr(ev, "exit_code", None)))
gdb.events.stop.connect(lambda ev: stops.append(ev))


def check(name, ok, detail=""):
    print("HVT-CHECK %s %s: %s" % ("ok" if ok else "not-ok", name, detail))
    gdb.flush()
    return ok


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def value(expr):
    return int(gdb.parse_and_eval(expr))


class VmRead(gdb.Function):
    """$vmread(ENCODING): a field of the current VMCS, read by the stub ("monitor vmread")."""

    def __init__(self):
        super().__init__("vmread")

    def invoke(self, encoding):
        out = gdb.execute("monitor vmread 0x%x" % int(encoding), to_string=True)
        m = re.search(r"= (0x[0-9a-f]+)", out)
        if not m:
            raise gdb.GdbError("monitor vmread 0x%x: %s" % (int(encoding), out.strip()))
        return gdb.Value(int(m.group(1), 16)).cast(gdb.lookup_type("unsigned long"))


VmRead()
if env("HVT_NONCE"):
    gdb.execute("set $nonce = 0x%s" % env("HVT_NONCE"))


def guarded(name):
    """Run a check function; a gdb error fails the check instead of ending the script."""
    def wrap(fn):
        def run_check(*args):
            try:
                fn(*args)
            except gdb.error as e:
                check(name, False, "gdb error: %s" % e)
        return run_check
    return wrap


@guarded("attach")
def attach():
    if env("HVT_QEMU_STUB"):
        # QEMU's stub stops at the reset vector; the kernel is not even copied to 1 MiB yet.
        # A hardware breakpoint waits for 64-bit code (docs/debugging.md, the QEMU pitfall).
        run("hbreak kmain")
        run("continue")
        run("delete")
        frame = gdb.selected_frame()
        check("attach", frame.name() == "kmain" and value("$cs") == 8,
              "stopped in %s, cs 0x%x" % (frame.name(), value("$cs")))
        return
    frame = gdb.selected_frame()
    check("attach", frame.name() == "gdbstub_init", "stopped in %s" % frame.name())


@guarded("breakpoint")
def breakpoint():
    run("break chapter_main")
    run("continue")
    pc, entry = value("$pc"), value("(long)&chapter_main")
    check("breakpoint", pc == entry and gdb.selected_frame().name() == "chapter_main",
          "pc 0x%x, chapter_main 0x%x" % (pc, entry))


@guarded("registers")
def registers():
    rsp, bottom, top = value("$rsp"), value("(long)&boot_stack_bottom"), value("(long)&boot_stack_top")
    cr4 = value("$cr4") if not env("HVT_QEMU_STUB") else 1 << 5     # QEMU: no $cr4 in its xml
    run("set $r12 = 0x1122334455667788")
    r12 = value("$r12") & 0xffffffffffffffff
    check("registers", bottom <= rsp < top and rsp % 16 == 8 and cr4 & (1 << 5)
          and r12 == 0x1122334455667788,
          "rsp 0x%x in [0x%x, 0x%x), cr4 0x%x, r12 0x%x" % (rsp, bottom, top, cr4, r12))


@guarded("variables")
def variables():
    ram_end = value("boot_info.ram_end")
    cmdline = gdb.parse_and_eval("boot_info.cmdline").string()
    want_ram = int(env("HVT_MEM_MB", "128")) << 20
    check("variables", ram_end == want_ram and env("HVT_NONCE", "?") in cmdline,
          "ram_end 0x%x (want 0x%x), cmdline %r" % (ram_end, want_ram, cmdline))


@guarded("step")
def step():
    pc0 = value("$pc")
    line0 = gdb.selected_frame().find_sal().line
    run("stepi")
    pc1 = value("$pc")
    run("next")
    line2 = gdb.selected_frame().find_sal().line
    check("step", pc1 != pc0 and line2 != line0 and gdb.selected_frame().name() == "chapter_main",
          "pc 0x%x -> 0x%x, line %s -> %s" % (pc0, pc1, line0, line2))


@guarded("bad-memory")
def bad_memory():
    try:
        run("x/x 0x123456789000")
        faulted = False
    except gdb.MemoryError:
        faulted = True
    pc = value("$pc")
    check("bad-memory", faulted, "x/x 0x123456789000 %s; the kernel still answers (pc 0x%x)"
          % ("is an error" if faulted else "did NOT fail", pc))


@guarded("interrupt")
def interrupt():
    print("HVT-INTERRUPT-ME")          # the driver sends gdb SIGINT, as Ctrl-C would
    gdb.flush()
    del stops[:]
    run("continue")
    sig = getattr(stops[-1], "stop_signal", None) if stops else None
    where = gdb.selected_frame().name()
    vmx = run("monitor vmx")
    spinning = value("demo_spin")
    run("set var demo_spin = 0")
    check("interrupt", sig == "SIGINT" and where == "chapter_main" and spinning == 1
          and "VMX root operation" in vmx and value("demo_spin") == 0,
          "signal %s in %s, demo_spin was %d, monitor vmx: %r" % (sig, where, spinning,
                                                                  vmx.splitlines()[:2]))


@guarded("vmx-root")
def vmx_root(spec):
    func = spec.partition(" if ")[0].strip()     # "FUNC if COND": gdb's conditional breakpoint
    run("break %s" % spec)
    run("continue")
    out = run("monitor vmx")
    cr4 = value("$cr4")
    check("vmx-root", gdb.selected_frame().name() == func and "VMX root operation" in out
          and cr4 & (1 << 13), "in %s, cr4 0x%x, monitor vmx: %r" % (
              gdb.selected_frame().name(), cr4, out.splitlines()[:2]))


@guarded("expect")
def expect(exprs):
    bad = [explain(e) for e in exprs if not value(e)]
    check("expect", not bad, "false: %s" % bad if bad else "all true: %s" % exprs)


def explain(expr):
    """A false comparison with the values of its two sides."""
    sides = re.split(r"\s(?:==|!=|<=|>=|<|>)\s", expr)
    if len(sides) != 2:
        return expr
    try:
        return "%s (0x%x vs 0x%x)" % (expr, value(sides[0]) & (2**64 - 1), value(sides[1]) & (2**64 - 1))
    except gdb.error:
        return expr


@guarded("vmx-step")
def vmx_step(func, exprs):
    line0 = gdb.selected_frame().find_sal().line
    run("next")
    frame = gdb.selected_frame()
    line1 = frame.find_sal().line
    out = run("monitor vmx")
    bad = [explain(e) for e in exprs if not value(e)]
    check("vmx-step", frame.name() == func and line1 != line0 and "VMX root operation" in out
          and not bad, "next in %s: line %s -> %s, %s; %s" % (
              frame.name(), line0, line1, out.splitlines()[1] if len(out.splitlines()) > 1 else out,
              "false: %s" % bad if bad else "the expressions still hold"))


@guarded("step-entry")
def step_entry(spec, at_entry):
    func, _, reason = spec.partition(":")
    arch = gdb.selected_frame().architecture()
    start = value("(long)&%s" % func)
    insns = arch.disassemble(start, count=80)
    entries = [i["addr"] for i in insns if i["asm"].startswith(("vmlaunch", "vmresume"))]
    if not entries:
        check("step-entry", False, "no vmlaunch/vmresume within 80 instructions of %s" % func)
        return
    for addr in entries:
        run("tbreak *0x%x" % addr)
    run("continue")
    at = value("$pc")
    insn = arch.disassemble(at)[0]["asm"].split()[0]
    before = [explain(e) for e in at_entry if not value(e)]
    run("stepi")
    after = value("$pc")
    host_rip = value("$vmread(0x6c16)")
    basic = value("$vmread(0x4402)") & 0xffff
    check("step-entry", at in entries and not before and after == host_rip and basic == int(reason),
          "%s at %s; stepi over it at 0x%x -> 0x%x; HOST_RIP 0x%x; exit reason %d (want %s)"
          % ("false: %s" % before if before else "true: %s" % at_entry, insn, at, after, host_rip,
             basic, reason))


@guarded("exit")
def finish():
    run("delete")
    try:
        out = run("continue")
    except gdb.error as e:
        out = str(e)                    # "Remote connection closed": reported below
    status = int(env("HVT_STATUS", "0"))
    if env("HVT_QEMU_STUB"):            # QEMU's stub says nothing when the machine powers off
        ok = exit_codes in ([], [None]) and "closed" in out
    else:                               # the kernel's stub sends "W<status>" from poweroff()
        ok = exit_codes == [status]
    check("exit", ok, "exit codes seen by gdb: %s; %s" % (exit_codes, out.strip()))


def main():
    attach()
    breakpoint()
    registers()
    variables()
    step()
    bad_memory()
    if env("HVT_INTERRUPT"):
        interrupt()
    if env("HVT_VMX_BREAK"):
        exprs = [e.strip() for e in env("HVT_EXPECT", "").split(";") if e.strip()]
        vmx_root(env("HVT_VMX_BREAK"))
        if exprs:
            expect(exprs)
        if env("HVT_VMX_STEP"):
            vmx_step(env("HVT_VMX_BREAK").partition(" if ")[0].strip(), exprs)
        if env("HVT_STEP_ENTRY"):
            step_entry(env("HVT_STEP_ENTRY"),
                       [e.strip() for e in env("HVT_AT_ENTRY", "").split(";") if e.strip()])
    finish()


main()
