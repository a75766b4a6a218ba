"""Train the bundled reader SAE: a TopK SAE on the storyteller model's residual stream after block 1.

    python -m saewidgets.zoo.train_reader_sae            # writes saewidgets/zoo/storyteller_sae/
    python -m saewidgets.zoo.train_reader_sae --tokens 100000 --out /tmp/sae   # a quick smoke run

It is the "reader" of the data-centric analyses (Jiang et al. 2025 use one fixed SAE to embed every
corpus): notebooks and tests load it with ``load_sae("storyteller")`` instead of training their own.
It trains on corpus seed ``TRAIN_CORPUS_SEED`` (documents users' small seeds never produce) with the
four rare concepts raised from 2 % to ``RARE_RATE`` of the stories: at 2 % a k = 8 SAE of 2,048 latents
spends no latent on them (one latent covered "any rare concept"; best token-level F1 for a dragon 0.17),
and an SAE can only label what its training data taught it (Jiang et al. 2025, §6). The corpora being
*analysed* keep whatever rates they are made with.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from . import READER_SAE_DIR

TRAIN_CORPUS_SEED = 2000
RARE_RATE = 0.1
HOOK = "blocks.1.hook_resid_post"


def main(argv: list[str] | None = None) -> None:
    import saewidgets as sw
    from saewidgets.io import save_sae

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=5000)
    p.add_argument(
        "--tokens", type=int, default=1_500_000, help="training tokens (several passes over the docs)"
    )
    p.add_argument("--d-sae", type=int, default=2048)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=READER_SAE_DIR)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    t0 = time.time()
    model = sw.load_model("storyteller", device="cpu")
    from .corpus import RARE_CONCEPTS

    plant = {name: RARE_RATE for name in RARE_CONCEPTS}
    acts = sw.harvest(
        model, sw.load_corpus("storyteller", n_docs=args.docs, seed=TRAIN_CORPUS_SEED, plant=plant), HOOK
    )
    sae = sw.build_sae(sw.SAEConfig("topk", d_in=model.cfg.d_model, d_sae=args.d_sae, k=args.k))
    result = sw.train(sae, acts, n_tokens=args.tokens, lr=3e-3, device="cpu", progress=True, seed=args.seed)
    held_out = sw.load_corpus("storyteller", n_docs=200, seed=TRAIN_CORPUS_SEED + 1)
    metrics = sw.evaluate(result.sae, sw.harvest(model, held_out, HOOK), model=model, texts=held_out.texts)
    card = {
        "architecture": "topk",
        "d_sae": args.d_sae,
        "k": args.k,
        "hook": HOOK,
        "train_docs": args.docs,
        "train_corpus_seed": TRAIN_CORPUS_SEED,
        "train_plant": plant,
        "train_tokens": args.tokens,
        "seed": args.seed,
        "minutes": round((time.time() - t0) / 60, 1),
        "held_out": {
            k: round(float(metrics[k]), 4)
            for k in ("l0", "fvu", "delta_ce", "ce_loss_score", "dead_fraction", "dense_fraction")
        },
    }
    save_sae(result.sae, args.out, hook=HOOK, model_name="storyteller", metadata={"card": card})
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
