"""The offline page machinery itself, with a minimal widget: state, binary arrays, set/on, escaping."""

import numpy as np
import traitlets

from saewidgets.widgets._base import Array, SaeWidget

ESM = """
export default {
  render({ model, el }) {
    const arr = typed(model.get("values"));
    const out = h("div", { class: "saew-widget", id: "out" });
    const draw = () => { out.textContent = `${model.get("label")}|${arr.shape.join("x")}|${arr.values.reduce((a, b) => a + b, 0)}|${model.get("count")}`; };
    const button = h("button", { id: "inc", text: "+1", onclick: () => { model.set("count", model.get("count") + 1); model.save_changes(); } });
    model.on("change:count", draw);
    draw();
    el.append(out, button);
    return () => model.off("change:count", draw);
  },
};
"""


class Probe(SaeWidget):
    _esm = "__COMMON__" + ESM
    _css = ".saew-widget { color: red; }"
    values = Array()
    label = traitlets.Unicode("").tag(sync=True)
    count = traitlets.Int(0).tag(sync=True)


def test_offline_page_renders_state_arrays_and_interactions(tmp_path, page):
    from saewidgets.widgets._base import static_text

    Probe._esm = static_text("common.js") + ESM
    w = Probe(
        values=np.arange(6, dtype=np.float32).reshape(2, 3), label="</script><img src=x onerror=alert(1)>"
    )
    path = w.to_html(tmp_path / "probe.html")
    p = page()
    browser_page = p.open(path)
    text = browser_page.inner_text("#out")
    assert text == "</script><img src=x onerror=alert(1)>|2x3|15|0"
    assert browser_page.query_selector("img") is None  # the label stayed text
    browser_page.click("#inc")
    browser_page.click("#inc")
    assert browser_page.inner_text("#out").endswith("|2")


def test_a_widget_that_asks_the_kernel_offline_is_told_once(tmp_path, page):
    """Every message to Python (model.send) in an offline page says it needs a kernel, once per widget: the
    note used to be appended again on every edit."""
    from saewidgets.widgets._base import static_text

    Probe._esm = static_text("common.js") + ESM
    pg = page().open(Probe(values=np.zeros(1, dtype=np.float32)).to_html(tmp_path / "send.html"))
    for _ in range(3):
        pg.evaluate("() => document.querySelector('[data-saew-widget]').saewModel.send({ type: 'prompt' })")
    notes = pg.locator(".saew-offline-note")
    assert notes.count() == 1 and "needs a running Python kernel" in notes.inner_text()
