"""What every saewidgets widget shares: static files, binary arrays, a readable repr, offline HTML export.

- ESM and CSS are plain files in ``saewidgets/static`` loaded by path: no build step, no CDN.
- Arrays cross to the browser as binary buffers: ``{"shape": [...], "dtype": "float32", "data": bytes}``
  (jupyter-scatter's pattern), never as JSON lists. ``arrays()`` in ``static/common.js`` turns them back into typed arrays.
- ``to_html(path)`` writes one self-contained page: the widget's ESM, CSS and current state inlined, with a
  small in-page model that stands in for the kernel, so the file opens from disk with no network and no
  kernel. Interactions that need Python (a new prompt, regenerating text) say so in the page.
  ``render_document`` does the same for several widgets (``widget.html_part()``) between your own HTML, as
  the demo's report does; ``static/offline.js`` mounts every ``data-saew-widget`` container either way.
- ``_repr_mimebundle_`` gives a readable ``text/plain``; displaying a widget adds a second output, its static
  picture (drawn with matplotlib: ``_fallback.py``), which the live view hides and every page without one
  (nbconvert HTML offline, GitHub, nbviewer) shows: ``_static_view.py`` says why it is an output of its own.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import anywidget
import numpy as np
import traitlets

from ._static_view import static_view_bundle

STATIC = Path(__file__).resolve().parent.parent / "static"


def static_text(*names: str) -> str:
    """The concatenated contents of files in ``saewidgets/static`` (e.g. base.css + a widget's CSS)."""
    return "\n".join((STATIC / name).read_text() for name in names)


def array_to_json(value, widget=None) -> dict | None:
    """numpy/torch array -> {"shape", "dtype", "data": bytes} for a binary comm buffer (float32 or int32)."""
    if value is None:
        return None
    arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
    arr = np.ascontiguousarray(arr.astype(np.int32 if np.issubdtype(arr.dtype, np.integer) else np.float32))
    return {
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "data": memoryview(arr.reshape(-1).view(np.uint8)),
    }


def array_from_json(value, widget=None):
    if value is None:
        return None
    data = value["data"]
    raw = data.tobytes() if hasattr(data, "tobytes") else bytes(data)
    return np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"]).copy()


def Array(**kwargs) -> traitlets.Any:  # noqa: N802  (a trait factory reads like a trait class)
    """A synced trait holding a float32/int32 numpy array, sent as a binary buffer."""
    return traitlets.Any(None, allow_none=True, **kwargs).tag(
        sync=True, to_json=array_to_json, from_json=array_from_json
    )


class SaeWidget(anywidget.AnyWidget):
    """Base class: subclasses set ``_esm`` / ``_css`` (via ``static_text``) and may override ``_summary``
    (one line of text/plain) and ``_png`` (a static picture, bytes)."""

    # names this widget's static output (``_static_view.py``); the live view hides the output of that name
    _static_key = traitlets.Unicode(read_only=True).tag(sync=True)
    # a widget whose picture changes after display (a training monitor) shows an output even before it has
    # one, and calls ``refresh_static_view`` when it has
    _static_view_updates = False

    @traitlets.default("_static_key")
    def _new_static_key(self) -> str:
        return uuid.uuid4().hex

    def _summary(self) -> str:
        return type(self).__name__

    def _png(self) -> bytes | None:
        return None

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/plain"] = self._summary()
        return data, metadata

    def _ipython_display_(self, **kwargs):
        """Two outputs: the live view, then the static picture (``_static_view.py``)."""
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        if bundle is None:
            return
        display(bundle[0], metadata=bundle[1], raw=True)
        static = self._static_view()
        if static is not None:
            handle = display(static[0], metadata=static[1], raw=True, display_id=True)
            if self._static_view_updates:
                self.__dict__.setdefault("_static_view_handles", []).append(handle)

    def _static_view(self) -> tuple[dict, dict] | None:
        """(data, metadata) of the static output, or None when the widget draws no picture (and none will
        come). A picture that failed to draw leaves the summary and why in its place."""
        png, problem = self._static_png()
        if not png and not problem and not self._static_view_updates:
            return None
        summary = self._summary() + (f"\n(no static picture: {problem})" if problem else "")
        return static_view_bundle(self._static_key, png, summary)

    def refresh_static_view(self) -> None:
        """Redraw the static picture in every output this widget was displayed in, so an exported notebook
        keeps the widget as it ended (a finished training run), not as it began."""
        handles = self.__dict__.get("_static_view_handles", [])
        if handles:
            data, metadata = self._static_view()
            for handle in handles:
                handle.update(data, metadata=metadata, raw=True)

    def _static_png(self) -> tuple[bytes | None, str]:
        """(the fallback picture or None, why there is none). A picture that fails to draw (text matplotlib
        cannot lay out, a font error) costs the picture only: the widget still displays, never a traceback."""
        from ._fallback import literal_text

        try:
            with literal_text():  # user text drawn as written, no missing-glyph warnings above the widget
                return self._png(), ""
        except Exception as err:  # noqa: BLE001  (any failure of a fallback picture is survivable)
            return None, f"{type(err).__name__}: {str(err)[:200]}"

    def _state_for_html(self) -> dict:
        """Synced, non-private-to-anywidget state, arrays as base64 so they fit in a JSON page."""
        out = {}
        for name in self.keys:
            if name.startswith("_") and name not in self._html_private:
                continue
            trait = self.traits()[name]
            value = getattr(self, name)
            to_json = trait.metadata.get("to_json")
            if to_json is array_to_json:
                value = array_to_json(value)
                if value is not None:
                    value["data"] = base64.b64encode(bytes(value["data"])).decode()
                    value["b64"] = True
            elif to_json is not None:
                value = to_json(value, self)
            out[name] = value
        return out

    # private traits the offline page still needs (e.g. precomputed grids); subclasses extend
    _html_private: tuple[str, ...] = ()

    def to_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write a self-contained interactive HTML file (no network, no kernel) and return its path."""
        from .._files import write_text_atomic

        page = render_page(self._esm, self._css, self._state_for_html(), title or self._summary())
        return write_text_atomic(path, page)

    def html_part(self, name: str = "") -> WidgetPart:
        """This widget's share of a multi-widget page (``render_document``), its state as of now."""
        return WidgetPart(self._esm, self._css, self._state_for_html(), name)


class WidgetPart(NamedTuple):
    """One widget in an offline page: its ESM and CSS, frozen state, and an optional name (the container's
    ``data-saew-name``, so the page's own script or a test can find it)."""

    esm: str
    css: str
    state: dict
    name: str = ""


def _script_json(obj) -> str:
    """JSON safe inside <script>: '</' and '<!--' cannot close or comment out the tag."""
    return json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


CSP = "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data:"
"""Nothing may be fetched: scripts and styles are inline, the ESM is imported from a blob: URL made in the page,
images are data: URIs. A page that reached for the network would break offline, so the browser forbids it."""


def _page(title: str, css: str, body: str) -> str:
    shim = static_text("offline.js")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{css}</style></head>
<body class="saew-page">
{body}
<script type="module">{shim}</script>
</body></html>
"""


def _json_script(element_id: str, obj) -> str:
    return f'<script type="application/json" id="{element_id}">{_script_json(obj)}</script>'


def render_page(esm: str, css: str, state: dict, title: str) -> str:
    """The single-widget offline page: CSS inline, state + ESM as inert JSON, the model shim, then render().
    Its element ids (saew-root, saew-state, saew-esm) are fixed: tests and bench/ find the widget by them."""
    body = "\n".join(
        [
            '<div id="saew-root" data-saew-widget data-saew-state="saew-state" data-saew-esm="saew-esm">'
            "</div>",
            _json_script("saew-state", state),
            _json_script("saew-esm", esm),
        ]
    )
    return _page(title, css, body)


def render_document(title: str, parts: Sequence[str | WidgetPart], css: str = "", script: str = "") -> str:
    """An offline page of several widgets between blocks of HTML, in order.

    ``parts`` are HTML strings (inserted as they are: escape any text in them first) and ``WidgetPart``s
    (``widget.html_part()``), each drawn in its own container. Widgets of one class share one copy of their
    ESM and CSS. ``css`` is added after the widgets' CSS; ``script`` is an inline module run once the page is
    parsed (e.g. links that drive a widget through its container's ``saewModel``, looked up when clicked:
    the widgets may still be rendering when it runs)."""
    esm_ids: dict[str, str] = {}
    styles: dict[str, None] = {}
    base = static_text("base.css")  # every widget's CSS starts with it: once is enough
    body, data = [], []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            body.append(part)
            continue
        esm_id = esm_ids.setdefault(part.esm, f"saew-esm-{len(esm_ids)}")
        if part.css.startswith(base):
            styles.setdefault(base, None)
        styles.setdefault(part.css.removeprefix(base), None)
        name = f' data-saew-name="{html.escape(part.name, quote=True)}"' if part.name else ""
        body.append(
            f'<div class="saew-slot" data-saew-widget{name} data-saew-state="saew-state-{i}" '
            f'data-saew-esm="{esm_id}"></div>'
        )
        data.append(_json_script(f"saew-state-{i}", part.state))
    data += [_json_script(esm_id, esm) for esm, esm_id in esm_ids.items()]
    if script:
        data.append(f'<script type="module">{script}</script>')
    return _page(title, "\n".join([*styles, css]), "\n".join(body + data))
