# conf.py: Sphinx configuration for both editions of the book (docs/ and docs/zh/); the
# edition, the repository and where the source pages live come from tools/docs_build.py (-D).
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

project = "VT-x hypervisor tutorial"
author = "the vtx-tutorial authors"
copyright = "the vtx-tutorial authors"
extensions = ["myst_parser", "hvt_docs"]
source_suffix = {".md": "markdown"}
root_doc = "README"
exclude_patterns = ["zh", "diagrams", "_build"]
myst_heading_anchors = 4
highlight_language = "text"
html_theme = "sphinx_rtd_theme"
html_title = project
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {"navigation_depth": 2, "collapse_navigation": False}
templates_path = []
language = "en"

try:                    # Chinese search terms: Sphinx segments them with jieba when it is installed
    import jieba
    jieba.setLogLevel(logging.WARNING)
except ImportError:
    pass

html_static_path = ["_static"]
html_css_files = ["hvt.css"]
