# test_docs.py: the book's checks must catch what they claim to: a missing or stale translation,
# a broken link, file or function name, a wrong expected output, an outdated chapter graph.
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import docs_build  # noqa: E402
import docs_check  # noqa: E402
import docs_lib  # noqa: E402
import update_expected_output  # noqa: E402
from runner import RunResult  # noqa: E402

PAGE = """# 01: Detect VMX

See [setup](00-setup.md#why-bochs), `chapters/01-detect-vmx/vmx_caps.c`, `vmx_caps_read()`.

## Why Bochs

```c
not_a_reference();   /* code blocks are not checked */
```

## Exercises

1. Something.

## Expected output

<!-- expected-output chapter=01 run=haswell mask=vmcs -->
```text
hello nonce=<nonce>
@end nonce=<nonce> status=0 tsc=<tsc>
```
"""


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)


class Repo(unittest.TestCase):
    """A small repository: one chapter with a library, two pages, their translations."""

    def setUp(self):
        quiet = contextlib.redirect_stdout(io.StringIO())
        quiet.__enter__()
        self.addCleanup(quiet.__exit__, None, None, None)
        self.root = tempfile.mkdtemp(prefix="docs-test-")
        write(self.root, "chapters/01-detect-vmx/vmx_caps.c",
              "// x\n// y\n#include <x.h>\n\nint vmx_caps_read(struct vmx_caps *c)\n{\n    return 0;\n}\n")
        write(self.root, "chapters/01-detect-vmx/meson.build",
              "ch01_lib = static_library('ch01', 'vmx_caps.c', include_directories: x)\n"
              "ch01_elf = executable('ch01.elf', 'main.c', link_whole: [common_lib, ch01_lib])\n")
        write(self.root, "chapters/01-detect-vmx/checkpoints.toml", '[chapter]\nid = "01"\ntitle = "Detect VMX"\n')
        write(self.root, "docs/00-setup.md", "# 00: Setup\n\n## Why Bochs\n\nText.\n")
        write(self.root, "docs/01-detect-vmx.md", PAGE)
        for page in ("docs/00-setup.md", "docs/01-detect-vmx.md"):
            self.translate(page)

    def tearDown(self):
        shutil.rmtree(self.root)

    def translate(self, page, body="# 中文\n"):
        text = docs_lib.read(page, self.root)
        zh = docs_lib.zh_path(page)
        if docs_lib.expected_blocks(text):
            body += "\n## 练习\n\n## 预期输出\n\n" + text[text.index("<!-- expected-output"):]
        write(self.root, zh, docs_lib.stamp(body, page, docs_lib.source_hash(text)))


class TestEditions(Repo):
    def test_complete(self):
        self.assertEqual(docs_check.check_editions(self.root), [])
        self.assertEqual(docs_check.check_translations(self.root), [])

    def test_missing_pages_both_ways(self):
        write(self.root, "docs/checkpoints.md", "# Checkpoints\n")
        write(self.root, "docs/zh/extra.md", "# 多余\n")
        problems = docs_check.check_editions(self.root)
        self.assertTrue(any("docs/checkpoints.md: no Chinese edition" in p for p in problems))
        self.assertTrue(any("docs/zh/extra.md: no English page" in p for p in problems))

    def test_pages_beside_their_code(self):
        write(self.root, "grading/README.md", "# Grading\n")
        self.assertIn("grading/README.md: no Chinese edition (docs/zh/grading/README.md)",
                      docs_check.check_editions(self.root))
        self.translate("grading/README.md")
        self.assertEqual(docs_check.check_editions(self.root), [])
        self.assertEqual(docs_check.check_translations(self.root), [])
        self.assertEqual(docs_lib.site_name("docs/zh/grading/README.md"), "grading/README.html")

    def test_stale_after_english_change(self):
        write(self.root, "docs/00-setup.md", "# 00: Setup\n\n## Why Bochs\n\nNew text.\n")
        problems = docs_check.check_translations(self.root)
        self.assertEqual(len(problems), 1)
        self.assertIn("docs/zh/00-setup.md: stale", problems[0])
        docs_check.stamp_pages([os.path.join(self.root, "docs/zh/00-setup.md")], self.root)
        self.assertEqual(docs_check.check_translations(self.root), [])

    def test_rewrapping_is_no_change(self):
        write(self.root, "docs/00-setup.md", "# 00: Setup\n\n## Why   Bochs\n\nText.\n\n")
        self.assertEqual(docs_check.check_translations(self.root), [])

    def test_missing_header(self):
        write(self.root, "docs/zh/00-setup.md", "# 没有来源\n")
        self.assertIn("first line must be", docs_check.check_translations(self.root)[0])

    def test_new_expected_output_does_not_make_translation_stale(self):
        text = docs_lib.read("docs/01-detect-vmx.md", self.root)
        block = docs_lib.expected_blocks(text)[0]
        write(self.root, "docs/01-detect-vmx.md", docs_lib.replace_block(text, block, ["other", "lines"]))
        self.assertEqual(docs_check.check_translations(self.root), [])


class TestLinks(Repo):
    def problems(self, text):
        index = docs_lib.RepoIndex(self.root)
        return docs_check.check_page_links("docs/01-detect-vmx.md", text, index, {})

    def test_good_page(self):
        self.assertEqual(docs_check.check_links(self.root), [])

    def test_function_file_page_anchor(self):
        p = self.problems("`vmx_caps_reed()` `chapters/01-detect-vmx/vmx_cap.c` `vmx_cap.c` "
                          "[a](00-setup.md#why-qemu) [b](02-vmxon.md) [c](../../etc/passwd) [d](#nowhere)")
        self.assertEqual(len(p), 7, p)
        for word in ("vmx_caps_reed", "vmx_cap.c`: no such file", "`vmx_cap.c`: no file",
                     "#why-qemu", "02-vmxon.md", "leaves the repository", "#nowhere"):
            self.assertTrue(any(word in x for x in p), (word, p))

    def test_not_checked(self):
        self.assertEqual(self.problems("`fn(args)` `build/chapters/x.elf` `chapters/NN-name/` "
                                       "[web](https://example.org/x.md) `msr-index.h`\n"
                                       "```\n`missing()`\n```\n"), [])

    def test_function_index(self):
        index = docs_lib.RepoIndex(self.root)
        self.assertEqual(index.function("vmx_caps_read"), ("chapters/01-detect-vmx/vmx_caps.c", 5))
        self.assertEqual(index.resolve_file("vmx_caps.c", "docs/01-detect-vmx.md"),
                         "chapters/01-detect-vmx/vmx_caps.c")

    def test_function_kinds(self):
        write(self.root, "common/include/x86.h",
              "// a\n// b\n#define DEFINE_CR(n) \\\n    static inline u64 read_cr##n(void) { return 0; }\n"
              "DEFINE_CR(0)\nDEFINE_CR(4)\n#define BIT(n) (1u << (n))\n"
              "enum vcpu_result vcpu_run(struct vcpu *v,\n                          int x)\n{\n}\n"
              "int declared_only(void);\nstruct s { int a; };\n")
        write(self.root, "common/entry.S", "// a\n// b\nvmx_vmexit:\n    ret\n")
        index = docs_lib.RepoIndex(self.root)
        for name, line in (("read_cr0", 5), ("read_cr4", 6), ("BIT", 7), ("vcpu_run", 8),
                           ("declared_only", 12), ("vmx_vmexit", 3)):
            self.assertEqual(index.function(name)[1], line, name)
        self.assertIsNone(index.function("s"))

    def test_slugs(self):
        self.assertEqual(docs_lib.slug("SDM references"), "sdm-references")
        self.assertEqual(docs_lib.slug("Step 1: is it an Intel CPU with VMX?"),
                         "step-1-is-it-an-intel-cpu-with-vmx")
        self.assertEqual(docs_lib.slug("第 1 步：是 Intel CPU 吗？"), "第-1-步是-intel-cpu-吗")


class TestChapters(Repo):
    def test_complete(self):
        self.assertEqual(docs_check.check_chapters(self.root), [])

    def test_missing_block_and_exercises(self):
        write(self.root, "docs/01-detect-vmx.md", "# 01\n\n## Something\n")
        problems = docs_check.check_chapters(self.root)
        self.assertTrue(any("no section '## Exercises'" in p for p in problems), problems)
        self.assertTrue(any("no expected-output block" in p for p in problems), problems)


class TestExpectedOutput(Repo):
    def test_normalise(self):
        serial = ("\r\n\nhello nonce=0123456789abcdef vmcs=0x1234 \r\nRAM, 32482 free pages\n"
                  "@end nonce=0123456789abcdef status=0 tsc=4173569\n\n")
        self.assertEqual(docs_lib.normalise_console(serial, "0123456789abcdef", ["vmcs"]),
                         ["hello nonce=<nonce> vmcs=<vmcs>", "RAM, <n> free pages",
                          "@end nonce=<nonce> status=0 tsc=<tsc>"])

    def test_mask_value_everywhere(self):
        serial = "Guest result 0x7b1571b6 for seed 0xfeed\n@ckpt g result=0x7b1571b6 ok=1\n"
        self.assertEqual(docs_lib.normalise_console(serial, "feed", ["result", "ok"]),
                         ["Guest result <result> for seed 0x<nonce>", "@ckpt g result=<result> ok=<ok>"])

    def test_placeholders(self):
        self.assertTrue(docs_lib.line_matches("exits (<n> in all): extint <n>", "exits (378 in all): extint 17"))
        self.assertFalse(docs_lib.line_matches("exits (<n> in all)", "exits (378 in total)"))
        self.assertEqual(docs_lib.merge_refresh(["a <n>", "b 1"], ["a 7", "b 2"]), ["a <n>", "b 2"])
        self.assertEqual(docs_lib.merge_refresh(["a <n>"], ["a 7", "c"]), ["a 7", "c"])

    def test_blocks(self):
        blocks = docs_lib.expected_blocks(PAGE)
        self.assertEqual([b.name for b in blocks], ["01-haswell"])
        self.assertEqual(blocks[0].masks, ["vmcs"])
        self.assertEqual(blocks[0].lines[0], "hello nonce=<nonce>")
        with self.assertRaises(docs_lib.BlockError):
            docs_lib.expected_blocks("<!-- expected-output chapter=01 run=x -->\ntext\n")
        self.assertEqual(docs_lib.expected_blocks("````\n<!-- expected-output chapter=01 run=x -->\n"
                                                  "```\n```\n````\n"), [])

    def fake_boot(self, serial):
        def boot(block, build, repo):
            return docs_lib.normalise_console(serial, "feedface00000000", block.masks), \
                RunResult("finished", serial, status=0)
        return boot

    def test_check_and_update(self):
        saved = update_expected_output.boot
        try:
            good = "hello nonce=feedface00000000\n@end nonce=feedface00000000 status=0 tsc=99\n"
            update_expected_output.boot = self.fake_boot(good)
            self.assertEqual(update_expected_output.check("01-haswell", "build", self.root), 0)
            update_expected_output.boot = self.fake_boot(good.replace("hello", "goodbye"))
            self.assertEqual(update_expected_output.check("01-haswell", "build", self.root), 1)
            update_expected_output.update([], "build", self.root)
            self.assertEqual(update_expected_output.check("01-haswell", "build", self.root), 0)
            zh = docs_lib.read("docs/zh/01-detect-vmx.md", self.root)
            self.assertIn("goodbye nonce=<nonce>", zh)
            self.assertEqual(docs_check.check_translations(self.root), [])
        finally:
            update_expected_output.boot = saved


@unittest.skipUnless(shutil.which("dot"), "Graphviz not installed")
class TestDiagrams(Repo):
    def test_up_to_date_and_stale(self):
        write(self.root, "docs/diagrams/a.dot", "// a\n// b\ndigraph a { x -> y; }\n")
        out = docs_build.render_diagrams(os.path.join(self.root, "out"), self.root)
        for name in ("a.svg", "chapter-deps.svg"):
            shutil.copy(os.path.join(out, name), os.path.join(self.root, "docs/diagrams", name))
        self.assertEqual(docs_check.check_diagrams(self.root), [])
        svg = docs_lib.read("docs/diagrams/a.svg", self.root)          # other fonts, other layout
        write(self.root, "docs/diagrams/a.svg", re.sub(r'(x|y)="(-?[\d.]+)"', r'\1="1\2"', svg))
        self.assertEqual(docs_check.check_diagrams(self.root), [])
        write(self.root, "docs/diagrams/a.dot", "// a\n// b\ndigraph a { x -> z; }\n")
        problems = docs_check.check_diagrams(self.root)
        self.assertEqual(len(problems), 1)
        self.assertIn("a.svg differs", problems[0])


class TestChapterGraph(Repo):
    def test_graph(self):
        write(self.root, "chapters/02-vmxon/meson.build",
              "ch02_lib = static_library('ch02', 'vmxon.c', 'vmx_errors.c', c_args: x)\n"
              "ch02_elf = executable('ch02.elf', 'main.c',\n  link_whole: [common_lib, ch01_lib, ch02_lib])\n")
        dot = docs_build.chapter_graph(self.root)
        self.assertIn("ch01 -> common;", dot)
        self.assertIn("ch02 -> ch01;", dot)
        self.assertNotIn("ch02 -> common;", dot)        # implied through ch01
        self.assertIn("libch02: vmxon.c vmx_errors.c", dot)
        self.assertIn('01 Detect VMX', dot)


if __name__ == "__main__":
    unittest.main()
