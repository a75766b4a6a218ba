"""TrainingMonitor in a real browser: four panels from a real run, a sweep's legend, live updates."""

import time

import pytest

from saewidgets.widgets.training_monitor import TrainingMonitor


@pytest.fixture(scope="module")
def runs(model, corpus):
    from saewidgets import SAEConfig, build_sae, harvest, train
    from saewidgets.training import train_sweep

    acts = harvest(model, [d.text for d in corpus[:24]], "blocks.1.hook_resid_post")
    kw = dict(n_tokens=60 * 512, batch_size=512, log_every=3, lr=3e-3, progress=False)
    single = train(build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=8)), acts, **kw)
    sweep = train_sweep(
        [build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=k)) for k in (4, 16)],
        acts,
        **(kw | {"n_tokens": 30 * 512}),
    )
    return single, sweep


def wait_until(bp, js: str, timeout: float = 5.0):
    """Poll a JS expression from Python (wait_for_function evaluates strings, which the page's CSP forbids)."""
    deadline = time.time() + timeout
    while not bp.evaluate(js):
        assert time.time() < deadline, f"timed out waiting for {js}"
        time.sleep(0.02)


def filled_monitor(history, **kwargs):
    mon = TrainingMonitor(**kwargs)
    for row in history:
        mon.callback(row)
    mon.finish()
    return mon


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_four_panels_from_a_real_run(runs, tmp_path, page, scheme):
    single, _ = runs
    mon = filled_monitor(single.history)
    p = page(scheme)
    bp = p.open(mon.to_html(tmp_path / "monitor.html"))
    assert [f.get_attribute("data-metric") for f in bp.query_selector_all(".saew-tm-panel")] == [
        "loss",
        "l0",
        "fvu",
        "dead_fraction",
    ]
    paths = bp.query_selector_all(".saew-tm-line")
    assert len(paths) == 4
    for path in paths:
        d = path.get_attribute("d")
        assert d.count("M") + d.count("L") == len(single.history) == 20
        assert int(path.get_attribute("data-points")) == 20
    assert bp.inner_text(".saew-tm-status").startswith("✓ finished · 20 rows")
    assert bp.is_hidden(".saew-tm-legend")  # one SAE: no legend needed
    last = single.history[-1]
    vals = {el.get_attribute("data-key"): el.inner_text() for el in bp.query_selector_all(".saew-tm-val")}
    assert vals["step"] == str(last["step"])
    assert float(vals["loss"]) == pytest.approx(last["loss"], abs=1e-4)
    assert float(vals["l0"]) == pytest.approx(last["l0"], abs=0.051)
    assert float(vals["fvu"]) == pytest.approx(last["fvu"], abs=0.00051)
    assert float(vals["dead_fraction"]) == pytest.approx(last["dead_fraction"], abs=0.00051)
    # log-y loss panel: a falling loss draws a path whose last point sits lower (larger y) than its first
    d = paths[0].get_attribute("d")
    ys = [float(seg.split(",")[1]) for seg in d.replace("M", "L").split("L")[1:]]
    assert single.history[-1]["loss"] < single.history[0]["loss"] and ys[-1] > ys[0]
    p.shot(f"training_monitor_{scheme}")
    # the x axis switch (a keyboard-usable select) redraws over steps
    xticks = "() => [...document.querySelectorAll('.saew-tm-panel .saew-tm-tick[text-anchor=middle]')].map(t => t.textContent)"
    before = bp.evaluate(xticks)
    bp.select_option(".saew-tm-x", "step")
    wait_until(bp, "document.querySelector('.saew-tm').dataset.draws === '2'")
    after = bp.evaluate(xticks)
    assert before != after and after[-1] == "60"


def test_sweep_legend_shows_each_sae(runs, tmp_path, page):
    _, sweep = runs
    mon = TrainingMonitor.from_history(sweep, labels=["k=4", "k=16"])
    p = page("light")
    bp = p.open(mon.to_html(tmp_path / "sweep.html"))
    assert [k.inner_text().strip() for k in bp.query_selector_all(".saew-tm-key")] == ["k=4", "k=16"]
    paths = bp.query_selector_all(".saew-tm-panel[data-metric='l0'] .saew-tm-line")
    assert [pth.get_attribute("data-sae") for pth in paths] == ["0", "1"]
    for pth, res in zip(paths, sweep):
        assert int(pth.get_attribute("data-points")) == len(res.history) == 10
    strokes = [pth.evaluate("e => getComputedStyle(e).stroke") for pth in paths]
    assert strokes[0] != strokes[1]  # each SAE in its own colour of the palette
    lines = bp.query_selector_all(".saew-tm-line-text")
    assert len(lines) == 2
    for line, res in zip(lines, sweep):
        l0 = float(line.query_selector("[data-key='l0']").inner_text())
        assert l0 == pytest.approx(res.history[-1]["l0"], abs=0.051)
    p.shot("training_monitor_sweep_light")
    p2 = page("dark")
    p2.open(mon.to_html(tmp_path / "sweep.html"))
    p2.shot("training_monitor_sweep_dark")


def test_live_update_extends_the_curves_with_coalesced_redraws(runs, tmp_path, page):
    single, _ = runs
    first = single.history[:8]
    mon = TrainingMonitor(min_interval=0.0)
    for row in first:
        mon.update(row)  # still "running": no finish()
    p = page("light")
    bp = p.open(mon.to_html(tmp_path / "live.html"))
    assert bp.inner_text(".saew-tm-status").startswith("● running · 8 rows")
    assert bp.get_attribute(".saew-tm-line", "data-points") == "8"
    full = TrainingMonitor.from_history(single.history).rows  # [20, n_columns]
    # 12 updates in one tight loop (each one row longer), as a fast training loop would send them
    draws = bp.evaluate(
        """([flat, shape]) => {
          const model = document.getElementById('saew-root').saewModel;
          const all = new Float32Array(flat);
          for (let n = 9; n <= shape[0]; n++) {
            const part = all.slice(0, n * shape[1]);
            model.set('rows', { shape: [n, shape[1]], dtype: 'float32', data: new DataView(part.buffer) });
          }
          model.set('status', 'finished');
          return Number(document.querySelector('.saew-tm').dataset.draws);
        }""",
        [full.reshape(-1).tolist(), list(full.shape)],
    )
    assert draws == 1  # nothing redrawn synchronously: the 13 changes wait for one frame
    wait_until(bp, "document.querySelector('.saew-tm').dataset.rows === '20'")
    assert int(bp.evaluate("document.querySelector('.saew-tm').dataset.draws")) == 2  # one redraw for 13 sets
    for path in bp.query_selector_all(".saew-tm-line"):
        assert path.get_attribute("data-points") == "20"
    assert bp.inner_text(".saew-tm-status").startswith("✓ finished · 20 rows")
    assert bp.inner_text(".saew-tm-val[data-key='step']") == str(single.history[-1]["step"])
    p.shot("training_monitor_live_light")


def test_empty_monitor_says_it_is_waiting(tmp_path, page):
    p = page("light")
    bp = p.open(TrainingMonitor().to_html(tmp_path / "empty.html"))
    assert "Waiting for the first history row" in bp.inner_text(".saew-tm-note")
    assert bp.is_hidden(".saew-tm-grid")


def test_an_extra_panel_draws_a_column_the_callback_added(runs, tmp_path, page):
    """extra_panels: notebook 05 shows the mean JumpReLU threshold climbing beside loss, L0, FVU and dead."""
    single, _ = runs
    history = [row | {"mean_theta": 0.1 + 0.002 * i} for i, row in enumerate(single.history)]
    mon = filled_monitor(history, extra_panels=["mean_theta"])
    p = page("light")
    bp = p.open(mon.to_html(tmp_path / "monitor.html"))
    panels = bp.query_selector_all(".saew-tm-panel")
    assert [f.get_attribute("data-metric") for f in panels] == [
        "loss",
        "l0",
        "fvu",
        "dead_fraction",
        "mean_theta",
    ]
    assert panels[-1].inner_text().startswith("mean_theta")
    d = panels[-1].query_selector(".saew-tm-line").get_attribute("d")
    ys = [float(seg.split(",")[1]) for seg in d.replace("M", "L").split("L")[1:]]
    assert len(ys) == 20 and ys[-1] < ys[0]  # a rising column: its last point sits higher (smaller y)
    box = panels[-1].bounding_box()
    assert box["width"] > 100 and box["height"] > 80  # laid out in the grid, not squashed
    p.shot("training_monitor_extra_panel")
