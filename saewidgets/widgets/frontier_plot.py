"""FrontierPlot: the sparsity-fidelity frontier (L0 against a fidelity metric), one Pareto front per architecture.

The analysis is plain Python that tests call directly: ``frontier_metrics`` (the numeric keys a y axis can
use), ``pareto_fronts`` (per architecture, the indices of the non-dominated points) and ``higher_is_better``.
The widget holds the points, the chosen metric, the axis scales and the selected point; the browser draws.
``frontier_png`` draws the same picture with matplotlib: the widget's static fallback and the demo report's
figures.

``frontier.pareto_front`` (torch-free maths) treats lower as better on both axes. For metrics where higher is
better (``ce_loss_score``, ``explained_variance``, ``cossim``) ``pareto_fronts`` hands it the negated value, so
the front is still "fewest active latents for the best fidelity" whichever way the metric points. The
``saewidgets eval`` numbers (``truth_f1``, ``absorption``, ``autointerp``, ...) take their direction and axis label
from ``metric_info``, beside the reconstruction metrics here.
"""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

import traitlets

from ..frontier import pareto_front
from ..metric_info import EVAL_METRICS
from . import _palette as palette
from ._base import SaeWidget, static_text
from ._fallback import figure_png, new_figure

HIGHER_IS_BETTER = frozenset(
    {"ce_loss_score", "explained_variance", "cossim", "kl_score", "kl_div_score"}
    | {key for key, m in EVAL_METRICS.items() if m.higher_is_better}
)
"""Metrics where a larger value is better; every other key is lower-is-better on the front."""

LABELS = {
    "l0": "L0 (active latents per token)",
    "fvu": "FVU (fraction of variance unexplained)",
    "delta_ce": "ΔCE (CE increase with the SAE spliced in, nats)",
    "ce_loss_score": "CE loss score",
    "explained_variance": "explained variance",
    "dead_fraction": "dead fraction",
    "kl": "KL divergence",
    **{key: m.label for key, m in EVAL_METRICS.items()},
}
"""Axis labels for the usual keys; any other key is labelled by its name."""

MAX_POINTS = 2000
NON_METRICS = frozenset({"value", "d_sae", "train_seconds", "ce_clean"})
"""Numeric keys that are settings or constants rather than metrics; still allowed if asked for by name."""


def higher_is_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER


def _number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def frontier_metrics(points: list[dict]) -> list[str]:
    """Numeric keys (other than l0) present in at least one point, the usual fidelity metrics first."""
    seen: dict[str, None] = {}
    for p in points:
        for k, v in p.items():
            if _number(v) and k != "l0":
                seen.setdefault(k, None)
    first = [k for k in ("fvu", "delta_ce", "ce_loss_score", "explained_variance", "kl") if k in seen]
    rest = [k for k in seen if k not in first and k not in NON_METRICS]
    return first + rest + [k for k in seen if k in NON_METRICS]


def check_points(points) -> list[dict]:
    """A list of dicts, each with an ``architecture`` and a numeric ``l0``; ValueError otherwise."""
    if isinstance(points, dict) and "points" in points:  # a whole frontier.json
        points = points["points"]
    points = list(points)
    if not points:
        raise ValueError("FrontierPlot needs at least one point (got an empty list)")
    if len(points) > MAX_POINTS:
        raise ValueError(f"FrontierPlot draws at most {MAX_POINTS} points, got {len(points)}")
    for i, p in enumerate(points):
        if not isinstance(p, dict):
            raise ValueError(
                f"point {i} is a {type(p).__name__}, expected a dict like run_frontier(...).points"
            )
        missing = [k for k in ("architecture", "l0") if k not in p]
        if missing:
            raise ValueError(f"point {i} has no {', '.join(missing)} (keys: {sorted(p)})")
        if not _number(p["l0"]):
            raise ValueError(f"point {i} has a non-numeric l0: {p['l0']!r}")
    return points


def _plain(v):
    """JSON-safe: numpy scalars to Python numbers, NaN/inf to None (JSON has neither)."""
    if hasattr(v, "item") and not isinstance(v, (list, dict)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def pareto_fronts(points: list[dict], y_metric: str, x_key: str = "l0") -> dict[str, list[int]]:
    """Per architecture (in order of first appearance), indices into ``points`` of its Pareto front, by x.

    Lower x is better; lower y is better unless ``higher_is_better(y_metric)``, in which case the front is
    computed on -y (``frontier.pareto_front`` only knows lower-is-better). Points missing the metric or with
    a non-finite value are left out."""
    sign = -1.0 if higher_is_better(y_metric) else 1.0
    fronts: dict[str, list[int]] = {}
    for arch in dict.fromkeys(p["architecture"] for p in points):
        idx = [
            i
            for i, p in enumerate(points)
            if p["architecture"] == arch and _number(p.get(y_metric)) and _number(p.get(x_key))
        ]
        rows = [{x_key: float(points[i][x_key]), "y": sign * float(points[i][y_metric])} for i in idx]
        fronts[arch] = [idx[j] for j in pareto_front(rows, x_key, "y")]
    return fronts


def label(key: str) -> str:
    return LABELS.get(key, key)


class FrontierPlot(SaeWidget):
    """Sparsity-fidelity frontier: L0 (log x) against ``y_metric``, markers per architecture, the Pareto front
    of each architecture as a line. Click a point (or focus it and press Enter) to set ``selected``.

    >>> plot = FrontierPlot(run.points, y_metric="delta_ce")     # or FrontierPlot.from_json("frontier.json")
    >>> plot.selected                                             # index into plot.points, or None
    """

    _esm = static_text("common.js", "markers.js", "frontier_plot_select.js", "frontier_plot.js")
    _css = static_text("base.css", "frontier_plot.css")

    points = traitlets.List(traitlets.Dict()).tag(sync=True)
    y_metric = traitlets.Unicode("fvu").tag(sync=True)
    x_log = traitlets.Bool(True).tag(sync=True)
    y_log = traitlets.Bool(False).tag(sync=True)
    selected = traitlets.Int(None, allow_none=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    _fronts = traitlets.Dict().tag(sync=True)
    _metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _labels = traitlets.Dict().tag(sync=True)
    _palette = traitlets.Dict(palette.PALETTE).tag(sync=True)  # colours and markers: widgets/_palette.py
    # the y label's "higher/lower is better", live and offline (the JS has a fallback without eval keys)
    _higher_is_better = traitlets.List(traitlets.Unicode(), sorted(HIGHER_IS_BETTER)).tag(sync=True)
    _html_private = ("_fronts", "_metrics", "_labels", "_palette", "_higher_is_better")

    def __init__(self, points=(), y_metric: str = "fvu", **kwargs):
        points = [
            {k: _plain(v) for k, v in p.items()} if isinstance(p, dict) else p for p in check_points(points)
        ]
        super().__init__(points=points, y_metric=y_metric, **kwargs)
        self._refresh()

    @classmethod
    def from_json(cls, path: str | Path, y_metric: str = "fvu", **kwargs) -> FrontierPlot:
        """From a ``frontier.json`` written by ``saewidgets demo`` / ``frontier`` (or a bare list of points)."""
        data = json.loads(Path(path).read_text())
        title = ""
        if isinstance(data, dict):
            title = " · ".join(str(data[k]) for k in ("model", "hook") if data.get(k))
        kwargs.setdefault("title", title)
        return cls(data, y_metric=y_metric, **kwargs)

    # ------------------------------------------------------------------ validation and glue

    @traitlets.validate("points")
    def _check_points(self, proposal):
        return check_points(proposal["value"])

    @traitlets.validate("y_metric")
    def _check_metric(self, proposal):
        metric, points = proposal["value"], proposal["owner"].points
        available = frontier_metrics(points)
        if points and metric not in available:
            raise ValueError(f"unknown y_metric {metric!r}; the points have: {', '.join(available)}")
        return metric

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        i = proposal["value"]
        if i is not None and not 0 <= i < len(proposal["owner"].points):
            raise ValueError(
                f"selected must be None or an index into points (0..{len(self.points) - 1}), got {i}"
            )
        return i

    @traitlets.observe("points", "y_metric")
    def _on_change(self, change):
        if change["name"] == "points":
            if self.selected is not None and self.selected >= len(self.points):
                self.selected = None
            if self.y_metric not in frontier_metrics(self.points):
                self.y_metric = (
                    "fvu" if "fvu" in frontier_metrics(self.points) else frontier_metrics(self.points)[0]
                )
        self._refresh()

    def _refresh(self):
        metrics = frontier_metrics(self.points)
        self._metrics = metrics
        self._labels = {k: label(k) for k in ["l0", *metrics]}
        self._fronts = pareto_fronts(self.points, self.y_metric) if self.y_metric in metrics else {}

    def _state_for_html(self) -> dict:
        """The offline page has no kernel to recompute fronts when the metric changes: send them all."""
        state = super()._state_for_html()
        state["_fronts_by_metric"] = {m: pareto_fronts(self.points, m) for m in self._metrics}
        return state

    @property
    def architectures(self) -> list[str]:
        return list(dict.fromkeys(p["architecture"] for p in self.points))

    @property
    def selected_point(self) -> dict | None:
        return None if self.selected is None else self.points[self.selected]

    # ------------------------------------------------------------------ static views

    def _summary(self) -> str:
        n_arch = len(self.architectures)
        return (
            f"FrontierPlot({len(self.points)} SAEs, {n_arch} architecture{'s' if n_arch != 1 else ''}, "
            f"y={self.y_metric}, selected={self.selected})"
        )

    def _png(self) -> bytes | None:
        return frontier_png(
            self.points,
            self.y_metric,
            x_log=self.x_log,
            y_log=self.y_log,
            selected=self.selected,
            title=self.title,
        )


def frontier_png(
    points,
    y_metric: str = "fvu",
    *,
    x_log: bool = True,
    y_log: bool = False,
    selected: int | None = None,
    title: str = "",
) -> bytes:
    """The frontier as a PNG (matplotlib, off-screen): what the widget shows, without a browser.

    ``points`` as for ``FrontierPlot`` (dicts, or a whole frontier.json); ``selected`` circles that point.
    Points that a log axis cannot show (x or y <= 0) are left out."""
    points = [
        {k: _plain(v) for k, v in p.items()} for p in check_points(points)
    ]  # NaN -> None, as the widget
    metrics = frontier_metrics(points)
    if y_metric not in metrics:
        raise ValueError(f"unknown y_metric {y_metric!r}; the points have: {', '.join(metrics)}")
    if selected is not None and not 0 <= selected < len(points):
        raise ValueError(
            f"selected must be None or an index into points (0..{len(points) - 1}), got {selected}"
        )
    fig = new_figure(figsize=(6.4, 4.0), dpi=100)
    ax = fig.add_subplot()
    fronts = pareto_fronts(points, y_metric)
    for k, arch in enumerate(dict.fromkeys(p["architecture"] for p in points)):
        color, marker = palette.color(k), palette.marker(arch, k)
        pts = [(p["l0"], p.get(y_metric)) for p in points if p["architecture"] == arch]
        pts = [(x, y) for x, y in pts if _number(y) and (not x_log or x > 0) and (not y_log or y > 0)]
        if pts:
            ax.scatter(*zip(*pts), color=color, marker=marker, s=40, label=arch, zorder=3)
        front = [(points[i]["l0"], points[i][y_metric]) for i in fronts.get(arch, [])]
        front = [(x, y) for x, y in front if (not x_log or x > 0) and (not y_log or y > 0)]
        if len(front) > 1:
            ax.plot(*zip(*front), color=color, lw=1.5, alpha=0.8, zorder=2)
    if selected is not None:
        p = points[selected]
        if _number(p.get(y_metric)):
            ax.scatter(
                [p["l0"]], [p[y_metric]], s=180, facecolors="none", edgecolors="black", lw=1.5, zorder=4
            )
    from matplotlib.ticker import FuncFormatter

    def plain(v, _):  # 5, 20, 0.05 rather than 5x10^0; on log axes only 1-2-5 minor ticks get a label
        return f"{v:g}" if f"{v:g}".lstrip("0.")[:1] in "125" else ""

    for log, axis, set_scale in ((x_log, ax.xaxis, ax.set_xscale), (y_log, ax.yaxis, ax.set_yscale)):
        if log:
            set_scale("log")
            axis.set_major_formatter(FuncFormatter(plain))
            axis.set_minor_formatter(FuncFormatter(plain))
    ax.set_xlabel(label("l0") + (", log scale" if x_log else ""))
    better = "higher" if higher_is_better(y_metric) else "lower"
    ax.set_ylabel(f"{label(y_metric).split(' (')[0]} ({better} is better)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(title="architecture (line: Pareto front)", fontsize=8, title_fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure_png(fig)
