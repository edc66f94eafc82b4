# hvt_docs.py: Sphinx extension for the book: chapter navigation, a link to the other edition,
# and links from code references (`chapters/.../x.c`, `function()`) to the repository's source pages.
"""Repository references in the rendered book.

- Markdown links to repository files or folders ([main.c](../chapters/01-detect-vmx/main.c))
  point, on GitHub, at the file; on the site they point at its source page (_source/PATH.html).
- Inline code naming a repository file (`chapters/01-detect-vmx/vmx_caps.c`, or `main.c` on a
  chapter's page) or a function, macro or assembly label (`vmx_caps_read()`) becomes a link
  to the source page, at the line of the definition.
- The root page (README.md) gets the navigation: chapters in order, then the guides.
"""
import os
import posixpath
import re
import shutil
import sys

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import docs_lib  # noqa: E402
import source_pages  # noqa: E402

log = logging.getLogger(__name__)
LABELS = {
    "en": {"chapters": "Chapters", "guides": "Guides", "other": "中文", "title": "Write a VT-x hypervisor"},
    "zh": {"chapters": "章节", "guides": "参考", "other": "English", "title": "动手写 VT-x 虚拟机监控器"},
}
_index = {}


def edition(app):
    return "zh" if app.config.language.startswith("zh") else "en"


def repo_index(app):
    if app.config.hvt_repo not in _index:
        _index[app.config.hvt_repo] = docs_lib.RepoIndex(app.config.hvt_repo)
    return _index[app.config.hvt_repo]


def page_of(app, docname):
    """The repository path of a document of this edition."""
    if app.config.hvt_docs_prefix == "docs" and docname + ".md" in docs_lib.OUTSIDE_PAGES:
        return docname + ".md"
    return posixpath.join(app.config.hvt_docs_prefix, docname + ".md")


def is_page(path):
    return path.endswith(".md") and (path.startswith("docs/") or path in docs_lib.OUTSIDE_PAGES)


def up(docname):
    return "../" * docname.count("/")


def source_url(app, docname, path, line=None):
    index = repo_index(app)
    target = path.rstrip("/") + ("/index.html" if os.path.normpath(path) in index.dirs else ".html")
    return up(docname) + app.config.hvt_source_url + "/" + target + ("#L-%d" % line if line else "")


def page_url(app, docname, path, anchor):
    """The site URL of a repository .md page of either edition, from docname's page."""
    in_zh = app.config.hvt_docs_prefix == "docs/zh"
    if path.startswith("docs/zh/"):
        target = ("" if in_zh else "zh/") + docs_lib.site_name(path)
    else:
        target = ("../" if in_zh else "") + docs_lib.site_name(path)
    return up(docname) + target + ("#" + anchor if anchor else "")


def static_url(app, docname, path):
    """Files of docs/diagrams/ are copied into the English site as they are (diagrams/NAME)."""
    return up(docname) + ("../" if app.config.hvt_docs_prefix == "docs/zh" else "") + path[len("docs/"):]


def repo_url(app, docname, path, anchor):
    """The site URL for a repository path named on docname's page: a page of either edition,
    a folder of pages (its README), a diagram, or a source page."""
    index = repo_index(app)
    readme = posixpath.join(path, "README.md")
    if path.startswith("docs/") and path in index.dirs and readme in index.files:
        path = readme
    if is_page(path):
        return page_url(app, docname, path, anchor)
    if path.startswith("docs/diagrams/") and path in index.files:
        return static_url(app, docname, path)
    return source_url(app, docname, path)


def on_config_inited(app, config):
    config.html_title = LABELS[edition(app)]["title"]
    config.project = config.html_title


def on_source_read(app, docname, source):
    text = source[0]
    labels = LABELS[edition(app)]
    other = app.config.hvt_other_edition
    page = page_of(app, docname)
    counterpart = docs_lib.zh_path(page) if edition(app) == "en" else docs_lib.en_path(page)
    if other and os.path.exists(os.path.join(app.config.hvt_repo, counterpart)):
        switch = '<p class="hvt-edition"><a href="%s%s%s.html">%s</a></p>' % (
            up(docname), other, docname, labels["other"])
        text = re.sub(r"^(# .*\n)", lambda m: m.group(1) + "\n" + switch + "\n", text, count=1, flags=re.M)
    if docname == app.config.root_doc:
        names = sorted(os.path.relpath(d, app.srcdir)[:-3] for d in
                       _markdown_files(app.srcdir, app.config.exclude_patterns))
        names = [n for n in names if n != app.config.root_doc]
        chapters = [n for n in names if re.match(r"\d\d-", n)]
        guides = [n for n in names if n not in chapters]
        for caption, entries in ((labels["chapters"], chapters), (labels["guides"], guides)):
            if entries:
                text += "\n```{toctree}\n:hidden:\n:caption: %s\n\n%s\n```\n" % (caption, "\n".join(entries))
    source[0] = text


def _markdown_files(srcdir, excluded):
    for root, dirs, files in os.walk(srcdir):
        dirs[:] = [d for d in dirs if os.path.relpath(os.path.join(root, d), srcdir) not in excluded]
        for f in files:
            if f.endswith(".md"):
                yield os.path.join(root, f)


def on_missing_reference(app, env, node, contnode):
    """Markdown links that are not pages of this edition: repository files and folders, and
    pages of the other edition."""
    if node.get("reftype") not in ("myst", "any"):
        return None
    target, _, anchor = node["reftarget"].partition("#")
    docname = node.get("refdoc", env.docname)
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page_of(app, docname)), target))
    index = repo_index(app)
    if not index.exists(path):
        return None
    uri = repo_url(app, docname, path, anchor)
    ref = nodes.reference("", "", internal=False, refuri=uri)
    ref += contnode
    return ref


CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
CJK_BREAK_RE = re.compile(r"(?<=[%s])\s*\n\s*(?=[%s])" % (CJK, CJK))


def join_cjk_lines(doctree):
    """A line break inside Chinese text is no space: "第一行\n第二行" reads as one phrase.
    (HTML would show the Markdown's soft line breaks as spaces between the characters.)"""
    cjk = re.compile("[%s]" % CJK)
    for text in list(doctree.findall(nodes.Text)):
        parent = text.parent
        if parent is None or isinstance(parent, (nodes.literal, nodes.literal_block, nodes.raw)) \
                or "\n" not in text:
            continue
        if str(text).strip():
            joined = CJK_BREAK_RE.sub("", str(text))
            if joined != str(text):
                parent.replace(text, nodes.Text(joined))
            continue
        # A soft break of its own, between two inline nodes (Text compares as str: find by identity).
        i = next(k for k, c in enumerate(parent.children) if c is text)
        before = parent[i - 1].astext() if i > 0 else ""
        after = parent[i + 1].astext() if i + 1 < len(parent) else ""
        if before and after and cjk.match(before[-1]) and cjk.match(after[0]):
            del parent.children[i]


def on_doctree_read(app, doctree):
    """Inline code naming a repository file or function becomes a link to its source page."""
    docname = app.env.docname
    if edition(app) == "zh":
        join_cjk_lines(doctree)
    page = page_of(app, docname)
    index = repo_index(app)
    chapter = docs_lib.chapter_dir_of(page, app.config.hvt_repo)
    for lit in list(doctree.findall(nodes.literal)):
        if any(isinstance(a, (nodes.reference, addnodes.pending_xref, nodes.literal_block))
               for a in _ancestors(lit)):
            continue
        text = lit.astext().strip()
        uri = None
        m = docs_lib.FUNC_RE.match(text)
        if m:
            where = index.function(m.group(1), prefer_dir=chapter)
            if where:
                uri = source_url(app, docname, where[0], where[1])
        elif docs_lib.PATH_RE.match(text) and not docs_lib.PLACEHOLDER_RE.search(text):
            path = index.resolve_file(text, page)
            if path and (docs_lib.BARE_FILE_RE.match(text) or "/" in text.rstrip("/")):
                uri = repo_url(app, docname, path, "")
        if uri:
            ref = nodes.reference("", "", internal=False, refuri=uri, classes=["hvt-code-ref"])
            lit.replace_self(ref)
            ref += lit


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def on_build_finished(app, exc):
    """index.html: the site's front page is the root document (README.md on GitHub)."""
    if exc is None and app.builder.name == "html":
        root = os.path.join(app.outdir, app.config.root_doc + ".html")
        if os.path.exists(root):
            with open(root, encoding="utf-8") as f, \
                    open(os.path.join(app.outdir, "index.html"), "w", encoding="utf-8") as g:
                g.write(f.read())
        if app.config.hvt_write_sources:
            shutil.copytree(os.path.join(app.srcdir, "diagrams"), os.path.join(app.outdir, "diagrams"),
                            dirs_exist_ok=True)
            source_pages.write(os.path.join(app.outdir, app.config.hvt_source_url), app.config.hvt_repo)


def setup(app):
    app.add_config_value("hvt_repo", docs_lib.REPO, "env")
    app.add_config_value("hvt_docs_prefix", "docs", "env")
    app.add_config_value("hvt_source_url", "_source", "env")
    app.add_config_value("hvt_other_edition", "", "env")
    app.add_config_value("hvt_write_sources", 0, "env")
    app.connect("config-inited", on_config_inited)
    app.connect("source-read", on_source_read)
    app.connect("missing-reference", on_missing_reference)
    app.connect("doctree-read", on_doctree_read)
    app.connect("build-finished", on_build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
