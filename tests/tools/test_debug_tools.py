# test_debug_tools.py: tools/debug.py without an emulator: the relay between gdb and a fake
# serial socket (re-attach, bytes both ways), the gdb init files, chapter_test's hints.
import os
import socket
import sys
import tempfile
import threading
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import chapter_test  # noqa: E402
import debug  # noqa: E402


class FakeEmulator(threading.Thread):
    """A serial socket server like Bochs': one client, answers every byte with its upper case."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.clients = 0

    def run(self):
        conn, _ = self.sock.accept()
        self.clients += 1
        self.sock.close()                       # Bochs, too, accepts one client only
        with conn:
            while True:
                data = conn.recv(100)
                if not data or data == b"quit":
                    return
                conn.sendall(data.upper())


def talk(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(data)
        got = b""
        while len(got) < len(data):
            got += c.recv(100)
        return got


class RelayTest(unittest.TestCase):
    def test_gdb_can_attach_twice_to_one_emulator_connection(self):
        emu = FakeEmulator()
        emu.start()
        relay = debug.Relay(emu.port, connect_timeout=5)
        relay.start()
        self.assertTrue(relay.connected.wait(5))
        self.assertEqual(talk(relay.port, b"$g#67"), b"$G#67")
        self.assertEqual(talk(relay.port, b"+$qsupported"), b"+$QSUPPORTED")
        self.assertEqual(emu.clients, 1)
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as c:
            c.sendall(b"quit")                  # the emulator ends: the relay ends too
        relay.join(5)
        self.assertFalse(relay.is_alive())

    def test_an_emulator_that_never_listens_is_reported(self):
        relay = debug.Relay(debug.free_port(), connect_timeout=0.3)
        relay.start()
        relay.join(5)
        self.assertIn("never answered", relay.error)


class GdbinitTest(unittest.TestCase):
    def test_architecture_comes_before_the_symbols(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ch01.gdbinit")
            debug.write_gdbinit(path, "build/ch01.elf")
            lines = [l for l in open(path).read().splitlines() if not l.startswith("#")]
            self.assertEqual(lines[0], "set architecture i386:x86-64")
            self.assertEqual(lines[1], "file %s" % os.path.abspath("build/ch01.elf"))

    def test_qemu_session_waits_for_long_mode_with_a_hardware_breakpoint(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s.gdb")
            debug.session_script(path, "x.gdbinit", 1234, qemu_gdbstub=True)
            text = open(path).read()
            self.assertIn("target remote 127.0.0.1:1234\nhbreak kmain\ncontinue\ndelete", text)
            debug.session_script(path, "x.gdbinit", 1234, qemu_gdbstub=False)
            self.assertNotIn("hbreak", open(path).read())


class HintsTest(unittest.TestCase):
    def test_vmx_chapters_in_bochs_point_at_the_trace_command_of_this_run(self):
        run = SimpleNamespace(cpu="corei5_lynnfield_750", cmdline="x=1")
        kernel = os.path.join(chapter_test.SOURCE_ROOT, "build", "chapters", "04-launch", "ch04.elf")
        hints = "\n".join(chapter_test.debug_hints(kernel, run, "bochs", True))
        self.assertIn("from the source folder %s" % chapter_test.SOURCE_ROOT, hints)
        self.assertIn('    tools/vmx_trace.py --model corei5_lynnfield_750 --cmdline "x=1" '
                      'build/chapters/04-launch/ch04.elf\n', hints + "\n")
        self.assertIn("tools/debug.py --model corei5_lynnfield_750", hints)
        hints = "\n".join(chapter_test.debug_hints("build/ch01.elf", run, "qemu", False))
        self.assertNotIn("vmx_trace", hints)
        self.assertIn("tools/debug.py --emu qemu", hints)

    def test_a_build_outside_the_source_folder_is_named_by_its_absolute_path(self):
        run = SimpleNamespace(cpu="tigerlake", cmdline="")
        hints = chapter_test.debug_hints("/tmp/b/chapters/04-launch/ch04.elf", run, "bochs", True,
                                         source_root="/home/me/vtx")
        self.assertIn("    tools/vmx_trace.py --model tigerlake /tmp/b/chapters/04-launch/ch04.elf", hints)


if __name__ == "__main__":
    unittest.main()
