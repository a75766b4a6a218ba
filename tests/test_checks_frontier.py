"""The notebook-06 exercise checks: the Pareto front and a metric at matched L0 (saewidgets.checks.frontier)."""

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from saewidgets import checks
from saewidgets.checks import frontier as fc
from saewidgets.frontier import compare_at_matched_l0

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_frontier.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_pareto_front(checks.pareto_front_reference)
    checks.check_value_at_l0(checks.value_at_l0_reference)
    assert capsys.readouterr().out.count("✓") == 2


def test_the_reference_is_what_compare_at_matched_l0_uses():
    points = fc._sweep_points(3)
    rows = compare_at_matched_l0(points, "jumprelu", "relu")
    assert rows
    for row in rows:
        assert row["fvu_relu"] == pytest.approx(checks.value_at_l0_reference(points, "relu", row["l0"]))
        assert row["delta_ce_relu"] == pytest.approx(
            checks.value_at_l0_reference(points, "relu", row["l0"], "delta_ce")
        )


def _loop_front(points, strict=False, by_fvu_too=True, reverse=False, as_dicts=False):
    order = sorted(range(len(points)), key=lambda i: (points[i]["l0"], points[i]["fvu"] if by_fvu_too else 0))
    out, best = [], math.inf
    for i in order:
        if points[i]["fvu"] < best or (strict and points[i]["fvu"] == best):
            out.append(i)
            best = min(best, points[i]["fvu"])
    out = out[::-1] if reverse else out
    return [points[i] for i in out] if as_dicts else out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda pts: _loop_front(pts, as_dicts=True), "indices"),
        (lambda pts: _loop_front(pts, reverse=True), "sort the front by L0"),
        (fc._front_higher_fvu, "Lower FVU is better"),
        (fc._front_strict, "ties on one axis"),
        (lambda pts: _loop_front(pts, by_fvu_too=False), "break ties by FVU"),
        (lambda pts: list(range(len(pts))), "Expected the indices"),
        (lambda pts: None, "Expected a list"),
    ],
)
def test_pareto_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_pareto_front(wrong)


def _interp(
    points, arch, l0, key="fvu", log=True, nan_outside=True, filter_arch=True, sort=True, nearest=False
):
    ps = [p for p in points if p["architecture"] == arch or not filter_arch]
    if sort:
        ps = sorted(ps, key=lambda p: p["l0"])
    f = math.log if log else (lambda v: v)
    for a, b in zip(ps, ps[1:]):
        if a["l0"] <= l0 <= b["l0"]:
            if nearest:
                return min((a, b), key=lambda p: abs(math.log(p["l0"] / l0)))[key]
            t = (f(l0) - f(a["l0"])) / (f(b["l0"]) - f(a["l0"]))
            return a[key] + t * (b[key] - a[key])
    if nan_outside:
        return float("nan")
    a, b = (ps[0], ps[1]) if l0 < ps[0]["l0"] else (ps[-2], ps[-1])
    t = (f(l0) - f(a["l0"])) / (f(b["l0"]) - f(a["l0"]))
    return a[key] + t * (b[key] - a[key])


def test_the_loop_solution_passes(capsys):
    checks.check_value_at_l0(_interp)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda *a: _interp(*a, nan_outside=False), "return float\\('nan'\\)"),
        (lambda *a: _interp(*a, filter_arch=False), "only the points of the architecture"),
        (lambda *a: _interp(*a, sort=False), "sort that architecture's points by L0"),
        (lambda *a: _interp(*a, log=False), "Interpolate in log L0"),
        (lambda *a: _interp(*a, nearest=True), "rather than taking the nearest"),
        (lambda p, arch, l0, key="fvu": _interp(p, arch, l0, "fvu"), "named by `key`"),
        (lambda *a: _interp(*a) * 1.1, "expected"),
        (lambda *a: [0.1], "one number"),
    ],
)
def test_matched_l0_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_value_at_l0(wrong)


def test_learner_notebook_stubs_fail_their_checks():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    for name in ("def pareto_front", "def value_at_l0"):
        cell = next(c.source for c in nb.cells if name in c.source)
        with pytest.raises(NotImplementedError, match="Your code here"):
            exec(cell, {"checks": checks, "math": math, "np": np})


# ---- the widget task: read the lowest-FVU SAE below an L0 off the FrontierPlot ----


def _named_points():
    points = fc._sweep_points(2)
    for i, p in enumerate(points):
        p["name"] = f"{p['architecture']}_{i}"
    return points


def test_frontier_reading_accepts_the_name_the_index_and_the_selected_point(capsys):
    points = _named_points()
    want = checks.frontier_reading_reference(points, 30.0)
    assert points[want]["l0"] <= 30.0
    assert points[want]["fvu"] == min(p["fvu"] for p in points if p["l0"] <= 30.0)
    checks.check_frontier_reading(points[want]["name"], points, 30.0)
    checks.check_frontier_reading(" " + points[want]["name"].upper(), points, 30.0)  # as typed
    checks.check_frontier_reading(want, points, 30.0)  # plot.selected
    checks.check_frontier_reading(np.int64(want), points, 30.0)
    checks.check_frontier_reading(dict(points[want]), points, 30.0)  # plot.selected_point
    assert capsys.readouterr().out.count("✓") == 5


def _index(points, pred, key="fvu"):
    return min((i for i, p in enumerate(points) if pred(p)), key=lambda i: points[i][key])


@pytest.mark.parametrize(
    "pick, hint",
    [
        (
            lambda pts: _index(pts, lambda p: True),
            "above the limit",
        ),  # the lowest FVU of all: too many latents
        (
            lambda pts: _index(pts, lambda p: p["l0"] <= 30 and p["architecture"] == "relu"),
            "another architecture",
        ),
        (lambda pts: None, "click the point"),
        (lambda pts: "jumprelu_99", "No SAE is called"),
        (lambda pts: 99, "not a point"),
        (lambda pts: 2.5, "Expected a point"),
    ],
)
def test_frontier_reading_names_the_mistake(pick, hint):
    points = _named_points()
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_frontier_reading(pick(points), points, 30.0)


def test_frontier_reading_says_when_the_y_menu_shows_the_wrong_metric():
    points = _named_points()
    inside = [i for i, p in enumerate(points) if p["l0"] <= 30.0]
    lowest_ce = max(inside, key=lambda i: points[i]["fvu"])  # make the worst-FVU SAE the best in delta CE
    points[lowest_ce]["delta_ce"] = -1.0
    with pytest.raises(checks.ExerciseError, match="y menu to fvu"):
        checks.check_frontier_reading(lowest_ce, points, 30.0)


def test_frontier_reading_refuses_a_limit_below_every_sae():
    with pytest.raises(ValueError, match="no SAE has L0"):
        checks.check_frontier_reading(0, _named_points(), 0.5)


def test_learner_notebook_reading_task_is_a_stub():
    """The learner types the answer: the shipped cell raises before its check, the solution cell is answered."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "check_frontier_reading(" in c.source)
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, {"checks": checks, "points": _named_points()})
