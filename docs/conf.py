"""Sphinx configuration for the saewidgets documentation.

Build with ``python docs/build.py`` (or ``make docs``), not sphinx-build directly: the build script first
executes the solution notebooks and writes them as pages next to these sources. Everything the site needs is
copied into it — MathJax included — so the built site works from disk with no network.
"""

import saewidgets

project = "saewidgets"
author = "saewidgets developers"
copyright = "2026, saewidgets developers"
release = version = saewidgets.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # vendors MathJax 3 into _static/: no CDN
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_tools", "build.py", "Thumbs.db", ".DS_Store"]

# The API pages document what the code says, type hints in the signatures. Inherited docstrings are left out:
# torch's autograd.Function.forward/backward docs would fill the Heaviside and JumpReLU entries with torch's own.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_class_signature = "separated"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False

# Nitpicky (-n) resolves every type reference. Other projects' types would need intersphinx, which fetches
# their inventories over the network; the build is offline, so those (and only those) are let through.
nitpick_ignore_regex = [
    ("py:.*", r"(torch|numpy|np|scipy|collections|pathlib|os|typing|traitlets|anywidget)(\..*)?"),
    ("py:class", r"(Tensor|Module|Path|Callable|Iterator|Sequence)"),
]

html_theme = "furo"
html_title = f"saewidgets {release}"
html_static_path = ["_static"]
html_css_files = ["notebooks.css"]
html_js_files = ["notebooks.js"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}
