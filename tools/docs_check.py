#!/usr/bin/env python3
# docs_check.py: the docs test suite's checks: both editions complete, translations not stale,
# no broken link or code reference, diagrams up to date, and the rendered site whole.
"""Check the book (docs/ and docs/zh/).

    tools/docs_check.py editions        pages of one edition that the other lacks
    tools/docs_check.py translations    Chinese pages whose English source changed since
    tools/docs_check.py links           links, file names and functions() the pages name
    tools/docs_check.py chapters        chapter pages have exercises and end with expected output
    tools/docs_check.py diagrams        committed SVGs equal to those rendered from their sources
    tools/docs_check.py site SITE       the rendered site: every page in both editions, no dead href
    tools/docs_check.py stamp docs/zh/PAGE.md ...   record that PAGE now translates its source

Each check prints one line per problem and exits 1 if there is any.
"""
import argparse
import html.parser
import os
import re
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs_lib  # noqa: E402
from docs_lib import REPO  # noqa: E402


def check_editions(repo=REPO):
    problems = []
    en = docs_lib.english_pages(repo)
    zh = docs_lib.chinese_pages(repo)
    for page in en:
        if docs_lib.zh_path(page) not in zh:
            problems.append("%s: no Chinese edition (%s)" % (page, docs_lib.zh_path(page)))
    for page in zh:
        if docs_lib.en_path(page) not in en:
            problems.append("%s: no English page %s" % (page, docs_lib.en_path(page)))
    return problems


def check_translations(repo=REPO):
    problems = []
    for page in docs_lib.chinese_pages(repo):
        source = docs_lib.en_path(page)
        header = docs_lib.zh_header(docs_lib.read(page, repo))
        if not header:
            problems.append("%s: first line must be <!-- source: %s sha256:... --> "
                            "(tools/docs_check.py stamp %s)" % (page, source, page))
            continue
        if header[0] != source:
            problems.append("%s: header names %s, expected %s" % (page, header[0], source))
            continue
        if not os.path.exists(os.path.join(repo, source)):
            continue            # reported by the editions check
        if docs_lib.source_hash(docs_lib.read(source, repo)) != header[1]:
            problems.append(
                "%s: stale: %s changed after this translation. See what changed with\n"
                "    git diff $(git log -1 --format=%%H -- %s) -- %s\n"
                "  then update the translation and run tools/docs_check.py stamp %s"
                % (page, source, page, source, page))
    return problems


SECTION_NAMES = {"en": ("Exercises", "Expected output"), "zh": ("练习", "预期输出")}


def check_chapters(repo=REPO):
    """Every chapter page (docs/NN-*.md with a chapters/NN-* folder, both editions) has an
    exercises section and ends with an expected-output block for that chapter."""
    problems = []
    pages = [(p, "en") for p in docs_lib.english_pages(repo)] + [(p, "zh") for p in docs_lib.chinese_pages(repo)]
    for page, edition in pages:
        en = page if edition == "en" else docs_lib.en_path(page)
        if not docs_lib.is_chapter_page(en) or not docs_lib.chapter_dir_of(en, repo):
            continue
        text = docs_lib.read(page, repo)
        exercises, expected = SECTION_NAMES[edition]
        titles = [h for h in docs_lib.headings(text)]
        if exercises not in titles:
            problems.append("%s: no section '## %s'" % (page, exercises))
        try:
            blocks = docs_lib.expected_blocks(text)
        except docs_lib.BlockError as e:
            problems.append("%s: %s" % (page, e))
            continue
        chapter = os.path.basename(en)[:2]
        if not [b for b in blocks if b.chapter == chapter]:
            problems.append("%s: no expected-output block for chapter %s (docs/contributing.md, "
                            "'Writing the book')" % (page, chapter))
            continue
        lines = text.split("\n")
        last_heading = max(i for i, line in enumerate(lines) if line.startswith("## "))
        if lines[last_heading][3:].strip() != expected or blocks[-1].marker_line < last_heading:
            problems.append("%s: the last section must be '## %s' with the expected-output block"
                            % (page, expected))
    return problems


def check_page_links(page, text, index, anchor_cache):
    """Problems with the links and code references of one page."""
    problems = []
    base = os.path.dirname(page)
    top = {p.split("/")[0] for p in index.files | index.dirs}
    if not page.startswith("docs/") and os.path.dirname(page):   # paths relative to the page's folder
        top |= {p[len(os.path.dirname(page)) + 1:].split("/")[0] for p in index.files | index.dirs
                if p.startswith(os.path.dirname(page) + "/")}
    for n, is_image, target in docs_lib.links(text):
        if docs_lib.is_external(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(base, urllib.parse.unquote(path))) if path else page
        where = "%s:%d" % (page, n)
        if resolved.startswith(".."):
            problems.append("%s: link %s leaves the repository" % (where, target))
            continue
        if not index.exists(resolved):
            problems.append("%s: link to %s: no such file or directory (%s)" % (where, target, resolved))
            continue
        if anchor and resolved.endswith(".md"):
            if resolved not in anchor_cache:
                anchor_cache[resolved] = docs_lib.anchors(docs_lib.read(resolved, index.repo))
            if anchor not in anchor_cache[resolved]:
                problems.append("%s: link %s: %s has no heading with anchor #%s"
                                % (where, target, resolved, anchor))
    for n, span in docs_lib.code_spans(text):
        where = "%s:%d" % (page, n)
        m = docs_lib.FUNC_RE.match(span)
        if m:
            if not index.function(m.group(1)) and m.group(1) not in docs_lib.EXTERNAL_FUNCTIONS:
                problems.append("%s: `%s`: no such function, macro or label in the C, assembly or "
                                "Python sources" % (where, span))
            continue
        if docs_lib.PLACEHOLDER_RE.search(span) or not docs_lib.PATH_RE.match(span):
            continue
        if "/" in span.rstrip("/"):
            if span.split("/")[0] in top and not index.resolve_file(span, page):
                problems.append("%s: `%s`: no such file or directory in the repository" % (where, span))
        elif docs_lib.BARE_FILE_RE.match(span) and span not in docs_lib.EXTERNAL_NAMES:
            if not index.by_name.get(span):
                problems.append("%s: `%s`: no file of that name in the repository" % (where, span))
    return problems


def check_links(repo=REPO):
    index = docs_lib.RepoIndex(repo)
    problems, cache = [], {}
    pages = docs_lib.english_pages(repo) + docs_lib.chinese_pages(repo)
    # The other Markdown files of the repository (README.md, guests/*/README.md, ...) link too.
    pages += sorted(f for f in index.files if f.endswith(".md") and not f.startswith("docs/")
                    and f not in pages)
    for page in pages:
        problems += check_page_links(page, docs_lib.read(page, repo), index, cache)
    return problems


def check_diagrams(repo=REPO):
    """Every SVG in docs/diagrams/ that has a source must equal what the source renders to now."""
    import docs_build
    problems, skipped = [], []
    src_dir = os.path.join(repo, "docs", "diagrams")
    with tempfile.TemporaryDirectory(prefix="hvt-diagrams-") as out:
        rendered = docs_build.render_diagrams(out, repo)
        for name in sorted(os.listdir(rendered)):
            if not name.endswith(".svg"):
                continue
            committed = os.path.join(src_dir, name)
            if not os.path.exists(committed):
                problems.append("docs/diagrams/%s: rendered from its source but not committed "
                                "(ninja -C build docs; cp build/docs/diagrams/%s docs/diagrams/)" % (name, name))
                continue
            with open(committed, "rb") as a, open(os.path.join(rendered, name), "rb") as b:
                old, new = a.read(), b.read()
            if svg_structure(old) != svg_structure(new):
                committed_by = graphviz_version(old)
                if committed_by and committed_by != graphviz_version(new):
                    skipped.append(name)
                    continue
                problems.append("docs/diagrams/%s differs from what its source renders to: "
                                "ninja -C build docs; cp build/docs/diagrams/%s docs/diagrams/"
                                % (name, name))
    if skipped and not problems:
        raise SkipCheck("%s rendered by Graphviz %s here, committed from Graphviz %s: layouts of "
                        "different versions differ, so they cannot be compared (CI uses Debian 12's)"
                        % (", ".join(skipped), graphviz_version(new), committed_by))
    return problems


GEOMETRY_RE = re.compile(rb'\b(x|y|cx|cy|rx|ry|width|height|points|d|transform|viewBox)="[^"]*"')


def svg_structure(svg):
    """An SVG without its geometry: every node, edge, label, colour and font stays, but the
    coordinates, which follow the fonts' metrics on the machine that rendered it, go."""
    return GEOMETRY_RE.sub(lambda m: m.group(1) + b'="*"', svg)


class SkipCheck(Exception):
    """The check cannot be made on this machine (meson shows it as SKIP: exit status 77)."""


def graphviz_version(svg):
    m = re.search(rb"Generated by graphviz version (\S+)", svg)
    return m.group(1).decode() if m else None


class _Hrefs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and (tag != "link" or key == "href"):
                self.refs.append(a[key])


def check_site(site, repo=REPO):
    """Every page of both editions rendered, and every relative href/src of every HTML file of
    the site points to an existing file (and anchor, within the site's own pages)."""
    problems = []
    for edition, pages in (("en", docs_lib.english_pages(repo)), ("zh", docs_lib.chinese_pages(repo))):
        for page in pages:
            name = docs_lib.site_name(page)
            out = os.path.join(site, name) if edition == "en" else os.path.join(site, "zh", name)
            if not os.path.exists(out):
                problems.append("%s: not rendered (%s missing)" % (page, out))
    for sub in ("index.html", "search.html", "searchindex.js", "zh/index.html", "zh/searchindex.js"):
        if not os.path.exists(os.path.join(site, sub)):
            problems.append("site: %s missing" % sub)
    parsed = {}

    def parse(path):
        if path not in parsed:
            p = _Hrefs()
            with open(path, encoding="utf-8") as f:
                p.feed(f.read())
            parsed[path] = p
        return parsed[path]

    for root, _, files in os.walk(site):
        for f in sorted(files):
            if not f.endswith(".html"):
                continue
            path = os.path.join(root, f)
            for ref in parse(path).refs:
                if docs_lib.is_external(ref) or ref.startswith("//"):
                    continue
                target, _, anchor = urllib.parse.unquote(ref).partition("#")
                dest = os.path.normpath(os.path.join(root, target)) if target else path
                if not os.path.exists(dest):
                    problems.append("%s: dead link %s" % (os.path.relpath(path, site), ref))
                elif anchor and dest.endswith(".html") and anchor not in parse(dest).ids:
                    problems.append("%s: link %s: no id %s in %s"
                                    % (os.path.relpath(path, site), ref, anchor, os.path.relpath(dest, site)))
    return problems


def stamp_pages(pages, repo=REPO):
    for page in pages:
        page = os.path.relpath(os.path.abspath(page), repo)
        source = docs_lib.en_path(page)
        text = docs_lib.read(page, repo)
        digest = docs_lib.source_hash(docs_lib.read(source, repo))
        with open(os.path.join(repo, page), "w", encoding="utf-8") as f:
            f.write(docs_lib.stamp(text, source, digest))
        print("%s: translates %s sha256:%s" % (page, source, digest[:12]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("check", choices=["editions", "translations", "links", "chapters", "diagrams", "site",
                                       "stamp"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--repo", default=REPO)
    a = ap.parse_args(argv)
    if a.check == "stamp":
        stamp_pages(a.args, a.repo)
        return 0
    if a.check == "site" and len(a.args) != 1:
        ap.error("%s needs one directory" % a.check)
    checks = {
        "editions": lambda: check_editions(a.repo),
        "translations": lambda: check_translations(a.repo),
        "links": lambda: check_links(a.repo),
        "chapters": lambda: check_chapters(a.repo),
        "diagrams": lambda: check_diagrams(a.repo),
        "site": lambda: check_site(a.args[0], a.repo),
    }
    try:
        problems = checks[a.check]()
    except SkipCheck as e:
        print("docs_check %s: skipped: %s" % (a.check, e))
        return 77
    for p in problems:
        print(p)
    print("docs_check %s: %d problem(s)" % (a.check, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
