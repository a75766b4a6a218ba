"""TrainingMonitor: rows packed into one binary array, throttled sends, sweeps grouped per SAE, mimebundle."""

import time

import numpy as np
from displayed import static_png

from saewidgets.widgets.training_monitor import (
    COLUMNS,
    TrainingMonitor,
    group_by_sae,
    last_values,
    rows_to_array,
    summary,
)


def fake_row(step, sae=None, **kw):
    row = {
        "step": step,
        "tokens": step * 256,
        "lr": 1e-3,
        "sparsity_scale": 1.0,
        "loss": 1.0 / step,
        "mse": 0.5 / step,
        "sparsity": 0.1,
        "aux": 0.0,
        "l0": 10.0 + step,
        "fvu": 1.0 / (1 + step),
        "dead_fraction": 0.01 * step,
        "seconds": 0.1 * step,
    } | kw
    return row if sae is None else {"sae": sae} | row


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def count_syncs(monkeypatch, mon):
    sent = []
    real = mon.send_state
    monkeypatch.setattr(mon, "send_state", lambda key=None: (sent.append(key), real(key))[1])
    return sent


def test_rows_accumulate_in_binary_array_in_column_order():
    mon = TrainingMonitor(min_interval=0.0)
    for step in (10, 20, 30):
        mon.update(fake_row(step))
    assert mon.columns == list(COLUMNS)
    assert mon.rows.dtype == np.float32 and mon.rows.shape == (3, len(COLUMNS))
    step, l0, sae = (mon.columns.index(c) for c in ("step", "l0", "sae"))
    np.testing.assert_array_equal(mon.rows[:, step], [10, 20, 30])
    np.testing.assert_allclose(mon.rows[:, l0], [20, 30, 40])
    np.testing.assert_array_equal(mon.rows[:, sae], 0)  # single runs have no "sae" key: index 0
    state = mon.get_state()  # the trait crosses as a binary buffer, not a JSON list
    assert state["rows"]["shape"] == [3, len(COLUMNS)] and state["rows"]["dtype"] == "float32"
    assert isinstance(state["rows"]["data"], memoryview)
    assert mon.status == "running"


def test_extra_numeric_keys_become_extra_columns_and_missing_are_nan():
    arr, cols = rows_to_array([fake_row(1, kl=0.3), {"step": 2}])
    assert cols[-1] == "kl" and cols[: len(COLUMNS)] == list(COLUMNS)
    assert arr[0, -1] == np.float32(0.3) and np.isnan(arr[1, cols.index("l0")])


def test_sends_are_throttled_and_the_final_row_always_arrives(monkeypatch):
    clock = Clock()
    mon = TrainingMonitor(min_interval=0.2, trailing=False, clock=clock)
    sent = count_syncs(monkeypatch, mon)
    for i in range(100):  # 100 rows over 1 s of fake time: one send per 0.2 s, not 100
        clock.t = i * 0.01
        mon.update(fake_row(i + 1))
    assert len(sent) == 5, sent
    assert mon.rows.shape[0] < 100 and mon.history.shape[0] == 100  # the newest rows wait for the throttle
    mon.finish()
    assert len(sent) == 6  # one message for the last rows and the status together
    assert mon.rows.shape[0] == 100 and mon.rows[-1, mon.columns.index("step")] == 100
    assert mon.status == "finished"


def test_trailing_timer_sends_rows_that_no_later_row_pushes_out():
    mon = TrainingMonitor(min_interval=0.05)
    mon.update(fake_row(1))
    mon.update(fake_row(2))  # inside the interval: held back
    assert mon.rows.shape[0] == 1
    deadline = time.time() + 2
    while mon.rows.shape[0] < 2 and time.time() < deadline:
        time.sleep(0.01)
    assert mon.rows.shape[0] == 2


def test_finish_interrupted_and_summary():
    mon = TrainingMonitor(min_interval=10, trailing=False)
    assert mon._summary() == "TrainingMonitor(no rows yet, waiting)"
    for step in (10, 20):
        mon.update(fake_row(step, l0=31.5, fvu=0.048, dead_fraction=0.002))
    mon.finish(interrupted=True)
    assert mon.status == "interrupted"
    assert mon._summary() == (
        "TrainingMonitor(1 SAE, 2 rows, interrupted, last: step 20, L0 31.5, FVU 0.048, dead 0.002)"
    )


def test_sweep_rows_are_grouped_per_sae():
    mon = TrainingMonitor(min_interval=0.0)
    for step in (10, 20, 30):
        for sae in range(3):
            mon.update(fake_row(step, sae=sae, l0=float(100 * sae + step)))
    groups = mon.per_sae()
    assert sorted(groups) == [0, 1, 2]
    l0 = mon.columns.index("l0")
    for sae, g in groups.items():
        np.testing.assert_allclose(g[:, l0], [100 * sae + 10, 100 * sae + 20, 100 * sae + 30])
    assert last_values(mon.rows, mon.columns)[2]["l0"] == 230
    assert summary(mon.rows, mon.columns, "running").startswith(
        "TrainingMonitor(3 SAEs, 9 rows, running, last: SAE 2"
    )


def test_group_by_sae_on_empty_rows():
    arr, cols = rows_to_array([])
    assert arr.shape == (0, len(COLUMNS)) and group_by_sae(arr, cols) == {}


def small_acts(model, corpus):
    from saewidgets import harvest

    return harvest(model, [d.text for d in corpus[:24]], "blocks.1.hook_resid_post")


def test_real_training_run_fills_the_monitor(model, corpus):
    from saewidgets import SAEConfig, build_sae, train

    acts = small_acts(model, corpus)
    sae = build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=8))
    mon = TrainingMonitor()
    result = train(
        sae, acts, n_tokens=20 * 512, batch_size=512, log_every=2, progress=False, callback=mon.callback
    )
    mon.finish(interrupted=result.interrupted)
    assert mon.rows.shape == (len(result.history), len(COLUMNS)) == (10, len(COLUMNS))
    for j, name in enumerate(COLUMNS[1:], start=1):
        np.testing.assert_allclose(mon.rows[:, j], [r[name] for r in result.history], rtol=1e-6)
    again = TrainingMonitor.from_history(result)  # a finished run, rebuilt from its history
    np.testing.assert_array_equal(again.rows, mon.rows)
    assert again.status == "finished"


def test_monitor_train_wraps_a_sweep(model, corpus):
    from saewidgets import SAEConfig, build_sae

    acts = small_acts(model, corpus)
    saes = [build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=k)) for k in (4, 16)]
    mon = TrainingMonitor(labels=["k=4", "k=16"])
    results = mon.train(saes, acts, n_tokens=10 * 512, batch_size=512, log_every=5, progress=False)
    assert mon.status == "finished" and sorted(mon.per_sae()) == [0, 1]
    assert mon.rows.shape[0] == sum(len(r.history) for r in results) == 4
    rebuilt = TrainingMonitor.from_history(results)
    np.testing.assert_array_equal(rebuilt.rows, mon.rows[np.argsort(mon.rows[:, 0], kind="stable")])


def test_from_history_plain_rows_and_mimebundle():
    history = [fake_row(s) for s in range(10, 130, 10)]
    mon = TrainingMonitor.from_history(history)
    assert mon.rows.shape == (12, len(COLUMNS)) and mon.status == "finished"
    data, _ = mon._repr_mimebundle_()
    assert data["text/plain"].startswith("TrainingMonitor(1 SAE, 12 rows, finished, last: step 120, L0 130.0")
    png = static_png(mon)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "application/vnd.jupyter.widget-view+json" in data
    mon.update(fake_row(130))  # a finished monitor keeps accepting rows (e.g. a resumed run)
    assert mon.history.shape[0] == 13


def test_static_png_leaves_the_notebooks_matplotlib_backend_alone():
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        mon = TrainingMonitor.from_history(
            [
                {"step": i, "tokens": 100 * i, "loss": 1.0 / i, "l0": 5.0, "fvu": 0.5, "dead_fraction": 0.0}
                for i in range(1, 4)
            ]
        )
        assert mon._png()[:4] == b"\x89PNG"
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_extra_panels_draw_a_callbacks_own_column_and_refuse_a_missing_one():
    """Notebook 05 adds each SAE's mean threshold to the rows and shows it climbing in a fifth panel."""
    import io

    import pytest
    from PIL import Image

    rows = [fake_row(i, mean_theta=0.1 + 0.01 * i) for i in range(1, 6)]
    mon = TrainingMonitor(extra_panels=["mean_theta"])
    for row in rows:
        mon.update(row)
    mon.finish()
    assert mon.columns[-1] == "mean_theta" and mon.get_state()["extra_panels"] == ["mean_theta"]
    four = TrainingMonitor.from_history(rows)
    tall, plain = (Image.open(io.BytesIO(m._png())) for m in (mon, four))
    assert tall.width == plain.width and tall.height == pytest.approx(plain.height * 3 / 2, rel=0.05)

    wrong = TrainingMonitor(extra_panels=["mean_threshold"])
    with pytest.raises(
        ValueError, match=r"mean_threshold.*not numeric keys of the first row.*monitor.update"
    ):
        wrong.update(rows[0])
