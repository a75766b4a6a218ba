"""How good is an SAE? Reconstruction, sparsity and downstream loss, in one pass over activations.

``evaluate(sae, acts)`` streams activations through the SAE once and returns plain floats and lists
(JSON-ready) under SAELens' names (``sae_lens/evals.py``, references/sae_anchors.md §1.7); with
``model``, ``texts`` and ``hook`` it also splices the SAE into the model and measures the loss.
Two historical SAELens bugs are designed out: explained variance is relative to the dataset
*mean*, not zero (v6.45.1, #665), and MSE is a mean over tokens that does not depend on how many
tokens are evaluated (v6.45.2, #711). Every sum is accumulated in float64.

Elsewhere: ground truth on synthetic data (``toy_superposition``, ``mmcs``, ``hungarian_mcc``) in
``toy.py``; Pareto fronts and comparisons at matched L0 in ``frontier.py``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

DENSITY_EPS = 1e-10  # log10(density + eps): a dead latent sits at -10 (SAELens' feature-density plots)
HIST_EDGES = np.linspace(-10.0, 0.0, 41)  # 0.25-decade bins; fixed so that histograms of two SAEs line up


def evaluate(
    sae,
    activations=None,
    *,
    model=None,
    texts=None,
    hook: str | None = None,
    n_tokens: int | None = None,
    batch_size: int = 4096,
    ce_batch_size: int = 8,
    dense_threshold: float = 0.1,
    dead_threshold: float = 0.0,
    tokenizer=None,
) -> dict:
    """Metrics of ``sae`` as a dict of plain floats / lists.

    ``activations``: an ``ActivationSet`` / ``CachedActivations`` (anything with ``.batches``) or a
    ``[n, d_in]`` tensor/array of *raw* activations (the SAE folds in any input normalisation);
    ``n_tokens`` keeps the first rows only. Without it, ``model``, ``texts`` and ``hook`` are
    harvested. Given ``model`` (with ``texts``/``hook``, which default to the activations' own),
    the CE/KL metrics are added. ``model`` is one from ``load_model`` (TransformerLens hook names) or a
    plain Hugging Face module (a module path as ``hook``, ``tokenizer`` given). A model without
    next-token logits (an encoder such as BERT, see ``models.why_no_logits``) gets the reconstruction
    metrics only, with the reason under ``"note"`` and one warning: CE on a random head means nothing.
    Definitions (N tokens, x̄ the dataset mean, sums over d_in):

    l0 = mean #nonzero latents;  l1 = mean Σ|f|;  mse = Σ_t ||x - x̂||² / N;
    fvu = Σ_t ||x - x̂||² / Σ_t ||x - x̄||²;  explained_variance = 1 - fvu;  cossim = mean cos(x, x̂);
    l2_ratio = mean_t ||x̂|| / ||x|| (mean of per-token ratios, ||x|| < 1e-4 divides by 1: SAELens);
    relative_reconstruction_bias = E||x̂||² / E<x, x̂> (Gated SAE paper eq. 10; 1 = no shrinkage);
    density_i = fraction of tokens where latent i != 0; dead: density <= dead_threshold (default:
    never fired); dense: density > dense_threshold; log10_density_hist over log10(density + 1e-10).
    """
    d_sae, d_in = _sae_dims(sae)
    if activations is None:
        if model is None or texts is None or hook is None:
            raise ValueError("evaluate needs activations, or model + texts + hook to harvest them from")
        from .activations import harvest

        activations = harvest(model, texts, hook, n_tokens, tokenizer=tokenizer)
    note = _no_logits_note(model)
    if note is not None:
        warnings.warn(f"evaluate: {note}", stacklevel=2)
        model = None  # reconstruction metrics only
    if model is not None:
        texts = texts if texts is not None else getattr(activations, "texts", None)
        hook = hook if hook is not None else getattr(activations, "hook", None)
        if texts is None or hook is None:
            raise ValueError("CE metrics need texts and hook as well as model (the activations carry none)")
    if n_tokens is not None and (not isinstance(n_tokens, int) or n_tokens <= 0):
        raise ValueError(f"n_tokens must be a positive integer or None, got {n_tokens!r}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    batches, n_rows, act_d_in = _as_batches(activations, batch_size)
    if act_d_in != d_in:
        raise ValueError(
            f"The SAE reads d_in={d_in} but the activations have d_in={act_d_in}; "
            "were they harvested at another hook or from another model?"
        )
    if n_rows == 0:
        raise ValueError("The activations are empty (0 rows): nothing to evaluate")

    was_training = sae.training
    sae.eval()  # inference behaviour (BatchTopK: its global threshold, not the batch rule)
    try:
        out = _reconstruction(sae, batches, n_tokens, d_sae, dense_threshold, dead_threshold)
        if model is not None:
            out.update(_downstream(sae, model, texts, hook, ce_batch_size, tokenizer))
    finally:
        sae.train(was_training)
    if note is not None:
        out["note"] = note
    return out


def _no_logits_note(model) -> str | None:
    """The note for a model whose outputs are not next-token logits (None for a causal LM or no model)."""
    if model is None:
        return None
    from .models import why_no_logits

    reason = why_no_logits(model)
    if reason is None:
        return None
    return (
        f"reconstruction-only metrics: {reason}. CE/KL with the SAE spliced in need a causal language "
        "model; for an encoder, judge the SAE by fvu / explained_variance, cossim and l0"
    )


def _sae_dims(sae) -> tuple[int, int]:
    d_sae, d_in = sae.W_dec.shape  # [d_sae, d_in]: works for any SAE-like module, learners' included
    return int(d_sae), int(d_in)


def _as_batches(activations, batch_size: int):
    """-> (iterator of [batch, d_in] raw activations, number of rows, d_in)."""
    if hasattr(activations, "batches"):
        d_in = activations.d_in if hasattr(activations, "d_in") else activations.acts.shape[1]
        return activations.batches(batch_size, shuffle=False), len(activations), int(d_in)
    x = torch.as_tensor(activations)
    if x.ndim != 2:
        raise ValueError(f"activations must be 2-D [n_tokens, d_in], got shape {tuple(x.shape)}")
    return iter(x.split(batch_size)), x.shape[0], x.shape[1]


@torch.no_grad()
def _reconstruction(sae, batches, n_tokens, d_sae, dense_threshold, dead_threshold) -> dict:
    p = next(sae.parameters())
    keys = ("sq_err", "cos", "ratio", "norm_in", "norm_out", "xhat_sq", "x_dot_xhat", "l0", "l1")
    s = dict.fromkeys(keys, 0.0)  # running sums over tokens
    n, seen, n_bad, mean, m2 = 0, 0, 0, None, 0.0  # m2 = Σ||x - x̄||², merged per batch (Chan et al. 1979)
    fired = torch.zeros(d_sae, dtype=torch.float64, device=p.device)  # [d_sae] tokens where latent != 0
    for x in batches:  # [batch, d_in]
        if n_tokens is not None:
            x = x[: n_tokens - seen]
        if len(x) == 0:
            break
        seen += len(x)
        finite = torch.isfinite(x)  # [batch, d_in]
        if n_bad or not bool(finite.all()):  # from the first bad value on, only count (for the message)
            n_bad += int((~finite).sum())
            continue
        out = sae(x.to(p.device, p.dtype))
        x, xh = x.to(p.device, torch.float64), out.recon.to(torch.float64)  # [batch, d_in] each
        b = len(x)
        norm_in, norm_out = x.norm(dim=-1), xh.norm(dim=-1)  # [batch]
        s["sq_err"] += float((x - xh).pow(2).sum())
        s["cos"] += float(F.cosine_similarity(x, xh, dim=-1).sum())  # 0 for a zero reconstruction
        s["ratio"] += float((norm_out / torch.where(norm_in < 1e-4, 1.0, norm_in)).sum())
        s["norm_in"] += float(norm_in.sum())
        s["norm_out"] += float(norm_out.sum())
        s["xhat_sq"] += float(norm_out.pow(2).sum())
        s["x_dot_xhat"] += float((x * xh).sum())
        active = out.acts != 0  # [batch, d_sae]
        s["l0"] += float(active.sum())
        s["l1"] += float(out.acts.abs().to(torch.float64).sum())
        fired += active.sum(0).to(torch.float64)
        b_mean = x.mean(0)  # [d_in]
        b_m2 = float((x - b_mean).pow(2).sum())
        if mean is None:
            mean, m2 = b_mean, b_m2
        else:  # merge two (mean, M2) summaries exactly: no E[x²] - E[x]² cancellation
            delta = b_mean - mean
            mean = mean + delta * (b / (n + b))
            m2 += b_m2 + float(delta.pow(2).sum()) * n * b / (n + b)
        n += b
    if n_bad:
        raise ValueError(f"The activations contain {n_bad} NaN/inf values; clean or re-harvest them")
    if n == 0:
        raise ValueError("The activations are empty (0 rows): nothing to evaluate")

    fvu = s["sq_err"] / m2 if m2 > 0 else math.nan  # constant data has no variance to explain
    density = (fired / n).cpu().numpy()  # [d_sae]
    log_density = np.log10(density + DENSITY_EPS)  # [d_sae]
    counts, _ = np.histogram(np.clip(log_density, HIST_EDGES[0], HIST_EDGES[-1]), bins=HIST_EDGES)
    xdx = s["x_dot_xhat"] / n
    return {
        "n_tokens": n,
        "d_sae": d_sae,
        "l0": s["l0"] / n,
        "l1": s["l1"] / n,
        "mse": s["sq_err"] / n,
        "fvu": fvu,
        "explained_variance": 1.0 - fvu,
        "cossim": s["cos"] / n,
        "l2_norm_in": s["norm_in"] / n,
        "l2_norm_out": s["norm_out"] / n,
        "l2_ratio": s["ratio"] / n,
        "relative_reconstruction_bias": (s["xhat_sq"] / n) / xdx if xdx != 0 else math.nan,
        "dead_fraction": float((density <= dead_threshold).mean()),
        "dense_fraction": float((density > dense_threshold).mean()),
        "n_dead": int((density <= dead_threshold).sum()),
        "n_dense": int((density > dense_threshold).sum()),
        "mean_log10_density": float(log_density.mean()),
        "density": density.tolist(),
        "log10_density_hist": {"edges": HIST_EDGES.tolist(), "counts": counts.tolist()},
    }


@torch.no_grad()
def _downstream(sae, model, texts, hook: str, batch_size: int, tokenizer=None) -> dict:
    """CE and KL with the SAE spliced in at ``hook``, and with the hook zero-ablated.

    Each text runs as BOS + document, right-padded (causal: padding never reaches a real position).
    The BOS position is left untouched by both splices (Gemma Scope; SAELens' mask in get_recons_loss):
    BOS is an attention sink with a huge norm, and no SAE was trained on it. Counted predictions are
    those made *from* a document token *of* a document token (SAELens drops predictions from BOS via
    ignore_tokens); the prediction from BOS is unchanged by the splice anyway, so it would only dilute.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings (or a corpus), not one string: wrap it in [...]")
    texts = [t.text if hasattr(t, "text") else t for t in texts]
    if not texts:
        raise ValueError("texts is empty: give at least one document for the CE metrics")
    lm = _LogitsModel(model, hook, tokenizer)
    tok, p, device = lm.tokenizer, next(sae.parameters()), lm.device
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    first = len(bos)  # positions < first keep their activation
    docs = [(bos + ids)[: lm.n_ctx] for ids in tok(texts, add_special_tokens=False)["input_ids"]]

    def splice(x, hook):  # x [batch, pos, d_in]
        body = x[:, first:]
        recon = sae(body.reshape(-1, body.shape[-1]).to(p.device, p.dtype)).recon  # [batch * pos', d_in]
        return torch.cat([x[:, :first], recon.reshape(body.shape).to(x.device, x.dtype)], dim=1)

    def zero(x, hook):
        return torch.cat([x[:, :first], torch.zeros_like(x[:, first:])], dim=1)

    sums = dict.fromkeys(("clean", "sae", "zero", "kl", "kl_zero"), 0.0)
    count = 0
    for start in range(0, len(docs), batch_size):
        batch = docs[start : start + batch_size]
        width = max(map(len, batch))
        tokens = torch.full((len(batch), width), pad, dtype=torch.long)  # [b, width]
        for i, ids in enumerate(batch):
            tokens[i, : len(ids)] = torch.tensor(ids)
        lengths = torch.tensor([len(ids) for ids in batch])  # [b]
        pos = torch.arange(width - 1)  # [width - 1] position i predicts token i + 1
        keep = (pos >= first) & (pos + 1 < lengths[:, None])  # [b, width - 1]
        tokens, keep = tokens.to(device), keep.to(device)
        target = tokens[:, 1:, None]  # [b, width - 1, 1]

        def log_probs(logits):  # [b, width, vocab] -> [b, width - 1, vocab]
            return logits[:, :-1].to(torch.float64).log_softmax(-1)

        lp_clean = log_probs(lm.logits(tokens))
        sums["clean"] -= float(lp_clean.gather(-1, target).squeeze(-1)[keep].sum())
        for name, fn, kl_name in (("sae", splice, "kl"), ("zero", zero, "kl_zero")):
            lp = log_probs(lm.logits(tokens, fn))
            sums[name] -= float(lp.gather(-1, target).squeeze(-1)[keep].sum())
            kl = (lp_clean.exp() * (lp_clean - lp)).sum(-1)  # [b, width - 1] KL(clean || patched)
            sums[kl_name] += float(kl[keep].sum())
        count += int(keep.sum())
    if count == 0:
        raise ValueError("The texts hold no next-token predictions to score (each needs >= 2 tokens)")
    ce_clean, ce_sae, ce_zero = (sums[k] / count for k in ("clean", "sae", "zero"))
    kl, kl_zero = sums["kl"] / count, sums["kl_zero"] / count
    return {
        "n_ce_tokens": count,
        "ce_clean": ce_clean,
        "ce_sae": ce_sae,
        "ce_zero_ablation": ce_zero,
        "delta_ce": ce_sae - ce_clean,  # nats per token ("delta LM loss", Gemma Scope)
        # Share of the zero-ablation damage the SAE avoids (SAELens ce_loss_score, "loss recovered").
        "ce_loss_score": (ce_zero - ce_sae) / (ce_zero - ce_clean) if ce_zero != ce_clean else math.nan,
        "kl": kl,
        "kl_zero_ablation": kl_zero,
        "kl_score": (kl_zero - kl) / kl_zero if kl_zero > 0 else math.nan,  # SAELens kl_div_score
    }


class _LogitsModel:
    """Logits of a causal LM, optionally with one hook's output replaced: a TransformerLens model (TL hook
    names) and a plain Hugging Face module (module paths, ``tokenizer`` given) alike."""

    def __init__(self, model, hook: str, tokenizer=None):
        from .models import check_hook, hook_names, module_names

        self.model, self.hook = model, hook
        self.is_tl = hasattr(model, "run_with_hooks") and hasattr(model, "cfg")
        self.tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if self.tokenizer is None:
            raise ValueError(
                f"This {type(model).__name__} has no tokenizer: pass tokenizer=... (its Hugging Face "
                "tokenizer) to evaluate"
            )
        if self.is_tl:
            check_hook(hook, hook_names(model))
            self.device, self.n_ctx = model.cfg.device, int(model.cfg.n_ctx)
        else:
            check_hook(hook, module_names(model))
            self.module = dict(model.named_modules())[hook]
            cfg = getattr(model, "config", None)
            self.device = next(model.parameters()).device
            self.n_ctx = int(
                getattr(cfg, "n_positions", 0) or getattr(cfg, "max_position_embeddings", 0) or 1024
            )

    def logits(self, tokens: torch.Tensor, fn=None) -> torch.Tensor:
        """[b, pos] token ids -> [b, pos, vocab] logits; ``fn(x, hook)`` replaces the hook's output."""
        if self.is_tl:
            if fn is None:
                return self.model(tokens)
            return self.model.run_with_hooks(tokens, fwd_hooks=[(self.hook, fn)])

        def replace(module, inputs, out):  # a HF block returns a tuple whose first item is the hidden state
            if isinstance(out, tuple):
                return (fn(out[0], self.hook), *out[1:])
            return fn(out, self.hook)

        handle = self.module.register_forward_hook(replace) if fn is not None else None
        try:
            out = self.model(tokens)
        finally:
            if handle is not None:
                handle.remove()
        return out.logits if hasattr(out, "logits") else out[0] if isinstance(out, tuple) else out
