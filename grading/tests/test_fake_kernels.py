#!/usr/bin/env python3
# test_fake_kernels.py: the grader on kernels that misbehave on purpose (fake/fake.c): each
# gets the right score within its time bound, in a path with spaces, and no emulator survives.
"""Grades grading/tests/fake once (every case in parallel) and checks every case."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

# case: (points expected, boot verdict, runner outcome, words in the boot message)
CASES = {
    "good": (5, "pass", "finished", "status 0"),
    "garbage": (5, "pass", "finished", "status 0"),
    "nonewline": (5, "pass", "finished", "status 0"),
    "flood": (5, "pass", "finished", "status 0"),
    "endless": (0, "fail", "error", "printed more than"),
    "triple": (0, "fail", "crashed", "emulator stopped"),
    "fakenonce": (0, "pass", "finished", "status 0"),
    "hang": (0, "fail", "timeout", "did not power off"),
    "crash": (0, "fail", "crashed", "signal 11"),
}


class FakeKernels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hvt grader fake ")
        src = helpers.copy_tree(os.path.join(cls.tmp, "student tree"))
        cls.out = os.path.join(cls.tmp, "out dir")
        cls.files = {k: os.path.join(cls.tmp, "results." + k) for k in ("json", "xml", "gs.json")}
        start = time.monotonic()
        cls.proc = helpers.grader([src, "--chapters", helpers.FAKE, "--jobs", "2", "--out", cls.out,
                                   "--max-output-mb", "2", "--json", cls.files["json"],
                                   "--junit", cls.files["xml"], "--gradescope", cls.files["gs.json"]],
                                  env={"PATH": helpers.fake_bochs(cls.tmp)})
        cls.seconds = time.monotonic() - start
        cls.survivors = helpers.processes_mentioning(cls.tmp)
        with open(cls.files["json"]) as f:
            cls.sub = json.load(f)["submissions"][0]
        cls.chapter = cls.sub["chapters"][0]
        cls.cps = {c["id"]: c for c in cls.chapter["checkpoints"]}
        cls.runs = {r["name"]: r for r in cls.chapter["runs"]}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_grader_succeeded(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-3000:])
        self.assertEqual(self.chapter["build"], "ok")
        self.assertLess(self.seconds, 120)

    def test_every_case_scores_right(self):
        for case, (points, boot, outcome, words) in CASES.items():
            with self.subTest(case=case):
                got = self.cps["answer-" + case]["earned"] + self.cps["echo-" + case]["earned"]
                self.assertEqual(got, points, self.cps["answer-" + case])
                run = self.runs[case]
                self.assertEqual((run["boot"], run["outcome"]), (boot, outcome), run)
                self.assertIn(words, run["boot_message"])
        self.assertEqual(self.chapter["earned"], 20)
        self.assertEqual(self.chapter["possible"], 45)

    def test_time_bounds(self):
        for case, run in self.runs.items():
            with self.subTest(case=case):
                bound = 3 if case == "hang" else 20
                self.assertLess(run["wall_seconds"], bound + 4, run)
        self.assertGreaterEqual(self.runs["hang"]["wall_seconds"], 3)

    def test_wrong_and_missing_nonce_are_named(self):
        for cp in ("answer-fakenonce", "echo-fakenonce"):
            msg = self.cps[cp]["failures"][0]["message"]
            self.assertIn("wrong or missing nonce", msg)

    def test_missing_checkpoint_shows_last_lines_and_emulator_errors(self):
        diag = "\n".join(self.runs["triple"]["diagnostics"])
        self.assertIn("last 15 lines", diag)
        self.assertIn("before dying", diag)
        self.assertIn("3rd (13) exception with no resolution", diag)      # Bochs' own line
        self.assertIn("serial.log", diag)

    def test_logs_are_kept_per_run(self):
        for case in CASES:
            with self.subTest(case=case):
                d = os.path.join(self.out, "student_tree", "fake", case)
                self.assertTrue(os.path.isfile(os.path.join(d, "serial.log")), d)
                self.assertFalse(os.path.exists(os.path.join(d, "kernel.rom")))
        with open(os.path.join(self.out, "student_tree", "fake", "flood", "serial.log"), "rb") as f:
            self.assertGreater(len(f.read()), 1_000_000)

    def test_no_emulator_survives(self):
        self.assertEqual(self.survivors, [])

    def test_outputs_parse(self):
        ET.parse(self.files["xml"])              # binary garbage did not break the XML
        with open(self.files["gs.json"]) as f:
            gs = json.load(f)
        self.assertEqual((gs["score"], gs["max_score"]), (20, 45))
        text = json.dumps(gs)
        self.assertNotIn("\\u0001", text)
        self.assertIn("\\\\x01", text)           # shown as \x01, not as the byte
        with open(os.path.join(self.out, "student_tree", "report.txt")) as f:
            self.assertIn("MISSING", f.read())


if __name__ == "__main__":
    unittest.main()
