#!/usr/bin/env python3
# grub_iso.py: wraps a chapter kernel in a GRUB rescue ISO, the route real hardware (a USB
# stick) and a BIOS-based emulator boot: GRUB's multiboot loader reads the kernel's header.
"""Make a bootable GRUB ISO for a chapter kernel (and optional modules).

    tools/grub_iso.py build/chapters/01-detect-vmx/ch01.elf ch01.iso --cmdline "nonce=x"

Needs Debian's grub-pc-bin, grub-common, xorriso and mtools. Slower to boot than the
ROM route (about a second of BIOS and GRUB), but it is how the kernel boots on a PC.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGES = "grub-pc-bin grub-common xorriso mtools"


class IsoError(Exception):
    """The ISO could not be made; the message says why (e.g. the package to install)."""


def make_iso(kernel, output, cmdline="", modules=()):
    """modules: [(path, name)]."""
    tool = shutil.which("grub-mkrescue")
    if not tool or not shutil.which("xorriso"):
        raise IsoError("grub-mkrescue or xorriso not found: install them with "
                       "'sudo apt-get install %s'" % PACKAGES)
    tree = tempfile.mkdtemp(prefix="hvt-iso-")
    try:
        os.makedirs(os.path.join(tree, "boot", "grub"))
        shutil.copy(kernel, os.path.join(tree, "boot", "kernel.elf"))
        lines = ["set timeout=0", "serial --unit=0 --speed=115200", "terminal_input serial",
                 "terminal_output serial", "menuentry kernel {",
                 "  multiboot /boot/kernel.elf %s" % cmdline]
        for i, (path, name) in enumerate(modules):
            shutil.copy(path, os.path.join(tree, "boot", "module%d" % i))
            lines.append("  module /boot/module%d %s" % (i, name))
        lines += ["  boot", "}"]
        with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")
        proc = subprocess.run([tool, "-o", output, tree], capture_output=True, text=True)
        if proc.returncode != 0:
            raise IsoError("grub-mkrescue failed: %s" % proc.stderr.strip()[-400:])
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kernel")
    ap.add_argument("output")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[=NAME]")
    args = ap.parse_args(argv)
    mods = [(m.partition("=")[0], m.partition("=")[2] or os.path.basename(m)) for m in args.module]
    try:
        make_iso(args.kernel, args.output, args.cmdline, mods)
    except IsoError as e:
        print("grub_iso: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
