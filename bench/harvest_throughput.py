"""Harvest throughput against a bare forward pass stopped at the same layer (target ratio >= 0.8).

Both sides see the same documents in the same padded batches, in alternating rounds, so machine
noise hits them alike; the ratio of tokens/s (harvest / bare) is what to read, not the absolutes.

    python bench/harvest_throughput.py [--n-docs 1000] [--hook blocks.1.hook_resid_post] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from saewidgets import harvest, load_corpus, load_model
from saewidgets.activations import _Backend, _pad
from saewidgets.models import hook_layer


def bare_forward(model, docs: list[list[int]], pad_id: int, layer: int, batch_size: int) -> int:
    """TransformerLens's own stop_at_layer forward over the same batches; returns real tokens seen."""
    n = 0
    with torch.no_grad():
        for i in range(0, len(docs), batch_size):
            tokens, mask = _pad(docs[i : i + batch_size], pad_id, model.cfg.device)
            model(tokens, stop_at_layer=layer + 1)
            n += int(mask[:, 1:].sum())
    return n


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="storyteller")
    p.add_argument("--hook", default="blocks.1.hook_resid_post")
    p.add_argument("--n-docs", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()

    model = load_model(args.model)
    texts = load_corpus("storyteller", n_docs=args.n_docs, seed=0).texts
    backend = _Backend(model, args.hook, None)
    docs = backend.tokenize(texts, backend.n_ctx)
    layer = hook_layer(args.hook)
    harvest(model, texts[:64], args.hook)  # warm-up (allocator, first-call costs) for both paths
    bare_forward(model, docs[:64], backend.pad_id, layer, args.batch_size)

    ratios, h_rates, b_rates = [], [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        n_b = bare_forward(model, docs, backend.pad_id, layer, args.batch_size)
        b_rate = n_b / (time.perf_counter() - t)
        t = time.perf_counter()
        acts = harvest(model, texts, args.hook, batch_size=args.batch_size)
        h_rate = len(acts) / (time.perf_counter() - t)
        ratios.append(h_rate / b_rate)
        h_rates.append(h_rate)
        b_rates.append(b_rate)
    print(
        f"model {args.model}, hook {args.hook}, {args.n_docs} docs, {len(acts):,} tokens, "
        f"{torch.get_num_threads()} threads, device {model.cfg.device}"
    )
    print(f"bare forward (stop_at_layer={layer + 1}): {statistics.median(b_rates):,.0f} tokens/s")
    print(f"harvest:                          {statistics.median(h_rates):,.0f} tokens/s")
    print(
        f"ratio harvest/bare: median {statistics.median(ratios):.3f} "
        f"(rounds: {', '.join(f'{r:.3f}' for r in ratios)}; target >= 0.8)"
    )


if __name__ == "__main__":
    main()
