import dataclasses
import math

import pytest

from saewidgets import harvest, load_corpus
from saewidgets.frontier import compare_at_matched_l0, format_table
from saewidgets.sweeps import DEMO_TRAIN, Sweep, run_frontier

HOOK = "blocks.1.hook_resid_post"


@pytest.mark.slow  # ~10-15 s on 2 cores: out of `make check`, in `make test`
def test_jumprelu_beats_relu_at_matched_l0_on_the_storyteller(model):
    """The JumpReLU paper's headline (arXiv 2407.14435, Fig. 2), reproduced small: same data, same budget."""
    acts = harvest(model, load_corpus("storyteller", n_docs=1500, seed=0), HOOK)
    held_out = load_corpus("storyteller", n_docs=60, seed=1)
    sweeps = (
        Sweep("relu", [1.0, 3.0]),
        Sweep("jumprelu", [0.1, 0.3], dict(jumprelu_bandwidth=0.05, jumprelu_init_threshold=0.1)),
    )
    run = run_frontier(
        acts,
        sweeps,
        dataclasses.replace(DEMO_TRAIN, n_tokens=300_000, batch_size=2048),
        d_sae=512,
        eval_activations=harvest(model, held_out, HOOK),
        model=model,
        eval_texts=held_out.texts[:30],
        progress=False,
    )
    assert [p["architecture"] for p in run.points] == ["relu", "relu", "jumprelu", "jumprelu"]
    assert len(run.saes) == 4 and all(len(d) == 512 for d in run.densities)
    assert run.points[0]["l0"] > run.points[1]["l0"] and run.points[2]["l0"] > run.points[3]["l0"]
    rows = compare_at_matched_l0(run.points)
    assert rows, format_table(run.points)
    for row in rows:
        assert row["fvu"] < row["fvu_relu"] and row["delta_ce"] < row["delta_ce_relu"], format_table(
            run.points
        )


def test_sweep_configs_vary_each_architectures_knob():
    assert [c.k for c in Sweep("topk", [8, 16]).configs(32, 128)] == [8, 16]
    assert [c.l1_coefficient for c in Sweep("gated", [1.0, 2.0]).configs(32, 128)] == [1.0, 2.0]
    cfgs = Sweep("jumprelu", [0.1], dict(jumprelu_bandwidth=0.05)).configs(32, 128)
    assert cfgs[0].l0_coefficient == 0.1 and cfgs[0].jumprelu_bandwidth == 0.05 and cfgs[0].d_sae == 128
    with pytest.raises(ValueError, match="k"):
        Sweep("topk", [500]).configs(32, 128)


def test_compare_at_matched_l0_interpolates_in_log_l0():
    points = [
        {"architecture": "relu", "l0": 10.0, "fvu": 0.4},
        {"architecture": "relu", "l0": 100.0, "fvu": 0.1},
        {"architecture": "jumprelu", "l0": math.sqrt(1000), "fvu": 0.2},  # halfway in log L0
        {"architecture": "jumprelu", "l0": 5.0, "fvu": 0.3},
    ]  # outside the relu range: left out
    rows = compare_at_matched_l0(points, keys=("fvu",))
    assert len(rows) == 1 and rows[0]["fvu_relu"] == pytest.approx(0.25) and rows[0]["fvu"] == 0.2
    table = format_table([p | {"knob": "k", "value": 1, "dead_fraction": 0.0} for p in points])
    assert table.splitlines()[0].split()[:4] == ["architecture", "knob", "value", "L0"] and "nan" in table


def test_run_frontier_starts_every_sae_and_every_seed_from_its_own_weights(monkeypatch):
    """run_frontier(seed=s) draws SAE i from seed s + i: two seeds of a sweep are independent runs (before,
    build_sae's own default seed gave every seed the same start)."""
    import torch

    from saewidgets import sweeps
    from saewidgets.activation_set import ActivationSet

    starts = []

    class Stop(Exception):
        pass

    def record(saes, *args, **kwargs):
        starts.append([s.W_dec.detach().clone() for s in saes])
        raise Stop

    monkeypatch.setattr(sweeps, "train_sweep", record)
    zeros = torch.zeros(64, dtype=torch.long)
    acts = ActivationSet(
        torch.randn(64, 16), zeros, zeros, zeros, hook="toy", model_name="toy", norm_scale=1.0
    )
    for seed in (0, 0, 1):
        with pytest.raises(Stop):
            run_frontier(acts, (Sweep("topk", [4, 8]),), d_sae=32, seed=seed, progress=False)
    (a0, a1), (b0, b1), (c0, c1) = starts
    assert torch.equal(a0, b0) and torch.equal(a1, b1)  # reproducible
    assert not torch.equal(a0, a1)  # two SAEs of one run
    assert not torch.equal(a0, c0) and not torch.equal(a1, c1)  # seed 1 is another start
