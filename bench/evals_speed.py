"""All metrics of ``saewidgets.evals`` on one SAE at the demo's shapes (issue 17): how long, and where it goes.

    python bench/evals_speed.py                       # the demo's SAEs, 200 and 1,000 held-out documents
    python bench/evals_speed.py --eval-docs 200 --arch jumprelu
    python bench/evals_speed.py --quick               # a tiny size, seconds (the smoke test runs it)

Target: ``evaluate_planted`` on one SAE finishes in <= 60 s on 2 CPU cores at the demo's shapes
(``saewidgets demo``: the storyteller model, ``blocks.1.hook_resid_post``, d_sae 1024, metrics on
``--eval-docs 200`` held-out documents, corpus seed 1). It is not a timed test: it prints, it does not assert.

The SAEs are the demo's own (``sweeps.DEMO_SWEEPS`` / ``DEMO_TRAIN``): ReLU at l1 2.0 and JumpReLU at l0 0.3
(bandwidth 0.05, initial threshold 0.1, 10x threshold LR), both trained in one pass (``train_sweep``) on the
demo's 4,000 training documents (corpus seed 0), 1M tokens each at lr 3e-3. Each is then evaluated with
``evals.planted.evaluate_planted(sae, acts, corpus, tokenizer, n_latents=100)`` on 200 and on 1,000 held-out
documents (corpus seed 1), on ``torch.set_num_threads(2)``.

The per-metric breakdown wraps the pieces ``evaluate_planted`` calls (the names in ``evals.planted``, so the
very calls it makes are timed, nothing re-implemented): ``labels`` (``planted_labels``: every planted concept's
rows), ``truth`` (``latent_scores_many``: the best single latent per concept), ``probing``
(``sparse_probing_many``: k = 1, 2, 5, 20, the raw logistic probe and difference in means), ``absorption`` (one
call per word parent), ``autointerp`` (``label_oracle_autointerp``, 100 latents); ``other`` is the rest of the
total (the split, the summary).

Baselines measured in the same run, so machines compare: ``encode``, one full ``features.encode`` pass of the
same SAE over the same activations (best of 3); and ``harvest``, harvesting those activations from the model.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from contextlib import contextmanager

import torch

import saewidgets as sw
from saewidgets import features
from saewidgets.evals import planted
from saewidgets.sweeps import DEMO_SWEEPS, DEMO_TRAIN
from saewidgets.training import train_sweep

HOOK = "blocks.1.hook_resid_post"
TARGET_S = 60.0
PIECES = {  # evals.planted's name -> column
    "planted_labels": "labels",
    "latent_scores_many": "truth",
    "sparse_probing_many": "probing",
    "absorption": "absorption",
    "label_oracle_autointerp": "autointerp",
}
COLUMNS = [*PIECES.values(), "other"]
DEMO_VALUES = {"relu": 2.0, "jumprelu": 0.3}  # one point of each demo sweep (L0 ~15-30 on this model)
FULL = dict(train_docs=4000, train_tokens=1_000_000, eval_docs=(200, 1000), n_latents=100)
QUICK = dict(train_docs=60, train_tokens=20_000, eval_docs=(40,), n_latents=10)


@contextmanager
def timed_pieces(times: dict[str, float]):
    """Wrap the functions ``evaluate_planted`` calls (module attributes of ``evals.planted``) so each call's
    seconds add up in ``times[column]``; restored on exit."""
    originals = {name: getattr(planted, name) for name in PIECES}

    def wrap(name, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[PIECES[name]] = times.get(PIECES[name], 0.0) + time.perf_counter() - t0

        return timed

    for name, fn in originals.items():
        setattr(planted, name, wrap(name, fn))
    try:
        yield times
    finally:
        for name, fn in originals.items():
            setattr(planted, name, fn)


def demo_configs(d_in: int, d_sae: int, archs) -> list[sw.SAEConfig]:
    out = []
    for sweep in DEMO_SWEEPS:
        if sweep.architecture in archs:
            base = dataclasses.replace(sweep, values=[DEMO_VALUES[sweep.architecture]])
            out += base.configs(d_in, d_sae)
    return out


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(size: dict, archs, d_sae: int = 1024, seed: int = 0) -> list[dict]:
    model = sw.load_model("storyteller")
    train_acts = sw.harvest(model, sw.load_corpus("storyteller", n_docs=size["train_docs"], seed=seed), HOOK)
    cfg = dataclasses.replace(
        DEMO_TRAIN, n_tokens=size["train_tokens"], batch_size=min(DEMO_TRAIN.batch_size, len(train_acts))
    )
    configs = demo_configs(train_acts.d_in, d_sae, archs)
    saes = []
    for i, c in enumerate(configs):
        torch.manual_seed(seed + i)
        saes.append(sw.build_sae(c))
    t0 = time.perf_counter()
    train_sweep(saes, train_acts, cfg, progress=False)
    print(
        f"train     {len(saes)} SAEs (d_sae {d_sae}) on {len(train_acts):,} tokens of {size['train_docs']} docs, "
        f"{cfg.n_tokens:,} tokens each, in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    rows = []
    for n_docs in size["eval_docs"]:
        corpus = sw.load_corpus("storyteller", n_docs=n_docs, seed=seed + 1)
        t0 = time.perf_counter()
        acts = sw.harvest(model, corpus, HOOK)
        harvest_s = time.perf_counter() - t0
        for c, sae in zip(configs, saes):
            encode_s = best_of(3, lambda sae=sae, acts=acts: features.encode(sae, acts))
            times: dict[str, float] = {}
            with timed_pieces(times):
                t0 = time.perf_counter()
                result = planted.evaluate_planted(
                    sae, acts, corpus, model.tokenizer, seed=seed, n_latents=size["n_latents"]
                )
                total = time.perf_counter() - t0
            times["other"] = total - sum(times.values())
            l0 = float((features.encode(sae, acts) > 0).sum(1).mean())
            row = dict(
                arch=c.architecture,
                knob=f"{c.sparsity_knob.replace('_coefficient', '')}={getattr(c, c.sparsity_knob):g}",
                l0=l0,
                docs=n_docs,
                tokens=len(acts),
                total=total,
                encode=encode_s,
                harvest=harvest_s,
                summary=result["summary"],
                **{k: times.get(k, 0.0) for k in COLUMNS},
            )
            rows.append(row)
            print(format_rows([row], header=not rows[:-1]), flush=True)
    return rows


def format_rows(rows: list[dict], header: bool = True) -> str:
    cols = "".join(f" {c:>10}" for c in COLUMNS)
    lines = (
        [
            f"{'arch':<9} {'knob':>7} {'L0':>5} {'docs':>5} {'tokens':>7}{cols} {'total s':>8} {'encode s':>8} "
            f"{'x encode':>8} {'harvest s':>9} {'x harvest':>9} {'target':>7}"
        ]
        if header
        else []
    )
    for r in rows:
        parts = "".join(f" {r[c]:>10.2f}" for c in COLUMNS)
        lines.append(
            f"{r['arch']:<9} {r['knob']:>7} {r['l0']:>5.1f} {r['docs']:>5} {r['tokens']:>7}{parts} "
            f"{r['total']:>8.1f} {r['encode']:>8.3f} {r['total'] / r['encode']:>8.0f} {r['harvest']:>9.2f} "
            f"{r['total'] / r['harvest']:>9.1f} {'<= ' + format(TARGET_S, 'g') + ' s':>7}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help=f"tiny: {QUICK}")
    p.add_argument("--arch", nargs="+", default=list(DEMO_VALUES), choices=list(DEMO_VALUES))
    p.add_argument(
        "--eval-docs", nargs="+", type=int, help=f"held-out documents (default {FULL['eval_docs']})"
    )
    p.add_argument("--train-tokens", type=int, help=f"tokens per SAE (default {FULL['train_tokens']:,})")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    if args.eval_docs:
        size["eval_docs"] = tuple(args.eval_docs)
    if args.train_tokens:
        size["train_tokens"] = args.train_tokens
    torch.set_num_threads(args.threads)
    rows = run(size, args.arch)
    print()
    print(format_rows(rows))
    for r in rows:
        s = r["summary"]
        print(
            f"{r['arch']:<9} {r['docs']:>5} docs: "
            + ", ".join(
                f"{k} {v:.3f}" for k, v in s.items() if k in ("probing_f1_k1", "absorption", "autointerp")
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
