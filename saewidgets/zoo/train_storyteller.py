"""Train the bundled storyteller model from scratch: tokenizer, a tiny GPT-2, its model card.

    python -m saewidgets.zoo.train_storyteller            # writes saewidgets/zoo/storyteller/
    python -m saewidgets.zoo.train_storyteller --steps 50 --out /tmp/st   # a quick smoke run

Reproducible from ``--seed`` on the same machine and thread count (2 threads by default: CPU
matmul reductions are deterministic for a fixed thread count). The model trains on corpus seed
``TRAIN_CORPUS_SEED`` so that the corpora users make with small seeds (0, 1, ...) are fresh
documents it has not seen; the held-out loss is measured on another seed again.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from .._files import atomic_folder
from . import STORYTELLER_DIR
from .corpus import generate_storyteller
from .tokenizer import train_tokenizer

TRAIN_CORPUS_SEED = 1000
HELDOUT_CORPUS_SEED = 999


def pack_rows(docs_ids: list[list[int]], bos: int, n_ctx: int) -> torch.Tensor:
    """Pack tokenized stories into rows of n_ctx tokens, every row starting with BOS + a story.

    Rows start at a story boundary because that is how the model is used afterwards: harvest and
    generation always feed BOS + one story from position 0. A story that does not fit the rest of
    a row is cut there and starts the next row in full, so no story is only ever seen mid-way.
    """
    rows, row = [], []
    for ids in docs_ids:
        piece = [bos] + ids[: n_ctx - 1]  # [<= n_ctx]
        if len(row) + len(piece) > n_ctx:
            rows.append(row + piece[: n_ctx - len(row)])
            row = []
        row = row + piece
        if len(row) == n_ctx:
            rows.append(row)
            row = []
    return torch.tensor(rows, dtype=torch.long)  # [n_rows, n_ctx]


def unigram_loss(train_ids: list[list[int]], eval_ids: list[list[int]], vocab_size: int) -> float:
    """Cross-entropy (nats/token) of an add-one-smoothed unigram model on the eval tokens."""
    counts = torch.ones(vocab_size)
    for ids in train_ids:
        counts += torch.bincount(torch.tensor(ids), minlength=vocab_size)
    logp = torch.log(counts / counts.sum())  # [vocab]
    targets = torch.tensor([t for ids in eval_ids for t in ids])
    return float(-logp[targets].mean())


@torch.no_grad()
def model_loss(model, eval_ids: list[list[int]], bos: int, batch: int = 64) -> float:
    """Mean next-token cross-entropy (nats) over every story token, each story fed as BOS + story."""
    total, count = 0.0, 0
    n_ctx = model.config.n_positions
    for i in range(0, len(eval_ids), batch):
        chunk = [[bos] + ids[: n_ctx - 1] for ids in eval_ids[i : i + batch]]
        width = max(map(len, chunk))
        x = torch.full((len(chunk), width), bos)  # [b, width]; right padding never reaches real tokens
        mask = torch.zeros(len(chunk), width, dtype=torch.bool)
        for j, ids in enumerate(chunk):
            x[j, : len(ids)] = torch.tensor(ids)
            mask[j, 1 : len(ids)] = True  # targets: story tokens, not BOS, not padding
        logits = model(x).logits[:, :-1]  # [b, width-1, vocab]
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
        total += float(nll[mask[:, 1:]].sum())
        count += int(mask[:, 1:].sum())
    return total / count


def lr_at(step: int, steps: int, lr: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak (nanoGPT's schedule)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=STORYTELLER_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-docs", type=int, default=60_000)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--n-ctx", type=int, default=256)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--figure", type=Path, default=None, help="also draw the training curve to this PNG")
    args = p.parse_args(argv)

    from transformers import GPT2Config, GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    train_docs = generate_storyteller(args.n_docs, seed=TRAIN_CORPUS_SEED).texts
    heldout_docs = generate_storyteller(500, seed=HELDOUT_CORPUS_SEED).texts
    tok = train_tokenizer(train_docs, vocab_size=args.vocab)
    bos = tok.bos_token_id
    train_ids = tok(train_docs, add_special_tokens=False)["input_ids"]
    heldout_ids = tok(heldout_docs, add_special_tokens=False)["input_ids"]
    rows = pack_rows(train_ids, bos, args.n_ctx)  # [n_rows, n_ctx]
    print(
        f"corpus + tokenizer: {time.time() - t0:.1f} s, {rows.numel():,} training tokens in {len(rows)} rows"
    )

    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=args.n_ctx,
        n_embd=args.d_model,
        n_layer=args.n_layer,
        n_head=max(1, args.d_model // 32),
        n_inner=4 * args.d_model,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,  # tiny model, plenty of data: no dropout
        bos_token_id=bos,
        eos_token_id=bos,
        pad_token_id=tok.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    gen = torch.Generator().manual_seed(args.seed)
    curve, t_train = [], time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, warmup=max(1, args.steps // 20))
        x = rows[torch.randint(len(rows), (args.batch,), generator=gen)]  # [batch, n_ctx]
        # bf16 autocast roughly doubles CPU matmul speed here (AVX512-BF16); weights stay fp32.
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == args.steps - 1:
            point = {
                "step": step,
                "tokens": (step + 1) * x.numel(),
                "train_loss": round(loss.item(), 4),
                "seconds": round(time.time() - t_train, 1),
            }
            if step % 250 == 0 or step == args.steps - 1:
                model.eval()
                point["heldout_loss"] = round(model_loss(model, heldout_ids[:200], bos), 4)
                model.train()
            curve.append(point)
            print(json.dumps(point), flush=True)
    train_seconds = time.time() - t_train

    model.eval()
    heldout = model_loss(model, heldout_ids, bos)
    unigram = unigram_loss(train_ids, heldout_ids, len(tok))
    prompt = tok("Once upon a time", add_special_tokens=False, return_tensors="pt")["input_ids"]
    prompt = torch.cat([torch.tensor([[bos]]), prompt], dim=1)
    sample_ids = model.generate(
        prompt,
        max_new_tokens=min(80, args.n_ctx - prompt.shape[1]),
        do_sample=False,
        pad_token_id=tok.pad_token_id,
    )
    sample = tok.decode(sample_ids[0, 1:], skip_special_tokens=True)
    card = {
        "architecture": "GPT2LMHeadModel",
        "n_params": n_params,
        "n_layer": args.n_layer,
        "d_model": args.d_model,
        "n_ctx": args.n_ctx,
        "vocab_size": len(tok),
        "seed": args.seed,
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "train_corpus": {
            "name": "storyteller",
            "seed": TRAIN_CORPUS_SEED,
            "n_docs": args.n_docs,
            "n_tokens": int(rows.numel()),
        },
        "heldout_corpus": {"name": "storyteller", "seed": HELDOUT_CORPUS_SEED, "n_docs": len(heldout_docs)},
        "heldout_loss": round(heldout, 4),
        "unigram_loss": round(unigram, 4),
        "reduction_vs_unigram": round(1 - heldout / unigram, 4),
        "train_seconds": round(train_seconds, 1),
        "threads": args.threads,
        "torch": torch.__version__,
        "greedy_sample": sample,
        "curve": curve,
    }
    print(json.dumps({k: v for k, v in card.items() if k != "curve"}, indent=1))
    _save_atomically(model, tok, card, args.out)
    if args.figure:
        plot_curve(card, args.figure)
    return card


def plot_curve(card: dict, path: Path) -> None:
    """Training and held-out loss against tokens seen, with the unigram baseline for scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = card["curve"]
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=120)
    ax.plot([p["tokens"] / 1e6 for p in curve], [p["train_loss"] for p in curve], label="train")
    held = [p for p in curve if "heldout_loss" in p]
    ax.plot([p["tokens"] / 1e6 for p in held], [p["heldout_loss"] for p in held], "o-", label="held-out")
    ax.axhline(card["unigram_loss"], color="grey", ls="--", label=f"unigram ({card['unigram_loss']:.2f})")
    ax.set(
        xlabel="training tokens (millions)",
        ylabel="cross-entropy (nats/token)",
        ylim=(0, None),
        title=f"storyteller: {card['n_params'] / 1e6:.2f} M parameters, {card['train_seconds'] / 60:.0f} min on "
        f"{card['threads']} CPU threads",
    )
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _save_atomically(model, tok, card: dict, out: Path) -> None:
    """Write the checkpoint into a temporary sibling folder, then swap it in: never half-written."""
    with atomic_folder(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / "training.json").write_text(json.dumps(card, indent=1) + "\n")


if __name__ == "__main__":
    main()
