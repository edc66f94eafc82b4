#!/usr/bin/env python3
# test_gradescope.py: the Gradescope package as Gradescope uses it: the zip unpacked into
# <root>/source, run_autograder on <root>/submission, results.json in the platform's format.
"""make_autograder.py's zip and run_autograder, with AUTOGRADER_ROOT standing in for /autograder."""
import json
import os
import stat
import subprocess
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

MAKE = os.path.join(helpers.GRADING, "gradescope", "make_autograder.py")


def check_results(test, data):
    """The fields Gradescope reads (its autograder specification), with their types."""
    test.assertIsInstance(data["score"], (int, float))
    test.assertIsInstance(data.get("output", ""), str)
    for t in data["tests"]:
        test.assertIsInstance(t["name"], str)
        test.assertIsInstance(t["score"], (int, float))
        test.assertIsInstance(t["max_score"], (int, float))
        test.assertIn(t["status"], ("passed", "failed"))
        test.assertIn(t["visibility"], ("visible", "hidden", "after_due_date", "after_published"))


class Gradescope(unittest.TestCase):
    def setUp(self):
        self.root = helpers.tempdir(self, "hvt gradescope ")
        zpath = os.path.join(self.root, "autograder.zip")
        subprocess.run([sys.executable, MAKE, "--chapters", "01", "-o", zpath], check=True,
                       capture_output=True)
        with zipfile.ZipFile(zpath) as z:
            names = z.namelist()
            self.assertIn("setup.sh", names)
            self.assertIn("run_autograder", names)
            self.assertIn("grading/run.py", names)
            self.assertTrue(stat.S_IXUSR & (z.getinfo("run_autograder").external_attr >> 16))
            z.extractall(os.path.join(self.root, "source"))
        for name in names:                          # Gradescope keeps the modes; extractall not
            mode = z.getinfo(name).external_attr >> 16
            os.chmod(os.path.join(self.root, "source", name), mode & 0o777)
        with open(os.path.join(self.root, "source/grading/gradescope/autograder.conf")) as f:
            self.assertIn("CHAPTERS=01", f.read())

    def autograde(self, submission_files):
        helpers.copy_tree(os.path.join(self.root, "submission"), submission_files) \
            if submission_files else os.makedirs(os.path.join(self.root, "submission"))
        proc = subprocess.run(["sh", os.path.join(self.root, "source", "run_autograder")],
                              env=dict(os.environ, AUTOGRADER_ROOT=self.root), capture_output=True,
                              text=True, timeout=300)
        with open(os.path.join(self.root, "results", "results.json")) as f:
            data = json.load(f)
        check_results(self, data)
        self.assertEqual(helpers.processes_mentioning(self.root), [])
        return proc, data

    def test_reference_scores_full_marks(self):
        proc, data = self.autograde(helpers.REPO)
        self.assertEqual(data["score"], data["max_score"], proc.stdout[-2000:])
        self.assertEqual(data["max_score"], sum(t["max_score"] for t in data["tests"]))
        self.assertTrue(any(t["name"] == "chapter 01 vmx-basic" for t in data["tests"]))
        self.assertTrue(os.path.isfile(os.path.join(self.root, "results/logs/submission/01/haswell/serial.log")))

    def test_empty_submission_scores_zero_with_a_reason(self):
        proc, data = self.autograde(None)
        self.assertEqual(data["score"], 0)
        self.assertEqual(data["max_score"], 29)                 # chapter 01's points, all lost
        self.assertIn("no chapters/ folder", json.dumps(data))

    def test_grader_failure_still_writes_results(self):
        conf = os.path.join(self.root, "source/grading/gradescope/autograder.conf")
        with open(conf, "a") as f:
            f.write("CHAPTERS=99\n")
        proc, data = self.autograde(None)
        self.assertEqual(data["score"], 0)
        self.assertIn("could not grade", data["output"])
        self.assertIn("no chapter 99", data["output"])


if __name__ == "__main__":
    unittest.main()
