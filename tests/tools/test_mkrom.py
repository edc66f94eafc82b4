# test_mkrom.py: the boot-ROM packer: ELF parsing, the copy table the stub reads,
# the multiboot information block, and refusals of bad input.
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import mkrom  # noqa: E402

STUB = bytes(mkrom.STUB_SIZE)


def fake_elf(segments, entry=0x100000, machine=62):
    """A minimal ELF64 executable with the given [(paddr, data, memsz)] PT_LOAD segments."""
    phoff, phnum = 64, len(segments)
    data_off = phoff + 56 * phnum
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, entry, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
    phdrs, body = b"", b""
    for paddr, data, memsz in segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, 5, data_off + len(body), paddr, paddr, len(data), memsz, 4096)
        body += data
    return header + phdrs + body


def table(rom):
    t = len(rom) - mkrom.STUB_SIZE
    magic = rom[t:t + 8]
    entry, info, count = struct.unpack_from("<III", rom, t + 8)
    recs = [struct.unpack_from("<IIII", rom, t + 20 + 16 * i) for i in range(count)]
    return magic, entry, info, recs


class MkromTest(unittest.TestCase):
    def test_segments_and_bss_are_recorded(self):
        elf = fake_elf([(0x100000, b"\x90" * 100, 0x3000)], entry=0x100010)
        rom = mkrom.build_rom(STUB, elf, "nonce=abc", 64)
        magic, entry, info, recs = table(rom)
        self.assertEqual(magic, b"HVTROM01")
        self.assertEqual(entry, 0x100010)
        self.assertEqual(info, mkrom.LOW_BLOCK)
        base = (1 << 32) - len(rom)
        src, dst, filesz, memsz = recs[0]
        self.assertEqual((dst, filesz, memsz), (0x100000, 100, 0x3000))
        self.assertEqual(rom[src - base:src - base + 100], b"\x90" * 100)
        self.assertEqual(len(rom) % 0x10000, 0)

    def test_multiboot_info_block(self):
        elf = fake_elf([(0x100000, b"k", 0x1000)])
        rom = mkrom.build_rom(STUB, elf, "nonce=1234 guest=x", 64, [("guest.bin", b"G" * 5000)])
        _, _, _, recs = table(rom)
        base = (1 << 32) - len(rom)
        mod = recs[1]
        self.assertEqual(mod[1], 0x101000)                 # page after the kernel
        low = next(r for r in recs if r[1] == mkrom.LOW_BLOCK)
        block = rom[low[0] - base:low[0] - base + low[2]]
        flags, mem_lower, mem_upper, _, cmdline, mods_count, mods_addr = struct.unpack_from("<7I", block)
        self.assertEqual(flags & 0x4d, 0x4d)               # mem, cmdline, mods, mmap
        self.assertEqual(mem_upper, 63 * 1024)
        text = block[cmdline - mkrom.LOW_BLOCK:].split(b"\0")[0]
        self.assertEqual(text, b"nonce=1234 guest=x")
        self.assertEqual(mods_count, 1)
        start, end, name, _ = struct.unpack_from("<4I", block, mods_addr - mkrom.LOW_BLOCK)
        self.assertEqual((start, end), (0x101000, 0x101000 + 5000))
        self.assertEqual(block[name - mkrom.LOW_BLOCK:].split(b"\0")[0], b"guest.bin")

    def test_refusals(self):
        with self.assertRaisesRegex(mkrom.RomError, "not an ELF"):
            mkrom.build_rom(STUB, b"MZ" + bytes(100))
        with self.assertRaisesRegex(mkrom.RomError, "x86-64"):
            mkrom.build_rom(STUB, fake_elf([(0x100000, b"k", 1)], machine=3))
        with self.assertRaisesRegex(mkrom.RomError, "truncated"):
            mkrom.build_rom(STUB, fake_elf([(0x100000, b"k" * 64, 64)])[:-10])
        with self.assertRaisesRegex(mkrom.RomError, "limit"):
            mkrom.build_rom(STUB, fake_elf([(0x100000, bytes(3 << 20), 3 << 20)]))
        with self.assertRaisesRegex(mkrom.RomError, "outside"):
            mkrom.build_rom(STUB, fake_elf([(0x1000, b"k", 1)]))
        with self.assertRaisesRegex(mkrom.RomError, "exceed"):
            mkrom.build_rom(STUB, fake_elf([(0x100000, b"k", 1)]), "x" * 5000)


if __name__ == "__main__":
    unittest.main()
