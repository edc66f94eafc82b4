#!/usr/bin/env python3
# update_expected_output.py: boots a chapter as its page's expected-output block says and either
# checks the block against the console (the docs test suite) or rewrites it in both editions.
"""The "Expected output" block at the end of every chapter page, kept true by a real run.

    tools/update_expected_output.py --list                     block names: 01-haswell ...
    tools/update_expected_output.py --pages                    the pages it reads
    tools/update_expected_output.py --check 01-haswell         boot, compare (meson test --suite docs)
    tools/update_expected_output.py [NAME ...]                 boot, rewrite the blocks (all by default)

A block is a marker comment followed by a fenced block, in docs/NN-*.md and docs/zh/NN-*.md:

    <!-- expected-output chapter=01 run=haswell -->
    ```text
    == Chapter 01: detect VMX ==
    ...
    @end nonce=<nonce> status=0 tsc=<tsc>
    ```

chapter= names chapters/NN-*/, run= one of its checkpoints.toml runs (CPU model, command line,
boot route). The console is normalised (docs_lib.normalise_console): carriage returns and
trailing spaces removed, leading and trailing blank lines dropped, the run's nonce written
<nonce>, tsc=N written tsc=<tsc>, "N free pages" written "<n> free pages"; mask=key1,key2 in the marker also writes key=<key>,
and the same value <key> wherever else it appears, for per-run values such as a result
computed from the nonce. A value that changes from run to run but has no key (a count in
a sentence) can be written as a placeholder such as <count> in the page: it stands for one
word, and a refresh keeps the line while it still matches. Everything else must match
exactly. --build (default
build/) is the Meson build directory holding the kernels.
"""
import argparse
import difflib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapter_test  # noqa: E402
import checkpoints  # noqa: E402
import docs_lib  # noqa: E402
from docs_lib import REPO  # noqa: E402


def all_blocks(repo=REPO):
    """{name: [(page, block)]} over both editions."""
    out = {}
    for page in docs_lib.english_pages(repo) + docs_lib.chinese_pages(repo):
        try:
            found = docs_lib.expected_blocks(docs_lib.read(page, repo))
        except docs_lib.BlockError as e:
            raise docs_lib.BlockError("%s: %s" % (page, e)) from e
        for b in found:
            out.setdefault(b.name, []).append((page, b))
    return out


def chapter_dir(chapter_id, repo=REPO):
    chapters = os.path.join(repo, "chapters")
    for d in sorted(os.listdir(chapters)):
        if d.startswith(chapter_id + "-") and os.path.isdir(os.path.join(chapters, d)):
            return os.path.join(chapters, d)
    raise SystemExit("update_expected_output: no folder chapters/%s-*" % chapter_id)


def boot(block, build, repo=REPO):
    """Boot the block's chapter on its run; return (normalised lines, RunResult)."""
    cdir = chapter_dir(block.chapter, repo)
    chapter = checkpoints.load_chapter(cdir)
    run = next((r for r in chapter.runs if r.name == block.run), None)
    if not run:
        raise SystemExit("update_expected_output: %s has no run '%s' (runs: %s)" % (
            os.path.relpath(cdir, repo), block.run, ", ".join(r.name for r in chapter.runs)))
    kernel = os.path.join(build, "chapters", os.path.basename(cdir), chapter.kernel + ".elf")
    stub = os.path.join(build, "common", "romstub.bin")
    for f in (kernel, stub):
        if not os.path.exists(f):
            raise SystemExit("update_expected_output: %s missing: build first (ninja -C %s)" % (f, build))
    # Booted exactly as the chapter's own test boots it (tools/chapter_test.py).
    with tempfile.TemporaryDirectory(prefix="hvt-docs-run-") as run_dir:
        ex = chapter_test.execute(chapter, run, kernel, stub, run_dir)
    nonce, res = ex.nonce, ex.result
    return docs_lib.normalise_console(res.serial, nonce, block.masks), res


def check(name, build, repo=REPO):
    blocks = all_blocks(repo).get(name)
    if not blocks:
        print("no expected-output block named %s" % name)
        return 1
    lines, res = boot(blocks[0][1], build, repo)
    print("# %s on %s: %s" % (name, blocks[0][1].run, res.describe()))
    failed = 0
    for page, block in blocks:
        if block.masks != blocks[0][1].masks:
            print("%s:%d: mask= differs from %s's" % (page, block.marker_line + 1, blocks[0][0]))
            failed = 1
        expected = [line.rstrip() for line in block.lines]
        if len(expected) != len(lines) or not all(map(docs_lib.line_matches, expected, lines)):
            failed = 1
            print("%s:%d: the expected output differs from a real run (- page, + run):"
                  % (page, block.body_start + 1))
            for d in list(difflib.unified_diff(expected, lines, "page", "run", lineterm="", n=1))[2:60]:
                print("    " + d)
    if failed:
        print("If the new output is right, refresh both editions with:\n"
              "    tools/update_expected_output.py --build %s %s" % (build, name))
    else:
        print("%s: %d line(s) match in %d page(s)" % (name, len(lines), len(blocks)))
    return failed


def update(names, build, repo=REPO):
    blocks = all_blocks(repo)
    for name in names or sorted(blocks):
        if name not in blocks:
            raise SystemExit("update_expected_output: no block named %s (have: %s)"
                             % (name, ", ".join(sorted(blocks))))
        lines, res = boot(blocks[name][0][1], build, repo)
        if res.outcome != "finished":
            print("%s: warning: %s" % (name, res.describe()))
        for page in sorted({p for p, _ in blocks[name]}):
            text = docs_lib.read(page, repo)
            # Blocks further down move when an earlier one changes length: rewrite from the end.
            for b in reversed([b for b in docs_lib.expected_blocks(text) if b.name == name]):
                text = docs_lib.replace_block(text, b, docs_lib.merge_refresh(b.lines, lines))
            with open(os.path.join(repo, page), "w", encoding="utf-8") as f:
                f.write(text)
            print("%s: %s, %d lines" % (page, name, len(lines)))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="blocks to refresh (default: all)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--pages", action="store_true", help="list the pages that may hold blocks")
    ap.add_argument("--check", metavar="NAME")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--repo", default=REPO)
    a = ap.parse_args(argv)
    try:
        if a.pages:
            print("\n".join(docs_lib.english_pages(a.repo) + docs_lib.chinese_pages(a.repo)))
            return 0
        if a.list:
            print("\n".join(sorted(all_blocks(a.repo))))
            return 0
        if a.check:
            return check(a.check, os.path.abspath(a.build), a.repo)
        return update(a.names, os.path.abspath(a.build), a.repo)
    except docs_lib.BlockError as e:
        print("update_expected_output: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
