"""How good is an SAE? Reconstruction, sparsity, downstream loss, and ground truth on toy data.

``evaluate(sae, acts)`` streams activations through the SAE once and returns plain floats and lists
(JSON-ready) under SAELens' names (``sae_lens/evals.py``, references/sae_anchors.md §1.7); with
``model``, ``texts`` and ``hook`` it also splices the SAE into the model and measures the loss.
Two historical SAELens bugs are designed out: explained variance is relative to the dataset
*mean*, not zero (v6.45.1, #665), and MSE is a mean over tokens that does not depend on how many
tokens are evaluated (v6.45.2, #711). Every sum is accumulated in float64.

Ground truth for synthetic data with known features: ``toy_superposition``, ``mmcs`` and
``hungarian_mcc``. Frontier helpers: ``pareto_front`` and ``interpolate_at``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

DENSITY_EPS = 1e-10  # log10(density + eps): a dead latent sits at -10 (SAELens' feature-density plots)
HIST_EDGES = np.linspace(-10.0, 0.0, 41)  # 0.25-decade bins; fixed so that histograms of two SAEs line up


def evaluate(sae, activations=None, *, model=None, texts=None, hook: str | None = None,
             n_tokens: int | None = None, batch_size: int = 4096, ce_batch_size: int = 8,
             dense_threshold: float = 0.1, dead_threshold: float = 0.0) -> dict:
    """Metrics of ``sae`` as a dict of plain floats / lists.

    ``activations``: an ``ActivationSet`` / ``CachedActivations`` (anything with ``.batches``) or a
    ``[n, d_in]`` tensor/array of *raw* activations (the SAE folds in any input normalisation);
    ``n_tokens`` keeps the first rows only. Without it, ``model``, ``texts`` and ``hook`` are
    harvested. Given ``model`` (with ``texts``/``hook``, which default to the activations' own),
    the CE/KL metrics are added. Definitions (N tokens, x̄ the dataset mean, sums over d_in):

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

        activations = harvest(model, texts, hook, n_tokens)
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
        raise ValueError(f"The SAE reads d_in={d_in} but the activations have d_in={act_d_in}; "
                         "were they harvested at another hook or from another model?")
    if n_rows == 0:
        raise ValueError("The activations are empty (0 rows): nothing to evaluate")

    was_training = sae.training
    sae.eval()  # inference behaviour (BatchTopK: its global threshold, not the batch rule)
    try:
        out = _reconstruction(sae, batches, n_tokens, d_sae, dense_threshold, dead_threshold)
        if model is not None:
            out.update(_downstream(sae, model, texts, hook, ce_batch_size))
    finally:
        sae.train(was_training)
    return out


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
        "n_tokens": n, "d_sae": d_sae,
        "l0": s["l0"] / n, "l1": s["l1"] / n,
        "mse": s["sq_err"] / n, "fvu": fvu, "explained_variance": 1.0 - fvu, "cossim": s["cos"] / n,
        "l2_norm_in": s["norm_in"] / n, "l2_norm_out": s["norm_out"] / n, "l2_ratio": s["ratio"] / n,
        "relative_reconstruction_bias": (s["xhat_sq"] / n) / xdx if xdx != 0 else math.nan,
        "dead_fraction": float((density <= dead_threshold).mean()),
        "dense_fraction": float((density > dense_threshold).mean()),
        "n_dead": int((density <= dead_threshold).sum()), "n_dense": int((density > dense_threshold).sum()),
        "mean_log10_density": float(log_density.mean()),
        "density": density.tolist(),
        "log10_density_hist": {"edges": HIST_EDGES.tolist(), "counts": counts.tolist()},
    }


@torch.no_grad()
def _downstream(sae, model, texts, hook: str, batch_size: int) -> dict:
    """CE and KL with the SAE spliced in at ``hook``, and with the hook zero-ablated.

    Each text runs as BOS + document, right-padded (causal: padding never reaches a real position).
    The BOS position is left untouched by both splices (Gemma Scope; SAELens' mask in get_recons_loss):
    BOS is an attention sink with a huge norm, and no SAE was trained on it. Counted predictions are
    those made *from* a document token *of* a document token (SAELens drops predictions from BOS via
    ignore_tokens); the prediction from BOS is unchanged by the splice anyway, so it would only dilute.
    """
    from .models import check_hook, hook_names

    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings (or a corpus), not one string: wrap it in [...]")
    texts = [t.text if hasattr(t, "text") else t for t in texts]
    if not texts:
        raise ValueError("texts is empty: give at least one document for the CE metrics")
    check_hook(hook, hook_names(model))
    tok, p, device = model.tokenizer, next(sae.parameters()), model.cfg.device
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    first = len(bos)  # positions < first keep their activation
    docs = [(bos + ids)[: int(model.cfg.n_ctx)] for ids in tok(texts, add_special_tokens=False)["input_ids"]]

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

        lp_clean = log_probs(model(tokens))
        sums["clean"] -= float(lp_clean.gather(-1, target).squeeze(-1)[keep].sum())
        for name, fn, kl_name in (("sae", splice, "kl"), ("zero", zero, "kl_zero")):
            lp = log_probs(model.run_with_hooks(tokens, fwd_hooks=[(hook, fn)]))
            sums[name] -= float(lp.gather(-1, target).squeeze(-1)[keep].sum())
            kl = (lp_clean.exp() * (lp_clean - lp)).sum(-1)  # [b, width - 1] KL(clean || patched)
            sums[kl_name] += float(kl[keep].sum())
        count += int(keep.sum())
    if count == 0:
        raise ValueError("The texts hold no next-token predictions to score (each needs >= 2 tokens)")
    ce_clean, ce_sae, ce_zero = (sums[k] / count for k in ("clean", "sae", "zero"))
    kl, kl_zero = sums["kl"] / count, sums["kl_zero"] / count
    return {
        "n_ce_tokens": count, "ce_clean": ce_clean, "ce_sae": ce_sae, "ce_zero_ablation": ce_zero,
        "delta_ce": ce_sae - ce_clean,  # nats per token ("delta LM loss", Gemma Scope)
        # Share of the zero-ablation damage the SAE avoids (SAELens ce_loss_score, "loss recovered").
        "ce_loss_score": (ce_zero - ce_sae) / (ce_zero - ce_clean) if ce_zero != ce_clean else math.nan,
        "kl": kl, "kl_zero_ablation": kl_zero,
        "kl_score": (kl_zero - kl) / kl_zero if kl_zero > 0 else math.nan,  # SAELens kl_div_score
    }


# ---------------------------------------------------------------- ground truth on synthetic data


class ToyData(NamedTuple):
    """What ``toy_superposition`` returns."""

    x: torch.Tensor
    """[n_samples, d] observed activations x = true_acts @ true_dirs."""
    true_acts: torch.Tensor
    """[n_samples, n_features] sparse non-negative feature activations."""
    true_dirs: torch.Tensor
    """[n_features, d] unit-norm feature directions."""


def toy_superposition(n_samples: int, n_features: int, d: int, p_active: float = 0.05,
                      seed: int = 0) -> ToyData:
    """Toy data with known features (Elhage et al. 2022, "Toy Models of Superposition"): each feature
    is active independently with probability ``p_active`` (their 1 - S) with a magnitude ~ U(0, 1),
    and writes along a random unit direction; with d < n_features the directions cannot be
    orthogonal, so the features are stored in superposition. float32, reproducible from ``seed``."""
    for name, v in (("n_samples", n_samples), ("n_features", n_features), ("d", d)):
        if not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not 0 < p_active <= 1:
        raise ValueError(f"p_active must be in (0, 1], got {p_active!r}")
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(n_features, d, generator=g)  # [n_features, d]
    dirs /= dirs.norm(dim=1, keepdim=True)
    on = torch.rand(n_samples, n_features, generator=g) < p_active  # [n_samples, n_features]
    acts = torch.rand(n_samples, n_features, generator=g) * on  # [n_samples, n_features]
    return ToyData(acts @ dirs, acts, dirs)


def _np2d(a, name: str) -> np.ndarray:
    a = a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
    return a


def mmcs(learned_dirs, true_dirs) -> float:
    """Mean max cosine similarity (Sharkey et al. 2022, "Taking features out of superposition"): for
    each true direction, the best cosine with any learned one, averaged over the true directions.
    learned_dirs [n_learned, d] (e.g. ``sae.W_dec``), true_dirs [n_true, d]. 1 = every feature found."""
    learned, true = _np2d(learned_dirs, "learned_dirs"), _np2d(true_dirs, "true_dirs")
    if learned.shape[1] != true.shape[1]:
        raise ValueError(f"learned_dirs have d={learned.shape[1]} but true_dirs have d={true.shape[1]}")
    learned = learned / np.maximum(np.linalg.norm(learned, axis=1, keepdims=True), 1e-12)
    true = true / np.maximum(np.linalg.norm(true, axis=1, keepdims=True), 1e-12)
    return float((true @ learned.T).max(axis=1).mean())  # [n_true, n_learned] -> max over learned


def hungarian_mcc(learned_acts, true_acts) -> float:
    """Mean correlation coefficient under the best one-to-one matching (the MCC of identifiability
    work; SynthSAEBench §6.3): Pearson correlation over samples of every learned latent with every
    true feature, matched by ``linear_sum_assignment`` to maximise the total (signed: an
    anti-correlated latent does not represent a non-negative feature). Averaged over the *true*
    features, so with fewer latents than features the unmatched ones count 0. Constant columns
    correlate 0. learned_acts [n, n_learned], true_acts [n, n_true]."""
    learned, true = _np2d(learned_acts, "learned_acts"), _np2d(true_acts, "true_acts")
    if learned.shape[0] != true.shape[0]:
        raise ValueError(f"learned_acts has {learned.shape[0]} samples but true_acts has {true.shape[0]}")

    def standardise(a):  # [n, k] -> zero mean, unit norm columns (zero columns stay zero)
        a = a - a.mean(0)
        return a / np.where((norm := np.linalg.norm(a, axis=0)) > 1e-12, norm, np.inf)

    corr = standardise(learned).T @ standardise(true)  # [n_learned, n_true]
    rows, cols = linear_sum_assignment(corr, maximize=True)
    return float(corr[rows, cols].sum() / true.shape[1])


# ---------------------------------------------------------------- sparsity-fidelity frontiers


def _value(point, key: str) -> float:
    return float(point[key] if isinstance(point, Mapping) else getattr(point, key))


def pareto_front(points, x_key: str = "l0", y_key: str = "fvu") -> list[int]:
    """Indices of the non-dominated points (lower is better on both axes), sorted by x.

    A point is dominated when another is <= on both and < on one; points with a NaN/inf
    coordinate are left out. ``points``: dicts (e.g. ``evaluate`` results) or objects with the keys
    as attributes. For a higher-is-better metric, pass its negation or use fvu / delta_ce."""
    xy = [(i, _value(p, x_key), _value(p, y_key)) for i, p in enumerate(points)]
    xy = [(i, x, y) for i, x, y in xy if math.isfinite(x) and math.isfinite(y)]
    front = [(x, y, i) for i, x, y in xy
             if not any(x2 <= x and y2 <= y and (x2 < x or y2 < y) for _, x2, y2 in xy)]
    return [i for _, _, i in sorted(front)]


def interpolate_at(points, x_key: str, y_key: str, x: float) -> float:
    """y at ``x`` by linear interpolation in log x between the points' (x, y), for comparisons at
    matched L0 (SAEBench plots L0 on a log axis). Points sharing an x are averaged. NaN outside the
    range of the points: an extrapolated frontier is a guess. Pass ``pareto_front`` points for a frontier."""
    if not x > 0:
        raise ValueError(f"x must be > 0 (interpolation is in log x), got {x!r}")
    xy = [(_value(p, x_key), _value(p, y_key)) for p in points]
    xy = [(a, b) for a, b in xy if math.isfinite(a) and math.isfinite(b)]
    if not xy:
        raise ValueError("interpolate_at needs at least one point with finite values")
    if any(a <= 0 for a, _ in xy):
        raise ValueError(f"every {x_key} must be > 0 for interpolation in log x")
    xs = np.array(sorted({a for a, _ in xy}))
    ys = np.array([np.mean([b for a, b in xy if a == v]) for v in xs])
    if x < xs[0] or x > xs[-1]:
        return math.nan
    return float(np.interp(np.log(x), np.log(xs), ys))
