"""FrontierPlot: trait state, per-architecture Pareto fronts (lower- and higher-is-better), validation, repr."""

import json
import math

import pytest
from displayed import static_png

from saewidgets.widgets.frontier_plot import (
    FrontierPlot,
    frontier_metrics,
    frontier_png,
    higher_is_better,
    pareto_fronts,
)


def pt(arch, l0, fvu, score, **extra):
    return {
        "name": f"{arch}_{l0}",
        "architecture": arch,
        "knob": "k",
        "value": l0,
        "l0": l0,
        "fvu": fvu,
        "ce_loss_score": score,
        "delta_ce": fvu / 10,
        **extra,
    }


# index:       0                       1                       2  (dominated on fvu, not on score)
POINTS = [
    pt("relu", 10.0, 0.30, 0.90),
    pt("relu", 40.0, 0.10, 0.99),
    pt("relu", 50.0, 0.20, 0.995),
    #    3                       4                          5 (dominated on both)
    pt("topk", 8.0, 0.25, 0.95),
    pt("topk", 32.0, 0.05, 0.999),
    pt("topk", 64.0, 0.06, 0.998),
]


def test_traits_defaults_and_summary():
    w = FrontierPlot(POINTS)
    assert w.y_metric == "fvu" and w.x_log is True and w.y_log is False and w.selected is None
    assert len(w.points) == 6 and w.architectures == ["relu", "topk"]
    assert w._summary() == "FrontierPlot(6 SAEs, 2 architectures, y=fvu, selected=None)"
    assert w._metrics[:3] == ["fvu", "delta_ce", "ce_loss_score"] and "l0" not in w._metrics
    w.selected = 4
    assert w.selected_point["name"] == "topk_32.0" and w._summary().endswith("selected=4)")
    with pytest.raises(ValueError, match="index into points"):
        w.selected = 6


def test_fronts_lower_is_better():
    assert pareto_fronts(POINTS, "fvu") == {"relu": [0, 1], "topk": [3, 4]}
    assert FrontierPlot(POINTS)._fronts == {"relu": [0, 1], "topk": [3, 4]}


def test_fronts_higher_is_better_use_the_negated_metric():
    assert higher_is_better("ce_loss_score") and not higher_is_better("fvu")
    # on ce_loss_score the relu point at L0 50 buys a better score with more latents: it is on the front
    assert pareto_fronts(POINTS, "ce_loss_score") == {"relu": [0, 1, 2], "topk": [3, 4]}
    # taken as lower-is-better (the mistake the wrapper prevents) the front would be each family's lowest L0 only
    naive = pareto_fronts([p | {"fake": p["ce_loss_score"]} for p in POINTS], "fake")
    assert naive == {"relu": [0], "topk": [3]}


def test_changing_y_metric_recomputes_fronts():
    w = FrontierPlot(POINTS, y_metric="fvu")
    seen = []
    w.observe(lambda change: seen.append(change["new"]), names="_fronts")
    w.y_metric = "ce_loss_score"
    assert w._fronts == {"relu": [0, 1, 2], "topk": [3, 4]} and seen == [w._fronts]
    w.y_metric = "fvu"
    assert w._fronts == {"relu": [0, 1], "topk": [3, 4]}


def test_points_missing_the_metric_or_nan_are_left_off_the_front():
    pts = [dict(p) for p in POINTS]
    pts[0]["delta_ce"] = float("nan")
    del pts[3]["delta_ce"]
    w = FrontierPlot(pts, y_metric="delta_ce")
    assert w.points[0]["delta_ce"] is None  # NaN becomes null in JSON
    assert w._fronts == {"relu": [1], "topk": [4]}
    json.dumps(w.points)  # plain JSON


def test_bad_input():
    with pytest.raises(ValueError, match=r"unknown y_metric 'mse'.*fvu, delta_ce, ce_loss_score"):
        FrontierPlot(POINTS, y_metric="mse")
    w = FrontierPlot(POINTS)
    with pytest.raises(ValueError, match="unknown y_metric"):
        w.y_metric = "nope"
    assert w.y_metric == "fvu"
    with pytest.raises(ValueError, match="at least one point"):
        FrontierPlot([])
    with pytest.raises(ValueError, match="no architecture"):
        FrontierPlot([{"l0": 3.0, "fvu": 0.1}])
    with pytest.raises(ValueError, match="at least one point"):
        w.points = []


def test_new_points_keep_a_valid_metric_and_selection():
    w = FrontierPlot(POINTS, y_metric="ce_loss_score")
    w.selected = 5
    w.points = [
        {"architecture": "relu", "l0": 5.0, "fvu": 0.2},
        {"architecture": "relu", "l0": 9.0, "fvu": 0.1},
    ]
    assert w.selected is None and w.y_metric == "fvu" and w._fronts == {"relu": [0, 1]}
    assert frontier_metrics(w.points) == ["fvu"]


def test_from_json_reads_a_frontier_file(tmp_path):
    path = tmp_path / "frontier.json"
    path.write_text(
        json.dumps({"hook": "blocks.1.hook_resid_post", "model": "storyteller", "points": POINTS})
    )
    w = FrontierPlot.from_json(path, y_metric="delta_ce")
    assert w.points == POINTS and w.y_metric == "delta_ce"
    assert w.title == "storyteller · blocks.1.hook_resid_post"
    (tmp_path / "bare.json").write_text(json.dumps(POINTS))
    assert len(FrontierPlot.from_json(tmp_path / "bare.json").points) == 6


def test_display_has_text_and_a_static_png():
    w = FrontierPlot(POINTS, y_metric="delta_ce", y_log=True, selected=1)
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == "FrontierPlot(6 SAEs, 2 architectures, y=delta_ce, selected=1)"
    png = static_png(w)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_frontier_png_is_the_widgets_picture_without_a_widget():
    """The report draws its figures with frontier_png; the widget's static fallback is the same function."""
    png = frontier_png(POINTS, "delta_ce", y_log=True, selected=1)
    assert png == FrontierPlot(POINTS, y_metric="delta_ce", y_log=True, selected=1)._png()
    assert frontier_png({"points": POINTS})[:8] == b"\x89PNG\r\n\x1a\n"  # a whole frontier.json
    with pytest.raises(ValueError, match="unknown y_metric"):
        frontier_png(POINTS, "nope")
    with pytest.raises(ValueError, match="selected"):
        frontier_png(POINTS, selected=6)


def test_offline_state_carries_the_fronts_of_every_metric(tmp_path):
    w = FrontierPlot(POINTS)
    state = w._state_for_html()
    assert state["_fronts"] == w._fronts and state["_metrics"] == w._metrics
    assert state["_fronts_by_metric"]["ce_loss_score"] == {"relu": [0, 1, 2], "topk": [3, 4]}
    html = w.to_html(tmp_path / "f.html").read_text()
    assert "saew-fp" in html and not any(math.isnan(p["l0"]) for p in w.points)
