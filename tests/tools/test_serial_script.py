# test_serial_script.py: scripted serial input against a fake emulator that listens late and
# writes one byte at a time, as Bochs does; the run declarations input/until and their verdicts.
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import checkpoints  # noqa: E402
import runner  # noqa: E402
import serial_script  # noqa: E402


class FakeGuest(threading.Thread):
    """Listens after a delay, prints a prompt byte by byte, echoes what is typed and
    answers each line with 'ran <line>' and a new prompt."""

    def __init__(self, port, listen_after=0.3):
        super().__init__(daemon=True)
        self.port, self.listen_after = port, listen_after
        self.received = b""

    def run(self):
        time.sleep(self.listen_after)
        with socket.create_server(("127.0.0.1", self.port)) as srv:
            conn, _ = srv.accept()
            with conn:
                self._send(conn, b"booting\r\n>> ")
                line = b""
                while True:
                    data = conn.recv(1)
                    if not data:
                        return
                    self.received += data
                    if data == b"\r":
                        self._send(conn, b"\r\nran %s\r\n>> " % line)
                        line = b""
                    else:
                        line += data
                        self._send(conn, data)

    @staticmethod
    def _send(conn, data):
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])


class ScriptedConsoleTest(unittest.TestCase):
    def setUp(self):
        self.log = tempfile.NamedTemporaryFile(delete=False).name
        self.port = serial_script.free_port()

    def tearDown(self):
        os.unlink(self.log)

    def wait_for(self, console, text, seconds=10):
        deadline = time.monotonic() + seconds
        while text not in console.text and time.monotonic() < deadline:
            time.sleep(0.02)

    def test_steps_are_typed_in_order_after_their_patterns(self):
        guest = FakeGuest(self.port)
        guest.start()
        console = serial_script.ScriptedConsole(self.port, self.log, [(">> ", "usertests\r"),
                                                                      (">> ", "exit\r")],
                                                char_delay=0.001).start()
        self.wait_for(console, "ran exit")
        console.close()
        self.assertEqual(guest.received, b"usertests\rexit\r")
        self.assertTrue(console.done())
        self.assertEqual(len(console.step_times), 2)
        with open(self.log, "rb") as f:
            logged = f.read()
        self.assertIn(b">> usertests\r\nran usertests\r\n>> exit", logged)
        self.assertNotIn("\r", console.text)

    def test_a_pattern_that_never_appears_types_nothing(self):
        guest = FakeGuest(self.port, listen_after=0)
        guest.start()
        console = serial_script.ScriptedConsole(self.port, self.log, [("login: ", "root\r")]).start()
        self.wait_for(console, ">> ")
        time.sleep(0.1)
        console.close()
        self.assertFalse(console.done())
        self.assertEqual(guest.received, b"")

    def test_keys_sent_before_and_after_connecting(self):
        guest = FakeGuest(self.port, listen_after=0.3)
        guest.start()
        console = serial_script.ScriptedConsole(self.port, self.log)
        console.send(b"he")                  # before the emulator listens: kept until connected
        console.start()
        self.wait_for(console, ">> ")
        console.send(b"llo\r")
        self.wait_for(console, "ran hello")
        console.close()
        self.assertEqual(guest.received, b"hello\r")

    def test_keyboard_relay_and_ctrl_bracket(self):
        sent = []
        fake = type("C", (), {"send": lambda self, d: sent.append(d)})()
        r, w = os.pipe()
        with os.fdopen(r, "rb", buffering=0) as keyboard:
            os.write(w, b"ls\r")
            self.assertFalse(runner._type_keys(keyboard, fake))
            os.write(w, b"x\x1dy")
            self.assertTrue(runner._type_keys(keyboard, fake))
        os.close(w)
        self.assertEqual(b"".join(sent), b"ls\rx")

    def test_nobody_listening_is_reported(self):
        console = serial_script.ScriptedConsole(self.port, self.log, [(">> ", "x")])
        console.start(alive=lambda: False)
        console.stop()
        self.assertIn("could not connect", console.error)


DECL = """
[chapter]
id = "g"
title = "guest"
kernel = "g"
[[run]]
name = "a"
cpu = "intel"
input = [[">> ", "usertests\\r"]]
until = '^done$'
"""


class DeclarationTest(unittest.TestCase):
    def load(self, text):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "checkpoints.toml"), "w") as f:
            f.write(text + '[[checkpoint]]\nid = "c"\nsource = "console"\nexpect = ["search(\'x\')"]\n')
        return checkpoints.load_chapter(d)

    def test_input_and_until(self):
        run = self.load(DECL).runs[0]
        self.assertEqual(run.input, [(">> ", "usertests\r")])
        self.assertEqual(run.until, "^done$")

    def test_malformed_input_is_refused(self):
        for bad in ('input = [">> "]', 'input = [[">> ", 1]]', 'input = [["(", "x"]]', "until = '('"):
            text = DECL.replace('input = [[">> ", "usertests\\r"]]', bad).replace("until = '^done$'", "")
            if bad.startswith("until"):
                text = DECL.replace("until = '^done$'", bad)
            with self.assertRaises(checkpoints.DeclarationError, msg=bad):
                self.load(text)

    def test_until_matched_is_a_boot_pass_and_a_timeout_is_not(self):
        ch = self.load(DECL)
        facts = {"name": "intel", "msr": {}}
        ok = runner.RunResult("matched", "x\ndone\n", until="^done$")
        hung = runner.RunResult("timeout", "x\n")
        self.assertEqual(checkpoints.judge(ch, ch.runs[0], facts, "N", ok)[0].status, "pass")
        self.assertEqual(checkpoints.judge(ch, ch.runs[0], facts, "N", hung)[0].status, "fail")

    def test_command_line_escapes(self):
        self.assertEqual(runner.unescape(r"usertests\r"), "usertests\r")
        self.assertEqual(runner.unescape(r"a\\r\n\t"), "a\\r\n\t")


if __name__ == "__main__":
    unittest.main()
