"""Generation latency on the bundled model against the steering slider's budget (prints; asserts nothing).

    python bench/generation_latency.py [--rounds 7]

What a SteeringPanel slider move costs in the kernel: a 32-token unsteered + steered pair with the same seed
(``steering.compare``: both rows in one batch through ``generation.sample``). Budget: <= 500 ms on 2 cores.
Contenders, each run once per round so that ratios come from the same spell of a noisy machine:

- pair, KV cache (the default, "auto" once the cache has passed its check);
- pair, no KV cache (the whole sequence recomputed each step: the reference path);
- two separate ``generate`` calls (what SteeringPanel did before the pair shared a batch);
- TransformerLens's own ``model.generate`` pair with its KV cache (what the package used before; wrong with
  transformers 5.24).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import saewidgets as sw
from saewidgets.steering import compare, generate

HOOK = "blocks.3.hook_resid_post"
SHORT = "Once upon a time"
LONG = (
    "Once upon a time, in a quiet village by the sea, there lived a girl called Mia. Every morning she walked "
    "to the harbour with her friend Tom, and they watched the boats come in. One day a storm came, and"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = sw.load_model("storyteller", device="cpu")
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=model.cfg.d_model, d_sae=64))
    steer = dict(sae=sae, hook=HOOK, strengths={3: 4.0}, max_new_tokens=32, temperature=0.8, seed=0)

    def tl_pair(prompt):
        with torch.no_grad():
            for hooks in ([], [(HOOK, lambda x, hook: x)]):
                with model.hooks(fwd_hooks=hooks):
                    model.generate(
                        prompt, max_new_tokens=32, temperature=0.8, verbose=False, use_past_kv_cache=True
                    )

    contenders = {
        "pair, KV cache": lambda p: compare(model, p, **steer),
        "pair, no KV cache": lambda p: compare(model, p, kv_cache="off", **steer),
        "two separate calls": lambda p: (
            generate(model, p, max_new_tokens=32, temperature=0.8, seed=0),
            generate(model, p, **steer),
        ),
        "TransformerLens generate pair": tl_pair,
    }
    for prompt in (SHORT, LONG):
        n_prompt = model.to_tokens(prompt).shape[1]
        times: dict[str, list[float]] = {k: [] for k in contenders}
        for fn in contenders.values():  # warm-up: the cache check, first-call costs
            fn(prompt)
        for _ in range(args.rounds):
            for name, fn in contenders.items():
                t = time.perf_counter()
                fn(prompt)
                times[name].append((time.perf_counter() - t) * 1000)
        base = statistics.median(times["pair, KV cache"])
        print(
            f"prompt of {n_prompt} tokens, 32 new tokens, {args.rounds} rounds (budget for the pair: <= 500 ms)"
        )
        for name, ts in times.items():
            med = statistics.median(ts)
            print(
                f"  {name:<32} median {med:6.0f} ms  (min {min(ts):4.0f}, max {max(ts):4.0f})  "
                f"x{med / base:.2f} of the default"
            )


if __name__ == "__main__":
    main()
