"""reliability_table (saewidgets.evals.reliability) on made-up sweeps whose answer is known."""

import numpy as np
import pytest

from saewidgets.evals.reliability import reliability_table


def sweep(noise: float, seed: int = 0):
    """Six configurations x three seeds; 'good' tracks the truth, 'inverse' is good but lower-is-better,
    'noisy' is truth plus large seed noise, 'unrelated' ignores the truth."""
    rng = np.random.default_rng(seed)
    runs = []
    for i, truth in enumerate(np.linspace(0.2, 0.9, 6)):
        for s in range(3):
            runs.append(
                {
                    "architecture": "relu" if i % 2 else "topk",
                    "setting": i,
                    "seed": s,
                    "truth_f1": truth + rng.normal(0, 0.005),
                    "good": truth + rng.normal(0, 0.01),
                    "inverse": 1 - truth + rng.normal(0, 0.01),
                    "noisy": truth + rng.normal(0, noise),
                    "unrelated": rng.normal(0, 1),
                }
            )
    return runs


def test_the_table_tells_trustworthy_metrics_from_the_rest():
    table = {
        r["metric"]: r
        for r in reliability_table(
            sweep(noise=1.0), {"good": True, "inverse": False, "noisy": True, "unrelated": True}
        )
    }
    assert table["good"]["agrees"] and table["good"]["rank_correlation"] > 0.9
    assert table["good"]["seed_spread"] < 0.1
    assert table["inverse"]["agrees"] and table["inverse"]["rank_correlation"] < -0.9
    assert table["noisy"]["seed_spread"] > 1.0  # seed noise swamps the differences between configurations
    assert table["unrelated"]["seed_spread"] > 1.0 and table["good"]["n_configs"] == 6


def test_a_metric_whose_sign_is_wrong_does_not_agree():
    (row,) = reliability_table(sweep(0.01), {"inverse": True})
    assert row["rank_correlation"] < -0.9 and not row["agrees"]


def test_missing_keys_are_named():
    with pytest.raises(ValueError, match=r"\['truth_f1'\]"):
        reliability_table([{"architecture": "relu", "setting": 1, "good": 0.3}], {"good": True})
    with pytest.raises(ValueError, match="no runs"):
        reliability_table([], {"good": True})
