"""Widget outputs of an executed notebook → offline pages for the docs site.

A notebook executed with ``store_widget_state=True`` keeps every widget model's final state in its metadata.
For an anywidget that state holds the widget's own ES module and CSS, so the package's offline page
(``saewidgets.widgets._base.render_page``, the same page ``to_html()`` writes) renders it with no kernel, no
widget manager and no CDN. Each widget becomes one such page, shown in an iframe that sizes itself to it.

Plain ipywidgets (``interact``) have no ES module of their own; their controls need a kernel, so the docs show
the control values as text and the output they captured.
"""

from __future__ import annotations

from saewidgets.widgets._base import render_page

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
_BOOKKEEPING = ("_model_", "_view_", "_anywidget_id", "_dom_classes", "_esm", "_css")
_WIDGET_ONLY = ("layout", "tabbable", "tooltip")

# The page tells its iframe how tall it is (file:// frames are cross-origin: the parent cannot measure them).
_RESIZE = """<script>
const saewPost = () => parent.postMessage({saewHeight: document.documentElement.scrollHeight}, "*");
new ResizeObserver(saewPost).observe(document.body);
addEventListener("load", saewPost);
</script>
"""


def widget_states(nb) -> dict:
    """model_id → {"model_name", "state", "buffers"} from an executed notebook's metadata ({} if none)."""
    return nb.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})


def _with_buffers(state: dict, buffers: list[dict]) -> dict:
    """Put each binary buffer back at its path, base64 with ``b64`` set, as the offline shim decodes it."""
    state = {k: (dict(v) if isinstance(v, dict) else v) for k, v in state.items()}
    for buf in buffers:
        *parents, leaf = buf["path"]
        target = state
        for key in parents:
            target = target[key]
        if buf.get("encoding", "base64") != "base64":
            raise ValueError(f"widget buffer at {buf['path']} has encoding {buf.get('encoding')!r}; expected base64")
        target[leaf] = buf["data"]
        target["b64"] = True
    return state


def is_anywidget(model: dict) -> bool:
    return model.get("model_name") == "AnyModel" and "_esm" in model.get("state", {})


def anywidget_page(model: dict, title: str) -> str:
    """The offline page for one anywidget model's final state."""
    raw = model["state"]
    state = _with_buffers(raw, model.get("buffers", []))
    state = {k: v for k, v in state.items() if not k.startswith(_BOOKKEEPING) and k not in _WIDGET_ONLY}
    page = render_page(raw["_esm"], raw.get("_css", ""), state, title)
    return page.replace("</body>", _RESIZE + "</body>")


def captured_outputs(model_id: str, states: dict, seen: set | None = None) -> tuple[list[str], list[dict]]:
    """(control descriptions, outputs) of a plain ipywidgets tree: Output widgets' captures, controls' values."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in states:
        return [], []
    seen.add(model_id)
    state = states[model_id]["state"]
    controls, outputs = [], []
    if states[model_id].get("model_name") == "OutputModel":
        outputs.extend(state.get("outputs", []))
    elif "value" in state and state.get("description"):
        controls.append(f"{state['description']} = {state['value']}")
    for child in state.get("children", []):
        c, o = captured_outputs(child.removeprefix("IPY_MODEL_"), states, seen)
        controls += c
        outputs += o
    return controls, outputs
