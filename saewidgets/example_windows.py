"""Which rows to show as examples of a latent: windows of rows inside one document.

An *example* is a window of rows ``[start, stop)`` of a token table (an ``ActivationSet``'s rows, whose rows of
one document are contiguous and in order) around a ``center`` row, clipped to the center's document: what
sae_vis and the OpenAI viewer show as a latent's context. Two ways of choosing the centers, as in sae_vis:

- ``top_examples``: the rows where the latent fires hardest (top-k), spaced so that they do not repeat one
  passage;
- ``quantile_examples``: rows drawn at random from quantile bands of the latent's non-zero values, so that
  weak activations are seen too: top-k shows only a latent's clearest cases (Bricken et al. 2023 sample
  across activation intervals for the same reason).

Windows are int32 ``[m, 3]`` arrays of (start, stop, center). Pure numpy: ``features.latent_panels`` calls
these for each candidate latent of the ``FeatureActivations`` widget.
"""

from __future__ import annotations

import numpy as np


def doc_bounds(doc_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first row of its document and one past its last (rows of a document contiguous)."""
    doc_ids = np.asarray(doc_ids)
    change = np.flatnonzero(np.diff(doc_ids)) + 1  # first row of every document but the first
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(doc_ids)]])
    run = np.repeat(np.arange(len(starts)), stops - starts)  # [n] which run each row is in
    return starts[run], stops[run]


def _window(rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, before: int, after: int) -> np.ndarray:
    """[m, 3] int32 (start, stop, center) windows around ``rows`` clipped to their documents."""
    rows = np.asarray(rows, np.int64)
    start = np.maximum(rows - before, lo[rows])
    stop = np.minimum(rows + after + 1, hi[rows])
    return np.stack([start, stop, rows], axis=1).astype(np.int32).reshape(-1, 3)


def top_examples(
    col: np.ndarray, doc_ids: np.ndarray, k: int = 10, window: tuple[int, int] = (8, 4)
) -> np.ndarray:
    """The k rows where the latent fires hardest, as windows [m <= k, 3] (start, stop, center), sorted by
    the center's activation, largest first. Rows closer than the window to an already chosen center in the
    same document are skipped, so examples do not repeat one passage."""
    col = np.asarray(col, np.float32)
    lo, hi = doc_bounds(doc_ids)
    cand = np.flatnonzero(col > 0)
    cand = cand[np.argsort(-col[cand], kind="stable")]
    gap = max(window)
    chosen: list[int] = []
    for r in cand:  # greedy; stops after k picks (and m <= k * (2 * gap + 1) skips)
        if all(abs(r - c) > gap or lo[r] != lo[c] for c in chosen):
            chosen.append(int(r))
            if len(chosen) == k:
                break
    return _window(np.array(chosen, np.int64), lo, hi, *window)


def quantile_examples(
    col: np.ndarray,
    doc_ids: np.ndarray,
    n_bands: int = 4,
    per_band: int = 3,
    window: tuple[int, int] = (8, 4),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Examples drawn at random from quantile bands of the non-zero activations (sae_vis' quantile groups).

    Returns (windows [n_bands, per_band, 3] int32 with -1 rows where a band has fewer examples, band
    edges [n_bands + 1] float32 in activation units). Band 0 is the weakest; each band's examples are
    sorted largest first.
    """
    col = np.asarray(col, np.float32)
    lo, hi = doc_bounds(doc_ids)
    out = np.full((n_bands, per_band, 3), -1, np.int32)
    nz = np.flatnonzero(col > 0)
    if len(nz) == 0:
        return out, np.zeros(n_bands + 1, np.float32)
    edges = np.quantile(col[nz], np.linspace(0, 1, n_bands + 1)).astype(np.float32)
    band = np.clip(np.searchsorted(edges, col[nz], side="right") - 1, 0, n_bands - 1)  # [nnz]
    rng = np.random.default_rng(seed)
    for b in range(n_bands):
        rows = nz[band == b]
        if len(rows):
            pick = rng.choice(rows, size=min(per_band, len(rows)), replace=False)
            pick = pick[np.argsort(-col[pick], kind="stable")]
            out[b, : len(pick)] = _window(pick, lo, hi, *window)
    return out, edges
