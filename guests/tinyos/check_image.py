#!/usr/bin/env python3
# check_image.py: checks the tinyos ELF and flat binary the way loaders see them: the multiboot
# a.out-kludge header, load and entry addresses, and that both files hold the same bytes (TAP).
"""check_image.py TINYOS.elf TINYOS.bin

Loaders that use the a.out kludge (GRUB, QEMU -kernel) read the file as a flat
image starting (header offset - (header_addr - load_addr)) bytes in; our ROM
loads the ELF's PT_LOAD segments by physical address; a hypervisor loads the
flat binary at 0x200000. All three must put the same bytes at the same place.
"""
import struct
import sys

LOAD = 0x200000
MB_MAGIC = 0x1BADB002
MB_FLAGS = 0x00010002
SEARCH = 8192                    # the header must lie in the first 8 KiB (multiboot 3.1.1)


def find_header(data):
    for off in range(0, min(len(data), SEARCH) - 32, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic == MB_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return off, struct.unpack_from("<IIIIIIII", data, off)
    return None, None


def elf_image(elf):
    """Entry point, and (paddr, bytes, memsz) of each PT_LOAD segment."""
    entry, phoff = struct.unpack_from("<QQ", elf, 24)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    segs = []
    for i in range(phnum):
        p_type, _, off, _, paddr, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1 and memsz:
            segs.append((paddr, elf[off:off + filesz], memsz))
    return entry, segs


def main(argv):
    with open(argv[0], "rb") as f:
        elf = f.read()
    with open(argv[1], "rb") as f:
        flat = f.read()
    entry, segs = elf_image(elf)
    end = max(p + len(d) for p, d, _ in segs)
    image = bytearray(end - LOAD)
    for paddr, data, _ in segs:
        image[paddr - LOAD:paddr - LOAD + len(data)] = data
    checks = [
        ("ELF64 x86-64 executable", elf[:5] == b"\x7fELF\x02" and struct.unpack_from("<HH", elf, 16) == (2, 62)),
        ("ELF entry point is 0x200000", entry == LOAD),
        ("lowest segment loads at physical 0x200000", min(p for p, _, _ in segs) == LOAD),
        ("flat binary = the ELF's segments laid out from 0x200000", bytes(image) == flat),
        ("0x200000 holds code: a short jump over the header", flat[:1] == b"\xeb"),
    ]
    off, hdr = find_header(flat)
    checks.append(("multiboot header in the flat binary's first 8 KiB", hdr is not None))
    if hdr:
        _, flags, _, header_addr, load_addr, load_end, bss_end, mb_entry = hdr
        bss = max(p + m for p, _, m in segs)
        checks += [
            ("header flags 0x%08x (memory info, a.out kludge)" % MB_FLAGS, flags == MB_FLAGS),
            ("header_addr - load_addr = its offset in the flat binary", header_addr - load_addr == off),
            ("load_addr = entry_addr = 0x200000", load_addr == LOAD and mb_entry == LOAD),
            ("load_end_addr = end of the flat binary", load_end == LOAD + len(flat)),
            ("bss_end_addr = end of the ELF's memory image", bss_end == bss),
        ]
        eoff, ehdr = find_header(elf)
        start = eoff - (header_addr - load_addr) if ehdr else -1
        checks.append(("ELF file read as an a.out-kludge image gives the flat binary",
                       ehdr == hdr and start >= 0 and elf[start:start + len(flat)] == flat))
    print("TAP version 13")
    print("1..%d" % len(checks))
    for n, (name, ok) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
