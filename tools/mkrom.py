#!/usr/bin/env python3
# mkrom.py: packs a kernel ELF, its command line and modules into a boot ROM.
# The ROM's reset-vector stub (common/romstub.S) copies them and enters the kernel like a multiboot loader.
"""Build a boot ROM image for Bochs (`romimage:`) and QEMU (`-bios`).

The ROM ends at physical 4 GiB. Its last 64 KiB is the stub; the stub's
first page is a table of copy records that this script fills in:

    ROM base .. 0xFFFEFFFF   payloads: ELF segments, modules, the low block
    0xFFFF0000               table: "HVTROM01", entry, info, count, records
    0xFFFF1000 ..            stub code, reset vector at 0xFFFFFFF0

The "low block" is the multiboot information structure (multiboot v1,
section 3.3) with its memory map, module list and strings, copied to
LOW_BLOCK in conventional memory.
"""
import argparse
import struct
import sys

STUB_SIZE = 0x10000
TABLE_MAGIC = b"HVTROM01"
TABLE_SIZE = 4096
RECORD_SIZE = 16
MAX_ROM = 2 << 20          # Bochs accepts 2 MiB; 4 MiB panics (shared notes)
LOW_BLOCK = 0x9000         # multiboot info + strings, below the stub's stack top
LOW_BLOCK_SIZE = 0x1000
PAGE = 4096

MB_FLAG_MEM, MB_FLAG_CMDLINE, MB_FLAG_MODS, MB_FLAG_MMAP = 1 << 0, 1 << 2, 1 << 3, 1 << 6
MB_INFO_SIZE = 120         # through the last VBE field; we fill the first 52 bytes


class RomError(Exception):
    """A kernel, module or command line that cannot be packed."""


def elf_load_segments(image):
    """Return (entry, [(paddr, data, memsz)]) of an ELF64 x86-64 executable's PT_LOAD segments."""
    if len(image) < 64 or image[:4] != b"\x7fELF":
        raise RomError("kernel is not an ELF file")
    if image[4] != 2 or image[5] != 1:
        raise RomError("kernel is not a little-endian ELF64 file")
    (e_type, e_machine, _ver, e_entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", image, 16)
    if e_machine != 62 or e_type != 2:
        raise RomError("kernel is not an x86-64 executable (e_machine=%d, e_type=%d)" % (e_machine, e_type))
    segments = []
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if off + 56 > len(image):
            raise RomError("program header %d lies outside the file" % i)
        p_type, _pflags, p_offset, _vaddr, p_paddr, p_filesz, p_memsz, _align = \
            struct.unpack_from("<IIQQQQQQ", image, off)
        if p_type != 1 or p_memsz == 0:
            continue
        if p_offset + p_filesz > len(image) or p_filesz > p_memsz:
            raise RomError("segment %d is truncated or malformed" % i)
        if p_paddr < 0x100000 or p_paddr + p_memsz > 0xF0000000:
            raise RomError("segment %d at 0x%x is outside 1 MiB..3.75 GiB" % (i, p_paddr))
        segments.append((p_paddr, image[p_offset:p_offset + p_filesz], p_memsz))
    if not segments:
        raise RomError("kernel has no loadable segment")
    return e_entry, segments


def multiboot_low_block(cmdline, mem_mb, modules):
    """Build the multiboot info block for LOW_BLOCK. modules: [(start, end, name)]."""
    info_at, mmap_at, mods_at, strings_at = LOW_BLOCK, LOW_BLOCK + 0x80, LOW_BLOCK + 0x100, LOW_BLOCK + 0x200
    strings = bytearray()

    def add_string(text):
        addr = strings_at + len(strings)
        strings.extend(text.encode() + b"\0")
        return addr

    cmdline_addr = add_string(cmdline)
    mods = b""
    for start, end, name in modules:
        mods += struct.pack("<IIII", start, end, add_string(name), 0)
    if len(modules) > 16:                                   # 0x100..0x200 holds 16 entries
        raise RomError("at most 16 modules")
    if strings_at + len(strings) > LOW_BLOCK + LOW_BLOCK_SIZE:
        raise RomError("command line and module names exceed %d bytes" % (LOW_BLOCK_SIZE - 0x200))
    # Memory map (multiboot 3.3, E820 types): conventional memory and RAM above 1 MiB.
    mmap = b""
    for base, length in ((0, 0x9F000), (0x100000, (mem_mb << 20) - 0x100000)):
        mmap += struct.pack("<IQQI", 20, base, length, 1)
    flags = MB_FLAG_MEM | MB_FLAG_CMDLINE | MB_FLAG_MMAP | (MB_FLAG_MODS if modules else 0)
    info = struct.pack("<IIIIIII", flags, 636, (mem_mb - 1) * 1024, 0, cmdline_addr,
                       len(modules), mods_at if modules else 0)
    info += b"\0" * 16                                      # syms
    info += struct.pack("<II", len(mmap), mmap_at)
    block = bytearray(0x200)
    block[0:len(info)] = info
    block[0x80:0x80 + len(mmap)] = mmap
    block[0x100:0x100 + len(mods)] = mods
    return bytes(block + strings)


def build_rom(stub, kernel, cmdline="", mem_mb=128, modules=()):
    """Return the ROM image. modules: [(name, bytes)], placed page-aligned after the kernel."""
    if len(stub) != STUB_SIZE:
        raise RomError("stub must be exactly %d bytes, got %d" % (STUB_SIZE, len(stub)))
    if not 4 <= mem_mb <= 3072:
        raise RomError("memory size %d MiB is outside 4..3072" % mem_mb)
    entry, segments = elf_load_segments(kernel)
    kernel_end = max(paddr + memsz for paddr, _, memsz in segments)
    records = [(paddr, data, memsz) for paddr, data, memsz in segments]
    mod_list = []
    next_free = (kernel_end + PAGE - 1) & ~(PAGE - 1)
    for name, data in modules:
        mod_list.append((next_free, next_free + len(data), name))
        records.append((next_free, data, len(data)))
        next_free = (next_free + len(data) + PAGE - 1) & ~(PAGE - 1)
    if next_free > (mem_mb << 20):
        raise RomError("kernel and modules need %d KiB, more than the %d MiB of RAM" % (next_free >> 10, mem_mb))
    low = multiboot_low_block(cmdline, mem_mb, mod_list)
    records.append((LOW_BLOCK, low, len(low)))
    if TABLE_SIZE < 20 + RECORD_SIZE * len(records):
        raise RomError("too many segments and modules for the ROM table")

    payload_size = sum((len(data) + 15) & ~15 for _, data, _ in records)
    rom_size = (payload_size + STUB_SIZE + 0xFFFF) & ~0xFFFF
    if rom_size > MAX_ROM:
        raise RomError("ROM would be %d KiB; the limit is %d KiB (kernel plus modules too large)"
                       % (rom_size >> 10, MAX_ROM >> 10))
    rom_base = (1 << 32) - rom_size
    rom = bytearray(rom_size - STUB_SIZE) + bytearray(stub)
    table = bytearray(TABLE_MAGIC + struct.pack("<III", entry, LOW_BLOCK, len(records)))
    offset = 0
    for dst, data, memsz in records:
        rom[offset:offset + len(data)] = data
        table += struct.pack("<IIII", rom_base + offset, dst, len(data), memsz)
        offset += (len(data) + 15) & ~15
    table_at = rom_size - STUB_SIZE
    rom[table_at:table_at + len(table)] = table
    return bytes(rom)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stub", required=True, help="romstub.bin (64 KiB)")
    ap.add_argument("--kernel", required=True, help="kernel ELF64 executable")
    ap.add_argument("--cmdline", default="", help="kernel command line")
    ap.add_argument("--mem", type=int, default=128, help="RAM size in MiB the emulator will have")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[=NAME]")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    try:
        modules = []
        for spec in args.module:
            path, _, name = spec.partition("=")
            with open(path, "rb") as f:
                modules.append((name or path, f.read()))
        with open(args.stub, "rb") as f:
            stub = f.read()
        with open(args.kernel, "rb") as f:
            kernel = f.read()
        rom = build_rom(stub, kernel, args.cmdline, args.mem, modules)
    except (OSError, RomError) as e:
        print("mkrom: %s" % e, file=sys.stderr)
        return 1
    with open(args.output, "wb") as f:
        f.write(rom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
