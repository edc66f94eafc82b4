# docs_lib.py: what the docs tools share: the pages of both editions, Markdown links and code
# references, the index of repository files and functions, expected-output blocks, source hashes.
"""Helpers for tools/docs_check.py, tools/docs_build.py, tools/update_expected_output.py and the
Sphinx extension in tools/docs_sphinx/. Standard library only.

Conventions (docs/contributing.md, "Writing the book"):
- English pages are docs/*.md; the Chinese edition mirrors them in docs/zh/ with the same names.
- A Chinese page starts with  <!-- source: docs/NAME.md sha256:HEX -->  where HEX is
  source_hash() of the English page it translates.
- A chapter page ends with an expected-output block: a marker comment, then a fenced block:
      <!-- expected-output chapter=01 run=haswell -->
      ```text
      ...console output, normalised by normalise_console()...
      ```
"""
import hashlib
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {".git", "__pycache__", "node_modules"}
SOURCE_EXTS = (".c", ".h", ".S", ".py")
# Pages of the book kept beside the code they describe rather than in docs/ (same path in the
# site; their Chinese edition is docs/zh/PATH).
OUTSIDE_PAGES = ("grading/README.md",)
# Names a page may quote that are not this repository's (Linux headers the style guide cites).
# EXERCISES.md is written into the handout by grading/handout.py.
EXTERNAL_NAMES = {"vmx.h", "msr-index.h", "EXERCISES.md"}
# Functions of other projects the pages name: Linux's (compared with ours), Meson's, libc's.
EXTERNAL_FUNCTIONS = {"vmcs_check16", "subdir", "malloc"}

ZH_HEADER_RE = re.compile(r"^<!-- source: (\S+) sha256:([0-9a-f]{64}) -->\s*$")
MARKER_RE = re.compile(r"^<!-- expected-output (.*?)-->\s*$")
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
LINK_RE = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
FUNC_RE = re.compile(r"^([A-Za-z_]\w*)\(\)$")
PATH_RE = re.compile(r"^[\w.+-]+(/[\w.+-]+)*/?$")
PLACEHOLDER_RE = re.compile(r"[<>*{}]|\bNN\b|NN-|\.\.\.")
BARE_FILE_RE = re.compile(r"^[\w.+-]+\.(c|h|S|py|toml|ld|md|dot|svg)$|^meson\.build$")
NONCE_MASK, TSC_MASK = "<nonce>", "<tsc>"
# Values that follow the size of the kernel image, so every change to common/ would move them.
BUILD_MASKS = [(r"\b\d+ free pages\b", "<n> free pages")]


def is_build_dir(name):
    return name == "build" or name.startswith("build-") or name.startswith("build_")


# ---- pages -------------------------------------------------------------------------------------

def english_pages(repo=REPO):
    """Repository-relative paths of the English pages: docs/**/*.md outside docs/zh, and the
    pages kept beside their code (OUTSIDE_PAGES) that exist."""
    out = [p for p in OUTSIDE_PAGES if os.path.exists(os.path.join(repo, p))]
    docs = os.path.join(repo, "docs")
    for root, dirs, files in os.walk(docs):
        rel = os.path.relpath(root, repo)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and os.path.join(rel, d) != "docs/zh")
        out += [os.path.join(rel, f) for f in sorted(files) if f.endswith(".md")]
    return sorted(out)


def chinese_pages(repo=REPO):
    out = []
    for root, dirs, files in os.walk(os.path.join(repo, "docs", "zh")):
        rel = os.path.relpath(root, repo)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        out += [os.path.join(rel, f) for f in sorted(files) if f.endswith(".md")]
    return sorted(out)


def zh_path(english):
    """docs/NAME.md -> docs/zh/NAME.md; grading/README.md -> docs/zh/grading/README.md."""
    if english in OUTSIDE_PAGES:
        return os.path.join("docs", "zh", english)
    return os.path.join("docs", "zh", os.path.relpath(english, "docs"))


def en_path(chinese):
    rel = os.path.relpath(chinese, os.path.join("docs", "zh"))
    return rel if rel in OUTSIDE_PAGES else os.path.join("docs", rel)


def site_name(page):
    """Where a page of either edition is in the site, relative to its edition's root."""
    if page.startswith("docs/zh/"):
        page = page[len("docs/zh/"):]
    elif page.startswith("docs/"):
        page = page[len("docs/"):]
    return page[:-3] + ".html"


def is_chapter_page(path):
    return re.match(r"\d\d-", os.path.basename(path)) is not None and not os.path.basename(
        path).startswith("00-")


def chapter_dir_of(page, repo=REPO):
    """docs/01-detect-vmx.md -> chapters/01-detect-vmx (if that folder exists)."""
    m = re.match(r"(\d\d-[\w-]+)\.md$", os.path.basename(page))
    if m and os.path.isdir(os.path.join(repo, "chapters", m.group(1))):
        return "chapters/" + m.group(1)
    return None


def read(path, repo=REPO):
    with open(os.path.join(repo, path), encoding="utf-8") as f:
        return f.read()


# ---- Markdown scanning -------------------------------------------------------------------------

def prose_lines(text):
    """(line number, line) for every line outside fenced code blocks and HTML comments."""
    return prose_lines_with_comments(text, skip_comments=True)


def prose_lines_with_comments(text, skip_comments=False):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    in_comment = False
    for n, line in enumerate(text.split("\n"), 1):
        m = FENCE_RE.match(line)
        if fence:
            if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3).strip():
                fence = None
            continue
        if m and not in_comment:
            fence = m.group(2)
            continue
        if skip_comments and (in_comment or line.lstrip().startswith("<!--")):
            in_comment = "-->" not in line
            continue
        yield n, line


def links(text):
    """(line, is_image, target) for every Markdown link outside code."""
    for n, line in prose_lines(text):
        stripped = CODE_SPAN_RE.sub("", line)
        for m in LINK_RE.finditer(stripped):
            yield n, m.group(1) == "!", m.group(3)


def code_spans(text):
    """(line, text) for every inline code span outside fenced blocks."""
    for n, line in prose_lines(text):
        for m in CODE_SPAN_RE.finditer(line):
            yield n, m.group(2).strip()


def headings(text):
    return [line.lstrip("#").strip() for _, line in prose_lines(text) if re.match(r"#{1,6}\s", line)]


def slug(title):
    """The anchor GitHub (and MyST's myst_heading_anchors) gives a heading."""
    title = re.sub(r"`([^`]*)`", r"\1", title).strip().lower()
    title = re.sub(r"[^\w\- ]", "", title)
    return title.replace(" ", "-")


def anchors(text):
    seen, out = {}, set()
    for h in headings(text):
        s = slug(h)
        out.add(s if s not in seen else "%s-%d" % (s, seen[s]))
        seen[s] = seen.get(s, 0) + 1
    return out


def is_external(target):
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


# ---- repository index --------------------------------------------------------------------------

class RepoIndex:
    """Files, directories and function definitions of the source tree (build dirs excluded)."""

    def __init__(self, repo=REPO):
        self.repo = repo
        self.files, self.dirs, self.by_name = set(), set(), {}
        for root, dirs, files in os.walk(repo):
            dirs[:] = sorted(d for d in dirs
                             if d not in SKIP_DIRS and not (root == repo and is_build_dir(d)))
            rel = os.path.relpath(root, repo)
            if rel != ".":
                self.dirs.add(rel)
            for f in files:
                path = os.path.normpath(os.path.join(rel, f))
                self.files.add(path)
                self.by_name.setdefault(f, []).append(path)
        self._functions = None

    def exists(self, path):
        path = os.path.normpath(path)
        return path in self.files or path in self.dirs

    @property
    def functions(self):
        """name -> [(path, line)], definitions before declarations."""
        if self._functions is None:
            defs, decls = {}, {}
            for path in sorted(self.files):
                if path.endswith(SOURCE_EXTS) and not path.startswith("docs/"):
                    for name, line, is_def in scan_functions(os.path.join(self.repo, path)):
                        (defs if is_def else decls).setdefault(name, []).append((path, line))
            for name, where in decls.items():
                defs.setdefault(name, []).extend(where)
            self._functions = defs
        return self._functions

    @staticmethod
    def path_candidates(token, page):
        """A path in a page means the repository's; on a page kept beside its code
        (grading/README.md), also one relative to that page's folder."""
        out = [token]
        if not page.startswith("docs/") and os.path.dirname(page):
            out.append(os.path.join(os.path.dirname(page), token))
        return out

    def function(self, name, prefer_dir=None):
        """(path, line) of the definition of name, preferring one under prefer_dir."""
        where = self.functions.get(name)
        if not where:
            return None
        if prefer_dir:
            for w in where:
                if w[0].startswith(prefer_dir + "/"):
                    return w
        return where[0]

    def resolve_file(self, token, page):
        """A repository path for a code span naming a file (path or bare name), else None."""
        chapter = chapter_dir_of(page, self.repo)
        if "/" in token.rstrip("/"):
            for path in self.path_candidates(token, page):
                if self.exists(path):
                    return os.path.normpath(path)
            return None
        if chapter and self.exists(os.path.join(chapter, token)):
            return os.path.join(chapter, token)
        found = self.by_name.get(token, [])
        return sorted(found)[0] if len(found) == 1 else None


C_DEF_RE = re.compile(r"^(?!typedef\b|return\b|else\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(")
C_TYPE_RE = re.compile(r"^(struct|enum|union)\s+\w+\s*(\{|$)")
C_MACRO_RE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\(([^)]*)\)")
PASTE_RE = re.compile(r"\b(\w*)##(\w+)\s*\(")
ASM_LABEL_RE = re.compile(r"^([A-Za-z_]\w*):")
PY_DEF_RE = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(")


def scan_functions(path):
    """(name, line, is_definition) for the functions, function-like macros and assembly labels
    defined in a C, assembly or Python file. Functions a macro makes by token pasting
    (read_cr##n) are found where the macro is used (read_cr0 at DEFINE_CR_ACCESSORS(0))."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return
    pasting = {}                    # macro name -> (parameter, [(prefix, suffix parameter)])
    for n, line in enumerate(lines, 1):
        if path.endswith(".py"):
            m = PY_DEF_RE.match(line)
            if m:
                yield m.group(1), n, True
            continue
        m = C_MACRO_RE.match(line)
        if m:
            yield m.group(1), n, True
            body, k = line, n
            while body.rstrip().endswith("\\") and k < len(lines):
                body += lines[k]
                k += 1
            params = [p.strip() for p in m.group(2).split(",")]
            made = [(pre, arg) for pre, arg in PASTE_RE.findall(body) if arg in params]
            if made:
                pasting[m.group(1)] = (params, made)
            continue
        use = re.match(r"^(\w+)\(([^)]*)\)\s*;?\s*$", line)
        if use and use.group(1) in pasting:
            params, made = pasting[use.group(1)]
            args = dict(zip(params, [a.strip() for a in use.group(2).split(",")]))
            for pre, arg in made:
                yield pre + args.get(arg, ""), n, True
            continue
        if path.endswith(".S"):
            m = ASM_LABEL_RE.match(line)
            if m:
                yield m.group(1), n, True
            continue
        clean = re.sub(r"__attribute__\s*\(\(.*?\)\)", "", line)
        m = C_DEF_RE.match(clean)
        if not m or C_TYPE_RE.match(clean) or "=" in clean.split("(")[0]:
            continue
        stmt, k = clean, n
        while not re.search(r"[;{]", stmt) and k < len(lines) and k < n + 10:
            stmt += " " + lines[k]
            k += 1
        brace, semi = stmt.find("{"), stmt.find(";")
        if brace >= 0 and (semi < 0 or brace < semi) and re.search(r"\)\s*(\w+\s*)*\{", stmt):
            yield m.group(1), n, True
        elif semi >= 0 and re.search(r"\)\s*;", stmt):
            yield m.group(1), n, False


# ---- Chinese edition headers -------------------------------------------------------------------

def strip_expected_bodies(text):
    """The page with the bodies of its expected-output blocks removed: translations copy those
    blocks verbatim and tools/update_expected_output.py rewrites both editions, so a new console
    output does not make a translation stale."""
    out, blocks = [], expected_blocks(text)
    skip = set()
    for b in blocks:
        skip.update(range(b.body_start, b.body_end))
    for i, line in enumerate(text.split("\n")):
        if i not in skip:
            out.append(line)
    return "\n".join(out)


def source_hash(text):
    """sha256 of the page without its expected-output bodies, every run of white space one
    space: re-wrapping a paragraph does not make its translation stale."""
    flat = " ".join(strip_expected_bodies(text).split())
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


def zh_header(chinese_text):
    """(source path, hash) from a Chinese page's first line, or None."""
    first = chinese_text.split("\n", 1)[0]
    m = ZH_HEADER_RE.match(first)
    return (m.group(1), m.group(2)) if m else None


def stamp(chinese_text, source, digest):
    line = "<!-- source: %s sha256:%s -->" % (source, digest)
    if zh_header(chinese_text):
        return line + "\n" + chinese_text.split("\n", 1)[1]
    return line + "\n" + chinese_text


# ---- expected-output blocks --------------------------------------------------------------------

class Block:
    """An expected-output block: options from its marker, body lines [body_start, body_end)."""

    def __init__(self, marker_line, options, body_start, body_end, lines):
        self.marker_line, self.options = marker_line, options
        self.body_start, self.body_end, self.lines = body_start, body_end, lines

    @property
    def chapter(self):
        return self.options.get("chapter", "")

    @property
    def run(self):
        return self.options.get("run", "")

    @property
    def masks(self):
        return [k for k in self.options.get("mask", "").split(",") if k]

    @property
    def name(self):
        return "%s-%s" % (self.chapter, self.run)


class BlockError(Exception):
    pass


def parse_options(text):
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def expected_blocks(text):
    """Every expected-output block of a page (0-based line indexes)."""
    lines = text.split("\n")
    prose = {n - 1 for n, _ in prose_lines_with_comments(text)}
    out = []
    i = 0
    while i < len(lines):
        m = MARKER_RE.match(lines[i])
        if not m or i not in prose:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        f = FENCE_RE.match(lines[j]) if j < len(lines) else None
        if not f:
            raise BlockError("line %d: an expected-output marker must be followed by a fenced block"
                             % (i + 1))
        k = j + 1
        while k < len(lines) and not (lines[k].strip() == f.group(2)):
            k += 1
        if k == len(lines):
            raise BlockError("line %d: the fenced block after the marker is not closed" % (j + 1))
        out.append(Block(i, parse_options(m.group(1)), j + 1, k, lines[j + 1:k]))
        i = k + 1
    return out


def replace_block(text, block, new_lines):
    lines = text.split("\n")
    return "\n".join(lines[:block.body_start] + new_lines + lines[block.body_end:])


def normalise_console(serial, nonce="", masks=()):
    """The console text as pages show it: no \\r, no trailing spaces, no leading or trailing blank
    lines; the run's nonce written <nonce>; tsc=N written tsc=<tsc>; "N free pages" (it follows
    the kernel's size) written "<n> free pages"; for every key in masks, key=VALUE written
    key=<key>, and that VALUE written <key> wherever else it appears (per-run values a block's
    marker names: a result derived from the nonce, an address)."""
    text = serial.replace("\r", "")
    if nonce:
        text = text.replace(nonce, NONCE_MASK)
        if nonce.startswith("0") and nonce.lstrip("0"):      # printed as a number: no leading 0s
            text = re.sub(r"\b0x%s\b" % nonce.lstrip("0"), "0x" + NONCE_MASK, text)
    text = re.sub(r"\btsc=\d+", "tsc=" + TSC_MASK, text)
    for pattern, mask in BUILD_MASKS:
        text = re.sub(pattern, mask, text)
    for key in masks:
        values = set(re.findall(r"\b%s=(\S+)" % re.escape(key), text))
        text = re.sub(r"\b%s=\S+" % re.escape(key), "%s=<%s>" % (key, key), text)
        for value in sorted((v for v in values if "<" not in v), key=len, reverse=True):
            if len(value) >= 8:      # short values (0x41) also occur by chance elsewhere
                text = re.sub(r"(?<![\w])%s(?![\w])" % re.escape(value), "<%s>" % key, text)
            digits = value[2:].lstrip("0") if value.startswith("0x") else ""
            if len(digits) >= 6:            # the same number without 0x, or zero-padded
                text = re.sub(r"(?<![\w<])0*%s(?![\w>])" % re.escape(digits), "<%s>" % key, text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


PLACEHOLDER = re.compile(r"<[A-Za-z_][\w-]*>")


def line_matches(expected, actual):
    """An expected line matches the console's when equal, or when it has placeholders such as
    <count> (a value that changes from run to run, written by hand into the page) and the
    rest is equal: each placeholder stands for one run of non-blank characters."""
    if expected == actual:
        return True
    if "<" not in expected:
        return False
    parts = PLACEHOLDER.split(expected)
    pattern = r"\S+?".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, actual) is not None


def merge_refresh(old, new):
    """The lines to write when a block is refreshed: the console's, except that an old line
    with placeholders which still matches is kept (same number of lines only)."""
    if len(old) != len(new):
        return list(new)
    return [o if o != n and line_matches(o, n) else n for o, n in zip(old, new)]

