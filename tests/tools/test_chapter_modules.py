# test_chapter_modules.py: a run's boot modules as chapter_test resolves them (chapter folder,
# build tree, a user-supplied file named by an environment variable) and the skip without one.
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import chapter_test  # noqa: E402
import checkpoints  # noqa: E402

CHAPTER = """
[chapter]
id = "98"
title = "modules"
kernel = "ch98"
[[run]]
name = "local"
cpu = "corei7_haswell_4770"
modules = ["build:guests/g.bin=guest", "scripts/in.txt=input"]
[[run]]
name = "supplied"
cpu = "corei7_haswell_4770"
modules = ["env:HVT_TEST_IMAGE=guest"]
[[checkpoint]]
id = "x"
points = 2
expect = ["a == 1"]
[[checkpoint]]
id = "only-local"
runs = ["local"]
expect = ["a == 1"]
"""


class ModulesTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.chdir = os.path.join(self.root, "src", "chapters", "98-mod")
        os.makedirs(os.path.join(self.chdir, "scripts"))
        with open(os.path.join(self.chdir, "checkpoints.toml"), "w") as f:
            f.write(CHAPTER)
        self.kernel = os.path.join(self.root, "build", "chapters", "98-mod", "ch98.elf")
        os.makedirs(os.path.join(self.root, "build", "guests"))
        self.ch = checkpoints.load_chapter(self.chdir)

    def touch(self, path):
        with open(path, "w") as f:
            f.write("x")
        return path

    def test_build_and_chapter_files(self):
        g = self.touch(os.path.join(self.root, "build", "guests", "g.bin"))
        i = self.touch(os.path.join(self.chdir, "scripts", "in.txt"))
        mods = chapter_test.resolve_modules(self.ch, self.ch.runs[0], self.kernel, {})
        self.assertEqual(mods, [(g, "guest"), (i, "input")])

    def test_missing_build_file(self):
        with self.assertRaisesRegex(chapter_test.ModuleMissing, "guest: no file .*g.bin"):
            chapter_test.resolve_modules(self.ch, self.ch.runs[0], self.kernel, {})

    def test_supplied_file(self):
        run = self.ch.runs[1]
        with self.assertRaisesRegex(chapter_test.ModuleMissing, "HVT_TEST_IMAGE is not set"):
            chapter_test.resolve_modules(self.ch, run, self.kernel, {})
        with self.assertRaisesRegex(chapter_test.ModuleMissing, "no file /nonexistent"):
            chapter_test.resolve_modules(self.ch, run, self.kernel, {"HVT_TEST_IMAGE": "/nonexistent"})
        img = self.touch(os.path.join(self.root, "img"))
        self.assertEqual(chapter_test.resolve_modules(self.ch, run, self.kernel,
                                                      {"HVT_TEST_IMAGE": img}), [(img, "guest")])

    def test_missing_module_skips_every_verdict(self):
        old = os.environ.pop("HVT_TEST_IMAGE", None)
        try:
            ex = chapter_test.execute(self.ch, self.ch.runs[1], self.kernel, "stub",
                                      os.path.join(self.root, "run"))
        finally:
            if old is not None:
                os.environ["HVT_TEST_IMAGE"] = old
        self.assertEqual([(r.id, r.status) for r in ex.results], [("boot", "skip"), ("x", "skip")])
        self.assertIn("HVT_TEST_IMAGE is not set", ex.results[0].message)
        self.assertEqual(chapter_test.tap_line(1, ex.results[0], "")[:21], "ok 1 - boot # SKIP mo")

    def test_debugging_hints_carry_the_modules(self):
        hints = "\n".join(chapter_test.debug_hints(self.kernel, self.ch.runs[0], "bochs", True,
                                                   source_root=os.path.join(self.root, "src"),
                                                   chapter_dir=self.chdir))
        self.assertIn("--module ../build/guests/g.bin=guest --module chapters/98-mod/scripts/in.txt=input",
                      hints)
        hints = "\n".join(chapter_test.debug_hints(self.kernel, self.ch.runs[1], "bochs", True))
        self.assertIn("--module $HVT_TEST_IMAGE=guest", hints)

    def test_declaration_checked(self):
        with open(os.path.join(self.chdir, "checkpoints.toml"), "w") as f:
            f.write(CHAPTER.replace('modules = ["env:HVT_TEST_IMAGE=guest"]', "modules = 3"))
        with self.assertRaisesRegex(checkpoints.DeclarationError, "modules must be"):
            checkpoints.load_chapter(self.chdir)


if __name__ == "__main__":
    unittest.main()
