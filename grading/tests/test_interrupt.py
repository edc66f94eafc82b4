#!/usr/bin/env python3
# test_interrupt.py: the grader stopped by SIGTERM or SIGINT while Bochs runs a hung kernel
# ends every emulator (Bochs ignores SIGTERM) and exits 128 + signal; after SIGKILL, the
# emulators die with it (PR_SET_PDEATHSIG). Nothing is left behind.
"""Interrupt grading/run.py in the middle of a hung run and look for survivors."""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402


class Interrupt(unittest.TestCase):
    def interrupt(self, sig):
        tmp = helpers.tempdir(self)
        src = helpers.copy_tree(os.path.join(tmp, "tree"))
        work = os.path.join(tmp, "work")            # the grader's private folders: after SIGKILL
        os.makedirs(work)                           # nobody removes them but this test
        # The hang run's 3 s timeout, times 40: only the signal can end it in time.
        proc = subprocess.Popen([sys.executable, os.path.join(helpers.GRADING, "run.py"), src,
                                 "--chapters", helpers.FAKE, "--out", os.path.join(tmp, "out"),
                                 "--timeout-multiplier", "40", "--jobs", "2"],
                                cwd=helpers.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=dict(os.environ, TMPDIR=work))
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 120
        hang_dir = os.path.join(tmp, "out", "tree", "fake", "hang")
        while time.monotonic() < deadline and proc.poll() is None:
            if any("bochs" in cmd for _, cmd in helpers.processes_mentioning(hang_dir)):
                break
            time.sleep(0.1)
        else:
            self.fail("the hang run's Bochs never started:\n%s" % proc.communicate()[0][-3000:])
        time.sleep(0.5)
        start = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - start
        if sig == signal.SIGKILL:               # no handler runs: the kernel ends the emulator
            self.assertEqual(proc.returncode, -sig)
            time.sleep(1)
        else:
            self.assertEqual(proc.returncode, 128 + sig, out[-3000:])
            self.assertIn("interrupted", out)
            self.assertEqual(os.listdir(work), [])  # private copies removed
        self.assertLess(took, 15, out[-3000:])
        self.assertEqual(helpers.processes_mentioning(tmp), [])

    def test_sigterm(self):
        self.interrupt(signal.SIGTERM)

    def test_sigint(self):
        self.interrupt(signal.SIGINT)

    def test_sigkill(self):
        self.interrupt(signal.SIGKILL)


if __name__ == "__main__":
    unittest.main()
