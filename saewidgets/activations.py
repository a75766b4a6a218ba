"""Harvest a model's activations at one hook site, each row traceable to its text.

``harvest(model, texts, hook, n_tokens)`` runs the model in batches of BOS + one document (or, for a
BERT-style encoder, [CLS] + document + [SEP]), stops the forward at the hook, drops the special and padding
positions, and returns an ``ActivationSet``: a ``[n_tokens, d_in]`` tensor plus, per row, its token id,
document index and position. Batches are right-padded *with* an attention mask (a bidirectional model's rows
otherwise depend on their batch-mates) and bucketed by length (documents of similar length share a batch, so
little is padded), then put back in document order: a row never depends on the batch size. With ``cache_dir``
it writes safetensors shards instead (see ``activation_cache``) and returns a ``CachedActivations`` that
streams them back; the two share one interface (``batches``; both are defined in ``activation_set``).
"""

from __future__ import annotations

import inspect
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
    special_tokens: bool | None = None,
    cache_dir: str | Path | None = None,
    shard_tokens: int = 65_536,
    progress: bool | None = None,
):
    """Activations of ``model`` at ``hook`` over ``texts``, up to ``n_tokens`` rows (None: all).

    ``model`` is a TransformerLens model (from ``load_model``) with a TL hook name, or any PyTorch
    module that maps token ids ``[batch, pos]`` to outputs, with a submodule path as ``hook`` (e.g.
    ``"transformer.h.1"`` of a Hugging Face GPT-2) and ``tokenizer`` given. ``texts`` is a corpus
    (documents with ``.text``) or a list of strings. Each document is fed as BOS + its tokens (no BOS
    when the tokenizer has none: then the first token is at position 0 and is kept), or with
    ``special_tokens`` as [CLS] + its tokens + [SEP] (default: when the tokenizer defines both, as a
    BERT-style encoder's does); special positions are never returned. Texts longer than ``max_len``
    (default: the model's context) are truncated, with one warning. Returns an ``ActivationSet``, or a
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
    backend = _Backend(model, hook, tokenizer, special_tokens)
    max_len = max_len or backend.n_ctx
    docs = backend.tokenize(texts, max_len)  # list of [len_i] token id lists: lead + document + tail
    available = sum(len(d) for d in docs) - len(docs) * (backend.lead + backend.tail)  # specials dropped
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
    """Run the batches until ``wanted`` rows; returns (in-memory chunks, rows collected, sum of row norms).

    Rows come out in document order (document by document, positions ascending), the first ``wanted`` of
    them, whatever the batching: the documents are taken in windows of consecutive documents, sorted by
    length inside a window (so a batch holds documents of similar length and little padding), and each
    window's rows are put back in document order before they are kept or written."""
    chunks: list[tuple[torch.Tensor, ...]] = []
    got, norm_sum = 0, 0.0
    show = progress if progress is not None else wanted >= 200_000
    bar = _progress(wanted, show)
    docs = docs[: _docs_needed(docs, wanted, backend.lead + backend.tail)]  # no forward for unused documents
    for first, last in _windows([len(d) for d in docs], batch_size):
        x, tok, doc, pos = _run_window(backend, docs, first, last, batch_size, stop_early)
        raw, x = x, x.to(dtype)  # raw [n, d_in] in the model's dtype; x [n, d_in] in dtype
        take = min(len(x), wanted - got)
        raw, x, tok, doc, pos = raw[:take], x[:take], tok[:take], doc[:take], pos[:take]
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


WINDOW_TOKENS = 1 << 15  # a window's tokens: enough documents to bucket well, few enough to hold in memory
WINDOW_BATCHES = 16  # ... and at most this many batches per window


def _docs_needed(docs: list[list[int]], wanted: int, n_special: int) -> int:
    """How many leading documents hold the first ``wanted`` rows."""
    total = 0
    for i, d in enumerate(docs):
        total += len(d) - n_special
        if total >= wanted:
            return i + 1
    return len(docs)


def _windows(lengths: list[int], batch_size: int):
    """(first, last) document ranges, in order: up to ``WINDOW_BATCHES`` batches or ~``WINDOW_TOKENS`` tokens."""
    first, tokens = 0, 0
    for i, n in enumerate(lengths):
        tokens += n
        if i + 1 - first >= WINDOW_BATCHES * batch_size or tokens >= WINDOW_TOKENS:
            yield first, i + 1
            first, tokens = i + 1, 0
    if first < len(lengths):
        yield first, len(lengths)


def _run_window(backend, docs, first, last, batch_size, stop_early):
    """Rows of documents ``first:last`` in document order: (acts [n, d_in] model dtype on CPU, token ids [n],
    doc ids [n], positions [n])."""
    order = sorted(range(first, last), key=lambda i: len(docs[i]))  # stable: ties keep document order
    parts = []
    for b in range(0, len(order), batch_size):
        ids = order[b : b + batch_size]
        tokens, mask = _pad([docs[i] for i in ids], backend.pad_id, backend.device)  # [b, width] each
        acts = backend.run(tokens, mask, stop_early)  # [b, width, d_in]
        keep = mask.clone()  # [b, width] the document's own tokens: not padding, BOS, [CLS] or [SEP]
        keep[:, : backend.lead] = False
        if backend.tail:
            lengths = mask.sum(1)  # [b]
            width = torch.arange(mask.shape[1], device=mask.device)  # [width]
            keep &= width[None, :] < (lengths - backend.tail)[:, None]
        rows = keep.nonzero(as_tuple=False)  # [n_rows, 2] (batch index, position), row-major order
        parts.append(
            (
                acts[rows[:, 0], rows[:, 1]].detach().to("cpu"),  # [n_rows, d_in]
                tokens[rows[:, 0], rows[:, 1]].to("cpu"),  # [n_rows]
                torch.tensor(ids)[rows[:, 0].cpu()],  # [n_rows] document index
                rows[:, 1].to("cpu"),  # [n_rows]
            )
        )
    x, tok, doc, pos = (torch.cat(p) for p in zip(*parts))
    back = torch.argsort(doc * (int(pos.max()) + 1) + pos)  # [n] document order, positions ascending
    return x[back], tok[back], doc[back], pos[back]


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
    """Right-padded token ids [b, width] and the mask of real tokens [b, width] (bool)."""
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

    def __init__(self, model, hook: str, tokenizer, special_tokens: bool | None = None):
        self.model, self.hook = model, hook
        self.is_tl = hasattr(model, "run_with_hooks") and hasattr(model, "cfg")
        self.tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if self.tokenizer is None:
            raise ValueError("This model has no tokenizer: pass tokenizer=... (a Hugging Face tokenizer).")
        self.takes_mask = True  # a TransformerBridge forwards attention_mask to the Hugging Face model
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
            self.takes_mask = _accepts(model, "attention_mask")
        self.name = model_name(model)
        tok = self.tokenizer
        cls, sep = getattr(tok, "cls_token_id", None), getattr(tok, "sep_token_id", None)
        has_pair = cls is not None and sep is not None
        if special_tokens is None:
            special_tokens = (
                has_pair  # a BERT-style encoder saw [CLS] ... [SEP] in training (Devlin et al. 2019)
            )
        if special_tokens and not has_pair:
            raise ValueError(
                "special_tokens=True wraps each text as [CLS] text [SEP], but this tokenizer defines no "
                "cls_token/sep_token; leave special_tokens=None (BOS + text)."
            )
        self.special_tokens = bool(special_tokens)
        if self.special_tokens:
            self.prefix, self.suffix = [cls], [sep]
        else:  # BOS + document, as the causal model was trained; no BOS: the document alone
            bos = tok.bos_token_id
            self.prefix, self.suffix = ([bos] if bos is not None else []), []
        self.lead, self.tail = len(self.prefix), len(self.suffix)  # positions dropped at each end
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        self.warned_mask = False

    def tokenize(self, texts: list[str], max_len: int) -> list[list[int]]:
        room = max_len - self.lead - self.tail  # document tokens that fit
        if room < 1:
            raise ValueError(
                f"max_len must leave room for one token after {self.lead + self.tail} special token(s), "
                f"got {max_len}"
            )
        # verbose=False: the tokenizer's own "sequence length is longer than ..." message would repeat for
        # every long text; the truncation below says it once.
        ids = self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
        short = [i for i, t in enumerate(ids) if len(t) == 0]
        if short:
            raise ValueError(
                f"Text {short[0]} ({texts[short[0]][:40]!r}) is shorter than one token"
                f"{f' (and {len(short) - 1} more)' if len(short) > 1 else ''}; remove empty texts."
            )
        long = [i for i, t in enumerate(ids) if len(t) > room]
        if long:
            warnings.warn(
                f"{len(long)} of {len(texts)} texts (the first: text {long[0]}, {len(ids[long[0]])} tokens) are "
                f"longer than max_len={max_len} tokens with their special tokens (the model's context is "
                f"{self.n_ctx}); each is truncated to its first {room} tokens. Split long texts to keep them whole.",
                stacklevel=3,
            )
        return [self.prefix + t[:room] + self.suffix for t in ids]

    @torch.no_grad()
    def run(self, tokens: torch.Tensor, mask: torch.Tensor, stop_early: bool) -> torch.Tensor:
        """Activations at the hook for ``tokens`` [batch, pos] (``mask`` [batch, pos]: True on real tokens)
        -> [batch, pos, d_in]."""
        store: list[torch.Tensor] = []

        def grab(out):
            x = out[0] if isinstance(out, tuple) else out
            store.append(x)
            if stop_early:
                raise _Stop

        # The mask only where there is padding: an unpadded batch runs exactly as a single text does.
        kwargs = {}
        if not bool(mask.all()):
            if self.takes_mask:
                kwargs["attention_mask"] = mask.long()
            elif not self.warned_mask:
                self.warned_mask = True
                warnings.warn(
                    f"{type(self.model).__name__}.forward takes no attention_mask, so padded positions are "
                    "visible to the others: right padding is harmless for a causal model only. For a "
                    "bidirectional one, harvest with batch_size=1.",
                    stacklevel=4,
                )
        try:
            if self.is_tl:
                with self.model.hooks(fwd_hooks=[(self.hook, lambda x, hook: grab(x))]):
                    self.model(tokens, **kwargs)
            else:
                handle = self.module.register_forward_hook(lambda mod, inp, out: grab(out))
                try:
                    self.model(tokens, **kwargs)
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
            "wrap": " ".join(
                [*self.tokenizer.convert_ids_to_tokens(self.prefix), "<text>"]
                + self.tokenizer.convert_ids_to_tokens(self.suffix)
            ),  # how each text was fed: e.g. "<|endoftext|> <text>" or "[CLS] <text> [SEP]"
        }


def _accepts(model, name: str) -> bool:
    """Whether ``model``'s forward takes a keyword ``name`` (or any keyword)."""
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
