"""What ``display(widget)`` publishes, without a kernel: ``IPython.display.display`` swapped for a recorder.

A widget displays two outputs (``saewidgets/widgets/_static_view.py``); the tests read them here. The real
path goes through a kernel: ``executed_notebook`` (nbclient, as ``jupyter nbconvert --execute`` runs one).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field


@dataclass
class Output:
    data: dict
    metadata: dict
    updates: list[tuple[dict, dict]] = field(default_factory=list)  # what handle.update sent, in order


class _Handle:
    def __init__(self, output: Output):
        self.output = output

    def update(self, data, metadata=None, raw=False, **kwargs):
        assert raw, "widgets publish raw bundles"
        self.output.updates.append((data, metadata or {}))


@contextlib.contextmanager
def recording():
    """Yields the list of outputs published inside the block."""
    import IPython.display

    outputs: list[Output] = []

    def display(data, metadata=None, raw=False, display_id=None, **kwargs):
        assert raw, "widgets publish raw bundles"
        outputs.append(Output(data, metadata or {}))
        return _Handle(outputs[-1]) if display_id else None

    saved = IPython.display.display
    IPython.display.display = display
    try:
        yield outputs
    finally:
        IPython.display.display = saved


def displayed(widget) -> list[Output]:
    """The outputs ``display(widget)`` publishes: its live view, then (when it draws one) its static view."""
    with recording() as outputs:
        widget._ipython_display_()
    return outputs


def static_png(widget) -> bytes:
    """The PNG inside a widget's static output (asserting there is one)."""
    import base64
    import re

    outputs = displayed(widget)
    assert len(outputs) == 2, [o.data.keys() for o in outputs]
    match = re.search(r'src="data:image/png;base64,([^"]+)"', outputs[1].data["text/html"])
    assert match, outputs[1].data["text/html"][:300]
    return base64.b64decode(match.group(1))


# A notebook with two widgets that draw a picture, one of them (a training monitor) displayed before it has
# any rows and finished in a later cell.
WIDGET_CELLS = (
    """
from saewidgets.widgets import FrontierPlot
FrontierPlot([{"architecture": "relu", "l0": l0, "fvu": 1 / l0} for l0 in (4.0, 16.0, 64.0)], title="$5 and $10")
""",
    """
from saewidgets.widgets import TrainingMonitor
monitor = TrainingMonitor(title="run")
display(monitor)
""",
    """
for step in range(1, 30):
    monitor.update({"step": step, "tokens": 256 * step, "loss": 1 / step, "l0": 40 / step ** .5,
                    "fvu": .5 / step ** .3, "dead_fraction": 0.0})
monitor.finish()
""",
)


def executed_notebook(work_dir, cells=WIDGET_CELLS):
    """``cells`` run by nbclient in ``work_dir`` with widget state stored, as ``jupyter nbconvert --execute``
    and the docs build run a notebook."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(work_dir)}},
    ).execute()
    return nb


def nbconvert_html(nb) -> str:
    """The page ``jupyter nbconvert --to html`` writes for ``nb`` (the lab template)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body
