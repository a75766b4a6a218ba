"""Which metrics to trust: each metric's seed-to-seed spread and its agreement with the planted truth.

Given one row per trained SAE -- its configuration (architecture, sparsity setting), its seed, the value of
every metric, and a planted-truth score (e.g. the mean over planted concepts of the best latent's F1,
``concepts.concept_table``) -- ``reliability_table`` reports per metric:

- ``seed_spread``: the standard deviation across seeds of one configuration, averaged over configurations,
  divided by the standard deviation of the configuration means (a metric whose seed noise is as large as
  the differences between configurations cannot rank them: spread >= 1);
- ``rank_correlation``: Spearman's rho between the metric and the truth score across configurations (each
  averaged over its seeds);
- ``agrees``: rho has the sign the metric's direction promises (``higher_is_better``) and ``abs(rho) >= 0.5``.

This is the validity test Chanin's audit asks for (arXiv 2605.18229): on real models there is no truth to
correlate with; on the planted corpus there is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import spearmanr


def reliability_table(
    runs: Sequence[Mapping],
    metrics: Mapping[str, bool],
    truth: str = "truth_f1",
    config: Sequence[str] = ("architecture", "setting"),
) -> list[dict]:
    """One row per metric: {"metric", "higher_is_better", "seed_spread", "rank_correlation", "agrees",
    "n_configs"}. ``metrics``: {name: higher_is_better}; every run has the ``config`` keys, ``truth`` and
    each metric (NaN values are left out of that metric's row)."""
    if not runs:
        raise ValueError("no runs: train a sweep with at least two configurations and two seeds")
    missing = {k for run in runs for k in (*config, truth, *metrics) if k not in run}
    if missing:
        raise ValueError(f"every run needs the keys {sorted(missing)}; a run has {sorted(runs[0])}")
    groups: dict[tuple, list[Mapping]] = defaultdict(list)
    for run in runs:
        groups[tuple(run[k] for k in config)].append(run)
    rows = []
    for name, higher in metrics.items():
        means, truths, stds = [], [], []
        for group in groups.values():
            values = np.array([float(r[name]) for r in group])
            values = values[np.isfinite(values)]
            if not len(values):
                continue
            means.append(values.mean())
            truths.append(np.mean([float(r[truth]) for r in group]))
            if len(values) > 1:
                stds.append(values.std(ddof=1))
        between = np.std(means, ddof=1) if len(means) > 1 else float("nan")
        spread = float(np.mean(stds) / between) if stds and between > 0 else float("nan")
        rho = float(spearmanr(means, truths).statistic) if len(means) > 2 else float("nan")
        agrees = bool(np.isfinite(rho) and abs(rho) >= 0.5 and (rho > 0) == higher)
        rows.append(
            {
                "metric": name,
                "higher_is_better": higher,
                "seed_spread": spread,
                "rank_correlation": rho,
                "agrees": agrees,
                "n_configs": len(means),
            }
        )
    return rows
