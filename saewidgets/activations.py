"""Harvest a model's activations at one hook site, each row traceable to its text.

``harvest(model, texts, hook, n_tokens)`` runs the model in batches of BOS + one document
(right-padded, so padding never reaches a real position of a causal model), stops the forward
at the hook, drops BOS and padding positions, and returns an ``ActivationSet``: a
``[n_tokens, d_in]`` tensor plus, per row, its token id, document index and position. With
``cache_dir`` it writes safetensors shards instead (see ``activation_cache``) and returns a
``CachedActivations`` that streams them back; the two share one interface (``batches``; both are
defined in ``activation_set``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from .activation_cache import CacheWriter, find_cache, fingerprint_model, fingerprint_texts
from .activation_set import ActivationSet, check_batch_size
from .models import check_hook, hook_names, model_name, module_names


class _Stop(Exception):
    """Raised from the hook to end the forward pass there: later layers are never computed."""


def harvest(
    model,
    texts,
    hook: str,
    n_tokens: int | None = None,
    *,
    batch_size: int = 32,
    max_len: int | None = None,
    dtype: torch.dtype = torch.float32,
    stop_early: bool = True,
    tokenizer=None,
    cache_dir: str | Path | None = None,
    shard_tokens: int = 65_536,
    progress: bool | None = None,
):
    """Activations of ``model`` at ``hook`` over ``texts``, up to ``n_tokens`` rows (None: all).

    ``model`` is a TransformerLens model (from ``load_model``) with a TL hook name, or any PyTorch
    module that maps token ids ``[batch, pos]`` to outputs, with a submodule path as ``hook`` (e.g.
    ``"transformer.h.1"`` of a Hugging Face GPT-2) and ``tokenizer`` given. ``texts`` is a corpus
    (documents with ``.text``) or a list of strings. Each document is fed as BOS + its tokens,
    truncated to ``max_len`` (default: the model's context). Returns an ``ActivationSet``, or a
    ``CachedActivations`` when ``cache_dir`` is given (reused if it already holds this harvest: its first
    ``n_tokens`` rows, the same rows and ``norm_scale`` as a fresh harvest). A NaN or inf activation raises
    a ValueError that names its row, document, position and the hook.
    """
    texts = _as_texts(texts)
    if n_tokens is not None and (not isinstance(n_tokens, int) or n_tokens <= 0):
        raise ValueError(f"n_tokens must be a positive integer (or None for every token), got {n_tokens!r}")
    check_batch_size(batch_size)
    if cache_dir is not None and shard_tokens <= 0:  # before any work, and before a cache is reused
        raise ValueError(f"shard_tokens must be positive, got {shard_tokens}")
    backend = _Backend(model, hook, tokenizer)
    max_len = max_len or backend.n_ctx
    docs = backend.tokenize(texts, max_len)  # list of [len_i] token id lists, BOS first
    available = sum(len(d) - 1 for d in docs)  # BOS is dropped
    if available == 0:
        raise ValueError("No tokens were harvested: every text is empty after removing BOS.")
    if n_tokens is not None and available < n_tokens:
        warnings.warn(
            f"The texts hold only {available} tokens, fewer than n_tokens={n_tokens}; returning {available}.",
            stacklevel=2,
        )
    n_rows = available if n_tokens is None else min(n_tokens, available)

    writer = None
    if cache_dir is not None:
        meta = backend.describe(dtype, texts, n_tokens, max_len)
        cached = find_cache(cache_dir, meta, n_rows)
        if cached is not None:
            return cached
        writer = CacheWriter(cache_dir, meta, shard_tokens)

    try:
        chunks, got, norm_sum = _collect(
            backend, docs, n_rows, batch_size, dtype, stop_early, writer, progress
        )
        if norm_sum == 0:
            raise ValueError(
                f"Every activation harvested at {hook!r} is exactly zero: nothing to normalise or "
                "train on. Check the hook name (a site that is zeroed, e.g. an ablated head?)."
            )
    except BaseException:  # Ctrl-C included: never leave a half-written cache behind
        if writer is not None:
            writer.abort()
        raise
    d_in = writer.d_in if writer is not None else chunks[0][0].shape[1]
    norm_scale = math.sqrt(d_in) / (norm_sum / got)  # E||x|| -> sqrt(d_in)
    if writer is not None:
        return writer.finish(norm_scale=norm_scale, texts=texts)
    acts, tok, doc, pos = (torch.cat(parts) for parts in zip(*chunks))
    return ActivationSet(
        acts, tok, doc, pos, hook=hook, model_name=backend.name, norm_scale=norm_scale, texts=texts
    )


def _collect(backend, docs, wanted, batch_size, dtype, stop_early, writer, progress):
    """Run the batches until ``wanted`` rows; returns (in-memory chunks, rows collected, sum of row norms)."""
    chunks: list[tuple[torch.Tensor, ...]] = []
    got, norm_sum = 0, 0.0
    show = progress if progress is not None else wanted >= 200_000
    bar = _progress(wanted, show)
    for start in range(0, len(docs), batch_size):
        batch = docs[start : start + batch_size]
        tokens, mask = _pad(batch, backend.pad_id, backend.device)  # [b, width], [b, width]
        acts = backend.run(tokens, stop_early)  # [b, width, d_in]
        mask[:, 0] = False  # BOS carries no information about the document (and has a huge norm)
        rows = mask.nonzero(as_tuple=False)  # [n_rows, 2] (batch index, position), row-major order
        take = min(len(rows), wanted - got)
        rows = rows[:take]
        raw = acts[rows[:, 0], rows[:, 1]].detach()  # [take, d_in] in the model's dtype
        x = raw.to("cpu", dtype)  # [take, d_in]
        tok = tokens[rows[:, 0], rows[:, 1]].to("cpu")  # [take]
        doc = (rows[:, 0] + start).to("cpu")  # [take]
        pos = rows[:, 1].to("cpu")  # [take]
        finite = torch.isfinite(x).all(
            dim=1
        )  # [take]; one inf row makes norm_scale 0, one NaN poisons training
        if not bool(finite.all()):
            raise _non_finite(x, raw, finite, got, tok, doc, pos, backend.hook, dtype)
        norm_sum += float(x.double().norm(dim=1).sum())
        if writer is not None:
            writer.add(x, tok, doc, pos)
        else:
            chunks.append((x, tok, doc, pos))
        got += take
        bar.update(take)
        if got >= wanted:
            break
    bar.close()
    return chunks, got, norm_sum


def _non_finite(x, raw, finite, got, tok, doc, pos, hook, dtype) -> ValueError:
    """The error for the first row of a batch with NaN or inf: where it is, and what to do."""
    i = int((~finite).nonzero()[0])
    kind = " and ".join(w for w, has in (("NaN", x[i].isnan().any()), ("inf", x[i].isinf().any())) if has)
    if bool(torch.isfinite(raw[i]).all()):  # finite in the model, not after the cast to dtype
        fix = (
            f"the model's values are finite but exceed {str(dtype).removeprefix('torch.')}'s range: harvest with "
            "dtype=torch.float32"
        )
    else:
        fix = (
            "the model itself produced them (a float16 model overflowing? load it in float32), or this text "
            f"breaks it: remove texts[{int(doc[i])}] and harvest again"
        )
    return ValueError(
        f"harvest: activation row {got + i} (document {int(doc[i])}, position {int(pos[i])}, token id "
        f"{int(tok[i])}) at hook {hook!r} holds {kind} ({int((~finite).sum())} such row(s) in this "
        f"batch). Training on it would run silently on zeros (inf makes norm_scale 0) or NaN: {fix}."
    )


def _as_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(
            "harvest expects a list of texts (or a corpus), not a single string: wrap it in [...]"
        )
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"harvest expects a corpus or a list of strings, got {type(texts).__name__}")
    out = [t.text if hasattr(t, "text") else t for t in texts]
    if not out:
        raise ValueError("The text list is empty: give at least one document.")
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"Item {bad[0]} is a {type(out[bad[0]]).__name__}, not a string or a document.")
    return out


def _pad(batch: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, batch))
    tokens = torch.full((len(batch), width), pad_id, dtype=torch.long)  # [b, width]
    mask = torch.zeros(len(batch), width, dtype=torch.bool)  # [b, width] True on real tokens
    for i, ids in enumerate(batch):
        tokens[i, : len(ids)] = torch.tensor(ids)
        mask[i, : len(ids)] = True
    return tokens.to(device), mask.to(device)


def _progress(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not show, unit="tok", desc="harvest", mininterval=1.0)


class _Backend:
    """The few things harvest needs from a model, for TransformerLens and plain PyTorch alike."""

    def __init__(self, model, hook: str, tokenizer):
        self.model, self.hook = model, hook
        self.is_tl = hasattr(model, "run_with_hooks") and hasattr(model, "cfg")
        self.tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if self.tokenizer is None:
            raise ValueError("This model has no tokenizer: pass tokenizer=... (a Hugging Face tokenizer).")
        if self.is_tl:
            check_hook(hook, hook_names(model))
            self.n_ctx = int(model.cfg.n_ctx)
            self.device = model.cfg.device
        else:
            check_hook(hook, module_names(model))
            self.module = dict(model.named_modules())[hook]
            cfg = getattr(model, "config", None)
            self.n_ctx = int(
                getattr(cfg, "n_positions", 0) or getattr(cfg, "max_position_embeddings", 0) or 1024
            )
            self.device = next(model.parameters()).device
        self.name = model_name(model)
        bos = self.tokenizer.bos_token_id
        self.bos = [bos] if bos is not None else []
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def tokenize(self, texts: list[str], max_len: int) -> list[list[int]]:
        if max_len < 2:
            raise ValueError(f"max_len must be at least 2 (BOS + one token), got {max_len}")
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        short = [i for i, t in enumerate(ids) if len(t) == 0]
        if short:
            raise ValueError(
                f"Text {short[0]} ({texts[short[0]][:40]!r}) is shorter than one token"
                f"{f' (and {len(short) - 1} more)' if len(short) > 1 else ''}; remove empty texts."
            )
        return [(self.bos + t)[:max_len] for t in ids]

    @torch.no_grad()
    def run(self, tokens: torch.Tensor, stop_early: bool) -> torch.Tensor:
        """Activations at the hook for ``tokens`` [batch, pos] -> [batch, pos, d_in]."""
        store: list[torch.Tensor] = []

        def grab(out):
            x = out[0] if isinstance(out, tuple) else out
            store.append(x)
            if stop_early:
                raise _Stop

        try:
            if self.is_tl:
                with self.model.hooks(fwd_hooks=[(self.hook, lambda x, hook: grab(x))]):
                    self.model(tokens)
            else:
                handle = self.module.register_forward_hook(lambda mod, inp, out: grab(out))
                try:
                    self.model(tokens)
                finally:
                    handle.remove()
        except _Stop:
            pass
        if not store:
            raise RuntimeError(f"The hook {self.hook!r} never fired during the forward pass.")
        return store[0]

    def describe(self, dtype: torch.dtype, texts: list[str], n_tokens: int | None, max_len: int) -> dict:
        """What identifies a harvest, written to and checked against an activation cache."""
        return {
            "model": self.name,
            "model_fingerprint": fingerprint_model(self.model),
            "hook": self.hook,
            "dtype": str(dtype).replace("torch.", ""),
            "texts_fingerprint": fingerprint_texts(texts),
            "n_texts": len(texts),
            "n_tokens_requested": n_tokens,
            "max_len": max_len,
        }
