#!/usr/bin/env python3
# test_units.py: the grader's parts without an emulator: exercise markers and handouts,
# submissions (archives, git revisions, overlay), recorded serial logs, output formats.
"""Fast unit tests of grading/handout.py, submission.py, report.py and the judging of logs."""
import io
import json
import os
import subprocess
import sys
import tarfile
import unittest
import xml.etree.ElementTree as ET
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import checkpoints  # noqa: E402
import grade  # noqa: E402
import handout  # noqa: E402
import handout_check  # noqa: E402
import report  # noqa: E402
import runner  # noqa: E402
import submission  # noqa: E402

B, E = "BEGIN " + "EXERCISE", "END " + "EXERCISE"   # not markers in this file itself
REGION = """int f(int x)
{
    int y = 0;
    // %s 07-2: double it
    // Instruction: Set y to twice x,
    //   without overflow checks.
    // Hint: SDM Vol. 3C, 1.1.
    y = 2 * x;
    y += 0;
    // %s 07-2
    return y;
}
""" % (B, E)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Markers(unittest.TestCase):
    def test_region_parsed_and_stripped(self):
        (r,) = handout.parse_regions(REGION, "chapters/07-x/a.c")
        self.assertEqual((r.id, r.title, r.chapter), ("07-2", "double it", "07"))
        self.assertEqual(r.instruction, "Set y to twice x, without overflow checks.")
        self.assertEqual(r.hint, "SDM Vol. 3C, 1.1.")
        out = handout.strip_text(REGION, [r])
        self.assertNotIn("2 * x", out)
        self.assertIn('    TODO_EXERCISE("07-2");\n    // %s 07-2' % E, out)
        self.assertIn("// Hint: SDM Vol. 3C, 1.1.", out)

    def test_python_and_other_languages(self):
        py = "def f():\n    # %s 05-1: t\n    # Instruction: i\n    # Hint: h\n    return 1\n    # %s 05-1\n" % (B, E)
        (r,) = handout.parse_regions(py, "tools/x.py")
        self.assertIn("raise NotImplementedError", handout.strip_text(py, [r]))
        asm = "    // %s 05-2: t\n    // Instruction: i\n    // Hint: h\n    movq $1, %%rax\n    // %s 05-2\n" % (B, E)
        with self.assertRaisesRegex(handout.MarkerError, "Stub:"):
            handout.parse_regions(asm, "chapters/05-x/g.S")
        asm = asm.replace("// Hint: h\n", "// Hint: h\n    // Stub: call exercise_05_2\n")
        (r,) = handout.parse_regions(asm, "chapters/05-x/g.S")
        self.assertIn("    call exercise_05_2\n", handout.strip_text(asm, [r]))
        self.assertEqual(handout.parse_regions("// %s 01-1 in prose\n" % B, "docs/x.md"), [])

    def test_malformed_markers(self):
        bad = {
            "no END": "// %s 01-1: t\n// Instruction: i\n// Hint: h\nx;\n" % B,
            "closes exercise": "// %s 01-1: t\n// Instruction: i\n// Hint: h\nx;\n// %s 01-2\n" % (B, E),
            "Hint": "// %s 01-1: t\n// Instruction: i\nx;\n// %s 01-1\n" % (B, E),
            "no code": "// %s 01-1: t\n// Instruction: i\n// Hint: h\n// %s 01-1\n" % (B, E),
            "not NN-k": "// %s 1a: t\n// Instruction: i\n// Hint: h\nx;\n// %s 1a\n" % (B, E),
            "without BEGIN": "x;\n// %s 01-1\n" % E,
            "inside": "// %s 01-1: t\n// Instruction: i\n// Hint: h\nx;\n// %s 01-2: u\n" % (B, B),
        }
        for words, text in bad.items():
            with self.subTest(words=words), self.assertRaisesRegex(handout.MarkerError, words):
                handout.parse_regions(text, "chapters/01-x/a.c")

    def test_tree_rules_and_selection(self):
        tmp = helpers.tempdir(self)
        write(os.path.join(tmp, "chapters/07-x/a.c"), REGION)
        write(os.path.join(tmp, "chapters/08-y/b.c"), REGION.replace("07-2", "08-1"))
        regions = handout.scan(tmp)
        self.assertEqual([r.id for r in regions], ["07-2", "08-1"])
        self.assertEqual([r.id for r in regions if handout.selector("08")(r)], ["08-1"])
        self.assertEqual([r.id for r in regions if handout.selector("07-2")(r)], ["07-2"])
        out = os.path.join(tmp, "handout")
        removed, kept = handout.make_handout(out, "08", tmp)
        self.assertEqual(([r.id for r in removed], [r.id for r in kept]), (["08-1"], ["07-2"]))
        self.assertIn("2 * x", read(os.path.join(out, "chapters/07-x/a.c")))
        self.assertNotIn("2 * x", read(os.path.join(out, "chapters/08-y/b.c")))
        self.assertIn("08-1", read(os.path.join(out, "EXERCISES.md")))
        self.assertIn("2 * x", read(os.path.join(tmp, "chapters/08-y/b.c")))   # source kept
        write(os.path.join(tmp, "chapters/09-z/c.c"), REGION.replace("07-2", "08-1"))
        with self.assertRaisesRegex(handout.MarkerError, "twice"):
            handout.scan(tmp)
        os.unlink(os.path.join(tmp, "chapters/09-z/c.c"))
        write(os.path.join(tmp, "chapters/09-z/c.c"), REGION.replace("07-2", "01-5"))
        with self.assertRaisesRegex(handout.MarkerError, "chapter 09's folder"):
            handout.scan(tmp)

    def test_reference_regions(self):
        regions = handout.scan(helpers.REPO)
        ids = [r.id for r in regions]
        self.assertIn("01-1", ids)
        self.assertGreaterEqual(len([i for i in ids if i.startswith("01-")]), 2)
        for r in regions:
            self.assertTrue(r.instruction and r.hint, r.where())


class Submissions(unittest.TestCase):
    def setUp(self):
        self.tmp = helpers.tempdir(self)
        self.tree = os.path.join(self.tmp, "alice tree")
        write(os.path.join(self.tree, "meson.build"), "project('student')\n")
        write(os.path.join(self.tree, "chapters/01-detect-vmx/main.c"), "int student;\n")
        write(os.path.join(self.tree, "chapters/01-detect-vmx/checkpoints.toml"), "weakened\n")
        write(os.path.join(self.tree, "tools/evil.py"), "x\n")
        write(os.path.join(self.tree, "build/junk.o"), "x\n")

    def materialize(self, spec, rev=""):
        (sub,) = submission.parse([spec], rev)
        dest = os.path.join(self.tmp, "work " + sub.name)
        root, notes = submission.materialize(sub, dest)
        return sub, root, notes

    def test_folder_copy_and_overlay(self):
        os.symlink("/etc/passwd", os.path.join(self.tree, "chapters/01-detect-vmx/link.c"))
        sub, root, notes = self.materialize(self.tree)
        self.assertEqual((sub.kind, sub.name), ("directory", "alice_tree"))
        self.assertFalse(os.path.exists(os.path.join(root, "build")))
        self.assertIn("removed symbolic link chapters/01-detect-vmx/link.c", notes)
        submission.overlay(root)
        ours = os.path.join(helpers.REPO, "chapters/01-detect-vmx/checkpoints.toml")
        with open(ours) as a, open(os.path.join(root, "chapters/01-detect-vmx/checkpoints.toml")) as b:
            self.assertEqual(a.read(), b.read())
        self.assertFalse(os.path.exists(os.path.join(root, "tools/evil.py")))
        self.assertTrue(os.path.isfile(os.path.join(root, "tools/runner.py")))
        self.assertTrue(os.path.isfile(os.path.join(root, "tests/cpu-models.toml")))
        with open(os.path.join(root, "chapters/01-detect-vmx/main.c")) as f:
            self.assertEqual(f.read(), "int student;\n")
        with open(os.path.join(self.tree, "chapters/01-detect-vmx/checkpoints.toml")) as f:
            self.assertEqual(f.read(), "weakened\n")                # the original is untouched

    def test_archives(self):
        tgz = os.path.join(self.tmp, "bob.tar.gz")
        with tarfile.open(tgz, "w:gz") as t:
            t.add(self.tree, arcname="bob-main")
        z = os.path.join(self.tmp, "carol.zip")
        with zipfile.ZipFile(z, "w") as zf:
            zf.writestr("carol/chapters/01-detect-vmx/main.c", "int carol;\n")
            zf.writestr("carol/meson.build", "project('c')\n")
        for path, name, marker in ((tgz, "bob", "int student;\n"), (z, "carol", "int carol;\n")):
            sub, root, _ = self.materialize(path)
            self.assertEqual((sub.kind, sub.name), ("archive", name))
            with open(os.path.join(root, "chapters/01-detect-vmx/main.c")) as f:
                self.assertEqual(f.read(), marker)
        evil = os.path.join(self.tmp, "evil.tar")
        with tarfile.open(evil, "w") as t:
            data = b"x"
            info = tarfile.TarInfo("../../escaped.c")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        with self.assertRaises(submission.SubmissionError):
            self.materialize(evil)
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.tmp), "escaped.c")))

    def test_git_revision(self):
        git = ["git", "-C", self.tree, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(["git", "init", "-q", "-b", "master", self.tree], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-qm", "v1"], check=True)
        subprocess.run(git + ["tag", "v1"], check=True)
        write(os.path.join(self.tree, "chapters/01-detect-vmx/main.c"), "int later;\n")
        subprocess.run(git + ["commit", "-qam", "v2"], check=True)
        sub, root, _ = self.materialize(self.tree + "@v1")
        self.assertEqual((sub.kind, sub.rev, sub.name), ("git", "v1", "alice_tree@v1"))
        with open(os.path.join(root, "chapters/01-detect-vmx/main.c")) as f:
            self.assertEqual(f.read(), "int student;\n")
        self.assertFalse(os.path.exists(os.path.join(root, ".git")))
        with self.assertRaisesRegex(submission.SubmissionError, "not a valid object name"):
            self.materialize(self.tree + "@nonexistent")
        sub, root, _ = self.materialize("file://" + self.tree + "@master")    # a URL: cloned
        self.assertEqual(sub.kind, "git-url")
        with open(os.path.join(root, "chapters/01-detect-vmx/main.c")) as f:
            self.assertEqual(f.read(), "int later;\n")
        (a, b) = submission.parse([self.tree, self.tree])
        self.assertNotEqual(a.name, b.name)


def run_result(serial, outcome="finished"):
    r = runner.RunResult(outcome, serial)
    ends = runner.END_RE.findall(serial)
    if ends and outcome == "finished":
        r.end_nonce, r.status = ends[-1][0], int(ends[-1][1])
    return r


class RecordedLogs(unittest.TestCase):
    """Serial logs as a kernel might leave them, judged as the grader judges them."""
    N = "00112233aabbccdd"

    def judge(self, serial, outcome="finished"):
        ch = checkpoints.load_chapter(os.path.join(helpers.REPO, helpers.FAKE))
        run = next(r for r in ch.runs if r.name == "good")
        results = checkpoints.judge(ch, run, {"name": "t", "emulator": "bochs", "msr": {}}, self.N,
                                    run_result(serial, outcome))
        return {r.id: r for r in results}

    def good(self, end="\n"):
        return ("@ckpt answer-good nonce=%s value=42\n@ckpt echo-good nonce=%s back=0x%s\n"
                "@end nonce=%s status=0 tsc=5%s" % (self.N, self.N, self.N, self.N, end))

    def test_no_trailing_newline(self):
        r = self.judge(self.good(end=""))
        self.assertEqual([r[k].status for k in ("boot", "answer-good", "echo-good")], ["pass"] * 3)

    def test_garbage_and_megabytes(self):
        junk = bytes(range(256)).decode("latin-1") * 4 + "\n@ckpt\n@end\n" + "x" * 3_000_000 + "\n"
        r = self.judge(junk + self.good())
        self.assertEqual(r["answer-good"].status, "pass")

    def test_wrong_or_missing_nonce(self):
        log = self.good().replace("answer-good nonce=%s" % self.N, "answer-good nonce=ffff0000ffff0000")
        log = log.replace("echo-good nonce=%s " % self.N, "echo-good ")
        r = self.judge(log)
        for k in ("answer-good", "echo-good"):
            self.assertEqual(r[k].status, "fail")
            self.assertIn("wrong or missing nonce", r[k].message)
        self.assertEqual(self.judge(self.good().replace(self.N, "0" * 16))["boot"].status, "fail")

    def test_hang_and_triple_fault(self):
        self.assertEqual(self.judge("booting...\n", "timeout")["boot"].status, "fail")
        r = self.judge("booting...\n", "crashed")
        self.assertEqual((r["boot"].status, r["answer-good"].message),
                         ("fail", "missing: the kernel never reported it"))


def sample():
    runs = [grade.RunReport("haswell", "corei7_haswell_4770", "bochs", "finished", "ok", "pass", "ok"),
            grade.RunReport("penryn", "core2_penryn_t9600", "bochs", "timeout", "timeout", "fail",
                            "timeout", diagnostics=["last lines:", "  | \x00\x1b[31mjunk\x07"])]
    cps = [grade.CheckpointReport("vendor", "vendor string", 1, 1, "pass"),
           grade.CheckpointReport("vmx-basic", "basic", 3, 0, "fail",
                                  [{"run": "penryn", "message": "missing: the kernel never reported it",
                                    "details": []}]),
           grade.CheckpointReport("ept", "EPT", 2, 0, "skip")]
    ok = grade.ChapterReport("01", "Detect VMX", earned=1, possible=4, runs=runs, checkpoints=cps)
    bad = grade.ChapterReport("02", "VMXON", build="failed", build_message="vmxon.c:3:1: error: x",
                              possible=5, checkpoints=[grade.CheckpointReport("vmxon", "VMXON", 5, 0, "fail")])
    return grade.SubmissionReport("alice", "alice.tar.gz", [ok, bad])


class Formats(unittest.TestCase):
    def test_gradescope_results_json(self):
        gs = json.loads(json.dumps(report.to_gradescope(sample())))
        self.assertEqual((gs["score"], gs["max_score"]), (1, 9))
        self.assertIsInstance(gs["output"], str)
        names = [t["name"] for t in gs["tests"]]
        self.assertEqual(names, ["chapter 01 vendor", "chapter 01 vmx-basic", "chapter 02 build",
                                 "chapter 02 vmxon"])                       # skipped: not a test
        for t in gs["tests"]:
            self.assertEqual(set(t) - {"name", "score", "max_score", "output", "status", "visibility"}, set())
            self.assertIsInstance(t["score"], (int, float))
            self.assertIsInstance(t["max_score"], (int, float))
            self.assertIn(t["status"], ("passed", "failed"))
            self.assertLessEqual(t["score"], t["max_score"])
            self.assertNotRegex(t["output"], "[\x00-\x08\x0b\x0c\x0e-\x1f]")
        self.assertEqual(sum(t["score"] for t in gs["tests"]), gs["score"])
        self.assertEqual(sum(t["max_score"] for t in gs["tests"]), gs["max_score"])
        vmx = gs["tests"][1]["output"]
        self.assertIn("MISSING", vmx.upper())
        self.assertIn("\\x1b[31mjunk", vmx)
        self.assertIn("error: x", gs["tests"][3]["output"])

    def test_junit_and_json_and_text(self):
        root = ET.fromstring(report.to_junit([sample()]).split("\n", 1)[1])
        suites = root.findall("testsuite")
        self.assertEqual([s.get("name") for s in suites], ["alice.ch01", "alice.ch02"])
        self.assertEqual((suites[0].get("failures"), suites[0].get("skipped")), ("1", "1"))
        self.assertIsNotNone(suites[0].find("testcase[@name='vmx-basic']/failure"))
        self.assertIsNotNone(suites[0].find("testcase[@name='ept']/skipped"))
        data = json.loads(report.to_json([sample()]))
        self.assertEqual((data["submissions"][0]["earned"], data["submissions"][0]["possible"]), (1, 9))
        text = report.text_report(sample())
        self.assertIn("BUILD FAILED", text)
        self.assertNotRegex(text, "[\x00\x07\x1b]")
        table = report.summary_table([sample()], ["01", "02"])
        self.assertIn("build!", table)
        self.assertIn("1/9", table)


class HandoutCheckLogic(unittest.TestCase):
    """handout_check.check() on made-up results: each kind of problem is reported."""

    def chapter(self, fails, earned=0, build="ok", outcome="finished"):
        cps = [grade.CheckpointReport(i, i, 1, 0 if i in fails else 1, "fail" if i in fails else "pass")
               for i in ("a", "b", "c")]
        runs = [grade.RunReport("r", "cpu", "bochs", outcome, "", "pass", "")]
        for cp in cps:
            cp.earned = min(cp.earned, earned) if cp.id in fails else cp.earned
        return grade.ChapterReport("01", "t", build=build, earned=sum(c.earned for c in cps), possible=3,
                                   runs=runs, checkpoints=cps)

    def problems(self, ref, full, mutants, declared=None):
        ch = checkpoints.Chapter("01", "t", "k", "/x", [], 1, [], [
            checkpoints.Checkpoint(i, i, 1, ["True"], [], False, [], exercises=(declared or {}).get(i, []))
            for i in ("a", "b", "c")])
        regions = [handout.Region(i, "", "chapters/01-x/m.c", 0, 1, 2, "i", "h", "s") for i in mutants]
        reports = {"reference": grade.SubmissionReport("reference", "", [ref]),
                   "handout": grade.SubmissionReport("handout", "", [full])}
        reports.update({"only-" + i: grade.SubmissionReport("only-" + i, "", [c]) for i, c in mutants.items()})
        out = []
        handout_check.check([ch], regions, reports, out, lambda t: None)
        return out

    def test_leaked_solution(self):
        tmp = helpers.tempdir(self)
        write(os.path.join(tmp, "chapters/07-x/a.c"), REGION.replace("y = 2 * x;", "y = x + x + 0 * 12345678901234567890;"))
        regions = handout.scan(tmp)
        out = os.path.join(tmp, "handout")
        handout.make_handout(out, "all", tmp)
        self.assertEqual(handout_check.leaks(regions, out, tmp), [])
        write(os.path.join(out, "docs/07.md"), "Solution: y = x + x + 0 * 12345678901234567890;\n")
        (p,) = handout_check.leaks(regions, out, tmp)
        self.assertIn("docs/07.md shows exercise 07-2's solution", p)

    def test_all_good(self):
        self.assertEqual(self.problems(self.chapter(set()), self.chapter({"a", "b", "c"}),
                                       {"01-1": self.chapter({"a"})}, {"a": ["01-1"]}), [])

    def test_each_problem(self):
        p = self.problems(self.chapter({"c"}), self.chapter({"b"}, outcome="timeout"),
                          {"01-1": self.chapter(set()), "01-2": self.chapter({"a"})},
                          {"a": ["01-1"], "c": ["09-9"]})
        text = "\n".join(p)
        for words in ("reference: chapter 01 scores 2/3", "names exercise 09-9, which has no region",
                      "01/a names exercise 01-1 but still passes", "01-1 (chapters/01-x/m.c:1) is badly checked",
                      "handout: chapter 01 hangs", "01/a depends on removed exercise 01-1, 01-2 but scores 1/1"):
            self.assertIn(words, text)


if __name__ == "__main__":
    unittest.main()
