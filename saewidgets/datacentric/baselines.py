"""Baselines without an SAE, to compare the SAE analyses against (Jiang et al. 2025 compare with dense
embeddings, BM25 and LLMs; offline we use the classic lexical and hidden-state ones):

- a bag-of-words diff: words by the difference in the share of documents containing them;
- TF-IDF retrieval: documents by cosine similarity to the mean TF-IDF vector of the examples;
- k-means on mean-pooled hidden states (the model's own dense document embedding).
"""

from __future__ import annotations

import numpy as np


def _vectorizer(**kwargs):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    return (TfidfVectorizer if kwargs.pop("tfidf", False) else CountVectorizer)(
        lowercase=True, token_pattern=r"(?u)\b\w+\b|[?!\"]", **kwargs
    )


def bag_of_words_diff(target_texts, other_texts, n: int = 10) -> list[dict]:
    """Words (and ? ! " marks) by share of target documents containing them minus share of other documents."""
    if not len(target_texts) or not len(other_texts):
        raise ValueError("both corpora need at least one document")
    vec = _vectorizer(binary=True)
    X = vec.fit_transform(list(target_texts) + list(other_texts))
    nt = len(target_texts)
    d = np.asarray(X[:nt].mean(0)).ravel() - np.asarray(X[nt:].mean(0)).ravel()
    words = vec.get_feature_names_out()
    return [{"word": str(words[i]), "difference": float(d[i])} for i in np.argsort(-d, kind="stable")[:n]]


def tfidf_scores(texts, examples) -> np.ndarray:
    """[n_docs] cosine similarity of each document's TF-IDF vector to the examples' mean vector."""
    ex = np.asarray(list(examples), dtype=np.int64)
    if not len(ex):
        raise ValueError("give at least one example document")
    X = _vectorizer(tfidf=True).fit_transform(list(texts))  # rows are L2-normalised
    q = np.asarray(X[ex].mean(0)).ravel()
    q /= max(np.linalg.norm(q), 1e-12)
    return np.asarray(X @ q).ravel()


def mean_pooled(activations) -> np.ndarray:
    """[n_docs, d_in] mean hidden state of each document's tokens (BOS excluded, as harvested)."""
    import torch

    doc = activations.doc_ids
    n_docs = len(activations.texts) if activations.texts is not None else int(doc.max()) + 1
    sums = torch.zeros(n_docs, activations.d_in).index_add_(0, doc, activations.acts.float())
    return (sums / torch.bincount(doc, minlength=n_docs).clamp_min(1)[:, None]).numpy()


def kmeans_hidden(activations, n_clusters: int, seed: int = 0) -> np.ndarray:
    """[n_docs] k-means cluster of each document's mean-pooled hidden state."""
    from sklearn.cluster import KMeans

    X = mean_pooled(activations)
    if n_clusters < 2 or n_clusters > len(X):
        raise ValueError(
            f"n_clusters must be between 2 and the number of documents ({len(X)}), got {n_clusters}"
        )
    return KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(X)
