"""Harvest throughput against a bare forward pass stopped at the same layer (target ratio >= 0.8), per family.

Both sides see the same documents in the same batches (harvest's length-bucketed windows, right-padded, with
the attention mask where a batch is padded), in alternating rounds, so machine noise hits them alike; the ratio
of tokens/s (harvest / bare) is what to read, not the absolutes. The bare side is TransformerLens's own
``stop_at_layer`` forward and does nothing with the activations; harvest also gathers the rows, copies them to
the CPU, checks them for NaN/inf and puts them back in document order — and it tokenizes the texts, which
the bare side gets done for it: column "ratio" leaves the bare side's tokenizing out, "+tok" counts it (what
tokenizing and running the model by hand would cost).

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

TINY_HOOK = "blocks.0.hook_resid_post"  # the tiny checkpoints have 2 blocks


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
    layer = hook_layer(hook)
    harvest(model, texts[:64], hook)  # warm-up (allocator, first-call costs) for both paths
    bare_forward(model, backend, backend.tokenize(texts[:64], backend.n_ctx), layer, batch_size)
    ratios, tok_ratios, h_rates, b_rates = [], [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        docs = backend.tokenize(texts, backend.n_ctx)  # the bare side's own tokenizing, timed apart
        t_tok = time.perf_counter() - t
        t = time.perf_counter()
        n_b = bare_forward(model, backend, docs, layer, batch_size)
        t_bare = time.perf_counter() - t
        t = time.perf_counter()
        acts = harvest(model, texts, hook, batch_size=batch_size)
        t_h = time.perf_counter() - t
        assert len(acts) == n_b, (len(acts), n_b)  # the same tokens on both sides
        ratios.append(t_bare / t_h)  # tokens/s ratio: same tokens, so the inverse ratio of times
        tok_ratios.append((t_tok + t_bare) / t_h)
        h_rates.append(n_b / t_h)
        b_rates.append(n_b / t_bare)
    return {
        "tokens": len(acts),
        "bare": statistics.median(b_rates),
        "harvest": statistics.median(h_rates),
        "ratio": statistics.median(ratios),
        "ratio_tok": statistics.median(tok_ratios),
        "rounds": ratios,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="storyteller")
    p.add_argument("--families", default="", help="'all' or a comma list of tests/tiny_models.py families")
    p.add_argument("--hook", default="blocks.1.hook_resid_post", help="for --model (tiny families: block 0)")
    p.add_argument("--n-docs", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()

    texts = load_corpus("storyteller", n_docs=args.n_docs, seed=0).texts
    models = [(args.model, args.hook, lambda: load_model(args.model))]
    tmp = None
    if args.families:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from tiny_models import FAMILIES, build_tiny

        tmp = tempfile.TemporaryDirectory()
        chosen = FAMILIES if args.families == "all" else tuple(args.families.split(","))
        # Block 0 of 2: stopped at the last block, the bare forward would run the whole model (its final norm
        # and unembedding too), which is not "stopped at the same layer".
        models += [
            (f"tiny {f}", TINY_HOOK, lambda f=f: load_model(build_tiny(f, Path(tmp.name) / f)))
            for f in chosen
        ]
    print(
        f"{args.n_docs} docs, batch {args.batch_size}, {args.rounds} rounds, "
        f"{torch.get_num_threads()} threads"
    )
    print(
        f"{'model':<16} {'hook':<26} {'tokens':>8} {'bare tok/s':>12} {'harvest tok/s':>14} {'ratio':>6} "
        f"{'+tok':>6}  rounds"
    )
    for name, hook, load in models:
        model = load()
        r = measure(model, texts, hook, args.batch_size, args.rounds)
        flag = "" if r["ratio"] >= 0.8 else "  < 0.8"
        print(
            f"{name:<16} {hook:<26} {r['tokens']:>8,} {r['bare']:>12,.0f} {r['harvest']:>14,.0f} {r['ratio']:>6.3f} "
            f"{r['ratio_tok']:>6.3f}  "
            f"{', '.join(f'{x:.2f}' for x in r['rounds'])}{flag}"
        )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
