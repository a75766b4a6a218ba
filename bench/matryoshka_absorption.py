"""Does Matryoshka absorb less than BatchTopK at matched L0, on the storyteller's planted word hierarchy? (issue 17)

    python bench/matryoshka_absorption.py                 # k 8, 16, 32; 1M tokens each (~15 min on 2 cores)
    python bench/matryoshka_absorption.py --tokens 500000 --k 16 32
    python bench/matryoshka_absorption.py --quick         # a tiny size, seconds (the smoke test runs it)

Bussmann et al. 2025 (arXiv 2503.17547) claim a Matryoshka SAE's early latents keep general features whole, so
a parent concept is not absorbed into its children's latents. The storyteller corpus plants such a hierarchy
(``zoo.word_concepts``: ``colour`` -> red, blue, ...; ``number`` -> one ... twenty), so the claim can be checked
against labels that are true by construction. It is not a timed test: it prints what it finds, either way.

Setup: ``blocks.1.hook_resid_post`` of the bundled model; train on 4,000 documents (corpus seed 0), evaluate on
2,000 other documents (corpus seed 1). MatryoshkaSAE (``SAEConfig("matryoshka", k=K)``, widths doubling:
128, 256, 512, 1024) and BatchTopK (``"batchtopk"``, the same k) at d_sae 1024 for every k, all six in one pass
over the same data (``train_sweep``), the same TrainConfig (lr 3e-3, batch 4,096, data seed 0) and the same
initialisation seed per k.

Per SAE, on the held-out documents:
- L0 and FVU (``metrics.evaluate``; BatchTopK and Matryoshka encode with their global inference threshold);
- absorption of each parent (``evals.absorption.absorption``; default ``colour`` and ``number``) into all its
  children: SAEBench's probe-based absorption fraction and full absorption, and the planted count (a child
  token where the parent's main latents are silent and a latent specific to that child fires instead);
  "mean" is the mean over the parents;
- the k = 1 sparse-probing F1 of every word parent (``evals.sparse_probing.sparse_probing_many``): how well the
  single best latent reads the parent -- the "better parent latents" claim.
These are the very calls ``evals.planted.evaluate_planted`` makes, with its arguments (labels from
``planted_labels``, one document split, every child present), so the numbers equal its ``"absorption"`` and
``"probing"`` entries; the labels are found once for all the SAEs, and autointerp is left out.

Matched L0: each Matryoshka point beside BatchTopK's frontier interpolated at the same L0 (linear in log L0,
``frontier.interpolate_at``; "-" outside BatchTopK's L0 range).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

import saewidgets as sw
from saewidgets.concepts import HIERARCHY
from saewidgets.evals.absorption import absorption
from saewidgets.evals.planted import MIN_ROWS, planted_labels
from saewidgets.evals.probes import split_by_document
from saewidgets.evals.sparse_probing import sparse_probing_many
from saewidgets.frontier import interpolate_at
from saewidgets.metrics import evaluate
from saewidgets.training import train_sweep

HOOK = "blocks.1.hook_resid_post"
ARCHS = ("batchtopk", "matryoshka")
FULL = dict(train_docs=4000, eval_docs=2000, tokens=1_000_000, d_sae=1024, ks=(8, 16, 32))
QUICK = dict(train_docs=60, eval_docs=150, tokens=16_384, d_sae=256, ks=(8, 16))
PARENTS = ("colour", "number")
KEYS = ("absorption_fraction", "full_absorption", "planted")
SHORT = {"absorption_fraction": "abs", "full_absorption": "full", "planted": "planted"}


def enough(y: np.ndarray, test: np.ndarray) -> bool:
    """As ``evaluate_planted``: MIN_ROWS positives on each side of the split, and some negatives."""
    return (y & test).sum() >= MIN_ROWS and (y & ~test).sum() >= MIN_ROWS and not (y | ~test).all()


def train_all(size: dict, seed: int = 0):
    model = sw.load_model("storyteller")
    t0 = time.perf_counter()
    train_acts = sw.harvest(model, sw.load_corpus("storyteller", n_docs=size["train_docs"], seed=seed), HOOK)
    eval_corpus = sw.load_corpus("storyteller", n_docs=size["eval_docs"], seed=seed + 1)
    eval_acts = sw.harvest(model, eval_corpus, HOOK)
    print(
        f"data      {HOOK}: {len(train_acts):,} training tokens ({size['train_docs']} docs, seed {seed}), "
        f"{len(eval_acts):,} held out ({size['eval_docs']} docs, seed {seed + 1}); {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    configs, saes = [], []
    for arch in ARCHS:
        for i, k in enumerate(size["ks"]):
            cfg = sw.SAEConfig(arch, d_in=train_acts.d_in, d_sae=size["d_sae"], k=k)
            torch.manual_seed(seed + i)  # the same initialisation for both architectures at one k
            configs.append(cfg)
            saes.append(sw.build_sae(cfg))
    train = sw.TrainConfig(
        n_tokens=size["tokens"],
        batch_size=min(4096, len(train_acts)),
        lr=3e-3,
        seed=seed,
        log_every=max(1, size["tokens"] // 4096 // 10),
    )
    t0 = time.perf_counter()
    train_sweep(saes, train_acts, train, progress=False)
    seconds = time.perf_counter() - t0
    print(
        f"train     {len(saes)} SAEs (d_sae {size['d_sae']}, k {list(size['ks'])}) in one pass, "
        f"{train.n_tokens:,} tokens each, lr {train.lr:g}: {seconds:.0f} s",
        flush=True,
    )
    return model, eval_corpus, eval_acts, configs, saes, seconds


def measure(model, corpus, acts, configs, saes, parents=PARENTS, seed: int = 0) -> list[dict]:
    t0 = time.perf_counter()
    labels = planted_labels(acts, corpus, model.tokenizer)
    test = split_by_document(acts.doc_ids.numpy(), seed=seed)
    word_parents = {
        p: labels[f"word:{p}"]
        for p in HIERARCHY
        if f"word:{p}" in labels and enough(labels[f"word:{p}"], test)
    }
    kids = {
        p: {c: labels[f"word:{c}"] for c in HIERARCHY[p] if f"word:{c}" in labels}
        for p in parents
        if p in word_parents
    }
    print(
        f"labels    {time.perf_counter() - t0:.0f} s; parents probed {list(word_parents)}; absorption of "
        + ", ".join(
            f"{p} ({len(c)} children, {int((word_parents[p] & test).sum())} held-out tokens)"
            for p, c in kids.items()
        ),
        flush=True,
    )
    rows = []
    for cfg, sae in zip(configs, saes):
        t0 = time.perf_counter()
        m = evaluate(sae, acts.acts)
        row = dict(arch=cfg.architecture, k=cfg.k, l0=m["l0"], fvu=m["fvu"], dead=m["dead_fraction"])
        for p in parents:
            a = absorption(sae, acts, word_parents[p], kids[p], test, seed=seed) if p in kids else None
            for key in KEYS:
                row[f"{p}:{key}"] = a[key] if a else math.nan
        for key in KEYS:
            values = [row[f"{p}:{key}"] for p in parents if math.isfinite(row[f"{p}:{key}"])]
            row[f"mean:{key}"] = float(np.mean(values)) if values else math.nan
        probing = sparse_probing_many(sae, acts, word_parents, test, ks=(1,), seed=seed)
        for p in HIERARCHY:
            row[f"f1@1:{p}"] = probing[p]["sae"][1]["f1"] if p in probing else math.nan
        f1s = [row[f"f1@1:{p}"] for p in HIERARCHY if math.isfinite(row[f"f1@1:{p}"])]
        row["f1@1:mean"] = float(np.mean(f1s)) if f1s else math.nan
        row["eval_seconds"] = time.perf_counter() - t0
        rows.append(row)
        print(f"eval      {cfg.architecture} k={cfg.k}: {row['eval_seconds']:.0f} s", flush=True)
    return rows


def _num(v, fmt=".3f") -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, fmt)


def format_table(rows: list[dict], parents=PARENTS) -> str:
    groups = [*parents, "mean"]
    head = "".join(f" {g + ' ' + SHORT[k]:>15}" for g in groups for k in KEYS)
    lines = [f"{'arch':<10} {'k':>3} {'L0':>6} {'FVU':>6} {'dead':>5}{head}"]
    for r in rows:
        cells = "".join(f" {_num(r[f'{g}:{k}']):>15}" for g in groups for k in KEYS)
        lines.append(f"{r['arch']:<10} {r['k']:>3} {r['l0']:>6.1f} {r['fvu']:>6.3f} {r['dead']:>5.2f}{cells}")
    return "\n".join(lines)


def format_probing(rows: list[dict]) -> str:
    names = [*HIERARCHY, "mean"]
    lines = [f"{'arch':<10} {'k':>3} {'L0':>6}" + "".join(f" {n:>9}" for n in names)]
    for r in rows:
        lines.append(
            f"{r['arch']:<10} {r['k']:>3} {r['l0']:>6.1f}"
            + "".join(f" {_num(r[f'f1@1:{n}']):>9}" for n in names)
        )
    return "\n".join(lines)


MATCHED = ("fvu", "mean:absorption_fraction", "mean:full_absorption", "mean:planted", "f1@1:mean")


def matched(rows: list[dict]) -> list[dict]:
    """Each Matryoshka point with BatchTopK's frontier interpolated at its L0 (NaN outside its range)."""
    base = [r for r in rows if r["arch"] == "batchtopk" and r["l0"] > 0]
    out = []
    for r in rows:
        if r["arch"] != "matryoshka":
            continue
        line = {"k": r["k"], "l0": r["l0"]}
        for key in MATCHED:
            points = [b for b in base if math.isfinite(b[key])]
            line[key] = r[key]
            line[f"{key}@batchtopk"] = interpolate_at(points, "l0", key, r["l0"]) if points else math.nan
        out.append(line)
    return out


def format_matched(lines: list[dict]) -> str:
    head = "".join(f" {k.replace('mean:', ''):>25}" for k in MATCHED)
    out = [
        f"{'matryoshka k':>12} {'L0':>6}{head}",
        f"{'':>12} {'':>6}" + f" {'matryoshka / batchtopk':>25}" * len(MATCHED),
    ]
    for m in lines:
        cells = "".join(f" {_num(m[k]) + ' / ' + _num(m[k + '@batchtopk']):>25}" for k in MATCHED)
        out.append(f"{m['k']:>12} {m['l0']:>6.1f}{cells}")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help=f"tiny: {QUICK}")
    p.add_argument("--k", nargs="+", type=int, help=f"k values (default {FULL['ks']})")
    p.add_argument("--tokens", type=int, help=f"training tokens per SAE (default {FULL['tokens']:,})")
    p.add_argument("--train-docs", type=int, help=f"default {FULL['train_docs']}")
    p.add_argument("--eval-docs", type=int, help=f"default {FULL['eval_docs']}")
    p.add_argument("--parents", nargs="+", default=list(PARENTS), choices=list(HIERARCHY))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("ks", args.k),
        ("tokens", args.tokens),
        ("train_docs", args.train_docs),
        ("eval_docs", args.eval_docs),
    ):
        if value is not None:
            size[key] = tuple(value) if key == "ks" else value
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model, corpus, acts, configs, saes, _ = train_all(size, args.seed)
    rows = measure(model, corpus, acts, configs, saes, tuple(args.parents), args.seed)
    print()
    print("absorption (abs: SAEBench's fraction; full: full absorption; planted: the planted count)")
    print(format_table(rows, tuple(args.parents)))
    print()
    print("sparse probing, F1 of the best single latent (k = 1) per word parent")
    print(format_probing(rows))
    print()
    print("at matched L0: Matryoshka / BatchTopK interpolated at the same L0 (- outside BatchTopK's range)")
    print(format_matched(matched(rows)))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
