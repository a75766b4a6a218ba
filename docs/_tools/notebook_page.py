"""An executed notebook → one MyST Markdown page plus its figures and widget pages.

Markdown cells pass through; code cells become IPython code blocks; text outputs become text blocks; figures
become PNG files; widgets become iframes onto offline pages (``widget_frames``). Output text is cleaned of ANSI
colour codes and carriage-return progress bars (only each bar's final state is kept).
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from saewidgets.widgets._static_view import static_view_key
from widget_frames import (
    VIEW_MIME,
    anywidget_page,
    captured_outputs,
    is_anywidget,
    widget_states,
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class PageAssets:
    """Where one notebook's files go: figures next to the page, widget pages under the site's _static."""

    stem: str
    page_dir: Path
    widget_dir: Path
    widget_url: str  # widget_dir as seen from the page
    figures: int = 0
    widgets: list[str] = field(default_factory=list)

    def figure(self, png: bytes) -> str:
        self.figures += 1
        rel = f"{self.stem}_files/figure-{self.figures}.png"
        path = self.page_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return rel

    def widget(self, page: str) -> str:
        name = f"{self.stem}-{len(self.widgets) + 1}.html"
        self.widget_dir.mkdir(parents=True, exist_ok=True)
        (self.widget_dir / name).write_text(page, encoding="utf-8")
        self.widgets.append(name)
        return f"{self.widget_url}/{name}"


def clean_text(text: str) -> str:
    text = _ANSI.sub("", text)
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p.strip()]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines).rstrip()


def fenced(body: str, lang: str = "") -> str:
    """A code fence longer than any backtick run inside ``body``."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _output(out: dict, states: dict, assets: PageAssets, title: str) -> str | None:
    kind = out["output_type"]
    if kind == "stream":
        text = clean_text(out["text"] if isinstance(out["text"], str) else "".join(out["text"]))
        return fenced(text, "text") if text else None
    if kind == "error":
        raise RuntimeError(f"{title}: a cell raised {out['ename']}: {out['evalue']}")
    data = out.get("data", {})
    if _drawn_live(static_view_key(out.get("metadata", {})), states):
        return None  # a widget's static picture: the page draws that widget live (an iframe) instead
    view = data.get(VIEW_MIME)
    if view and view.get("model_id") in states:
        return _widget(view["model_id"], states, assets, title)
    if "image/png" in data:
        return f"![output figure]({assets.figure(base64.b64decode(data['image/png']))})"
    if "text/html" in data:
        body = data["text/html"] if isinstance(data["text/html"], str) else "".join(data["text/html"])
        return f'<div class="nb-html-output">\n\n{body}\n\n</div>'
    if "text/plain" in data:
        text = data["text/plain"] if isinstance(data["text/plain"], str) else "".join(data["text/plain"])
        text = clean_text(text)
        return fenced(text, "text") if text else None
    return None


def _drawn_live(static_key: str | None, states: dict) -> bool:
    """Whether the widget whose static output has this key is in the saved state (so drawn as an iframe)."""
    return bool(static_key) and any(
        m.get("state", {}).get("_static_key") == static_key for m in states.values()
    )


def _widget(model_id: str, states: dict, assets: PageAssets, title: str) -> str:
    model = states[model_id]
    if is_anywidget(model):
        name = model["state"].get("_anywidget_id", "widget").rsplit(".", 1)[-1]
        url = assets.widget(anywidget_page(model, f"{name} — {title}"))
        return (f'<iframe class="nb-widget" src="{html.escape(url)}" title="{html.escape(name)}" '
                f'loading="lazy"></iframe>')
    controls, outputs = captured_outputs(model_id, states)
    note = ("*Interactive in a running notebook; shown here for "
            + (", ".join(f"`{c}`" for c in controls) if controls else "its default values") + ".*")
    rendered = [r for r in (_output(o, states, assets, title) for o in outputs) if r]
    return "\n\n".join([note, *rendered])


def notebook_to_myst(nb, assets: PageAssets, title: str, header: str = "") -> str:
    """The page's MyST text. ``header`` goes right after the notebook's first heading."""
    states = widget_states(nb)
    blocks = []
    for cell in nb.cells:
        src = _source(cell).strip()
        if cell.cell_type == "markdown":
            blocks.append(src)
            if header and len(blocks) == 1:
                blocks.append(header)
        elif cell.cell_type == "code" and src:
            blocks.append(fenced(src, "ipython3"))
            for out in cell.get("outputs", []):
                rendered = _output(out, states, assets, title)
                if rendered:
                    blocks.append(f':::{{container}} nb-output\n{rendered}\n:::')
    return "\n\n".join(blocks) + "\n"
