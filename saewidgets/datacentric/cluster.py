"""Group documents by the properties their SAE latents say they have (Jiang et al. 2025 §4.3).

Binarise each document's latents, measure how alike two documents are by the Jaccard similarity of
their active-latent sets, ``|A ∩ B| / |A ∪ B|``, and cut that similarity graph with spectral clustering
(scikit-learn, ``affinity="precomputed"``). All latents together mostly recover what a story is
*about*; **targeted** clustering keeps only latents the user chose -- e.g. the latents that match a
label -- and so groups documents along that axis alone (the paper's "step by step reasoning" filter on
GSM8k; offline we pick latents by how well they predict a label, ``latents_for_label``).

Documents with no active latent among the chosen ones have nothing in common with anyone; they get
cluster -1 rather than a random place in a cluster. Each cluster is described by diffing its documents
against the rest (``describe``).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .embed import DocEmbeddings


class Clusters(NamedTuple):
    labels: np.ndarray  # [n_docs] int: cluster of each document, -1 if it has no active chosen latent
    n_clusters: int
    latents: np.ndarray | None  # the latents the clustering used (None: all)
    affinity: np.ndarray  # [n_kept, n_kept] Jaccard similarity of the clustered documents
    kept: np.ndarray  # [n_kept] indices of the documents that were clustered


def jaccard(B: sp.csr_matrix) -> np.ndarray:
    """[N, N] Jaccard similarity of the rows of a binary [N, d] matrix (two empty rows: 0; diagonal: 1)."""
    B = sp.csr_matrix(B, dtype=np.float32)
    inter = np.asarray((B @ B.T).todense(), dtype=np.float64)  # [N, N]
    sizes = np.asarray(B.sum(1)).ravel()
    union = sizes[:, None] + sizes[None, :] - inter
    out = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    np.fill_diagonal(out, 1.0)
    return out


def cluster(
    emb: DocEmbeddings, n_clusters: int, *, latents=None, threshold: float | None = None, seed: int = 0
) -> Clusters:
    """Spectral clustering of documents on the Jaccard similarity of their (chosen) active latents."""
    from sklearn.cluster import SpectralClustering

    if not isinstance(n_clusters, int) or n_clusters < 2:
        raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}")
    B = emb.binary(threshold)
    chosen = None
    if latents is not None:
        chosen = np.unique(np.asarray(list(latents), dtype=np.int64))
        if not len(chosen) or chosen.min() < 0 or chosen.max() >= emb.d_sae:
            raise ValueError(
                f"latents must be a non-empty list of ids in [0, {emb.d_sae}), got {list(latents)[:5]}"
            )
        B = B[:, chosen]
    kept = np.flatnonzero(np.asarray(B.sum(1)).ravel() > 0)
    if len(kept) < n_clusters + 1:
        raise ValueError(
            f"only {len(kept)} documents have an active {'chosen ' if chosen is not None else ''}latent; "
            f"cannot make {n_clusters} clusters: lower n_clusters, add documents or choose more latents"
        )
    affinity = jaccard(B[kept])
    model = SpectralClustering(
        n_clusters=n_clusters, affinity="precomputed", random_state=seed, assign_labels="cluster_qr"
    )
    with warnings.catch_warnings():  # a graph with disconnected parts still clusters; sklearn only warns
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        found = model.fit_predict(affinity)
    labels = np.full(emb.n_docs, -1, dtype=np.int64)
    labels[kept] = found
    return Clusters(labels, n_clusters, chosen, affinity, kept)


def describe(emb: DocEmbeddings, clusters: Clusters, n: int = 5) -> list[dict]:
    """Each cluster's top latents by how much more of its documents they fire in than the rest's.

    [{cluster, size, latents: [{latent, inside, outside, difference}], central: [doc ids]}] -- ``central``
    are the documents with the highest mean Jaccard similarity to the rest of their cluster.
    """
    freq_in_all = emb.binary()
    out = []
    for c in range(clusters.n_clusters):
        inside = clusters.labels == c
        if not inside.any():
            continue
        f_in = np.asarray(freq_in_all[inside].mean(0)).ravel()
        f_out = np.asarray(freq_in_all[~inside].mean(0)).ravel() if (~inside).any() else np.zeros(emb.d_sae)
        d = f_in - f_out
        top = np.argsort(-d, kind="stable")[:n]
        members = np.flatnonzero(clusters.labels[clusters.kept] == c)
        centrality = clusters.affinity[np.ix_(members, members)].mean(1)
        central = clusters.kept[members[np.argsort(-centrality, kind="stable")[:n]]]
        out.append(
            {
                "cluster": c,
                "size": int(inside.sum()),
                "latents": [
                    {
                        "latent": int(i),
                        "inside": float(f_in[i]),
                        "outside": float(f_out[i]),
                        "difference": float(d[i]),
                    }
                    for i in top
                ],
                "central": [int(i) for i in central],
            }
        )
    return out


def latents_for_label(emb: DocEmbeddings, labels, n: int = 10) -> np.ndarray:
    """The ``n`` latents whose document-level firing best predicts ``labels`` ([n_docs] bool), by F1.
    For targeted clustering along one axis: pass the union over the axis's values (e.g. sad and happy)."""
    y = np.asarray(labels, dtype=bool)
    if y.shape != (emb.n_docs,):
        raise ValueError(f"labels must be one bool per document: shape ({emb.n_docs},), got {y.shape}")
    if not y.any():
        raise ValueError("no document carries this label")
    B = emb.binary()
    fires = np.asarray(B.sum(0)).ravel()
    hits = np.asarray(B[y].sum(0)).ravel()
    precision = np.divide(hits, fires, out=np.zeros(emb.d_sae), where=fires > 0)
    recall = hits / y.sum()
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(emb.d_sae), where=precision + recall > 0
    )
    return np.argsort(-f1, kind="stable")[:n]
