"""Harvest throughput against a bare forward pass stopped at the same layer (target ratio >= 0.8), per family.

Both sides see the same documents in the same batches (harvest's length-bucketed windows, right-padded, with
the attention mask where a batch is padded), in alternating rounds, so machine noise hits them alike; the ratio
of tokens/s (harvest / bare) is what to read, not the absolutes. The bare side is TransformerLens's own
``stop_at_layer`` forward and does nothing with the activations; harvest also gathers the rows, copies them to
the CPU, checks them for NaN/inf and puts them back in document order.

``--families`` adds the tiny random-weight checkpoints of tests/tiny_models.py (built in a temporary folder):
the same code path per family as with real weights, at toy size (d_model 64), so the ratio there is dominated
by per-batch overheads — a harsher test than a real model, whose forward costs more per token.

    python bench/harvest_throughput.py [--n-docs 1000] [--hook blocks.1.hook_resid_post] [--rounds 5]
    python bench/harvest_throughput.py --families all --n-docs 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from saewidgets import harvest, load_corpus, load_model
from saewidgets.activations import _Backend, _pad, _windows
from saewidgets.models import hook_layer


def bare_forward(model, backend, docs: list[list[int]], layer: int, batch_size: int) -> int:
    """TransformerLens's own stop_at_layer forward over harvest's batches; returns document tokens seen."""
    n = 0
    with torch.no_grad():
        for first, last in _windows([len(d) for d in docs], batch_size):
            order = sorted(range(first, last), key=lambda i: len(docs[i]))
            for b in range(0, len(order), batch_size):
                tokens, mask = _pad(
                    [docs[i] for i in order[b : b + batch_size]], backend.pad_id, backend.device
                )
                kw = {} if bool(mask.all()) else {"attention_mask": mask.long()}
                model(tokens, stop_at_layer=layer + 1, **kw)
                n += int(mask.sum()) - len(tokens) * (backend.lead + backend.tail)
    return n


def measure(model, texts: list[str], hook: str, batch_size: int, rounds: int) -> dict:
    backend = _Backend(model, hook, None)
    docs = backend.tokenize(texts, backend.n_ctx)
    layer = hook_layer(hook)
    harvest(model, texts[:64], hook)  # warm-up (allocator, first-call costs) for both paths
    bare_forward(model, backend, docs[:64], layer, batch_size)
    ratios, h_rates, b_rates = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        n_b = bare_forward(model, backend, docs, layer, batch_size)
        b_rate = n_b / (time.perf_counter() - t)
        t = time.perf_counter()
        acts = harvest(model, texts, hook, batch_size=batch_size)
        h_rate = len(acts) / (time.perf_counter() - t)
        assert len(acts) == n_b, (len(acts), n_b)  # the same tokens on both sides
        ratios.append(h_rate / b_rate)
        h_rates.append(h_rate)
        b_rates.append(b_rate)
    return {
        "tokens": len(acts),
        "bare": statistics.median(b_rates),
        "harvest": statistics.median(h_rates),
        "ratio": statistics.median(ratios),
        "rounds": ratios,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="storyteller")
    p.add_argument("--families", default="", help="'all' or a comma list of tests/tiny_models.py families")
    p.add_argument("--hook", default="blocks.1.hook_resid_post")
    p.add_argument("--n-docs", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()

    texts = load_corpus("storyteller", n_docs=args.n_docs, seed=0).texts
    models = [(args.model, lambda: load_model(args.model))]
    tmp = None
    if args.families:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from tiny_models import FAMILIES, build_tiny

        tmp = tempfile.TemporaryDirectory()
        chosen = FAMILIES if args.families == "all" else tuple(args.families.split(","))
        models += [(f"tiny {f}", lambda f=f: load_model(build_tiny(f, Path(tmp.name) / f))) for f in chosen]
    print(
        f"hook {args.hook}, {args.n_docs} docs, batch {args.batch_size}, {args.rounds} rounds, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"{'model':<16} {'tokens':>8} {'bare tok/s':>12} {'harvest tok/s':>14} {'ratio':>6}  rounds")
    for name, load in models:
        model = load()
        r = measure(model, texts, args.hook, args.batch_size, args.rounds)
        flag = "" if r["ratio"] >= 0.8 else "  < 0.8"
        print(
            f"{name:<16} {r['tokens']:>8,} {r['bare']:>12,.0f} {r['harvest']:>14,.0f} {r['ratio']:>6.3f}  "
            f"{', '.join(f'{x:.2f}' for x in r['rounds'])}{flag}"
        )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
