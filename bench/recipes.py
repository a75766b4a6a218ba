"""Training recipes measured on synthetic activations with known features (issue 13, part 5).

    python bench/recipes.py                          # every architecture, 1,000 steps of 4,096 (~45 min on 2
                                                     # cores: split it with --arch / --values, join with --merge)
    python bench/recipes.py --quick                  # the same at a size that takes < 2 min on 2 cores
    python bench/recipes.py --arch relu gated --recipe before after --json out/recipes.json
    python bench/recipes.py --steps 300 --lr 1e-3    # any size; any learning rate for every recipe
    python bench/recipes.py --data storyteller       # the bundled model's activations instead (no MMCS)
    python bench/recipes.py --merge a.json b.json    # the rows of earlier --json runs as one table

The data (``SyntheticActivations``) follows SAELens' synthetic-data defaults, so its numbers compare with
that library's: n = 512 unit-norm random directions d_i in d_in = 128 dimensions, each firing independently
with probability

    p_i = p_min + (p_max - p_min) * (1/i - 1/n) / (1 - 1/n),   i = 1..n,  p_max = 0.3, p_min = 0.01

(Zipf's law with exponent 1, rescaled linearly onto [p_min, p_max]), so the true L0 is sum_i p_i = 6.81. A
feature that fires has magnitude |1 + 0.25 N(0, 1)|; every row gets Gaussian noise of sigma 0.01 per dimension
and one fixed offset vector of norm 0.5:  x = sum_i on_i m_i d_i + offset + noise   # [batch, d_in]

Every architecture is trained at a few settings of its sparsity knob (``SAEConfig.sparsity_knob``), all in one
pass over the data (``train_sweep``), d_sae 1024, and evaluated on 32,768 held-out rows:
- L0 and FVU (``saewidgets.evaluate``) at the recipe's default setting;
- FVU at matched L0: each architecture's frontier (its settings' (L0, FVU), those with L0 >= 1), interpolated
  linearly in log L0 (``frontier.interpolate_at``) at MATCHED_L0; "-" where the frontier does not reach that L0;
- dead: the fraction of latents that never fire on the held-out rows;
- MMCS: mean over the 512 true directions of the best cosine with any decoder row (``toy.mmcs``,
  Sharkey et al. 2022), 1 = every feature found.

A recipe is the SAEConfig / TrainConfig values an architecture is trained with:
- "defaults": whatever ``SAEConfig`` and ``TrainConfig`` say now (nothing overridden but the run's size);
- "before": the defaults as they were when issue 13 was filed, pinned here, so the comparison stays;
- "after": the values this benchmark found (docs/sae.md, "Recipes"), pinned too; they are the defaults now, so
  "defaults" and "after" agree until a default changes again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from saewidgets.config import ARCHITECTURES, SAEConfig, TrainConfig
from saewidgets.frontier import interpolate_at
from saewidgets.metrics import evaluate
from saewidgets.sae import GatedSAE, build_sae
from saewidgets.toy import mmcs
from saewidgets.training import train_sweep

D_IN, N_FEATURES, D_SAE = 128, 512, 1024
P_MAX, P_MIN = 0.3, 0.01
MAGNITUDE_STD, NOISE_STD, OFFSET_NORM = 0.25, 0.01, 0.5
N_EVAL = 32_768
MATCHED_L0 = (12.0, 16.0, 25.0)
FULL = dict(steps=1000, batch_size=4096, d_sae=D_SAE)
QUICK = dict(steps=200, batch_size=1024, d_sae=512)
STORYTELLER = dict(steps=250, batch_size=4096, d_sae=D_SAE)  # 1M tokens, the demo's budget
STORYTELLER_HOOK, STORYTELLER_DOCS = "blocks.1.hook_resid_post", 2000


def firing_probabilities(n: int = N_FEATURES, p_max: float = P_MAX, p_min: float = P_MIN) -> torch.Tensor:
    """[n] firing probabilities, p_max for the first feature down to p_min for the last: Zipf's law with
    exponent 1 (1/i), rescaled linearly so that its ends are p_max and p_min (SAELens' synthetic data)."""
    if n < 2 or not 0 < p_min < p_max <= 1:
        raise ValueError(f"need n >= 2 and 0 < p_min < p_max <= 1; got n={n}, p_min={p_min}, p_max={p_max}")
    zipf = 1.0 / torch.arange(1, n + 1, dtype=torch.float64)  # [n]
    return (p_min + (p_max - p_min) * (zipf - zipf[-1]) / (zipf[0] - zipf[-1])).float()


class SyntheticActivations:
    """Synthetic activations with known features, generated batch by batch (1,000 steps of 4,096 rows would be
    2 GB in memory). Has what ``train`` reads from an ``ActivationSet``: ``batches``, ``d_in``, ``norm_scale``,
    ``len``. Every batch is a function of (seed, epoch seed, batch index) only, so runs are reproducible."""

    def __init__(self, n_rows: int, *, d_in: int = D_IN, n_features: int = N_FEATURES, seed: int = 0):
        if n_rows <= 0:
            raise ValueError(f"n_rows must be > 0; got {n_rows}")
        self.n_rows, self.seed = n_rows, seed
        # a stream of its own: torch.manual_seed(seed) before build_sae must not draw the same directions
        g = torch.Generator().manual_seed(1_000_003 * (seed + 1))
        dirs = torch.randn(n_features, d_in, generator=g)  # [n_features, d_in]
        self.true_dirs = dirs / dirs.norm(dim=1, keepdim=True)  # [n_features, d_in] unit norm
        offset = torch.randn(d_in, generator=g)  # [d_in]
        self.offset = OFFSET_NORM * offset / offset.norm()  # [d_in], norm 0.5
        self.probs = firing_probabilities(n_features)  # [n_features]
        x, _ = self.sample(16_384, torch.Generator().manual_seed(seed + 10_007))  # [16384, d_in]
        # the scale train() normalises by, as harvest() computes it: E||x|| -> sqrt(d_in)
        self.norm_scale = math.sqrt(d_in) / float(x.norm(dim=1).mean())

    def __len__(self) -> int:
        return self.n_rows

    @property
    def d_in(self) -> int:
        return self.true_dirs.shape[1]

    def sample(self, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n fresh rows: (x [n, d_in], true feature activations [n, n_features])."""
        on = torch.rand(n, len(self.probs), generator=g) < self.probs  # [n, n_features]
        acts = torch.zeros(
            on.shape
        )  # [n, n_features]; magnitudes drawn for the firing features only (~7 a row)
        acts[on] = (1 + MAGNITUDE_STD * torch.randn(int(on.sum()), generator=g)).abs()
        noise = NOISE_STD * torch.randn(n, self.d_in, generator=g)  # [n, d_in]
        return acts @ self.true_dirs + self.offset + noise, acts

    def batches(
        self,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        normalize: bool = False,
        drop_last: bool = False,
        device=None,
    ):
        """One epoch of ``len(self) // batch_size`` fresh batches [batch_size, d_in] (plus a short last one
        unless ``drop_last``). ``shuffle`` is accepted for the interface: every batch is new anyway."""
        n_full, rest = divmod(self.n_rows, batch_size)
        sizes = [batch_size] * n_full + ([rest] if rest and not drop_last else [])
        for i, size in enumerate(sizes):
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + seed) * 1_000_003 + i)
            x = self.sample(size, g)[0]  # [size, d_in]
            x = x * self.norm_scale if normalize else x
            yield x.to(device) if device is not None else x

    def eval_set(self, n: int = N_EVAL) -> torch.Tensor:
        """[n, d_in] held-out rows (a stream no training batch draws from)."""
        return self.sample(n, torch.Generator().manual_seed(self.seed + 20_011))[0]


def storyteller_activations(n_eval: int = 16_384):
    """The bundled model's activations at STORYTELLER_HOOK over STORYTELLER_DOCS documents (143,041 tokens): the
    first rows to train on, the last ``n_eval`` (the last documents) held out. Real data, so no MMCS."""
    import saewidgets as sw
    from saewidgets.activation_set import ActivationSet

    acts = sw.harvest(
        sw.load_model("storyteller"),
        sw.load_corpus("storyteller", n_docs=STORYTELLER_DOCS),
        STORYTELLER_HOOK,
        n_tokens=None,
    )
    n = len(acts) - n_eval
    if n <= 0:
        raise ValueError(f"{len(acts)} storyteller tokens leave none to train on beside {n_eval} held out")
    train = ActivationSet(
        acts.acts[:n],
        acts.token_ids[:n],
        acts.doc_ids[:n],
        acts.positions[:n],
        hook=acts.hook,
        model_name=acts.model_name,
        norm_scale=acts.norm_scale,
        texts=acts.texts,
    )
    return train, acts.acts[n:]


@dataclass
class Recipe:
    """How one architecture is trained: SAEConfig / TrainConfig values and the sparsity settings swept."""

    values: tuple[float, ...]
    """Settings of the architecture's sparsity knob (``SAEConfig.sparsity_knob``) that make its frontier."""
    default: float | None = None
    """The setting reported as the recipe's own point; None: the SAEConfig default of the knob."""
    sae: dict = field(default_factory=dict)
    """SAEConfig fields (beyond architecture, d_in, d_sae and the knob)."""
    train: dict = field(default_factory=dict)
    """TrainConfig fields (beyond the run's size)."""
    gate_penalty: str | None = None
    """gated only, a prototype of a change to ``GatedSAE._sparsity_loss`` (see GATE_PENALTIES); None: the
    library's own."""


class _GatedNormGrad(GatedSAE):
    """The gate's L1 as saewidgets 0.1.0 had it: relu(pi_gate) weighted by the decoder row norms, with the
    penalty's gradient reaching those norms. The magnitude path can undo any decoder scale for free (exp(r_mag)),
    so the penalty shrinks the decoder and with it itself (row norms 0.1 -> 0.03 in 300 steps here, -> 0.01 on the
    storyteller model in 250), and the gates stay open: L0 ~450 of 1024."""

    def _sparsity_loss(self, out):
        gate = torch.relu(out.pre_acts)  # [batch, d_sae]
        return self.cfg.l1_coefficient * (gate.sum(0) @ self.decoder_norms()) / gate.shape[0]


GATE_PENALTIES = {"norm_grad": _GatedNormGrad}


# The defaults when issue 13 was filed (saewidgets 0.1.0), pinned so that "before" keeps meaning that.
BEFORE_SAE = dict(
    l1_coefficient=5.0,
    l0_coefficient=0.01,
    k=32,
    jumprelu_bandwidth=0.001,
    jumprelu_init_threshold=0.001,
    normalize_decoder=False,
    apply_b_dec_to_input=True,
)
BEFORE_TRAIN = dict(
    lr=4e-4,
    lr_warmup_fraction=0.02,
    lr_decay_fraction=0.2,
    sparsity_warmup_fraction=0.05,
    threshold_lr_scale=1.0,
    grad_clip=1.0,
    normalize=True,
    init_b_dec=True,
)

# Knob settings: each architecture's frontier should reach the MATCHED_L0 range (L0 ~10-35 here; true L0 6.8).
RECIPES: dict[str, dict[str, Recipe]] = {
    "defaults": {
        "relu": Recipe((1.0, 1.5, 2.0, 3.0)),
        "gated": Recipe((1.0, 2.0, 4.0)),
        "topk": Recipe((8, 16, 32)),
        "batchtopk": Recipe((8, 16, 32)),
        "jumprelu": Recipe((0.01, 0.1, 1.0)),
    },
    "before": {
        "relu": Recipe((5.0, 6.5, 8.0, 10.0), 5.0, BEFORE_SAE, BEFORE_TRAIN),
        "gated": Recipe((5.0, 10.0, 20.0), 5.0, BEFORE_SAE, BEFORE_TRAIN, gate_penalty="norm_grad"),
        "topk": Recipe((8, 16, 32), 32, BEFORE_SAE, BEFORE_TRAIN),
        "batchtopk": Recipe((8, 16, 32), 32, BEFORE_SAE, BEFORE_TRAIN),
        "jumprelu": Recipe((0.01, 0.1, 1.0), 0.01, BEFORE_SAE, BEFORE_TRAIN),
    },
}
# What the search in docs/sae.md ("Recipes") found, now the defaults (the gate's penalty with detached norms is
# GatedSAE's own). One TrainConfig for every architecture (lr is not a per-architecture field), so a whole recipe
# trains in one pass over the data.
AFTER_TRAIN = dict(BEFORE_TRAIN, lr=3e-3)
AFTER_SAE = dict(BEFORE_SAE, l1_coefficient=2.0)
RECIPES["after"] = {
    "relu": Recipe((1.0, 1.5, 2.0, 3.0), 2.0, AFTER_SAE, AFTER_TRAIN),
    "gated": Recipe((1.0, 2.0, 4.0), 2.0, AFTER_SAE, AFTER_TRAIN),
    "topk": Recipe((8, 16, 32), 32, AFTER_SAE, AFTER_TRAIN),
    "batchtopk": Recipe((8, 16, 32), 32, AFTER_SAE, AFTER_TRAIN),
    "jumprelu": Recipe((0.01, 0.1, 1.0), 0.01, AFTER_SAE, AFTER_TRAIN),
}


def sae_seed(seed: int, i: int) -> int:
    """The i-th SAE's initialisation seed: apart from the data's (SAE and data drawn from one generator state
    would start the decoder on the true directions)."""
    return 7919 * (seed + 1) + i


def build(cfg: SAEConfig, seed: int, gate_penalty: str | None = None):
    """build_sae, with a gated prototype (GATE_PENALTIES) swapped in if the recipe asks for one."""
    sae = build_sae(cfg, seed)
    if gate_penalty is not None and cfg.architecture == "gated":
        sae.__class__ = GATE_PENALTIES[gate_penalty]
    return sae


def run_recipe(
    name: str,
    architectures,
    data: SyntheticActivations,
    x_eval: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    d_sae: int,
    lr: float | None = None,
    seed: int = 0,
    values=None,
    recipes: dict[str, dict[str, Recipe]] = RECIPES,
) -> list[dict]:
    """Train every setting of every architecture of one recipe in one pass over ``data``; one row per SAE.
    ``values``: knob settings to train instead of the recipe's (one architecture at a time)."""
    configs, trains = [], {}
    for arch in architectures:
        recipe = recipes[name][arch]
        if values is not None:
            recipe = dataclasses.replace(recipe, values=tuple(values))
        base = SAEConfig(arch, d_in=data.d_in, d_sae=d_sae, **recipe.sae)
        knob = base.sparsity_knob
        default = getattr(base, knob) if recipe.default is None else recipe.default
        train = dict(
            recipe.train,
            n_tokens=steps * batch_size,
            batch_size=batch_size,
            seed=seed,
            log_every=max(1, steps // 10),
        )
        if lr is not None:
            train["lr"] = lr
        for value in recipe.values:
            value = int(value) if knob == "k" else float(value)
            configs.append(
                (
                    arch,
                    knob,
                    value,
                    value == default,
                    dataclasses.replace(base, **{knob: value}),
                    recipe.gate_penalty,
                )
            )
        trains[arch] = TrainConfig(**train)
    rows = []
    # one sweep per distinct TrainConfig (a sweep shares one); usually a single sweep for the whole recipe
    groups: dict[str, list] = {}
    for c in configs:
        groups.setdefault(json.dumps(trains[c[0]].to_dict(), sort_keys=True), []).append(c)
    for key, group in groups.items():
        saes = [build(c[4], sae_seed(seed, i), c[5]) for i, c in enumerate(group)]
        t0 = time.perf_counter()
        results = train_sweep(saes, data, trains[group[0][0]], progress=False)
        seconds = time.perf_counter() - t0
        for (arch, knob, value, is_default, cfg, gate_penalty), result in zip(group, results):
            m = evaluate(result.sae, x_eval)
            rows.append(
                {
                    "recipe": name,
                    "architecture": arch,
                    "knob": knob,
                    "value": value,
                    "default": is_default,
                    "l0": m["l0"],
                    "fvu": m["fvu"],
                    "dead_fraction": m["dead_fraction"],
                    "mmcs": mmcs(result.sae.W_dec, data.true_dirs)
                    if hasattr(data, "true_dirs")
                    else math.nan,
                    "train_dead_fraction": result.history[-1]["dead_fraction"]
                    if result.history
                    else math.nan,
                    "sweep_seconds": round(seconds, 1),
                    "sae_cfg": cfg.to_dict(),
                    "train_cfg": json.loads(key),
                    "gate_penalty": gate_penalty,
                }
            )
    return rows


def summarise(rows: list[dict], matched_l0=MATCHED_L0) -> list[dict]:
    """One line per (recipe, architecture): its default point and its frontier's FVU at the matched L0s."""
    out = []
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        for arch in dict.fromkeys(r["architecture"] for r in rows if r["recipe"] == recipe):
            points = [r for r in rows if r["recipe"] == recipe and r["architecture"] == arch]
            point = next((r for r in points if r["default"]), points[len(points) // 2])
            line = {
                "recipe": recipe,
                "architecture": arch,
                "knob": point["knob"],
                "value": point["value"],
                "l0": point["l0"],
                "fvu": point["fvu"],
                "dead_fraction": point["dead_fraction"],
                "mmcs": point["mmcs"],
                "max_dead_fraction": max(r["dead_fraction"] for r in points),
                "l0_range": [min(r["l0"] for r in points), max(r["l0"] for r in points)],
            }
            # frontier points: SAEs with L0 >= 1 (a collapsed SAE, L0 ~0 and FVU 1, would stretch a straight line
            # in log L0 down to L0 1e-4 and "interpolate" values where no SAE was)
            firing = [r for r in points if r["l0"] >= 1]
            for target in matched_l0:
                line[f"fvu@{target:g}"] = interpolate_at(firing, "l0", "fvu", target) if firing else math.nan
            out.append(line)
    return out


def _num(value) -> str:
    """0.123, or "-" for a value that is not there (NaN here, null in a --json file)."""
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def format_rows(rows: list[dict]) -> str:
    lines = [
        f"{'recipe':<9} {'arch':<9} {'knob':<15} {'value':>7} {'L0':>6} {'FVU':>6} {'dead':>5} {'MMCS':>5}"
    ]
    for r in rows:
        lines.append(
            f"{r['recipe']:<9} {r['architecture']:<9} {r['knob']:<15} {r['value']:>7g} {r['l0']:>6.1f} "
            f"{r['fvu']:>6.3f} {r['dead_fraction']:>5.2f} {_num(r['mmcs']):>5}"
        )
    return "\n".join(lines)


def format_summary(summary: list[dict], matched_l0=MATCHED_L0) -> str:
    head = "".join(f" {'FVU@' + format(t, 'g'):>7}" for t in matched_l0)
    lines = [
        f"{'recipe':<9} {'arch':<9} {'default':>15} {'L0':>6} {'FVU':>6}{head} {'dead':>5} {'dead max':>8} "
        f"{'MMCS':>5}"
    ]
    for s in summary:
        matched = "".join(f" {_num(s[f'fvu@{t:g}']):>7}" for t in matched_l0)
        default = f"{s['knob'].replace('_coefficient', '')}={s['value']:g}"
        lines.append(
            f"{s['recipe']:<9} {s['architecture']:<9} {default:>15} {s['l0']:>6.1f} {s['fvu']:>6.3f}{matched} "
            f"{s['dead_fraction']:>5.2f} {s['max_dead_fraction']:>8.2f} {_num(s['mmcs']):>5}"
        )
    return "\n".join(lines)


def _finite(value):
    """NaN/inf -> None (JSON null), recursively: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: str, payload: dict) -> None:
    """Atomically: a temporary file in the same folder, then one rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_finite(payload), f, indent=1, allow_nan=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['steps']} steps of {QUICK['batch_size']}, d_sae {QUICK['d_sae']} (< 2 min)",
    )
    p.add_argument("--steps", type=int, help=f"optimiser steps (default {FULL['steps']})")
    p.add_argument("--batch-size", type=int, help=f"rows per step (default {FULL['batch_size']})")
    p.add_argument("--d-sae", type=int, help=f"latents (default {FULL['d_sae']})")
    p.add_argument(
        "--data",
        choices=("synthetic", "storyteller"),
        default="synthetic",
        help="storyteller: the bundled model's activations (default size: "
        f"{STORYTELLER['steps']} steps of {STORYTELLER['batch_size']}; no MMCS)",
    )
    p.add_argument("--lr", type=float, help="one learning rate for every recipe (default: each recipe's own)")
    tuned = [a for a in ARCHITECTURES if a in RECIPES["after"]]  # matryoshka has no tuned recipe here yet
    p.add_argument("--arch", nargs="+", default=tuned, choices=tuned)
    p.add_argument("--recipe", nargs="+", default=["before", "after"], choices=sorted(RECIPES))
    p.add_argument(
        "--values",
        nargs="+",
        type=float,
        help="sparsity-knob settings to train instead of the recipe's (with one --arch)",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="train nothing: print (and with --json write) the rows of earlier --json files together",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--json", help="also write every row and the summary to this file")
    args = p.parse_args(argv)
    if args.merge:
        rows, sizes = [], []
        for path in args.merge:
            with open(path) as f:
                blob = json.load(f)
            rows += blob["rows"]
            sizes.append(dict(blob["size"], data=blob.get("data", "synthetic")))
        if any(size != sizes[0] for size in sizes):
            p.error(f"--merge: the files were run at different sizes {sizes}; their frontiers do not compare")
        return report(rows, sizes[0], args.json, sizes[0].pop("data"))
    if args.values is not None and len(args.arch) != 1:
        p.error("--values sets one architecture's knob: give exactly one --arch")
    size = dict(STORYTELLER if args.data == "storyteller" else QUICK if args.quick else FULL)
    for key in ("steps", "batch_size", "d_sae"):
        if getattr(args, key) is not None:
            size[key] = getattr(args, key)
    if min(size.values()) <= 0:
        p.error(f"--steps, --batch-size and --d-sae must be > 0; got {size}")
    torch.set_num_threads(args.threads)
    if args.data == "storyteller":
        data, x_eval = storyteller_activations()
        about = f"storyteller {STORYTELLER_HOOK}, {len(data)} tokens to train on, {len(x_eval)} held out"
    else:
        data = SyntheticActivations(size["steps"] * size["batch_size"], seed=args.seed)
        x_eval = data.eval_set()
        about = f"{len(data.probs)} features, true L0 {float(data.probs.sum()):.2f}"
    print(
        f"data: d_in {data.d_in}, {about}, norm_scale {data.norm_scale:.3f}; {size['steps']} steps of "
        f"{size['batch_size']}, d_sae {size['d_sae']}",
        flush=True,
    )
    rows = []
    for name in args.recipe:
        t0 = time.perf_counter()
        rows += run_recipe(
            name, args.arch, data, x_eval, lr=args.lr, seed=args.seed, values=args.values, **size
        )
        print(f"recipe {name!r}: {time.perf_counter() - t0:.0f} s", flush=True)
    return report(rows, size, args.json, args.data)


def report(rows: list[dict], size: dict, json_path: str | None, data: str) -> int:
    summary = summarise(rows)
    print(format_rows(rows))
    print()
    print(format_summary(summary))
    if json_path:
        write_json(json_path, {"data": data, "size": size, "rows": rows, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
