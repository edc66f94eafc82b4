# source_pages.py: writes the repository's source files as HTML pages with line anchors
# (_source/PATH.html#L-N) and folder listings, which the book's code references link to.
import html
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import docs_lib  # noqa: E402

SOURCE_DIRS = ("chapters", "common", "tools", "tests", "grading", "guests", ".ci")


def is_text(path):
    """Source pages are made for text files: UTF-8, no NUL byte, under 1 MiB."""
    try:
        if os.path.getsize(path) > (1 << 20):
            return False
        with open(path, "rb") as f:
            data = f.read()
        data.decode("utf-8")
        return b"\0" not in data
    except (OSError, UnicodeDecodeError):
        return False

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; margin: 0 1.5em; }} nav {{ margin: 1em 0; }}
pre {{ line-height: 1.35; }} .hll {{ background: #ffc; }} :target {{ background: #ffec99; }}
.linenos {{ color: #999; user-select: none; }} a {{ color: #2962a8; }}
table.dir td {{ padding: 0.1em 1em 0.1em 0; }}
{style}
</style></head><body>
<nav><a href="{home}index.html">the book</a> &rsaquo; {crumbs}</nav>
{body}
</body></html>
"""


def crumbs(path, depth):
    parts = path.split("/") if path else []
    out = ['<a href="%sindex.html">repository</a>' % ("../" * depth)]
    for i, p in enumerate(parts):
        if i == len(parts) - 1:
            out.append(html.escape(p))
        else:
            out.append('<a href="%sindex.html">%s</a>' % ("../" * (len(parts) - 1 - i), html.escape(p)))
    return " / ".join(out)


def write(site, repo):
    """ROOT/PATH.html for every text file of the repository's source folders (lines with
    anchors L-N), and ROOT/DIR/index.html listing each folder."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_for_filename
    from pygments.util import ClassNotFound

    fmt = HtmlFormatter(linenos="inline", lineanchors="L", anchorlinenos=True)
    style = fmt.get_style_defs(".highlight")
    root = site
    shutil.rmtree(root, ignore_errors=True)
    index = docs_lib.RepoIndex(repo)
    files = sorted(f for f in index.files
                   if (f.split("/")[0] in SOURCE_DIRS or "/" not in f or f.startswith("docs/diagrams/"))
                   and is_text(os.path.join(repo, f)))
    dirs = {""}
    for f in files:
        parts = f.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        depth = len(parts)           # _source/a/b.c.html -> site root is ../../
        with open(os.path.join(repo, f), encoding="utf-8", errors="replace") as fh:
            code = fh.read()
        try:
            lexer = get_lexer_for_filename(f)
        except ClassNotFound:
            lexer = TextLexer()
        body = "<h1>%s</h1>\n%s" % (html.escape(f), highlight(code, lexer, fmt))
        dest = os.path.join(root, f + ".html")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as out:
            out.write(PAGE.format(title=html.escape(f), style=style, home="../" * depth,
                                  crumbs=crumbs(f, depth - 1), body=body))
    for d in sorted(dirs):
        depth = len(d.split("/")) + 1 if d else 1
        entries = sorted({p[len(d) + 1 if d else 0:].split("/")[0] for p in files
                          if p.startswith(d + "/" if d else "")})
        rows = []
        for e in entries:
            full = (d + "/" + e) if d else e
            href = e + ("/index.html" if full in dirs else ".html")
            rows.append('<tr><td><a href="%s">%s%s</a></td></tr>' % (
                href, html.escape(e), "/" if full in dirs else ""))
        body = "<h1>%s/</h1>\n<table class=\"dir\">%s</table>" % (html.escape(d or "repository"), "".join(rows))
        dest = os.path.join(root, d, "index.html")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as out:
            out.write(PAGE.format(title=html.escape(d or "repository"), style="", home="../" * depth,
                                  crumbs=crumbs(d, depth - 1) if d else "repository", body=body))


