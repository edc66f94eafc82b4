#!/usr/bin/env python3
# test_chapter01.py: the grader on the real chapter 01: full marks on a fresh copy of the
# tree; a kernel that decodes a wrong revision id loses vmx-basic even when the submission
# weakens its own checkpoints.toml; a chapter that does not build, or is missing, scores 0 alone.
"""Chapter 01 graded from a fresh copy, and from submissions broken on purpose."""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

BASIC_H = "chapters/01-detect-vmx/vmx_caps.h"
VMXON_C = "chapters/02-vmxon/vmxon.c"
RIGHT = "#define VMX_BASIC_REVISION(b)      ((uint32_t)((b) & 0x7fffffff))"
WRONG = "#define VMX_BASIC_REVISION(b)      ((uint32_t)((b) & 0x7ffffff0))"


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise AssertionError("%s no longer contains %r: update the test" % (path, old))
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def chapter(report, ident):
    return next(c for c in report["chapters"] if c["id"] == ident)


class Chapter01(unittest.TestCase):
    def test_fresh_copy_scores_full_marks(self):
        """`grading/run.py --chapters 01 --json out.json` in a fresh clone grades that clone."""
        tmp = helpers.tempdir(self)
        clone = helpers.copy_tree(os.path.join(tmp, "fresh clone"))
        work = os.path.join(tmp, "private work")            # the grader's build folder: spaces too
        os.makedirs(work)
        proc = helpers.grader(["--chapters", "01", "--json", "out.json"], cwd=clone, grader_repo=clone,
                              env={"TMPDIR": work})
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        with open(os.path.join(clone, "out.json")) as f:
            sub = json.load(f)["submissions"][0]
        ch = chapter(sub, "01")
        self.assertGreater(ch["possible"], 20)
        self.assertEqual(ch["earned"], ch["possible"], proc.stdout[-3000:])
        self.assertIn("29/29", proc.stdout)
        self.assertEqual(helpers.processes_mentioning(tmp), [])

    def test_broken_submissions(self):
        tmp = helpers.tempdir(self)
        # 1: decodes a wrong VMCS revision id, and weakens its own copy of the checks.
        wrong = helpers.copy_tree(os.path.join(tmp, "wrong revision"))
        edit(os.path.join(wrong, BASIC_H), RIGHT, WRONG)
        edit(os.path.join(wrong, "chapters/01-detect-vmx/checkpoints.toml"),
             '"revision == bits(msr(\'IA32_VMX_BASIC\'), 30, 0)",', '')
        # 2: chapter 02 does not compile; chapter 01 is untouched.
        broken = helpers.copy_tree(os.path.join(tmp, "broken build"))
        edit(os.path.join(broken, VMXON_C), "uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1)\n{",
             "uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1)\n{\n    this is not C;")
        # 3: chapter 02's folder is missing: the tree cannot be configured as it is.
        missing = helpers.copy_tree(os.path.join(tmp, "missing chapter"))
        shutil.rmtree(os.path.join(missing, "chapters/02-vmxon"))
        before = {p: read(os.path.join(wrong, p), "rb") for p in (BASIC_H, "chapters/01-detect-vmx/main.c")}
        out = os.path.join(tmp, "out")
        proc = helpers.grader([wrong, broken, missing, "--chapters", "01,02", "--jobs", "2",
                               "--out", out, "--json", os.path.join(tmp, "r.json")])
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        with open(os.path.join(tmp, "r.json")) as f:
            subs = {s["name"]: s for s in json.load(f)["submissions"]}

        ch = chapter(subs["wrong_revision"], "01")
        cps = {c["id"]: c for c in ch["checkpoints"]}
        self.assertEqual(cps["vmx-basic"]["status"], "fail")
        self.assertIn("revision == bits(msr('IA32_VMX_BASIC'), 30, 0)", cps["vmx-basic"]["failures"][0]["message"])
        self.assertEqual(ch["earned"], ch["possible"] - cps["vmx-basic"]["points"])
        self.assertEqual(cps["ctls-pin"]["status"], "pass")
        for p, data in before.items():                 # the grader never edits a submission
            self.assertEqual(read(os.path.join(wrong, p), "rb"), data)

        full = chapter(subs["broken_build"], "01")
        self.assertEqual((full["build"], full["earned"]), ("ok", full["possible"]))
        ch02 = chapter(subs["broken_build"], "02")
        self.assertEqual((ch02["build"], ch02["earned"]), ("failed", 0))
        self.assertEqual(ch02["possible"], chapter(subs["wrong_revision"], "02")["possible"])
        self.assertGreater(ch02["possible"], 0)
        self.assertRegex(ch02["build_message"], VMXON_C + r":\d+:\d+: error:")
        self.assertNotIn(tmp, ch02["build_message"])         # paths shown relative to the tree
        self.assertIn("BUILD FAILED", read(os.path.join(out, "broken_build", "report.txt")))

        ch01 = chapter(subs["missing_chapter"], "01")       # graded with chapter 02's reference
        self.assertEqual((ch01["build"], ch01["earned"]), ("ok", ch01["possible"]))
        ch02 = chapter(subs["missing_chapter"], "02")
        self.assertEqual((ch02["build"], ch02["earned"]), ("failed", 0))
        self.assertIn("chapters/02-vmxon/meson.build:", ch02["build_message"])
        self.assertIn("does not exist", ch02["build_message"])
        self.assertEqual(helpers.processes_mentioning(tmp), [])


if __name__ == "__main__":
    unittest.main()
