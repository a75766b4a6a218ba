"""ClusterBrowser: what each cluster of documents has in common, by its SAE latents (Jiang et al. 2025 §4.3).

One card per cluster from ``datacentric.cluster``: its size, the latents that fire in more of its
documents than of the rest's (``datacentric.describe``: inside vs outside share), and excerpts of its
most central documents (highest mean Jaccard similarity to the rest of the cluster). Click a card to set
``selected_cluster``; click a latent to set ``selected_latent`` (``link(feature_activations)``).

    c = datacentric.cluster(emb, 4)
    ClusterBrowser(emb, c, labels={12: "tone=sad"})
"""

from __future__ import annotations

import numpy as np
import traitlets

from ..datacentric.cluster import Clusters, describe
from ..datacentric.embed import DocEmbeddings
from ._base import Array, SaeWidget, static_text
from ._fallback import bar_rows_png
from ._links import LatentSelection, check_latent
from ._palette import color
from .diff_bars import check_labels


def excerpt(text: str, n_chars: int) -> str:
    """The first ``n_chars`` characters of a text, cut at a word boundary, with an ellipsis if cut."""
    text = " ".join(str(text).split())
    if len(text) <= n_chars:
        return text
    cut = text[:n_chars].rsplit(" ", 1)[0] or text[:n_chars]
    return cut + " …"


class ClusterBrowser(LatentSelection, SaeWidget):
    """Cluster cards: size, top latents (inside vs outside share), central documents' excerpts."""

    _esm = static_text("common.js", "datacentric.js", "cluster_browser.js")
    _css = static_text("base.css", "datacentric.css", "cluster_browser.css")

    selected_cluster = traitlets.Int(None, allow_none=True).tag(sync=True)
    """The cluster whose card was clicked last (None: none)."""
    selected_latent = traitlets.Int(None, allow_none=True).tag(sync=True)
    """The latent clicked last in any card."""
    title = traitlets.Unicode("").tag(sync=True)

    _clusters = Array()  # [c] int32 cluster id of each card
    _sizes = Array()  # [c] int32 documents in the cluster
    _latents = Array()  # [c, n_latents] int32 top latents by inside - outside share (-1 pads)
    _inside = Array()  # [c, n_latents] float32 share of the cluster's documents the latent fires in
    _outside = Array()  # [c, n_latents] float32 share of the other documents
    _central = Array()  # [c, n_docs] int32 central documents (-1 pads)
    _excerpts = traitlets.Dict().tag(sync=True)  # {"doc id": text excerpt} for the central documents
    _labels = traitlets.Dict().tag(sync=True)
    _d_sae = traitlets.Int(0).tag(sync=True)
    _n_docs = traitlets.Int(0).tag(sync=True)
    _n_unclustered = traitlets.Int(0).tag(sync=True)  # documents with no active chosen latent (label -1)
    _html_private = (
        "_clusters",
        "_sizes",
        "_latents",
        "_inside",
        "_outside",
        "_central",
        "_excerpts",
        "_labels",
        "_d_sae",
        "_n_docs",
        "_n_unclustered",
    )

    def __init__(
        self,
        emb: DocEmbeddings,
        clusters: Clusters,
        texts=None,
        *,
        labels=None,
        n_latents: int = 5,
        n_docs: int = 3,
        excerpt_chars: int = 280,
        **kwargs,
    ):
        if not isinstance(emb, DocEmbeddings):
            raise TypeError(
                f"ClusterBrowser needs the DocEmbeddings that were clustered, got {type(emb).__name__}"
            )
        if not isinstance(clusters, Clusters):
            raise TypeError(
                f"ClusterBrowser needs Clusters from datacentric.cluster(...), got {type(clusters).__name__}"
            )
        if len(clusters.labels) != emb.n_docs:
            raise ValueError(
                f"the clusters label {len(clusters.labels)} documents, the embeddings hold {emb.n_docs}: "
                "pass the embeddings that were clustered"
            )
        if min(n_latents, n_docs, excerpt_chars) < 1:
            raise ValueError("n_latents, n_docs and excerpt_chars must be >= 1")
        texts = emb.texts if texts is None else list(texts)
        if texts is not None and len(texts) != emb.n_docs:
            raise ValueError(f"{len(texts)} texts for {emb.n_docs} documents")
        cards = describe(emb, clusters, n=max(n_latents, n_docs))
        c = len(cards)
        lat = np.full((c, n_latents), -1, np.int32)
        inside, outside = np.zeros((c, n_latents), np.float32), np.zeros((c, n_latents), np.float32)
        central = np.full((c, n_docs), -1, np.int32)
        for k, card in enumerate(cards):
            rows = card["latents"][:n_latents]
            lat[k, : len(rows)] = [r["latent"] for r in rows]
            inside[k, : len(rows)] = [r["inside"] for r in rows]
            outside[k, : len(rows)] = [r["outside"] for r in rows]
            docs = card["central"][:n_docs]
            central[k, : len(docs)] = docs
        excerpts = (
            {}
            if texts is None
            else {str(int(d)): excerpt(texts[int(d)], excerpt_chars) for d in central.ravel() if d >= 0}
        )
        super().__init__(
            _clusters=np.asarray([card["cluster"] for card in cards], np.int32),
            _sizes=np.asarray([card["size"] for card in cards], np.int32),
            _latents=lat,
            _inside=inside,
            _outside=outside,
            _central=central,
            _excerpts=excerpts,
            _labels=check_labels(labels, emb.d_sae),
            _d_sae=emb.d_sae,
            _n_docs=emb.n_docs,
            _n_unclustered=int((clusters.labels < 0).sum()),
            **kwargs,
        )

    @traitlets.validate("selected_latent")
    def _check_latent(self, proposal):
        return check_latent(proposal["value"], self._d_sae)

    @traitlets.validate("selected_cluster")
    def _check_cluster(self, proposal):
        c = proposal["value"]
        if c is not None and c not in self.cluster_ids:
            raise traitlets.TraitError(f"selected_cluster must be None or one of {self.cluster_ids}, got {c}")
        return c

    @property
    def cluster_ids(self) -> list[int]:
        return [] if self._clusters is None else [int(c) for c in self._clusters]

    def card(self, cluster: int) -> dict:
        """One card's numbers: {cluster, size, latents: [{latent, inside, outside}], central: [doc ids]}."""
        k = self.cluster_ids.index(cluster)
        keep = self._latents[k] >= 0
        return {
            "cluster": cluster,
            "size": int(self._sizes[k]),
            "latents": [
                {"latent": int(i), "inside": float(a), "outside": float(b)}
                for i, a, b in zip(self._latents[k][keep], self._inside[k][keep], self._outside[k][keep])
            ],
            "central": [int(d) for d in self._central[k] if d >= 0],
        }

    def _summary(self) -> str:
        return (
            f"ClusterBrowser({len(self.cluster_ids)} clusters of {self._n_docs} documents, "
            f"{self._n_unclustered} unclustered, selected_cluster={self.selected_cluster}, "
            f"selected_latent={self.selected_latent})"
        )

    def _png(self) -> bytes | None:
        tops = [
            "  ".join(
                f"#{int(i)} {self._inside[k, j]:.0%}/{self._outside[k, j]:.0%}"
                for j, i in enumerate(self._latents[k][:3])
                if i >= 0
            )
            for k in range(len(self.cluster_ids))
        ]
        names = [f"cluster {i}" + (" ◀" if i == self.selected_cluster else "") for i in self.cluster_ids]
        return bar_rows_png(
            self._sizes,
            names,
            tops,
            "documents (text: top latents, share inside / outside the cluster)",
            color=color(0),
            row_height=0.55,
        )
