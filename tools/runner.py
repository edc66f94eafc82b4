#!/usr/bin/env python3
# runner.py: boots a chapter kernel in Bochs, QEMU (software) or QEMU+KVM and returns
# its serial output and how the run ended. Every run is bounded and leaves no emulator behind.
"""Boot a chapter kernel in an emulator.

    tools/runner.py build/chapters/01-detect-vmx/ch01.elf            # Bochs, default model
    tools/runner.py --emu qemu --cpu qemu64-intel KERNEL               # no VMX: QEMU software
    tools/runner.py --model corei5_lynnfield_750 --timeout 30 KERNEL
    tools/runner.py --input '>> ' 'usertests\r' --until 'usertests passed' GUEST   # type at a prompt
    tools/runner.py --interactive KERNEL       # this terminal is the serial console (Ctrl-] ends)

Each run gets its own temporary directory (ROM, bochsrc, logs), so runs can
go in parallel. Bochs ignores SIGTERM: a run that times out gets SIGINT (Bochs
drops into its debugger, which quits on end of input), then SIGKILL. With
scripted input (tools/serial_script.py) COM1 becomes a TCP socket the runner
types into; without it, COM1 goes straight to serial.log.
"""
import argparse
import contextlib
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grub_iso  # noqa: E402
import mkrom  # noqa: E402
import serial_script  # noqa: E402

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = "corei7_haswell_4770"
DEFAULT_IPS = 5_000_000
PACKAGES = {"bochs": "bochs bochs-term", "qemu": "qemu-system-x86", "addr2line": "binutils"}
END_RE = re.compile(r"^@end nonce=(\S+) status=(\d+)(?: tsc=(\d+))?", re.M)
# Bochs log lines worth showing: errors, panics and every VMX entry failure.
BOCHS_ERROR_RE = re.compile(r"^\d+([ep])\[[^\]]*\]\s*(.*)$|VMFAIL|VMENTER FAIL|VMEXIT.*fail|^\*\*\*|"
                            r"^qemu-system", re.I)


class EmulatorMissing(Exception):
    """The emulator is not installed; the message names the Debian package."""


@dataclass
class RunResult:
    outcome: str                 # "finished", "matched" (until), "timeout", "crashed", "error"
    serial: str                  # what the kernel printed on COM1 (\r removed)
    status: int = -1             # the kernel's own status from its "@end" line
    end_nonce: str = ""
    emulator_exit: int = 0
    emulator_errors: list = field(default_factory=list)   # the last 20, for showing
    emulator_log: str = ""       # every such line, for checkpoint expectations (emulator_log)
    wall_seconds: float = 0.0
    tsc_at_end: int = 0          # Bochs with clock sync=none: emulated instructions
    workdir: str = ""
    message: str = ""
    until: str = ""              # the pattern that ended a "matched" run
    step_seconds: list = field(default_factory=list)   # when each input step's pattern appeared
    connect_seconds: float = 0.0  # when the scripted console connected (Bochs starts then)

    def describe(self):
        if self.outcome == "finished":
            return "kernel powered off with status %d" % self.status
        if self.outcome == "matched":
            return "the console showed /%s/ after %.1f s; the run was stopped there" % (
                self.until, self.wall_seconds)
        if self.outcome == "stopped":
            return "stopped from the keyboard (Ctrl-])"
        if self.outcome == "timeout":
            return "timeout: the kernel did not power off within %.0f s (hung?)" % self.wall_seconds
        if self.outcome == "crashed" and self.emulator_exit < 0:
            return ("the emulator crashed (killed by signal %d) before the kernel powered off"
                    % -self.emulator_exit)
        if self.outcome == "crashed":
            return ("the emulator stopped (exit %d) before the kernel powered off: triple fault, "
                    "emulator panic or crash" % self.emulator_exit)
        return self.message or self.outcome


def need(program, package_key):
    path = shutil.which(program)
    if not path:
        raise EmulatorMissing("%s not found: install it with 'sudo apt-get install %s'"
                              % (program, PACKAGES[package_key]))
    return path


def kvm_nested_available():
    """True when /dev/kvm exists and the host CPU offers VMX to a KVM guest (nested)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/sys/module/kvm_intel/parameters/nested") as f:
            return f.read().strip() in ("Y", "1")
    except OSError:
        return False


def bochs_firmware(image, boot):
    """Bochs lines that boot image: our ROM at the reset vector, or BIOS + GRUB CD-ROM."""
    if boot == "rom":
        return ["romimage: file=%s" % image]
    return ["romimage: file=/usr/share/bochs/BIOS-bochs-latest",
            "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
            "ata0-master: type=cdrom, path=%s, status=inserted" % image, "boot: cdrom"]


def bochs_config(image, serial, log, model, mem_mb, ips, vmx_trace, com2=None, boot="rom",
                 com1=None):
    """com1, com2: (mode, dev) of a serial port; COM1 defaults to the file serial."""
    lines = ["megs: %d" % mem_mb] + bochs_firmware(image, boot) + [
        "cpu: model=%s, count=1, ips=%d, reset_on_triple_fault=0, ignore_bad_msrs=0" % (model, ips),
        "clock: sync=none, time0=1",
        # Bochs 2.7's default chipset, stated because the HPET at 0xFED00000 (tinyos, NimbOS)
        # exists only with it: with "pci: enabled=0" its registers read as all ones.
        "pci: enabled=1, chipset=i440fx",
        "display_library: term",
        "com1: enabled=1, mode=%s, dev=%s" % (com1 or ("file", serial)),
        "log: %s" % log,
        "panic: action=fatal",
        "error: action=report",
        "info: action=ignore",
        "debug: action=ignore" + (", cpu0=report" if vmx_trace else ""),
        "speaker: enabled=0",
        "sound: driver=dummy",
        "mouse: enabled=0",
        "private_colormap: enabled=0",
    ]
    if vmx_trace:     # the kernel's vmxtrace=e9 lines: Bochs' stdout, without serial delays
        lines.append("port_e9_hack: enabled=1")
    if com2:
        lines.append("com2: enabled=1, mode=%s, dev=%s" % com2)
    return "\n".join(lines) + "\n"


def _stop(proc):
    """End an emulator and its process group: SIGINT first (Bochs), then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return ""


def _follow(path, offset, out, crlf=False):
    """Print what was appended to path since offset; return the new offset. crlf: the
    terminal is in raw mode, where a line feed alone does not return the carriage."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset
    if data:
        text = data.decode("utf-8", "replace").replace("\r", "")
        out.write(text.replace("\n", "\r\n") if crlf else text)
        out.flush()
    return offset + len(data)


def make_boot_image(workdir, kernel, stub, cmdline, modules, mem_mb, boot):
    """Write the boot ROM (boot="rom") or a GRUB ISO (boot="grub"); return its path."""
    if boot == "grub":
        path = os.path.join(workdir, "kernel.iso")
        grub_iso.make_iso(kernel, path, cmdline, modules)
        return path
    path = os.path.join(workdir, "kernel.rom")
    with open(kernel, "rb") as f:
        kernel_bytes = f.read()
    with open(stub, "rb") as f:
        stub_bytes = f.read()
    mods = []
    for mod_path, name in modules:
        with open(mod_path, "rb") as f:
            mods.append((name, f.read()))
    with open(path, "wb") as f:
        f.write(mkrom.build_rom(stub_bytes, kernel_bytes, cmdline, mem_mb, mods))
    return path


def run_kernel(kernel, stub, emu="bochs", model=DEFAULT_MODEL, qemu_cpu="qemu64",
               cmdline="", modules=(), mem_mb=128, timeout=30.0, ips=DEFAULT_IPS,
               vmx_trace=False, show=None, keep_dir=None, com2=None, boot="rom", extra_args=(),
               stop=None, script=(), until=None, char_delay=serial_script.CHAR_DELAY,
               max_serial=0, keyboard=None):
    """Boot kernel (ELF path) and return a RunResult. show: a stream to echo serial output to.
    boot: "rom" (our boot ROM, fast) or "grub" (BIOS + GRUB ISO, as on a PC).
    com2: Bochs (mode, dev) or a QEMU -serial value; extra_args: more emulator arguments
    (QEMU only, e.g. its own gdb stub: "-gdb tcp:...", "-S"); stop: a threading.Event that
    ends the run early (another thread, e.g. a debugging session, decides).
    script: [(pattern, text)] typed into COM1 once the console shows each pattern
    (tools/serial_script.py); until: a pattern that ends the run (outcome "matched")
    as soon as the console shows it, for guests that never power off by themselves.
    max_serial: stop a kernel that printed more than this many bytes (0: no limit), an
    error outcome. keyboard: a file (a terminal in raw mode) whose bytes are typed into
    COM1 as they come; Ctrl-] ends the run (outcome "stopped")."""
    emu_bin = need("bochs", "bochs") if emu == "bochs" else need("qemu-system-x86_64", "qemu")
    workdir = keep_dir or tempfile.mkdtemp(prefix="hvt-run-")
    os.makedirs(workdir, exist_ok=True)
    serial, emulog = os.path.join(workdir, "serial.log"), os.path.join(workdir, "emulator.log")
    try:
        image = make_boot_image(workdir, kernel, stub, cmdline, modules, mem_mb, boot)
    except grub_iso.IsoError as e:
        raise EmulatorMissing(str(e)) from e
    except (OSError, mkrom.RomError) as e:
        return RunResult("error", "", message="cannot build the boot image: %s" % e, workdir=workdir)
    open(serial, "wb").close()
    console, com1 = None, None
    if script or keyboard is not None:
        port = serial_script.free_port()
        console = serial_script.ScriptedConsole(port, serial, script, char_delay)
        com1 = ("socket-server", "127.0.0.1:%d" % port)
    until_re = re.compile(until, re.M) if until else None

    # MALLOC_PERTURB_ (set by meson test) makes Bochs 2.7 abort: "buffer overflow detected".
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
    env["TERM"] = "dumb"
    if emu == "bochs":
        conf = os.path.join(workdir, "bochsrc")
        with open(conf, "w") as f:
            # Relative to the run directory (Bochs' working directory): Bochs drops the spaces
            # from paths in a bochsrc, so an absolute path with a space names another file.
            f.write(bochs_config(os.path.basename(image), "serial.log", "emulator.log", model,
                                 mem_mb, ips, vmx_trace, com2, boot, com1))
        rc = os.path.join(workdir, "debugger.rc")
        with open(rc, "w") as f:
            f.write("c\nq\n")
        argv = [emu_bin, "-q", "-f", conf, "-rc", rc]
    else:
        firmware = ["-bios", image] if boot == "rom" else ["-cdrom", image]
        qemu_com1 = "tcp:%s,server=on,wait=on" % com1[1] if com1 else "file:" + serial
        argv = [emu_bin, "-machine", "pc", "-m", str(mem_mb)] + firmware + ["-display", "none",
                "-serial", qemu_com1, "-monitor", "none", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
        argv += ["-enable-kvm", "-cpu", "host"] if emu == "kvm" else ["-cpu", qemu_cpu]
        if com2:
            argv += ["-serial", com2]
        argv += list(extra_args)
    # If this process dies without cleaning up (SIGKILL), the kernel ends the emulator too.
    setpriv = shutil.which("setpriv")
    if setpriv:
        argv = [setpriv, "--pdeathsig", "KILL"] + argv
    start = time.monotonic()
    with open(os.path.join(workdir, "emulator.out"), "wb") as out:
        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if console:
            console.start(alive=lambda: proc.poll() is None)
        outcome, offset, watched = None, 0, 0
        try:
            while outcome is None:
                try:
                    proc.wait(0.05)
                    outcome = "exited"
                except subprocess.TimeoutExpired:
                    pass
                if show:
                    offset = _follow(serial, offset, show, crlf=keyboard is not None)
                if keyboard is not None and outcome is None and _type_keys(keyboard, console):
                    outcome = "stopped"
                if until_re and outcome is None and os.path.getsize(serial) != watched:
                    watched = os.path.getsize(serial)
                    if until_re.search(_read(serial)):
                        outcome = "matched"
                if outcome is None and (time.monotonic() - start > timeout
                                        or (stop is not None and stop.is_set())):
                    outcome = "timeout"
                if outcome is None and max_serial and _size(serial) > max_serial:
                    outcome = "flood"
        finally:
            _stop(proc)
            if console:
                console.close()       # only now: Bochs dies of SIGPIPE if we leave earlier
    wall = time.monotonic() - start
    if show:
        _follow(serial, offset, show, crlf=keyboard is not None)
    res = _collect(serial, emulog, workdir, outcome, proc.returncode, wall)
    if outcome == "stopped" and res.outcome != "finished":
        res.outcome = "stopped"
    if outcome == "flood" and res.outcome != "finished":
        res.outcome = "error"
        res.message = "stopped: the kernel printed more than %d bytes" % max_serial
    res.until = until or ""
    if console:
        res.step_seconds = [t - start for t in console.step_times]
        res.connect_seconds = console.connected_at - start if console.connected_at else 0.0
        if console.error and res.outcome != "finished":
            res.message = console.error
    return res


CTRL_RIGHT_BRACKET = b"\x1d"    # telnet's escape key: ends an interactive run


def _type_keys(keyboard, console):
    """Pass what was typed to COM1; True when the user pressed Ctrl-]."""
    fd = keyboard.fileno()
    while select.select([fd], [], [], 0)[0]:
        data = os.read(fd, 256)
        if not data or CTRL_RIGHT_BRACKET in data:
            console.send(data.split(CTRL_RIGHT_BRACKET)[0])
            return True
        console.send(data)
    return False


@contextlib.contextmanager
def raw_terminal(stream):
    """Keys go to the guest one by one, unechoed (the guest echoes); restored afterwards."""
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield stream
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _collect(serial_path, emulog, workdir, outcome, exit_code, wall):
    serial = _read(serial_path)
    log = _read(emulog) + _read(os.path.join(workdir, "emulator.out"))
    errors = [line.strip() for line in log.splitlines()
              if BOCHS_ERROR_RE.search(line) and "Shutdown port" not in line
              and "waiting for connection" not in line           # QEMU, scripted COM1
              and "VMEXIT: EPT violation" not in line]           # Bochs: an ordinary exit (ch. 06)
    res = RunResult("timeout", serial, emulator_exit=exit_code or 0, emulator_errors=errors[-20:],
                    emulator_log="\n".join(errors), wall_seconds=wall, workdir=workdir)
    ends = END_RE.findall(serial)
    if ends:
        res.end_nonce, status, tsc = ends[-1]
        res.status, res.tsc_at_end = int(status), int(tsc or 0)
        res.outcome = "finished"
    elif outcome == "matched":
        res.outcome = "matched"
    elif outcome != "timeout":
        res.outcome = "crashed"
    return res


def symbolize(text, kernel):
    """Append function names to the "bt #N 0xADDR" lines of a panic (addr2line, binutils)."""
    addrs = re.findall(r"bt #\S+ 0x([0-9a-f]+)", text)
    tool = shutil.which("addr2line")
    if not addrs or not tool:
        return text
    try:
        out = subprocess.run([tool, "-f", "-s", "-e", kernel] + ["0x" + a for a in addrs],
                             capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return text
    names = {a: "%s (%s)" % (out[2 * i], out[2 * i + 1]) for i, a in enumerate(addrs)
             if 2 * i + 1 < len(out)}
    return re.sub(r"(bt #\S+ 0x([0-9a-f]+))(.*)", lambda m: m.group(1) + m.group(3) + "  "
                  + names.get(m.group(2), ""), text)


def unescape(text):
    """\\r, \\n, \\t and \\\\ in a command-line argument, as a TOML string would have them."""
    return re.sub(r"\\([rnt\\])", lambda m: {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}[m.group(1)],
                  text)


def new_nonce():
    return secrets.token_hex(8)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kernel", help="chapter kernel ELF, e.g. build/chapters/01-detect-vmx/ch01.elf")
    ap.add_argument("--stub", help="romstub.bin (default: next to the build's common/)")
    ap.add_argument("--emu", choices=["bochs", "qemu", "kvm", "auto"], default="bochs")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="Bochs CPU model")
    ap.add_argument("--cpu", default="qemu64", help="QEMU -cpu value (software emulation)")
    ap.add_argument("--cmdline", default="", help="extra kernel command line")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[=NAME]")
    ap.add_argument("--mem", type=int, default=128, help="RAM in MiB")
    ap.add_argument("--boot", choices=["rom", "grub"], default="rom",
                    help="rom: our boot ROM (fast); grub: BIOS + GRUB ISO, as on a PC")
    ap.add_argument("--timeout", type=float, default=None, help="seconds (default 60)")
    ap.add_argument("--ips", type=int, default=DEFAULT_IPS, help="Bochs instructions per second")
    ap.add_argument("--vmx-trace", action="store_true", help="Bochs: log VMX events (cpu0 debug)")
    ap.add_argument("--keep", metavar="DIR", help="keep ROM, config and logs in DIR")
    ap.add_argument("--quiet", action="store_true", help="do not echo the serial console")
    ap.add_argument("--input", nargs=2, action="append", default=[], metavar=("PATTERN", "TEXT"),
                    help="type TEXT on COM1 once the console shows PATTERN (repeatable, in order); "
                         "\\r, \\n and \\t in TEXT are Enter, newline and tab")
    ap.add_argument("--until", metavar="PATTERN",
                    help="stop the run once the console shows PATTERN (a regular expression)")
    ap.add_argument("--interactive", action="store_true",
                    help="this terminal is COM1: what you type goes to the kernel (Ctrl-] ends "
                         "the run; the timeout becomes 4 hours unless given)")
    args = ap.parse_args(argv)
    if args.interactive and not sys.stdin.isatty():
        ap.error("--interactive needs a terminal on standard input")
    timeout = args.timeout if args.timeout is not None else 4 * 3600.0 if args.interactive else 60.0
    stub = args.stub or os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(args.kernel)))), "common", "romstub.bin")
    emu = args.emu
    if emu == "auto":
        emu = "kvm" if kvm_nested_available() else "bochs"
    cmdline = ("nonce=%s %s" % (new_nonce(), args.cmdline)).strip()
    modules = [(p.partition("=")[0], p.partition("=")[2] or os.path.basename(p)) for p in args.module]
    if args.interactive:
        print("runner: COM1 is this terminal; Ctrl-] ends the run", file=sys.stderr)
    try:
        with raw_terminal(sys.stdin) if args.interactive else contextlib.nullcontext():
            res = run_kernel(args.kernel, stub, emu, args.model, args.cpu, cmdline, modules,
                             args.mem, timeout, args.ips, args.vmx_trace,
                             show=None if args.quiet else sys.stdout, keep_dir=args.keep,
                             boot=args.boot, script=[(p, unescape(t)) for p, t in args.input],
                             until=args.until, keyboard=sys.stdin if args.interactive else None)
    except EmulatorMissing as e:
        print("runner: %s" % e, file=sys.stderr)
        return 127
    if "bt #" in res.serial:
        print("\n-- backtrace with function names --")
        print("\n".join(line for line in symbolize(res.serial, args.kernel).splitlines()
                        if "bt #" in line))
    print("\n-- runner: %s (%.2f s wall%s) --" % (res.describe(), res.wall_seconds,
          ", %d emulated instructions" % res.tsc_at_end if emu == "bochs" and res.tsc_at_end else ""),
          file=sys.stderr)
    for line in res.emulator_errors:
        print("   emulator: %s" % line, file=sys.stderr)
    if not args.keep:
        shutil.rmtree(res.workdir, ignore_errors=True)
    return 0 if (res.outcome == "finished" and res.status == 0) or res.outcome in ("matched", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
