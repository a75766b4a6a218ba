"""Sweeps: train SAEs over their sparsity knob in one pass and evaluate each, giving frontier points.

A frontier point is a plain dict (architecture, knob, value, l0, fvu, delta_ce, ...) so it goes
straight into JSON, a table or a widget. What to do with the points (Pareto fronts, a metric at matched
L0, the comparison of two architectures, a text table) is torch-free maths in ``frontier.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

from .config import SAEConfig, TrainConfig
from .matryoshka import build_sae  # sae.build_sae, with MatryoshkaSAE registered
from .metrics import evaluate
from .sae import SAE
from .training import train_sweep


@dataclass
class Sweep:
    """One architecture swept over its sparsity knob (``SAEConfig.sparsity_knob``)."""

    architecture: str
    values: list[float]
    options: dict = field(default_factory=dict)
    """Other SAEConfig fields shared by every point of the sweep."""

    def configs(self, d_in: int, d_sae: int) -> list[SAEConfig]:
        base = SAEConfig(self.architecture, d_in=d_in, d_sae=d_sae, **self.options)
        return [dataclasses.replace(base, **{base.sparsity_knob: v}) for v in self.values]


# Tuned on the storyteller model (blocks.1.hook_resid_post, d_sae 1024, 1M tokens each, lr 3e-3): ReLU and
# JumpReLU span L0 ~5-100. JumpReLU uses a bandwidth and initial threshold suited to sqrt(d_in)-normalised
# inputs (the paper's 0.001 assumes unit-norm inputs) and a 10x threshold LR (TrainConfig.threshold_lr_scale).
# Two Matryoshka SAEs (its L0 is k) put the architecture Gemma Scope 2 trains on the same frontier, and give
# `saewidgets eval` a nested dictionary to compare on absorption.
DEMO_SWEEPS = (
    Sweep("relu", [0.5, 1.0, 2.0, 4.0, 8.0]),
    Sweep("jumprelu", [0.03, 0.1, 0.3, 1.0], dict(jumprelu_bandwidth=0.05, jumprelu_init_threshold=0.1)),
    Sweep("matryoshka", [16, 48]),
)
DEMO_TRAIN = TrainConfig(n_tokens=1_000_000, batch_size=4096, lr=3e-3, threshold_lr_scale=10.0, log_every=25)


POINT_METRICS = (
    "l0",
    "fvu",
    "explained_variance",
    "cossim",
    "l2_ratio",
    "relative_reconstruction_bias",
    "dead_fraction",
    "dense_fraction",
    "ce_clean",
    "ce_sae",
    "delta_ce",
    "ce_loss_score",
    "kl",
)
"""The numbers of ``metrics.evaluate`` a frontier point keeps (its density histogram and counts are left out);
``saewidgets eval`` keeps the same per SAE."""


class FrontierRun(NamedTuple):
    points: list[dict]
    """One dict per SAE: name, architecture, knob, value, l0, fvu, delta_ce, ce_loss_score, dead_fraction, ..."""
    saes: list[SAE]
    """The trained SAEs (reading raw activations), in the order of ``points``."""
    densities: list[list[float]]
    """Per-latent firing frequency of each SAE on the evaluation activations."""


def run_frontier(
    activations,
    sweeps=DEMO_SWEEPS,
    cfg: TrainConfig = DEMO_TRAIN,
    *,
    d_sae: int = 1024,
    eval_activations=None,
    model=None,
    eval_texts=None,
    seed: int = 0,
    progress: bool | None = None,
) -> FrontierRun:
    """Train every sweep's SAEs in one pass over ``activations`` and evaluate each one.

    Reconstruction metrics use ``eval_activations`` (default: the training activations); CE metrics
    (delta_ce, ce_loss_score) need ``model`` and ``eval_texts``.
    """
    import torch

    configs = [(sweep, c) for sweep in sweeps for c in sweep.configs(activations.d_in, d_sae)]
    saes = []
    for i, (_, c) in enumerate(configs):
        torch.manual_seed(seed + i)  # anything else a class draws from the global generator
        saes.append(build_sae(c, seed + i))  # each SAE's initial weights: another seed, another start
    results = train_sweep(saes, activations, cfg, progress=progress)
    points, densities = [], []
    for (_, c), result in zip(configs, results):
        knob = c.sparsity_knob
        with_ce = model is not None and eval_texts is not None
        m = evaluate(
            result.sae,
            eval_activations if eval_activations is not None else activations,
            model=model if with_ce else None,
            texts=eval_texts,
            hook=activations.hook if with_ce else None,
        )
        point = {
            "name": f"{c.architecture}_{knob}_{getattr(c, knob):g}",
            "architecture": c.architecture,
            "knob": knob,
            "value": getattr(c, knob),
            "d_sae": c.d_sae,
            "train_seconds": result.history[-1]["seconds"] if result.history else 0.0,
        }
        point |= {k: m[k] for k in POINT_METRICS if k in m}
        points.append(point)
        densities.append(m["density"])
    return FrontierRun(points, [r.sae for r in results], densities)
