"""Frontier maths: Pareto fronts, a metric at matched L0, and the comparison of two architectures.

Plain Python and numpy, no torch: the widget layer (``widgets.frontier_plot``) and the notebook checks use
it without loading a model stack. The points are plain dicts (or objects with the keys as attributes) such
as ``sweeps.run_frontier(...).points`` or ``metrics.evaluate`` results: architecture, knob, value, l0, fvu,
delta_ce, ...

``compare_at_matched_l0`` interpolates one architecture's curve (linear in log L0) at the other's L0
values inside the range both cover, which is how the JumpReLU paper compares architectures
(arXiv 2407.14435, Fig. 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def _value(point, key: str) -> float:
    return float(point[key] if isinstance(point, Mapping) else getattr(point, key))


def pareto_front(points, x_key: str = "l0", y_key: str = "fvu") -> list[int]:
    """Indices of the non-dominated points (lower is better on both axes), sorted by x.

    A point is dominated when another is <= on both and < on one; points with a NaN/inf
    coordinate are left out. ``points``: dicts (e.g. ``evaluate`` results) or objects with the keys
    as attributes. For a higher-is-better metric, pass its negation or use fvu / delta_ce."""
    xy = [(i, _value(p, x_key), _value(p, y_key)) for i, p in enumerate(points)]
    xy = [(i, x, y) for i, x, y in xy if math.isfinite(x) and math.isfinite(y)]
    front = [
        (x, y, i) for i, x, y in xy if not any(x2 <= x and y2 <= y and (x2 < x or y2 < y) for _, x2, y2 in xy)
    ]
    return [i for _, _, i in sorted(front)]


def interpolate_at(points, x_key: str, y_key: str, x: float) -> float:
    """y at ``x`` by linear interpolation in log x between the points' (x, y), for comparisons at
    matched L0 (SAEBench plots L0 on a log axis). Points sharing an x are averaged. NaN outside the
    range of the points: an extrapolated frontier is a guess. Pass ``pareto_front`` points for a frontier."""
    if not x > 0:
        raise ValueError(f"x must be > 0 (interpolation is in log x), got {x!r}")
    xy = [(_value(p, x_key), _value(p, y_key)) for p in points]
    xy = [(a, b) for a, b in xy if math.isfinite(a) and math.isfinite(b)]
    if not xy:
        raise ValueError("interpolate_at needs at least one point with finite values")
    if any(a <= 0 for a, _ in xy):
        raise ValueError(f"every {x_key} must be > 0 for interpolation in log x")
    xs = np.array(sorted({a for a, _ in xy}))
    ys = np.array([np.mean([b for a, b in xy if a == v]) for v in xs])
    if x < xs[0] or x > xs[-1]:
        return math.nan
    return float(np.interp(np.log(x), np.log(xs), ys))


def compare_at_matched_l0(
    points: list[dict],
    better: str = "jumprelu",
    baseline: str = "relu",
    keys: tuple[str, ...] = ("fvu", "delta_ce"),
) -> list[dict]:
    """``better``'s points inside the L0 range ``baseline`` covers, each with the baseline interpolated
    there: rows of {l0, key: value, key_baseline: value} for every key."""
    mine = sorted((p for p in points if p["architecture"] == better), key=lambda p: p["l0"])
    base = [p for p in points if p["architecture"] == baseline]
    rows = []
    for p in mine:
        row = {"l0": p["l0"]}
        for key in keys:
            if key not in p:
                continue
            ref = interpolate_at(base, "l0", key, p["l0"])
            if math.isnan(ref):
                break
            row |= {key: p[key], f"{key}_{baseline}": ref}
        else:
            rows.append(row)
    return rows


def format_table(points: list[dict]) -> str:
    """The frontier as a fixed-width text table (architecture, knob value, L0, FVU, dCE, dead)."""
    lines = [
        f"{'architecture':<12} {'knob':<16} {'value':>7} {'L0':>7} {'FVU':>7} {'dCE':>8} {'CE score':>8} "
        f"{'dead':>6}"
    ]
    for p in points:
        lines.append(
            f"{p['architecture']:<12} {p['knob']:<16} {p['value']:>7g} {p['l0']:>7.1f} {p['fvu']:>7.4f} "
            f"{p.get('delta_ce', float('nan')):>8.4f} {p.get('ce_loss_score', float('nan')):>8.4f} "
            f"{p['dead_fraction']:>6.3f}"
        )
    return "\n".join(lines)
