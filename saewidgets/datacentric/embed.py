"""Document embeddings from SAE latents: one sparse row per document (Jiang et al. 2025, §3).

A document's tokens go through the model and the SAE; its latent activations are pooled over the
tokens (BOS excluded -- ``harvest`` never records it, and a latent that fires on every BOS would
make every document look alike):

- ``max``      the largest activation of each latent in the document (the paper's choice: "the
               largest extent to which a property exists in a data sample");
- ``mean``     the mean over the document's tokens;
- ``count``    how many tokens it fires on;
- ``binarize`` 1 where it fires anywhere (max > threshold): the "data labeler" view used by
               diffing, NPMI and Jaccard clustering.

What "fires" means is the embedding's ``threshold``: the paper counts any activation above 0. A small
SAE's latents also fire *weakly* far from their concept (the bundled reader's dragon latent reaches
3.6-5.6 on dragon stories and at most 1.8 elsewhere), and with threshold 0 those weak firings make rare
latents look common, which blurs every binary analysis. ``threshold`` is stored with the embedding
and used by ``binary``, ``diff``, ``npmi`` and ``cluster``; ``values`` keep every activation.

The result is a ``scipy.sparse.csr_matrix`` [n_docs, d_sae]: 10,000 documents with ~100 active
latents each take ~8 MB whatever d_sae is. Documents are processed in chunks of whole documents, so
the dense intermediate is never larger than [chunk rows, d_sae].
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

POOLINGS = ("max", "mean", "count", "binarize")


@dataclass(frozen=True)
class DocEmbeddings:
    """Pooled SAE latents of a corpus: ``values`` [n_docs, d_sae] CSR, plus where they came from."""

    values: sp.csr_matrix  # [n_docs, d_sae] float32
    pooling: str
    hook: str
    model_name: str
    sae_id: str  # fingerprint of the SAE's weights: embeddings from different SAEs must not be mixed
    n_tokens: np.ndarray  # [n_docs] int64: tokens per document (the length a diff should match)
    texts: list[str] | None = field(default=None, repr=False)
    threshold: float = 0.0  # a latent is present in a document when its pooled value exceeds this

    @property
    def n_docs(self) -> int:
        return self.values.shape[0]

    @property
    def d_sae(self) -> int:
        return self.values.shape[1]

    def binary(self, threshold: float | None = None) -> sp.csr_matrix:
        """[n_docs, d_sae] CSR of 0/1 (float32): the latent fires in the document (value > threshold;
        default: the embedding's own threshold)."""
        threshold = self.threshold if threshold is None else threshold
        b = self.values.copy()
        b.data = (b.data > threshold).astype(np.float32)
        b.eliminate_zeros()
        return b

    def frequency(self, threshold: float | None = None) -> np.ndarray:
        """[d_sae] share of documents each latent fires in."""
        if self.n_docs == 0:
            raise ValueError("no documents: the embedding is empty")
        return np.asarray(self.binary(threshold).sum(0)).ravel() / self.n_docs

    def subset(self, docs) -> DocEmbeddings:
        """The embeddings of some documents (indices or a bool mask), in that order."""
        idx = np.arange(self.n_docs)[np.asarray(docs)] if np.asarray(docs).dtype == bool else np.asarray(docs)
        texts = [self.texts[i] for i in idx] if self.texts is not None else None
        return DocEmbeddings(
            self.values[idx],
            self.pooling,
            self.hook,
            self.model_name,
            self.sae_id,
            self.n_tokens[idx],
            texts,
            self.threshold,
        )


def sae_fingerprint(sae) -> str:
    """A short hash of an SAE's decoder (shape and values): equal for the same SAE, different otherwise."""
    w = sae.W_dec.detach().float().cpu().contiguous().numpy()
    return hashlib.sha1(str(w.shape).encode() + w.tobytes()).hexdigest()[:16]


def embed_documents(
    sae, activations, pooling: str = "max", *, threshold: float = 0.0, chunk_rows: int = 4096
) -> DocEmbeddings:
    """Pool ``sae``'s latents over each document of ``activations`` (an ``ActivationSet`` from ``harvest``).

    Rows of a document must be contiguous (``harvest`` guarantees it). A document with no harvested
    tokens (an empty text) gets an all-zero row. ``threshold``: activations at or below it count as
    not firing (for ``count`` / ``binarize``, and for every binary analysis of the result).
    """
    import torch

    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0 (an activation level), got {threshold!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    texts = getattr(activations, "texts", None)
    doc_ids = getattr(activations, "doc_ids", None)
    if doc_ids is None:
        raise ValueError(
            "embed_documents needs an ActivationSet from sw.harvest(model, corpus, hook): its rows "
            "record which document they came from"
        )
    doc_ids = doc_ids.numpy().astype(np.int64)
    if len(doc_ids) == 0:
        raise ValueError("the activations are empty: harvest at least one non-empty document")
    n_docs = len(texts) if texts is not None else int(doc_ids.max()) + 1
    if np.any(np.diff(doc_ids) < 0):
        raise ValueError(
            "rows of each document must be contiguous and in document order (as harvest returns them)"
        )
    n_tokens = np.bincount(doc_ids, minlength=n_docs).astype(np.int64)

    p = next(sae.parameters())
    was_training = sae.training
    sae.eval()
    blocks, starts = [], np.searchsorted(doc_ids, np.arange(n_docs + 1))  # first row of every document
    try:
        with torch.no_grad():
            lo_doc = 0
            while lo_doc < n_docs:
                # whole documents, about chunk_rows rows (at least one document)
                hi_doc = max(
                    lo_doc + 1, int(np.searchsorted(starts, starts[lo_doc] + chunk_rows, "right")) - 1
                )
                hi_doc = min(hi_doc, n_docs)
                r0, r1 = starts[lo_doc], starts[hi_doc]
                x = activations.acts[r0:r1].to(p.device, p.dtype)  # [rows, d_in]
                a = (
                    sae.encode(x).float().cpu() if r1 > r0 else torch.zeros(0, sae.W_dec.shape[0])
                )  # [rows, d_sae]
                blocks.append(
                    _pool(a, torch.as_tensor(doc_ids[r0:r1] - lo_doc), hi_doc - lo_doc, pooling, threshold)
                )
                lo_doc = hi_doc
    finally:
        sae.train(was_training)
    values = sp.vstack(blocks, format="csr").astype(np.float32)
    values.eliminate_zeros()
    return DocEmbeddings(
        values,
        pooling,
        getattr(activations, "hook", ""),
        getattr(activations, "model_name", ""),
        sae_fingerprint(sae),
        n_tokens,
        list(texts) if texts is not None else None,
        float(threshold),
    )


def _pool(a, local_doc, n: int, pooling: str, threshold: float) -> sp.csr_matrix:
    """Pool rows a [rows, d_sae] into n documents by local_doc [rows] -> CSR [n, d_sae]."""
    import torch

    d_sae = a.shape[1]
    index = local_doc[:, None].expand_as(a)  # [rows, d_sae]
    fired = (a > threshold).float()
    if pooling in ("max", "binarize"):
        out = torch.zeros(n, d_sae).scatter_reduce_(0, index, a.clamp_min(0), "amax", include_self=True)
        if pooling == "binarize":
            out = (out > threshold).float()
    elif pooling == "count":
        out = torch.zeros(n, d_sae).index_add_(0, local_doc, fired)
    else:  # mean
        counts = torch.bincount(local_doc, minlength=n).clamp_min(1).float()[:, None]  # [n, 1]
        out = torch.zeros(n, d_sae).index_add_(0, local_doc, a) / counts
    return sp.csr_matrix(out.numpy())
