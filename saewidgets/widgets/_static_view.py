"""The static picture a widget leaves in a notebook, as an output of its own beside the live view.

A notebook front end chooses one mimetype per output. nbconvert's HTML exporter (and nbviewer, and the docs
build) chooses the widget view whenever the notebook stores that widget's state, and the view then needs
html-manager from a CDN: offline the output is blank. A picture inside the widget's own bundle is never drawn
there. So a widget displays two outputs: its live view (widget view + ``text/plain``) and this one, a
``text/html`` picture whose class names the widget (``saew-static-<key>``, ``key`` a synced trait). Wherever
the live view renders, ``common.js`` (``hideStaticView``) adds a CSS rule that hides the picture and its output
area; wherever it cannot (exported HTML offline, GitHub, a notebook opened without its widget state) the
picture is what the reader sees.

The output's metadata names the widget too (``{"saewidgets": {"static_view_of": key}}``) so a tool that draws
the live widget itself (docs/_tools/notebook_page.py) can leave the picture out.
"""

from __future__ import annotations

import base64
import html
import re

CLASS_PREFIX = "saew-static-"
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")  # uuid4().hex; common.js checks the same before building a selector


def static_view_bundle(key: str, png: bytes | None, summary: str) -> tuple[dict, dict]:
    """(data, metadata) of the static output for the widget whose ``_static_key`` is ``key``.

    With no picture (yet: a training monitor before its first row) the output holds the summary line, so a
    later ``update`` has an output to replace."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"static view key must be 32 lowercase hex digits (uuid4().hex), got {key!r}")
    alt = html.escape(summary, quote=True)
    if png:
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        inner = f'<img src="{uri}" alt="{alt}" style="max-width:100%">'
    else:
        inner = f"<pre>{alt}</pre>"
    body = f'<div class="saew-static {CLASS_PREFIX}{key}">{inner}</div>'
    return {"text/html": body}, {"saewidgets": {"static_view_of": key}}


def static_view_key(metadata: dict) -> str | None:
    """The widget key of a static output's metadata, or None for any other output."""
    mark = (metadata or {}).get("saewidgets")
    return mark.get("static_view_of") if isinstance(mark, dict) else None
