"""Look at one SAE latent: where it fires, how strongly, on what, and what it writes to the logits.

Everything here returns plain numbers, numpy arrays and dicts, so tests call it directly and the
``FeatureActivations`` widget only ships the results to the browser. Terms (sae_vis / OpenAI viewer):

- *token table*: the rows of an ``ActivationSet`` (BOS excluded), each with its token string, document
  and position; rows of a document are contiguous and in order (``harvest`` guarantees it).
- *example*: a window of rows ``[start, stop)`` inside one document around a ``center`` row, e.g. the
  rows where the latent fires hardest (top-k) or rows drawn from quantile bands of its non-zero values
  (chosen in ``example_windows``).
- *density*: the fraction of tokens where the latent is non-zero (its firing frequency).
- *latent id*: an integer in ``[0, d_sae)`` (a Python or numpy integer). Floats are refused rather than
  truncated, and negative ids rather than counted from the end (``latent_ids``).
- *logit effects*: ``W_dec[i] @ W_U`` -- what the decoder direction pushes up or down at the output,
  ignoring the final layer norm and later layers (sae_vis' logits table; direct path only). A model
  without a next-token head (an encoder such as BERT) has none: ``unembedding`` returns None.
- *token strings*: what the widgets print for each row (``token_text.readable_tokens``).
"""

from __future__ import annotations

import operator
import re
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .example_windows import quantile_examples, top_examples
from .token_text import readable_tokens as readable_tokens  # re-exported: callers use features.*
from .token_text import token_spans as token_spans
from .token_text import token_strings as token_strings

MAX_TOKENS = 20_000  # default cap on harvested tokens for the widget: 20k x 32 latents stays a few MB
TOP_PER_TOKEN = 5  # latents listed per token in the hover tooltip (Neuronpedia shows up to 20)


# --------------------------------------------------------------------------------------------------------
# checking latent ids and hook sites


def latent_id(latent, d_sae: int) -> int:
    """``latent`` as an int in ``[0, d_sae)``; int, numpy and 0-d torch integers pass. A float (3.7 would
    silently become latent 3), a bool or a negative id (-1 would wrap to the last latent) raises."""
    if isinstance(latent, (bool, np.bool_)):
        raise TypeError(f"latent ids are integers, got the bool {latent!r}")
    try:
        i = operator.index(latent)
    except TypeError:
        raise TypeError(
            f"latent ids are integers in [0, {d_sae}), got {latent!r} ({type(latent).__name__}); "
            "a float is not rounded for you: pass int(...) if you mean it"
        ) from None
    if not 0 <= i < d_sae:
        neg = " (negative ids do not count from the end)" if i < 0 else ""
        raise ValueError(
            f"latent {i} is out of range: this SAE has {d_sae} latents, ids 0 to {d_sae - 1}{neg}"
        )
    return i


def latent_ids(latents: Iterable, d_sae: int) -> np.ndarray:
    """Latent ids [m] int64, each checked as ``latent_id`` does (a list, range, or integer array)."""
    if isinstance(latents, np.ndarray) and latents.dtype.kind in "iu":  # fast path: one range check
        ids = latents.reshape(-1).astype(np.int64)
        bad = ids[(ids < 0) | (ids >= d_sae)]
        if len(bad):
            latent_id(int(bad[0]), d_sae)
        return ids
    if isinstance(latents, (str, bytes)) or not isinstance(latents, Iterable):
        raise TypeError(
            f"latents must be a list of latent ids, got {latents!r}; for one latent write [{latents!r}]"
        )
    return np.fromiter((latent_id(i, d_sae) for i in latents), np.int64)


def _d_sae(sae) -> int:
    return int(sae.W_dec.shape[0])


def sae_hook(sae) -> str | None:
    """The hook site the SAE was trained on, as ``load_sae`` records it (``sae.hook_name``, or the
    ``hook_name`` in its cfg.json metadata), or None when it does not say."""
    return getattr(sae, "hook_name", None) or (getattr(sae, "metadata", None) or {}).get("hook_name") or None


def _site(hook: str) -> str:
    """One name per activation: blocks.{L}.hook_resid_pre carries the same tensor as blocks.{L-1}.hook_resid_post."""
    m = re.fullmatch(r"blocks\.(\d+)\.hook_resid_pre", hook)
    return f"blocks.{int(m[1]) - 1}.hook_resid_post" if m and int(m[1]) > 0 else hook


def check_sae_hook(sae, hook: str | None, where: str) -> None:
    """Warn when ``hook`` is not the site the SAE was trained on: its latents mean nothing at another one
    (a warning, not an error: another backend's name for the same site, e.g. a Hugging Face module path,
    is legitimate)."""
    own = sae_hook(sae)
    if own and hook and _site(own) != _site(hook):
        warnings.warn(
            f"{where}: this SAE was trained on activations at {own!r} (sae.hook_name) but is used at "
            f"{hook!r}: its latents mean nothing at another site. Pass hook={own!r}, or set "
            "sae.hook_name if the SAE's record is wrong.",
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------------------
# encoding in batches


def encode_batches(sae, acts, batch_size: int = 4096):
    """Yield ``(start, latents)`` over the rows of ``acts`` [n, d_in] (tensor or array), ``batch_size`` rows at a
    time: ``latents`` [b, d_sae] float32 torch tensor, ``sae.encode`` of rows ``start:start + b`` on the SAE's
    device, in eval mode (BatchTopK's global threshold) and without gradients. Memory stays at one batch,
    whatever ``n``; every column statistic here (and in ``concepts``) is a pass over these batches."""
    import torch

    p = next(sae.parameters())
    x_all = torch.as_tensor(np.asarray(acts) if not hasattr(acts, "detach") else acts)
    was_training = sae.training
    sae.eval()  # inference behaviour (BatchTopK: its global threshold)
    try:
        with torch.no_grad():
            for start in range(0, x_all.shape[0], batch_size):
                x = x_all[start : start + batch_size].to(p.device, p.dtype)  # [b, d_in]
                yield start, sae.encode(x).float()  # [b, d_sae]
    finally:
        sae.train(was_training)


def activation_rows(activations):
    """The raw activation rows [n, d_in] of an ActivationSet (its ``.acts``); a tensor or array is returned
    as it is. What the functions here accept as ``activations``."""
    return activations.acts if hasattr(activations, "acts") else activations


def encode(sae, activations, batch_size: int = 4096) -> np.ndarray:
    """Dense latent activations [n, d_sae] (float32). Only for small inputs: prefer the column functions."""
    d_sae = int(sae.W_dec.shape[0])
    x = activation_rows(activations)
    out = np.zeros((len(x), d_sae), np.float32)
    for start, a in encode_batches(sae, x, batch_size):
        out[start : start + len(a)] = a.cpu().numpy()
    return out


def latent_activations(sae, activations, latents: Sequence[int], batch_size: int = 4096) -> np.ndarray:
    """Activations of the chosen latents at every row: [n, len(latents)] float32."""
    idx = latent_ids(latents, _d_sae(sae))
    x = activation_rows(activations)
    out = np.zeros((len(x), len(idx)), np.float32)
    for start, a in encode_batches(sae, x, batch_size):
        out[start : start + len(a)] = a[:, idx].cpu().numpy()
    return out


def scan(sae, activations, top_per_token: int = TOP_PER_TOKEN, batch_size: int = 4096) -> dict:
    """One pass over the rows: per-latent max / non-zero count / sum, and per-token top latents.

    Returns ``max``, ``count``, ``sum`` ([d_sae] each), ``top_ids`` [n, top_per_token] int32 (-1 where
    fewer latents fire) and ``top_vals`` [n, top_per_token] float32, largest first.
    """
    import torch

    d_sae = int(sae.W_dec.shape[0])
    x = activation_rows(activations)
    n, k = len(x), min(top_per_token, d_sae)
    mx, cnt, tot = np.zeros(d_sae, np.float32), np.zeros(d_sae, np.int64), np.zeros(d_sae, np.float64)
    top_ids, top_vals = np.full((n, k), -1, np.int32), np.zeros((n, k), np.float32)
    for start, a in encode_batches(sae, x, batch_size):
        mx = np.maximum(mx, a.max(0).values.cpu().numpy())
        cnt += (a != 0).sum(0).cpu().numpy()
        tot += a.double().sum(0).cpu().numpy()
        vals, ids = torch.topk(a, k, dim=1)  # [b, k] each
        vals, ids = vals.cpu().numpy(), ids.cpu().numpy().astype(np.int32)
        ids[vals <= 0] = -1
        top_ids[start : start + len(a)] = ids
        top_vals[start : start + len(a)] = np.where(vals > 0, vals, 0)
    return {"max": mx, "count": cnt, "sum": tot, "top_ids": top_ids, "top_vals": top_vals, "n_tokens": n}


def top_latents(max_per_latent: np.ndarray, n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The latents with the largest max activation over the text: (ids [<=n] int, max values), largest first;
    latents that never fire are left out."""
    mx = np.asarray(max_per_latent, np.float32)
    order = np.argsort(-mx, kind="stable")[:n]
    order = order[mx[order] > 0]
    return order.astype(np.int64), mx[order]


# --------------------------------------------------------------------------------------------------------
# statistics of one latent's activation column


def latent_stats(col: np.ndarray) -> dict:
    """density (fraction non-zero), max, mean over all tokens, mean over non-zero ones, counts."""
    col = np.asarray(col, np.float32)
    nz = col[col != 0]
    n = len(col)
    return {
        "density": float(len(nz) / n) if n else 0.0,
        "max": float(col.max()) if n else 0.0,
        "mean": float(col.mean()) if n else 0.0,
        "mean_nonzero": float(nz.mean()) if len(nz) else 0.0,
        "n_nonzero": int(len(nz)),
        "n_tokens": int(n),
    }


def activation_histogram(col: np.ndarray, bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the non-zero activations: (edges [bins + 1] float32, counts [bins] int32).
    No non-zero value: edges all 0 and counts all 0 (nothing to draw)."""
    nz = np.asarray(col, np.float32)
    nz = nz[nz != 0]
    if len(nz) == 0:
        return np.zeros(bins + 1, np.float32), np.zeros(bins, np.int32)
    lo, hi = float(min(nz.min(), 0.0)), float(nz.max())
    counts, edges = np.histogram(nz, bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
    return edges.astype(np.float32), counts.astype(np.int32)


# --------------------------------------------------------------------------------------------------------
# logit effects


def unembedding(model):
    """The unembedding [d_model, vocab] as a torch tensor (TransformerLens ``W_U``, or a Hugging Face model's
    output embeddings / ``lm_head``), or None when the model has none that predicts the next token (an
    encoder: ``models.why_no_logits`` says why; a bridge's random masked-LM head is not shown)."""
    from .models import why_no_logits

    if why_no_logits(model) is not None:
        return None
    if hasattr(model, "W_U"):
        return model.W_U
    inner = getattr(model, "original_model", model)
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    head = head if head is not None else getattr(inner, "lm_head", None)
    return head.weight.T if head is not None else None


def model_tokenizer(model, tokenizer=None):
    """``tokenizer`` if given, else the model's own (``model.tokenizer``, as ``load_model``'s models carry);
    a plain Hugging Face module has none, and gets a ValueError naming ``tokenizer=``."""
    tok = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
    if tok is None:
        raise ValueError(
            f"This {type(model).__name__} has no tokenizer: pass tokenizer=... (its Hugging Face tokenizer, "
            "e.g. AutoTokenizer.from_pretrained(<the same folder>))"
        )
    return tok


def logit_effects(sae, W_U, latent: int, k: int = 10) -> dict:
    """W_dec[latent] @ W_U: the k most promoted and most suppressed output token ids with their values.
    Returns ``promoted_ids``, ``promoted`` (descending) and ``suppressed_ids``, ``suppressed`` (ascending)."""
    import torch

    latent = latent_id(latent, _d_sae(sae))
    with torch.no_grad():
        W_U = torch.as_tensor(W_U)
        w = sae.W_dec[latent].detach().to(W_U.device, W_U.dtype)  # [d_in]
        effect = (w @ W_U).float().cpu().numpy()  # [vocab]
    k = min(k, len(effect))
    up = np.argsort(-effect, kind="stable")[:k]
    down = np.argsort(effect, kind="stable")[:k]
    return {"promoted_ids": up, "promoted": effect[up], "suppressed_ids": down, "suppressed": effect[down]}


# --------------------------------------------------------------------------------------------------------
# tokens as strings


def top_tokens(sae, activations, latents: Sequence[int], tokenizer, k: int = 3) -> dict[int, list[str]]:
    """The ``k`` distinct tokens (``readable_tokens``, stripped) on which each latent fires hardest:
    ``{latent: [token, ...]}``, strongest first; a latent that never fires gets []. What a bare latent id
    is shown with (DiffBars). ``activations``: an ActivationSet or a CachedActivations (loaded)."""
    acts = (
        activations.load()
        if not hasattr(activations, "acts") and hasattr(activations, "load")
        else activations
    )
    latents = latent_ids(latents, _d_sae(sae))
    cols = latent_activations(sae, acts, latents)  # [n, len(latents)]
    strings = readable_tokens(tokenizer, acts)
    out: dict[int, list[str]] = {}
    for j, latent in enumerate(latents):
        picked: list[str] = []
        for row in np.argsort(-cols[:, j], kind="stable"):
            if cols[row, j] <= 0 or len(picked) == k:
                break
            t = strings[row].strip() or repr(strings[row])
            if t not in picked:
                picked.append(t)
        out[int(latent)] = picked
    return out


def token_activations(
    sae,
    model,
    texts,
    hook: str,
    latents: Sequence[int],
    max_tokens: int | None = MAX_TOKENS,
    batch_size: int = 4096,
    tokenizer=None,
) -> dict:
    """Per-token activations of ``latents`` over ``texts`` (BOS excluded): ``tokens`` (strings, see
    ``readable_tokens``), ``doc_ids``, ``positions`` and ``acts`` [n, len(latents)]. ``tokenizer``: for a
    plain Hugging Face model (a ``load_model`` model carries its own)."""
    tok = model_tokenizer(model, tokenizer)
    acts = as_activation_set(model, texts, hook, max_tokens, tokenizer=tok)
    return {
        "tokens": readable_tokens(tok, acts),
        "doc_ids": acts.doc_ids.numpy(),
        "positions": acts.positions.numpy(),
        "acts": latent_activations(sae, acts, latents, batch_size),
    }


def as_activation_set(model, texts, hook: str, max_tokens: int | None, tokenizer=None):
    """``texts`` as an ActivationSet: an ActivationSet as it is, a ``CachedActivations`` loaded into memory,
    strings or a corpus harvested from ``model`` at ``hook`` (at most ``max_tokens`` rows, None: all; fewer
    is fine here, so harvest's warning about it is silenced; ``tokenizer`` for a plain Hugging Face model)."""
    if hasattr(texts, "acts") and hasattr(texts, "doc_ids"):
        return texts
    if hasattr(texts, "load"):  # an on-disk cache
        return texts.load()
    from .activations import harvest

    with warnings.catch_warnings():  # max_tokens is a cap, not a request: fewer tokens is fine
        warnings.filterwarnings("ignore", message="The texts hold only")
        return harvest(model, texts, hook, n_tokens=max_tokens, tokenizer=tokenizer)


def prompt_features(
    sae,
    model,
    hook: str,
    text: str,
    k: int = TOP_PER_TOKEN,
    latents: Sequence[int] | None = None,
    tokenizer=None,
) -> dict:
    """Prompt-centric view: run ``text`` through the model and the SAE.

    Returns ``tokens`` (strings, BOS excluded), ``top_ids`` [m, k] int32 (-1 where fewer fire),
    ``top_vals`` [m, k], ``top_latents`` (ids ranked by max activation over the text), ``top_max``
    and, if ``latents`` is given, ``acts`` [len(latents), m] for those latents. ``tokenizer``: for a plain
    Hugging Face model (a ``load_model`` model carries its own).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The prompt is empty: type some text.")
    if latents is not None:
        latents = latent_ids(latents, _d_sae(sae))
    from .activations import harvest

    tok = model_tokenizer(model, tokenizer)
    acts = harvest(model, [text], hook, tokenizer=tok)
    dense = encode(sae, acts)  # [m, d_sae]: one prompt is short
    s = scan(sae, acts, top_per_token=k)
    ids, mx = top_latents(s["max"], 32)
    out = {
        "tokens": readable_tokens(tok, acts),
        "top_ids": s["top_ids"],
        "top_vals": s["top_vals"],
        "top_latents": ids,
        "top_max": mx,
    }
    if latents is not None:
        out["acts"] = dense[:, latents].T.copy()
    return out


# --------------------------------------------------------------------------------------------------------
# everything the widget shows, for a set of candidate latents


def latent_panels(
    sae,
    activations,
    latents: Sequence[int],
    *,
    W_U=None,
    k_top: int = 10,
    n_bands: int = 4,
    per_band: int = 3,
    window: tuple[int, int] = (8, 4),
    bins: int = 30,
    k_logits: int = 10,
    seed: int = 0,
) -> dict:
    """Per candidate latent (axis 0 of every array): activations (sparse), examples, histogram, stats,
    logit effects. ``activations`` needs ``.acts`` and ``.doc_ids`` (an ActivationSet).

    Returns ``latents`` [c], ``act_offsets`` [c + 1] / ``act_rows`` / ``act_values`` (the non-zero
    activations of candidate j are rows ``act_rows[o[j]:o[j+1]]``), ``examples`` [c, k_top + n_bands *
    per_band, 3] (top-k first, then bands weakest first; -1 rows pad), ``band_edges`` [c, n_bands + 1],
    ``hist_edges`` [c, bins + 1], ``hist_counts`` [c, bins], ``stats`` [c, 5] (density, max, mean,
    mean_nonzero, n_nonzero) and, with ``W_U``, ``logit_ids`` [c, 2, k] / ``logit_vals`` [c, 2, k]
    (row 0 promoted, row 1 suppressed).
    """
    latents = latent_ids(latents, _d_sae(sae))
    c = len(latents)
    doc_ids = np.asarray(activations.doc_ids)
    cols = latent_activations(sae, activations, latents)  # [n, c]
    n_ex = k_top + n_bands * per_band
    out = {
        "latents": latents.astype(np.int32),
        "examples": np.full((c, n_ex, 3), -1, np.int32),
        "band_edges": np.zeros((c, n_bands + 1), np.float32),
        "hist_edges": np.zeros((c, bins + 1), np.float32),
        "hist_counts": np.zeros((c, bins), np.int32),
        "stats": np.zeros((c, 5), np.float32),
    }
    offsets, rows, values = [0], [], []
    for j in range(c):
        col = cols[:, j]
        nz = np.flatnonzero(col)
        rows.append(nz)
        values.append(col[nz])
        offsets.append(offsets[-1] + len(nz))
        top = top_examples(col, doc_ids, k_top, window)
        out["examples"][j, : len(top)] = top
        bands, edges = quantile_examples(col, doc_ids, n_bands, per_band, window, seed)
        out["examples"][j, k_top:] = bands.reshape(-1, 3)
        out["band_edges"][j] = edges
        out["hist_edges"][j], out["hist_counts"][j] = activation_histogram(col, bins)
        st = latent_stats(col)
        out["stats"][j] = [st["density"], st["max"], st["mean"], st["mean_nonzero"], st["n_nonzero"]]
    out["act_offsets"] = np.asarray(offsets, np.int32)
    out["act_rows"] = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    out["act_values"] = np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32)
    if W_U is not None:
        k_logits = min(k_logits, int(W_U.shape[1]))
        out["logit_ids"] = np.zeros((c, 2, k_logits), np.int64)
        out["logit_vals"] = np.zeros((c, 2, k_logits), np.float32)
        for j, latent in enumerate(latents):
            le = logit_effects(sae, W_U, int(latent), k_logits)
            kk = len(le["promoted"])
            out["logit_ids"][j, 0, :kk], out["logit_vals"][j, 0, :kk] = le["promoted_ids"], le["promoted"]
            out["logit_ids"][j, 1, :kk], out["logit_vals"][j, 1, :kk] = le["suppressed_ids"], le["suppressed"]
    return out


def candidate_latents(max_per_latent: np.ndarray, latent: int | None, n_latents: int) -> list[int]:
    """The top ``n_latents`` latents in the text, plus ``latent`` if given (first in the list)."""
    ids, _ = top_latents(max_per_latent, n_latents)
    ids = [int(i) for i in ids]
    if latent is not None:
        latent = latent_id(latent, len(max_per_latent))
        ids = [latent] + [i for i in ids if i != latent]
    return ids or [0]


def decode_table(tokens: Sequence[str], extra: Callable[[int], str] | None = None, extra_ids=()) -> tuple:
    """Compact token strings for the browser: (vocab list[str], index [n] int32 into vocab,
    extra_index [len(extra_ids)] int32 for ids decoded with ``extra``)."""
    vocab: dict[str, int] = {}
    index = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), np.int32, len(tokens))
    extra_index = (
        np.fromiter(
            (vocab.setdefault(extra(int(i)), len(vocab)) for i in np.asarray(extra_ids).reshape(-1)), np.int32
        )
        if extra is not None
        else np.zeros(0, np.int32)
    )
    return list(vocab), index, extra_index
