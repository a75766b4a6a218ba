"""Which metrics to trust (issue 17): every metric's seed-to-seed spread and its rank correlation with the
planted truth, over a sweep of architectures x sparsity settings x seeds on the bundled storyteller model.

    python bench/eval_reliability.py                 # 5 architectures x 3 settings x 2 seeds (~20 min, 2 cores)
    python bench/eval_reliability.py --quick         # 2 x 2 x 2 at a tiny size (< 1 min)
    python bench/eval_reliability.py --out results/  # results.json there (default: a new temporary folder)

1. Harvest the storyteller model at blocks.1.hook_resid_post on a training corpus (``--train-seed``) and a
   held-out corpus (``--eval-seed``, another generator seed, so no document is shared).
2. For each seed, ``sweeps.run_frontier`` trains every (architecture, setting) SAE in one pass
   (``run_frontier(seed=s)`` initialises SAE i from seed s + i; ``TrainConfig.seed = s`` orders the
   batches) and measures L0, FVU and delta CE on the held-out corpus.
3. ``evals.planted.evaluate_planted`` scores each SAE on the held-out harvest against the planted labels:
   ``truth_f1`` (mean over the planted word concepts of the best single latent's F1) is the truth; sparse probing,
   absorption and autointerp are the metrics judged against it, with FVU and delta CE (lower is better). The
   evaluation's own split and probes use the run's seed too, so a metric's seed spread is all the noise a
   rerun with another seed would see. L0 is a setting, not a metric.
4. ``evals.reliability.reliability_table`` gives per metric its seed spread (mean within-configuration sd over
   the sd of configuration means; >= 1: seed noise as large as the differences it should rank) and Spearman's
   rho with truth_f1 across configurations; ``agrees``: |rho| >= 0.5 with the sign the metric's direction
   promises. Seed stability (``evals.stability.seed_stability``: share of latents matched at decoder cosine
   >= 0.9 between the two seeds of a configuration) has one value per configuration, not per seed: it gets its
   own rows (against a random dictionary) and a rank correlation with the configurations' mean truth_f1.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HOOK = "blocks.1.hook_resid_post"

# Settings chosen to span L0 ~10-100 at the full size (ReLU/JumpReLU from sweeps.DEMO_SWEEPS; k for the
# top-k family on a log scale); docs/evals.md shows the L0 each reached.
JUMPRELU_OPTIONS = dict(jumprelu_bandwidth=0.05, jumprelu_init_threshold=0.1)
FULL_SWEEPS = (
    ("relu", (1.0, 2.0, 4.0), {}),
    ("jumprelu", (0.03, 0.1, 0.3), JUMPRELU_OPTIONS),
    ("topk", (10, 25, 64), {}),
    ("batchtopk", (10, 25, 64), {}),
    ("matryoshka", (10, 25, 64), {}),
)
QUICK_SWEEPS = (
    ("relu", (1.0, 4.0), {}),
    ("topk", (8, 32), {}),
)
FULL = dict(
    sweeps=FULL_SWEEPS,
    seeds=(0, 100),
    train_docs=4000,
    eval_docs=1000,
    tokens=300_000,
    batch_size=4096,
    d_sae=512,
    ce_docs=200,
    n_latents=100,
    eval_split_seed=None,  # None: each run's own seed, so the seed spread holds the evaluation's noise too
)
QUICK = dict(
    sweeps=QUICK_SWEEPS,
    seeds=(0, 100),
    train_docs=300,
    eval_docs=200,
    tokens=16_384,
    batch_size=1024,
    d_sae=128,
    ce_docs=20,
    n_latents=10,
    eval_split_seed=0,  # one split for every SAE: each raw-activation probe is fitted once (probes._FITS)
)
LOWER_IS_BETTER = ("fvu", "delta_ce")  # fidelity metrics from the frontier points
# summaries of evaluate_planted that read the raw activations, not the SAE: one value per evaluation seed
# whatever the SAE, so they rank nothing (baselines for the probing rows, shown in the per-SAE table)
BASELINES = ("probe_ceiling_f1", "diff_in_means_f1")


def metric_directions() -> dict[str, bool]:
    """{metric: higher_is_better}: every planted-eval summary but the truth itself, then FVU and delta CE."""
    from saewidgets.evals.planted import SUMMARY_KEYS

    metrics = {k: v for k, v in SUMMARY_KEYS.items() if k != "truth_f1" and k not in BASELINES}
    return metrics | {k: False for k in LOWER_IS_BETTER}


def tabulate(runs: list[dict], per_config: list[dict]) -> dict:
    """The reliability rows of every metric, truth_f1's own row and seed stability's config-level row."""
    from scipy.stats import ConstantInputWarning, spearmanr

    from saewidgets.evals.reliability import reliability_table

    with warnings.catch_warnings():  # a metric constant across configurations has no rank correlation: "-"
        warnings.simplefilter("ignore", ConstantInputWarning)
        table = reliability_table(runs, metric_directions())
        (truth_row,) = reliability_table(runs, {"truth_f1": True})
        shared = [s["shared"] for s in per_config]
        truths = [s["truth_f1"] for s in per_config]
        rho = float(spearmanr(shared, truths).statistic) if len(shared) > 2 else math.nan
    stability_row = {
        "metric": "seed_stability",
        "higher_is_better": True,
        "seed_spread": math.nan,  # one value per configuration: no seed-to-seed spread to measure
        "rank_correlation": rho,
        "agrees": bool(math.isfinite(rho) and rho >= 0.5),
        "n_configs": len(per_config),
    }
    return {"reliability": table, "truth_f1": truth_row, "stability_row": stability_row}


def _finite(value):
    """A float for JSON: NaN and infinities become None (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    return _finite(obj)


def _num(value, fmt: str = ".3f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def run(size: dict, *, train_seed: int, eval_seed: int, progress: bool = False) -> dict:
    """Train, evaluate and tabulate; returns everything results.json holds."""
    return _run(size, train_seed=train_seed, eval_seed=eval_seed, progress=progress)


def _run(size: dict, *, train_seed: int, eval_seed: int, progress: bool) -> dict:
    import numpy as np

    import saewidgets as sw
    from saewidgets.config import TrainConfig
    from saewidgets.evals.planted import evaluate_planted
    from saewidgets.evals.stability import seed_stability
    from saewidgets.sweeps import Sweep, run_frontier

    t_start = time.perf_counter()
    model = sw.load_model("storyteller", device="cpu")
    train_corpus = sw.load_corpus("storyteller", n_docs=size["train_docs"], seed=train_seed)
    eval_corpus = sw.load_corpus("storyteller", n_docs=size["eval_docs"], seed=eval_seed)
    t0 = time.perf_counter()
    train_acts = sw.harvest(model, train_corpus, HOOK, progress=progress)
    eval_acts = sw.harvest(model, eval_corpus, HOOK, progress=progress)
    harvest_seconds = time.perf_counter() - t0
    print(
        f"corpora   train: {len(train_corpus):,} documents (seed {train_seed}), {len(train_acts):,} tokens; "
        f"held out: {len(eval_corpus):,} documents (seed {eval_seed}), {len(eval_acts):,} tokens "
        f"({harvest_seconds:.0f} s to harvest {HOOK})",
        flush=True,
    )
    sweeps = [Sweep(arch, list(values), dict(options)) for arch, values, options in size["sweeps"]]
    n_configs = sum(len(s.values) for s in sweeps)
    print(
        f"sweep     {n_configs} configurations x seeds {list(size['seeds'])}: "
        + "; ".join(f"{s.architecture} {s.values}" for s in sweeps)
        + f"; d_sae {size['d_sae']}, {size['tokens']:,} tokens each, batch {size['batch_size']}",
        flush=True,
    )
    runs, saes_by_seed = [], {}
    timings = {"harvest": harvest_seconds, "train": 0.0, "planted": 0.0}
    for seed in size["seeds"]:
        cfg = TrainConfig(
            n_tokens=size["tokens"],
            batch_size=min(size["batch_size"], len(train_acts)),
            lr=3e-3,
            threshold_lr_scale=10.0,
            log_every=max(1, size["tokens"] // size["batch_size"] // 10),
            seed=seed,
        )
        t0 = time.perf_counter()
        frontier = run_frontier(
            train_acts,
            sweeps,
            cfg,
            d_sae=size["d_sae"],
            eval_activations=eval_acts,
            model=model,
            eval_texts=eval_corpus.texts[: size["ce_docs"]],
            seed=seed,
            progress=progress,
        )
        dt = time.perf_counter() - t0
        timings["train"] += dt
        print(f"seed {seed:<4} trained and evaluated {len(frontier.saes)} SAEs in {dt:.0f} s", flush=True)
        saes_by_seed[seed] = frontier.saes
        for point, sae in zip(frontier.points, frontier.saes):
            t0 = time.perf_counter()
            result = evaluate_planted(
                sae,
                eval_acts,
                eval_corpus,
                model.tokenizer,
                seed=seed if size["eval_split_seed"] is None else size["eval_split_seed"],
                n_latents=size["n_latents"],
            )
            dt = time.perf_counter() - t0
            timings["planted"] += dt
            row = {
                "architecture": point["architecture"],
                "setting": point["value"],
                "knob": point["knob"],
                "seed": seed,
                "l0": point["l0"],
                "fvu": point["fvu"],
                "delta_ce": point.get("delta_ce", float("nan")),
                "dead_fraction": point["dead_fraction"],
                **result["summary"],
                "truth": result["truth"],
                "planted_seconds": round(dt, 1),
                "train_seconds": round(point["train_seconds"], 1),
            }
            runs.append(row)
            print(
                f"          {row['architecture']:<10} {row['knob']}={row['setting']:g}: L0 {row['l0']:.1f}, "
                f"truth_f1 {row['truth_f1']:.3f} ({dt:.0f} s)",
                flush=True,
            )

    # seed stability: one value per configuration (first seed against each other seed, averaged)
    configs = [(s.architecture, v) for s in sweeps for v in s.values]
    first, others = size["seeds"][0], size["seeds"][1:]
    stability = []
    for i, (arch, value) in enumerate(configs):
        pairs = [seed_stability(saes_by_seed[first][i], saes_by_seed[o][i], seed=i) for o in others]
        truth = np.mean([r["truth_f1"] for r in runs if (r["architecture"], r["setting"]) == (arch, value)])
        l0 = np.mean([r["l0"] for r in runs if (r["architecture"], r["setting"]) == (arch, value)])
        stability.append(
            {
                "architecture": arch,
                "setting": value,
                "l0": float(l0),
                "truth_f1": float(truth),
                **{k: float(np.mean([p[k] for p in pairs])) for k in pairs[0]},
            }
        )
    tables = tabulate(runs, stability)
    timings["total"] = time.perf_counter() - t_start
    return {
        "hook": HOOK,
        "seeds": list(size["seeds"]),
        "train_corpus": {"seed": train_seed, "n_docs": len(train_corpus), "n_tokens": len(train_acts)},
        "eval_corpus": {
            "seed": eval_seed,
            "n_docs": len(eval_corpus),
            "n_tokens": len(eval_acts),
            "ce_docs": min(size["ce_docs"], len(eval_corpus)),
        },
        "size": {k: v for k, v in size.items() if k != "sweeps"},
        "sweeps": [dataclasses.asdict(s) for s in sweeps],
        "runs": runs,
        "reliability": tables["reliability"],
        "truth_f1": tables["truth_f1"],
        "seed_stability": {"per_config": stability, "row": tables["stability_row"]},
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }


def format_runs(runs: list[dict], metrics: dict[str, bool]) -> str:
    names = ["truth_f1", *metrics, *BASELINES]
    short = {
        "truth_f1": "truth",
        "probing_f1_k1": "probe1",
        "probing_f1_k5": "probe5",
        "probe_ceiling_f1": "ceil",
        "diff_in_means_f1": "dim",
        "absorption": "absorb",
        "full_absorption": "fullabs",
        "planted_absorption": "plabs",
        "autointerp": "interp",
        "fvu": "FVU",
        "delta_ce": "dCE",
    }
    head = f"{'architecture':<11} {'setting':>7} {'seed':>4} {'L0':>6}" + "".join(
        f" {short.get(n, n)[:8]:>8}" for n in names
    )
    lines = [head]
    for r in runs:
        lines.append(
            f"{r['architecture']:<11} {r['setting']:>7g} {r['seed']:>4} {r['l0']:>6.1f}"
            + "".join(f" {_num(r[n], '.4f' if n == 'delta_ce' else '.3f'):>8}" for n in names)
        )
    return "\n".join(lines)


def format_reliability(rows: list[dict]) -> str:
    lines = [
        f"{'metric':<20} {'higher_is_better':>16} {'seed_spread':>11} {'rank_corr':>9} {'agrees':>6} n_configs"
    ]
    for r in rows:
        lines.append(
            f"{r['metric']:<20} {str(r['higher_is_better']):>16} {_num(r['seed_spread']):>11} "
            f"{_num(r['rank_correlation'], '+.3f'):>9} {'yes' if r['agrees'] else 'no':>6} {r['n_configs']:>9}"
        )
    return "\n".join(lines)


def format_stability(per_config: list[dict]) -> str:
    lines = [
        f"{'architecture':<11} {'setting':>7} {'L0':>6} {'truth':>6} {'shared':>7} {'random':>7} {'mean cos':>8}"
    ]
    for s in per_config:
        lines.append(
            f"{s['architecture']:<11} {s['setting']:>7g} {s['l0']:>6.1f} {s['truth_f1']:>6.3f} "
            f"{s['shared']:>7.3f} {s['random_baseline']:>7.3f} {s['mean_cosine']:>8.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument(
        "--quick", action="store_true", help="2 architectures x 2 settings x 2 seeds, tiny (< 1 min)"
    )
    p.add_argument("--out", help="folder for results.json (default: a new temporary folder)")
    p.add_argument("--seeds", type=int, nargs="+", help="training seeds (>= 2; default 0 100)")
    p.add_argument(
        "--train-seed", type=int, default=0, help="storyteller generator seed of the training corpus"
    )
    p.add_argument("--eval-seed", type=int, default=1, help="... of the held-out corpus (must differ)")
    p.add_argument("--tokens", type=int, help="training tokens per SAE")
    p.add_argument("--d-sae", type=int)
    p.add_argument("--train-docs", type=int)
    p.add_argument("--eval-docs", type=int)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    p.add_argument("--from-json", metavar="RESULTS", help="reprint the tables of an earlier results.json")
    args = p.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    for key in ("seeds", "tokens", "d_sae", "train_docs", "eval_docs"):
        if getattr(args, key) is not None:
            size[key] = tuple(args.seeds) if key == "seeds" else getattr(args, key)
    if len(size["seeds"]) < 2 or len(set(size["seeds"])) != len(size["seeds"]):
        p.error(f"--seeds needs at least two distinct seeds; got {list(size['seeds'])}")
    n_values = max(len(values) for _, values, _ in size["sweeps"])
    if any(b - a < n_values for a, b in itertools.pairwise(sorted(size["seeds"]))):
        # run_frontier seeds SAE i with seed + i: seeds closer than the number of settings would give two
        # settings of one architecture the same initialisation across seeds
        p.error(f"--seeds must be at least {n_values} apart (SAE i of seed s starts from torch seed s + i)")
    if args.train_seed == args.eval_seed:
        p.error("--train-seed and --eval-seed must differ: the held-out corpus must be other documents")
    for key in ("tokens", "d_sae", "train_docs", "eval_docs"):
        if size[key] <= 0:
            p.error(f"--{key.replace('_', '-')} must be > 0")

    if args.from_json:  # the tables again from the stored runs (recomputed: the metric list may have grown)
        result = json.loads(Path(args.from_json).read_text())
        tables = tabulate(result["runs"], result["seed_stability"]["per_config"])
        result |= {"reliability": tables["reliability"], "truth_f1": tables["truth_f1"]}
        result["seed_stability"]["row"] = tables["stability_row"]
        report(result, markdown=args.markdown)
        if args.out:
            from saewidgets._files import write_json_atomic

            print(f"\nwrote     {write_json_atomic(Path(args.out) / 'results.json', _clean(result))}")
        return 0

    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="eval_reliability_"))
    t0 = time.perf_counter()
    result = run(size, train_seed=args.train_seed, eval_seed=args.eval_seed, progress=args.progress)
    report(result, markdown=args.markdown)
    from saewidgets._files import write_json_atomic

    path = write_json_atomic(out / "results.json", _clean(result))
    print(f"\nwrote     {path} in {time.perf_counter() - t0:.0f} s total ({result['seconds']})")
    return 0


def report(result: dict, markdown: bool = False) -> None:
    """Print the per-SAE table, the reliability table and seed stability (also as Markdown tables)."""
    metrics = metric_directions()
    print("\nper SAE (held-out corpus; truth = truth_f1, the planted truth)")
    print(format_runs(result["runs"], metrics))
    print(
        "\nreliability (seed_spread: within-config sd / between-config sd; rank_corr: Spearman with truth_f1)"
    )
    rows = [*result["reliability"], result["seed_stability"]["row"]]
    print(format_reliability(rows))
    print(
        f"          (not rows: {', '.join(BASELINES)} read the raw activations, not the SAE -- the same for"
        " every SAE of a seed, baselines that rank nothing)"
    )
    t = result["truth_f1"]
    print(f"truth_f1 itself: seed_spread {_num(t['seed_spread'])} over {t['n_configs']} configurations")
    print("\nseed stability per configuration (share of latents matched at decoder cosine >= 0.9)")
    print(format_stability(result["seed_stability"]["per_config"]))
    if markdown:
        print("\n" + markdown_tables(rows, result["seed_stability"]["per_config"]))


def markdown_tables(rows: list[dict], per_config: list[dict]) -> str:
    """The reliability and seed-stability tables as Markdown (docs/evals.md quotes them)."""
    lines = [
        "| metric | higher is better | seed spread | Spearman with truth_f1 | agrees |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| `{r['metric']}` | {'yes' if r['higher_is_better'] else 'no'} | {_num(r['seed_spread'], '.2f')} "
            f"| {_num(r['rank_correlation'], '+.2f')} | {'yes' if r['agrees'] else 'no'} |"
        )
    lines += [
        "",
        "| architecture | setting | L0 | truth_f1 | shared | random | mean cosine |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in per_config:
        lines.append(
            f"| {s['architecture']} | {s['setting']:g} | {s['l0']:.1f} | {s['truth_f1']:.3f} | {s['shared']:.3f} "
            f"| {s['random_baseline']:.3f} | {s['mean_cosine']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
