"""Which properties co-occur? Normalised pointwise mutual information between binary document features.

For binary features i, j over N documents (Bouma 2009; Jiang et al. 2025 §4.2):

    NPMI(i, j) = log( P(i, j) / (P(i) P(j)) ) / -log P(i, j)

It is 1 when i and j always fire together, 0 when they are independent and -1 when they never
co-occur. Three modes share one function:

- feature x feature: ``npmi(X)`` with X [N, d] (a latent against every other latent);
- cross-matrix:      ``npmi(X, Y)`` with X [N, d_x] and Y [N, d_y] over the *same* N documents, e.g.
                     prompt latents x the latents of the responses to those prompts. (The paper's
                     released code computes ``Y or X``, which raises for a sparse Y, so its cross mode
                     never ran; here Y is used as given.)
- feature x label:   Y = ``label_matrix(corpus, concepts)``, document labels as binary columns.

Pairs that never co-occur get -1, as the definition says (the released code leaves them at 0, which
reads as "independent"). But for *rare* features that -1 is an artefact of small counts: two latents
that each fire in 2 % of 1,000 documents are expected together in 0.4 documents even when independent,
so the plain estimate is -1 (seen together 0 times) or about +0.13 (once). ``smoothing`` adds a
pseudo-count to each cell of every pair's 2x2 contingency table (0.5: the Jeffreys prior), which pulls
such evidence-free pairs to about 0 while a pair seen together in 20 of 20 documents keeps NPMI ~0.99
and frequent pairs that never co-occur stay near -1. ``min_count`` drops features that fire in fewer
documents.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .embed import DocEmbeddings


class NPMIResult(NamedTuple):
    values: np.ndarray  # [n_x, n_y] float32 NPMI of the kept features (x rows, y columns)
    x_index: np.ndarray  # [n_x] original column (latent id) of each row
    y_index: np.ndarray  # [n_y] original column (latent id or label index) of each column
    x_counts: np.ndarray  # [n_x] documents each x feature fires in
    y_counts: np.ndarray  # [n_y]
    co_counts: np.ndarray  # [n_x, n_y] documents where both fire
    same: (
        bool  # feature x feature mode (X with itself): the diagonal and mirrored pairs are skipped in pairs()
    )

    def pairs(
        self,
        min_npmi: float = -1.0,
        similarity: np.ndarray | None = None,
        max_similarity: float | None = None,
        n: int | None = None,
    ) -> list[dict]:
        """Pairs by NPMI, highest first: [{x, y, npmi, co_count, similarity?}].

        ``similarity`` [n_x, n_y] (e.g. ``decoder_similarity``) with ``max_similarity`` keeps pairs whose
        directions are *unlike*: the non-obvious co-occurrences (the paper keeps NPMI > 0.8 and label
        similarity < 0.2; offline we use decoder-direction cosine as the stand-in for label similarity).
        """
        keep = self.values >= min_npmi
        if self.same:
            keep &= np.triu(np.ones_like(keep), k=1).astype(bool)
        if similarity is not None and max_similarity is not None:
            keep &= similarity < max_similarity
        ii, jj = np.nonzero(keep)
        order = np.argsort(-self.values[ii, jj], kind="stable")[:n]
        out = []
        for a, b in zip(ii[order], jj[order]):
            row = {
                "x": int(self.x_index[a]),
                "y": int(self.y_index[b]),
                "npmi": float(self.values[a, b]),
                "co_count": int(self.co_counts[a, b]),
            }
            if similarity is not None:
                row["similarity"] = float(similarity[a, b])
            out.append(row)
        return out

    def lookup(self, x: int, y: int) -> float:
        """NPMI of original features x and y (KeyError if either was dropped by min_count)."""
        a, b = np.flatnonzero(self.x_index == x), np.flatnonzero(self.y_index == y)
        if not len(a) or not len(b):
            raise KeyError(
                f"feature {x if not len(a) else y} was left out: it fires in fewer than min_count or more "
                "than max_share of the documents"
            )
        return float(self.values[a[0], b[0]])


def _binary(m) -> sp.csr_matrix:
    if isinstance(m, DocEmbeddings):
        return m.binary()
    m = sp.csr_matrix(m, dtype=np.float32)
    m.data = (m.data > 0).astype(np.float32)
    m.eliminate_zeros()
    return m


def npmi(X, Y=None, *, min_count: int = 1, max_share: float = 1.0, smoothing: float = 0.0) -> NPMIResult:
    """NPMI between the columns of X and of Y (default: X with itself). X, Y: [N, d] binary documents x
    features (``DocEmbeddings`` are binarised; scipy.sparse or numpy arrays are taken as value > 0).
    ``smoothing``: pseudo-count per contingency cell (see the module docstring; 0 = the plain definition).
    ``max_share``: drop features present in more than this share of documents (generic latents -- "once
    upon a time" -- co-occur with everything and crowd the top pairs)."""
    same = Y is None
    bx = _binary(X)
    by = bx if same else _binary(Y)
    n = bx.shape[0]
    if n == 0:
        raise ValueError("no documents: NPMI needs at least one document")
    if by.shape[0] != n:
        raise ValueError(
            f"X and Y must describe the same documents in the same order: X has {n} rows, "
            f"Y has {by.shape[0]} (cross-matrix mode pairs row i of X with row i of Y)"
        )
    if smoothing < 0:
        raise ValueError(f"smoothing is a pseudo-count >= 0 (0.5 is the Jeffreys prior), got {smoothing!r}")
    if not 0 < max_share <= 1:
        raise ValueError(f"max_share is a share of documents in (0, 1], got {max_share!r}")
    if not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
    cx = np.asarray(bx.sum(0)).ravel()
    cy = cx if same else np.asarray(by.sum(0)).ravel()
    xi = np.flatnonzero((cx >= min_count) & (cx <= max_share * n))
    yi = xi if same else np.flatnonzero((cy >= min_count) & (cy <= max_share * n))
    if not len(xi) or not len(yi):
        raise ValueError(
            f"no feature fires in at least min_count={min_count} and at most max_share={max_share} "
            "of the documents"
        )
    bx_k, by_k = bx[:, xi], by[:, yi]
    co = np.asarray((bx_k.T @ by_k).todense(), dtype=np.float64)  # [n_x, n_y]
    total = n + 4 * smoothing  # every cell of the 2x2 table gets the pseudo-count
    p_xy = (co + smoothing) / total
    p_x, p_y = (cx[xi][:, None] + 2 * smoothing) / total, (cy[yi][None, :] + 2 * smoothing) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log(p_xy / (p_x * p_y)) / -np.log(p_xy)
    values[p_xy == 0] = -1.0  # never together (no smoothing)
    values[p_xy == 1.0] = 1.0  # both fire in every document (0/0): perfectly co-occurring
    return NPMIResult(
        values.astype(np.float32),
        xi,
        yi,
        cx[xi].astype(np.int64),
        cy[yi].astype(np.int64),
        co.astype(np.int64),
        same,
    )


def decoder_similarity(sae, result: NPMIResult) -> np.ndarray:
    """[n_x, n_y] cosine similarity of the decoder directions of each pair's latents (for latent x latent)."""
    import torch

    W = torch.nn.functional.normalize(sae.W_dec.detach().float().cpu(), dim=1).numpy()  # [d_sae, d_in]
    return W[result.x_index] @ W[result.y_index].T


def label_matrix(corpus, concepts) -> tuple[sp.csr_matrix, list[str]]:
    """Document labels as binary columns for feature x label NPMI: ([n_docs, n_concepts], names).
    ``concepts`` as in saewidgets.concepts ("dialogue", "tone=sad", "topic=sea")."""
    from ..concepts import document_labels

    names = list(concepts)
    if not names:
        raise ValueError("name at least one concept, e.g. ['dialogue', 'tone=sad']")
    cols = np.stack([document_labels(corpus, c) for c in names], axis=1).astype(np.float32)
    return sp.csr_matrix(cols), names
