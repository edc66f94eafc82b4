#!/usr/bin/env python3
# serial_script.py: types scripted input into a guest's serial port over TCP and records
# everything the guest writes there; the emulator listens (Bochs socket-server, QEMU tcp server).
"""Scripted serial input for runs that need a keyboard (a shell prompt, a menu).

A script is a list of steps (pattern, text): once the console output shows the
regular expression `pattern` (searched after where the previous step matched),
`text` is typed, one character every `char_delay` seconds. Everything the guest
writes is appended to the log file as it arrives, so the rest of the runner
(console echo, `until`, checkpoints) reads the same serial.log as in file mode.

Facts this relies on (Bochs 2.7, see docs/checkpoints.md):
- Bochs waits before the first instruction until a client connects to a
  socket-server port; the listener appears about 0.2 s after launch, so connect
  with retries. It accepts one client per run.
- Bochs sends one byte per write(); once the exchange is interactive, Linux
  delays our ACKs and Bochs' output stalls behind them: TCP_QUICKACK after each
  read keeps it fast (30 tinyos command round trips: 0.25 s with, 1.5 s without).
- Typed bytes wait in the socket until the UART can take them: nothing typed is
  lost, however fast (char_delay=0 works).
- If the client goes away while the guest writes, Bochs dies of SIGPIPE: close
  the socket only after the emulator has stopped (close()).
"""
import re
import select
import socket
import threading
import time

CHAR_DELAY = 0.02          # seconds between typed characters, as a quick typist
CONNECT_TIMEOUT = 20.0


def free_port():
    """A TCP port that was free a moment ago (the emulator binds it next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedConsole:
    """The client side of an emulated serial port: records output, types the script."""

    def __init__(self, port, log_path, steps=(), char_delay=CHAR_DELAY, host="127.0.0.1"):
        self.address = (host, port)
        self.log_path = log_path
        self.steps = [(re.compile(pattern, re.M), text) for pattern, text in steps]
        self.char_delay = char_delay
        self.text = ""             # the output so far, decoded, without \r
        self.step_times = []       # time.monotonic() when each step's pattern appeared
        self.connected_at = None
        self.error = ""
        self._pos = 0              # where the next step's pattern is searched from
        self._typed = b""          # bytes from send() not yet written to the socket
        self._lock = threading.Lock()
        self._sock = None
        self._stop = threading.Event()
        self._thread = None

    def start(self, alive=lambda: True):
        """Connect and run in a thread; alive() says whether the emulator still runs."""
        self._thread = threading.Thread(target=self._run, args=(alive,), daemon=True)
        self._thread.start()
        return self

    def _connect(self, alive):
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not self._stop.is_set() and alive() and time.monotonic() < deadline:
            try:
                return socket.create_connection(self.address, timeout=1)
            except OSError:
                time.sleep(0.05)
        self.error = "could not connect to the emulator's serial port %s:%d" % self.address
        return None

    def _run(self, alive):
        sock = self._connect(alive)
        if sock is None:
            return
        self._sock = sock
        self.connected_at = time.monotonic()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with open(self.log_path, "ab") as log:
            while not self._stop.is_set():
                ready, _, _ = select.select([sock], [], [], 0.05)
                self._flush_typed(sock)
                if not ready:
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    break
                if not data:                      # the emulator closed its end
                    break
                if hasattr(socket, "TCP_QUICKACK"):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                log.write(data)
                log.flush()
                self.text += data.decode("utf-8", "replace").replace("\r", "")
                self._advance(sock)

    def _advance(self, sock):
        """Type every step whose pattern has now appeared, in order."""
        while len(self.step_times) < len(self.steps):
            pattern, text = self.steps[len(self.step_times)]
            m = pattern.search(self.text, self._pos)
            if not m:
                return
            self._pos = m.end()
            self.step_times.append(time.monotonic())
            for ch in text:
                if self._stop.is_set():
                    return
                try:
                    sock.sendall(ch.encode("latin-1"))
                except OSError:
                    return
                time.sleep(self.char_delay)

    def send(self, data):
        """Type bytes now (a person at the keyboard): written as soon as connected."""
        with self._lock:
            self._typed += data

    def _flush_typed(self, sock):
        with self._lock:
            data, self._typed = self._typed, b""
        if data:
            try:
                sock.sendall(data)
            except OSError:
                pass

    def done(self):
        """True when every step has been typed."""
        return len(self.step_times) == len(self.steps)

    def stop(self):
        """Stop reading (the socket stays open until close())."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def close(self):
        """Close the connection: only once the emulator is gone (SIGPIPE otherwise)."""
        self.stop()
        if self._sock:
            self._sock.close()
            self._sock = None
