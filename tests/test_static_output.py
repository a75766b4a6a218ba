"""A widget's static picture: an output of its own, drawn wherever the live view cannot be (issue 16 item 5).

nbconvert's HTML exporter draws only the first mimetype of its priority list in an output, and the widget view
comes first whenever the notebook stores that widget's state (``WidgetsDataTypeFilter``): the page then holds
an empty ``<script type="application/vnd.jupyter.widget-view+json">`` that only html-manager, fetched from a
CDN, can fill. A picture in the widget's own bundle was never drawn there (the test below failed before:
0 pictures). So a displayed widget publishes a second output, ``saewidgets/widgets/_static_view.py``; the
browser half (the exported page offline shows it, the live view hides it) is tests/browser/test_static_view.py.
"""

import base64
import re

import nbformat
import pytest
from displayed import displayed, executed_notebook, nbconvert_html, recording

from saewidgets.widgets._static_view import static_view_bundle, static_view_key

VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return executed_notebook(tmp_path_factory.mktemp("static"))


def pngs_in_html(nb) -> list[bytes]:
    """The PNG images nbconvert's HTML export of ``nb`` draws."""
    found = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', nbconvert_html(nb))
    return [base64.b64decode(b) for b in found]


def test_each_widget_cell_has_a_live_output_then_its_static_output(executed):
    states = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    for cell in executed.cells[:2]:
        live, static = cell.outputs
        model = states[live["data"][VIEW]["model_id"]]["state"]
        assert live["data"]["text/plain"].startswith(("FrontierPlot(", "TrainingMonitor("))
        assert static_view_key(static["metadata"]) == model["_static_key"]
        assert f'class="saew-static saew-static-{model["_static_key"]}"' in static["data"]["text/html"]
    assert executed.cells[2].outputs == []  # the monitor's picture was updated in place, not appended


def test_nbconvert_draws_every_picture_with_stored_widget_state(executed):
    """Failed before (0 pictures): the widget view won and stayed blank offline."""
    pngs = pngs_in_html(executed)
    assert len(pngs) == 2 and all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_the_monitors_exported_picture_is_the_finished_run(executed):
    """Displayed before its first row, the monitor's static output is redrawn by finish(): the export holds
    the finished curves, not an empty placeholder."""
    html = executed.cells[1].outputs[1]["data"]["text/html"]
    assert "<img " in html and "TrainingMonitor(1 SAE, 29 rows, finished" in html


def test_without_stored_state_nbconvert_draws_each_picture_once(executed):
    nb = nbformat.from_dict(executed)
    nb.metadata.pop("widgets", None)
    assert len(pngs_in_html(nb)) == 2


@pytest.mark.parametrize("png", [None, b"\x89PNG fake"])
def test_summary_text_is_escaped_in_the_static_output(png):
    data, _ = static_view_bundle("0" * 32, png, 'a <b>bold</b> & "quoted" summary')
    html = data["text/html"]
    assert "<b>" not in html and '"quoted"' not in html
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; summary" in html


def test_a_widget_with_no_picture_publishes_its_live_view_only():
    from saewidgets.widgets._base import SaeWidget

    class NoPicture(SaeWidget):
        _esm = "export default { render() {} };"

    outputs = displayed(NoPicture())
    assert len(outputs) == 1 and VIEW in outputs[0].data


def test_a_monitor_shows_a_placeholder_then_its_picture_on_finish():
    from saewidgets.widgets import TrainingMonitor

    mon = TrainingMonitor()
    with recording() as outputs:
        mon._ipython_display_()
        mon._ipython_display_()  # shown twice: both outputs are redrawn
    statics = outputs[1::2]
    assert all("<pre>TrainingMonitor(" in o.data["text/html"] for o in statics)
    for step in range(1, 5):
        mon.update({"step": step, "tokens": step, "loss": 1.0, "l0": 2.0, "fvu": 0.5, "dead_fraction": 0.0})
    mon.finish()
    for o in statics:
        ((data, metadata),) = o.updates
        assert "data:image/png;base64," in data["text/html"] and static_view_key(metadata) == mon._static_key


def test_every_widget_has_its_own_key():
    from saewidgets.widgets import TrainingMonitor

    a, b = TrainingMonitor(), TrainingMonitor()
    assert re.fullmatch(r"[0-9a-f]{32}", a._static_key) and a._static_key != b._static_key


def test_a_key_that_could_break_out_of_a_class_name_is_refused():
    with pytest.raises(ValueError, match="32 lowercase hex digits"):
        static_view_bundle('x" onload="alert(1)', None, "summary")
