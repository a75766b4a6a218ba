"""Checks for the frontier exercises (notebook 06): the Pareto front and a metric at matched L0."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from ..frontier import interpolate_at, pareto_front
from ._core import ExerciseError, passed

__all__ = [
    "check_frontier_reading",
    "check_pareto_front",
    "check_value_at_l0",
    "frontier_reading_reference",
    "pareto_front_reference",
    "value_at_l0_reference",
]


# ---- reference implementations (the library's own functions are the answer key) ----


def pareto_front_reference(points: list[dict]) -> list[int]:
    """Indices of the points no other point beats on both L0 and FVU (lower is better), sorted by L0."""
    return pareto_front(points, "l0", "fvu")


def frontier_reading_reference(points: list[dict], max_l0: float, key: str = "fvu") -> int:
    """Index of the SAE with the lowest ``key`` among those with L0 <= ``max_l0`` (what the plot shows)."""
    inside = [i for i, p in enumerate(points) if p["l0"] <= max_l0]
    if not inside:
        raise ValueError(
            f"no SAE has L0 <= {max_l0:g}: pick a larger limit (the sweep's L0 range is "
            f"{min(p['l0'] for p in points):.1f}..{max(p['l0'] for p in points):.1f})"
        )
    return min(inside, key=lambda i: points[i][key])


def value_at_l0_reference(points: list[dict], arch: str, l0: float, key: str = "fvu") -> float:
    """``key`` of architecture ``arch`` at ``l0``, linear in log L0 between its two nearest points; NaN outside."""
    return interpolate_at([p for p in points if p["architecture"] == arch], "l0", key, l0)


# ---- typical wrong answers (each gets its own hint) ----


def _front_strict(points):  # "dominated" = strictly better on both axes: keeps ties it should drop
    return sorted(
        (
            i
            for i, p in enumerate(points)
            if not any(q["l0"] < p["l0"] and q["fvu"] < p["fvu"] for q in points)
        ),
        key=lambda i: points[i]["l0"],
    )


def _front_higher_fvu(points):  # treats a higher FVU as better
    flipped = [{"l0": p["l0"], "fvu": -p["fvu"]} for p in points]
    return pareto_front(flipped, "l0", "fvu")


def _front_running_min_first(points):  # sort by L0 only, keep a point if its FVU beats every earlier one
    out, best = [], math.inf
    for i in sorted(range(len(points)), key=lambda i: points[i]["l0"]):
        if points[i]["fvu"] < best:
            out.append(i)
            best = points[i]["fvu"]
    return out


def _arch_points(points, arch):
    return sorted((p for p in points if p["architecture"] == arch), key=lambda p: p["l0"])


def _linear_in_l0(points, arch, l0, key="fvu"):  # interpolates in L0, not log L0
    ps = _arch_points(points, arch)
    if not ps or l0 < ps[0]["l0"] or l0 > ps[-1]["l0"]:
        return math.nan
    for a, b in zip(ps, ps[1:]):
        if a["l0"] <= l0 <= b["l0"]:
            t = (l0 - a["l0"]) / (b["l0"] - a["l0"])
            return a[key] + t * (b[key] - a[key])
    return ps[-1][key]


def _nearest(points, arch, l0, key="fvu"):  # the nearest point in log L0, no interpolation
    ps = _arch_points(points, arch)
    if not ps or l0 < ps[0]["l0"] or l0 > ps[-1]["l0"]:
        return math.nan
    return min(ps, key=lambda p: abs(math.log(p["l0"]) - math.log(l0)))[key]


def _all_architectures(points, arch, l0, key="fvu"):  # forgets to keep only ``arch``'s points
    return interpolate_at(points, "l0", key, l0)


# ---- inputs ----


def _sweep_points(seed: int = 0) -> list[dict]:
    """Two architectures, five SAEs each, shuffled: FVU falls with L0, with noise (some points dominated)."""
    rng = random.Random(seed)
    points = []
    for arch, offset in (("relu", 0.08), ("jumprelu", 0.0)):
        for l0 in (4.0, 9.0, 20.0, 45.0, 110.0):
            l0 *= math.exp(rng.uniform(-0.2, 0.2))
            fvu = offset + 0.5 / math.sqrt(l0) + rng.uniform(-0.02, 0.02)
            points.append({"architecture": arch, "l0": l0, "fvu": fvu, "delta_ce": 2 * fvu**2})
    rng.shuffle(points)
    return points


def _front_points() -> list[dict]:
    """A sweep with a dominated point, a tie in L0 (the second is better) and a tie in FVU."""
    return [
        {"architecture": "topk", "l0": 16.0, "fvu": 0.20},
        {"architecture": "topk", "l0": 4.0, "fvu": 0.40},
        {"architecture": "topk", "l0": 32.0, "fvu": 0.25},  # dominated by (16, 0.20)
        {"architecture": "topk", "l0": 8.0, "fvu": 0.30},
        {"architecture": "topk", "l0": 8.0, "fvu": 0.28},  # same L0, lower FVU: (8, 0.30) is dominated
        {"architecture": "topk", "l0": 64.0, "fvu": 0.10},
        {"architecture": "topk", "l0": 80.0, "fvu": 0.10},
    ]  # same FVU, more latents: dominated


def _as_indices(got) -> list[int] | None:
    try:
        out = [int(i) for i in got]
    except (TypeError, ValueError):
        return None
    return out if all(not isinstance(i, dict) for i in got) else None


# ---- checks ----


def check_pareto_front(fn: Callable) -> None:
    """``fn(points)`` -> indices (into ``points``) of the non-dominated points, sorted by L0."""
    for points in (_front_points(), _sweep_points(1)):
        want = pareto_front_reference(points)
        got = fn([dict(p) for p in points])
        if isinstance(got, (list, tuple)) and got and isinstance(got[0], dict):
            raise ExerciseError(
                "Return the indices of the front's points (positions in `points`), not the "
                "point dicts themselves."
            )
        indices = _as_indices(got) if got is not None else None
        if indices is None:
            raise ExerciseError(f"Expected a list of integer indices into points, got {type(got).__name__}.")
        got = indices
        if got == want:
            continue
        if sorted(got) == sorted(want):
            raise ExerciseError("The right points, in the wrong order: sort the front by L0 (the x axis).")
        for wrong, hint in (
            (
                _front_higher_fvu,
                "Lower FVU is better (it is the variance the SAE fails to explain): a point is "
                "dominated by one with fewer latents AND a lower FVU.",
            ),
            (
                _front_strict,
                "A point is also dominated by one that ties on one axis and wins on the other, "
                "e.g. the same L0 with a lower FVU: dominated means <= on both and < on at least one.",
            ),
            (
                _front_running_min_first,
                "Two SAEs can share an L0: when sorting by L0, break ties by FVU (or compare "
                "every pair), else the worse of the two can end up on the front.",
            ),
        ):
            if got == wrong(points):
                raise ExerciseError(hint)
        raise ExerciseError(
            f"Expected the indices {want}, got {got}. A point is on the front if no other point "
            "has an L0 <= and an FVU <= it, with at least one strictly smaller."
        )
    passed("pareto_front")


def _answers(fn, points, queries) -> list[float]:
    out = []
    for arch, l0, key in queries:
        value = fn([dict(p) for p in points], arch, l0, key)
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            raise ExerciseError(f"Return one number (a float), got {type(value).__name__}.") from None
    return out


def _same(a: float, b: float, tol: float = 1e-6) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


def check_value_at_l0(fn: Callable) -> None:
    """``fn(points, arch, l0, key="fvu")`` -> ``key`` of ``arch`` at ``l0``, linear in log L0; NaN outside."""
    points = _sweep_points(0)
    jump = sorted(p["l0"] for p in points if p["architecture"] == "jumprelu")
    relu = sorted(p["l0"] for p in points if p["architecture"] == "relu")
    queries = [
        ("relu", 6.0, "fvu"),
        ("relu", 30.0, "fvu"),
        ("jumprelu", 15.0, "fvu"),
        ("jumprelu", 70.0, "delta_ce"),
        ("relu", relu[2], "fvu"),
        ("jumprelu", jump[-1], "fvu"),  # exactly on a point / the end
        ("relu", 0.5 * relu[0], "fvu"),
        ("jumprelu", 2.0 * jump[-1], "fvu"),
    ]  # outside the sweep
    wants = [value_at_l0_reference(points, a, x, k) for a, x, k in queries]
    gots = _answers(fn, points, queries)
    if all(_same(g, w) for g, w in zip(gots, wants)):
        return passed("value_at_l0")
    in_order = sorted(points, key=lambda p: p["l0"])
    if all(_same(g, w) for g, w in zip(_answers(fn, in_order, queries), wants)):
        raise ExerciseError(
            "Right when the points come sorted by L0, wrong when they don't: sort that "
            "architecture's points by L0 before looking for the two that bracket l0."
        )
    inside = [i for i, w in enumerate(wants) if not math.isnan(w)]
    if all(_same(gots[i], wants[i]) for i in inside):
        raise ExerciseError(
            "Outside the range of L0 the sweep covers, return float('nan'): extending the end "
            "segments is a guess about SAEs nobody trained."
        )
    for wrong, hint in (
        (
            _all_architectures,
            "Use only the points of the architecture asked for: "
            "[p for p in points if p['architecture'] == arch].",
        ),
        (
            _linear_in_l0,
            "Interpolate in log L0, not L0: t = (log l0 - log l0_a) / (log l0_b - log l0_a). The "
            "frontier is drawn (and close to straight) on a log L0 axis.",
        ),
        (_nearest, "Interpolate between the two nearest points rather than taking the nearest one."),
    ):
        if all(_same(gots[i], wrong(points, *queries[i])) for i in inside):
            raise ExerciseError(hint)
    if all(_same(g, value_at_l0_reference(points, a, x, "fvu")) for g, (a, x, _) in zip(gots, queries)):
        raise ExerciseError("Read the metric named by `key` (p[key]), not always 'fvu'.")
    bad = next(i for i, (g, w) in enumerate(zip(gots, wants)) if not _same(g, w))
    arch, l0, key = queries[bad]
    raise ExerciseError(
        f"value_at_l0(points, {arch!r}, {l0:.3g}, {key!r}): expected {wants[bad]:.5f}, got {gots[bad]:.5f}."
    )


# ---- reading the FrontierPlot (a widget task: the learner reads the answer off the plot, the check verifies) ----


def _point_index(answer, points: list[dict]) -> int:
    """The index in ``points`` the learner means: an index (``plot.selected``), a point dict
    (``plot.selected_point``) or the point's name as the plot's tooltip shows it."""
    names = [str(p.get("name", "")) for p in points]
    if answer is None:
        raise ExerciseError(
            "No answer yet: click the point in the plot (then use plot.selected), or type the SAE's name "
            "as its tooltip shows it, e.g. answer = " + repr(names[0]) + "."
        )
    if isinstance(answer, dict):
        answer = answer.get("name", answer)
        if isinstance(answer, dict):
            raise ExerciseError("That point has no 'name': pass plot.selected (an index) instead.")
    if isinstance(answer, bool):
        raise ExerciseError(f"Expected a point (its name or index), got {answer!r}.")
    if isinstance(answer, int) or (hasattr(answer, "__index__") and not isinstance(answer, str)):
        i = int(answer)
        if not 0 <= i < len(points):
            raise ExerciseError(f"Index {i} is not a point: the plot has points 0..{len(points) - 1}.")
        return i
    if isinstance(answer, str):
        typed = answer.strip().lower()
        for i, name in enumerate(names):
            if name.lower() == typed:
                return i
        raise ExerciseError(
            f"No SAE is called {answer!r}. Type the name exactly as the point's tooltip shows it; the names are: "
            + ", ".join(names)
            + "."
        )
    raise ExerciseError(f"Expected a point's name (a string) or index, got {type(answer).__name__}.")


def check_frontier_reading(answer, points: list[dict], max_l0: float, key: str = "fvu") -> None:
    """``answer`` names the SAE with the lowest ``key`` among those with L0 <= ``max_l0``, as read off the
    FrontierPlot of ``points`` (``run.points``); it is checked against the sweep's own numbers."""
    want = frontier_reading_reference(points, max_l0, key)
    got = _point_index(answer, points)
    p, best = points[got], points[want]
    if got == want:
        print(f"✓ {p.get('name', got)}: the lowest {key} ({p[key]:.4f}) of the SAEs with L0 <= {max_l0:g}.")
        return
    if p["l0"] > max_l0:
        raise ExerciseError(
            f"{p.get('name', got)} has L0 = {p['l0']:.1f}, above the limit {max_l0:g}: only points left of "
            f"L0 = {max_l0:g} count (the x axis is logarithmic; hover a point to read its L0)."
        )
    other = "delta_ce" if key == "fvu" else "fvu"
    if other in p and got == frontier_reading_reference(points, max_l0, other):
        raise ExerciseError(
            f"{p.get('name', got)} is the lowest in {other}, not {key}: set the plot's y menu to {key} "
            "before reading off the lowest point."
        )
    same_arch = [
        i for i, q in enumerate(points) if q["architecture"] == p["architecture"] and q["l0"] <= max_l0
    ]
    if got == min(same_arch, key=lambda i: points[i][key]):
        raise ExerciseError(
            f"{p.get('name', got)} is the best {p['architecture']} SAE there, but another architecture goes "
            f"lower: compare every marker left of L0 = {max_l0:g}, not one curve."
        )
    raise ExerciseError(
        f"{p.get('name', got)} has {key} {p[key]:.4f}; one SAE with L0 <= {max_l0:g} is lower. Look for "
        f"the lowest point (lower is better) left of L0 = {max_l0:g}; it is a {best['architecture']} SAE."
    )
