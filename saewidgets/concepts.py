"""Match SAE latents to labelled concepts: how well does a latent's firing predict a label?

The storyteller corpus labels every document (``labels``) and marks the sentences that carry each
concept (``spans``), so a latent can be scored like a classifier: it *predicts* a token (or document)
carries the concept when it fires there. For latent ``i`` and label ``y``:

- precision = P(y | latent i fires)  -- when it fires, is the concept there?
- recall    = P(latent i fires | y)  -- when the concept is there, does it fire?
- F1, their harmonic mean, ranks latents (as in Bricken et al. 2023's "specificity / sensitivity").

A concept is named ``"dialogue"`` (a binary label), or ``"tone=sad"`` / ``"topic=sea"`` (a label with
a value). At the token level a row is positive when its token overlaps one of the sentences
``spans`` gives for that concept; at the document level when the document carries it.

Word concepts are finer: ``word_labels`` marks the tokens of the words that realise a planted word concept,
a parent of ``HIERARCHY`` (``"animal"``) or one of its children (``"animal=cat"``), so absorption (a
child's latent firing where the parent's latent does not) can be scored against the truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features import activation_rows, encode_batches
from .token_text import token_spans
from .zoo.word_concepts import CHILD_FORMS, HIERARCHY, word_spans

__all__ = [
    "HIERARCHY",
    "parse_concept",
    "document_labels",
    "token_labels",
    "word_labels",
    "planted_label_rows",
    "latent_scores",
    "latent_scores_many",
    "best_latents",
    "concept_table",
]


def parse_concept(concept: str) -> tuple[str, object]:
    """``"tone=sad"`` -> ("tone", "sad"); ``"dialogue"`` -> ("dialogue", True)."""
    if not isinstance(concept, str) or not concept.strip():
        raise ValueError(f"a concept is a label name like 'dialogue' or 'topic=sea', got {concept!r}")
    key, sep, value = concept.partition("=")
    return (key.strip(), value.strip()) if sep else (key.strip(), True)


def document_labels(corpus, concept: str) -> np.ndarray:
    """[n_docs] bool: which documents carry the concept."""
    key, value = parse_concept(concept)
    if not len(corpus):
        raise ValueError("the corpus is empty")
    values = corpus.label(key)  # raises KeyError naming the known labels
    if value is True:
        if not all(isinstance(v, bool) for v in values):
            examples = sorted({str(v) for v in values})[:5]
            raise ValueError(
                f"label {key!r} has values, not True/False: name one, e.g. '{key}={examples[0]}' "
                f"(values: {examples})"
            )
        return np.array(values, dtype=bool)
    return np.array([str(v) == value for v in values], dtype=bool)


def _check_alignment(activations, corpus) -> None:
    texts = getattr(activations, "texts", None)
    if (
        texts is None
        or len(texts) != len(corpus)
        or texts[:1] != corpus.texts[:1]
        or texts[-1:] != corpus.texts[-1:]
    ):
        raise ValueError(
            "these activations were not harvested from this corpus: call "
            "sw.harvest(model, corpus, hook) on the same corpus (same n_docs and seed)"
        )


def token_labels(activations, corpus, tokenizer, concept: str) -> np.ndarray:
    """[n_rows] bool: rows whose token overlaps a sentence that carries the concept.

    ``activations`` must come from ``harvest(model, corpus, hook)`` (rows keep their document and
    position); ``tokenizer`` is the model's (``model.tokenizer``), used for character offsets: each row's
    token is located in its document by its id (``features.token_spans``), with or without a BOS before it.
    """
    _check_alignment(activations, corpus)
    key, _ = parse_concept(concept)
    in_docs = document_labels(corpus, concept)
    # "topic" has spans in every document: only those of documents that carry the concept count
    return _rows_in_spans(
        activations,
        corpus.texts,
        tokenizer,
        lambda doc: corpus[doc].spans.get(key, ()) if in_docs[doc] else (),
    )


def word_labels(activations, corpus, tokenizer, concept: str) -> np.ndarray:
    """[n_rows] bool: rows whose token overlaps a word realising a planted word concept.

    ``concept`` is a parent of ``HIERARCHY`` (``"animal"``: any animal noun) or one of its children
    (``"animal=cat"``: "cat" or "cats"); the words are found by ``zoo.word_concepts.word_spans``. Rows and
    ``tokenizer`` are as for :func:`token_labels`; a word split into several tokens marks all of them.
    """
    _check_alignment(activations, corpus)
    if concept not in HIERARCHY and concept not in CHILD_FORMS:
        raise KeyError(_unknown_word_concept(concept))
    texts = corpus.texts
    return _rows_in_spans(activations, texts, tokenizer, lambda doc: word_spans(texts[doc]).get(concept, ()))


def _unknown_word_concept(concept) -> str:
    parent = concept.partition("=")[0] if isinstance(concept, str) else None
    if parent in HIERARCHY:
        known = f"the children of {parent!r} are {list(HIERARCHY[parent])}"
    else:
        known = f"word concepts are the parents {list(HIERARCHY)} and their children, e.g. 'animal=cat'"
    hint = " (sentence concepts such as 'dialogue' go to token_labels)" if parent not in HIERARCHY else ""
    return f"unknown word concept {concept!r}: {known}{hint}"


def _rows_in_spans(activations, texts, tokenizer, spans_of) -> np.ndarray:
    """[n_rows] bool: rows whose token overlaps one of ``spans_of(doc)`` (character spans in ``texts[doc]``).

    Shared by the sentence and word labels, so both locate tokens the same way; a row whose token cannot be
    located (``token_spans`` gives -1) is never positive.
    """
    return _rows_in_span_sets(activations, texts, tokenizer, lambda doc: {"": spans_of(doc)}, [""])[""]


def _rows_in_span_sets(activations, texts, tokenizer, spans_of, names) -> dict[str, np.ndarray]:
    """``_rows_in_spans`` for many concepts at once: ``spans_of(doc)`` gives {name: spans}; each document's
    tokens are located once, whatever the number of concepts."""
    doc_ids = activations.doc_ids.numpy()
    positions = activations.positions.numpy()
    token_ids = activations.token_ids.numpy()
    out = {name: np.zeros(len(doc_ids), dtype=bool) for name in names}
    for doc in np.unique(doc_ids):
        found = {n: s for n, s in spans_of(int(doc)).items() if n in out and len(s)}
        if not found:
            continue
        rows = np.flatnonzero(doc_ids == doc)  # contiguous: harvest keeps a document's rows together
        offsets = token_spans(tokenizer, token_ids[rows], doc_ids[rows], positions[rows], texts)  # [rows, 2]
        start, end = offsets[:, :1], offsets[:, 1:]  # [rows, 1]
        for name, spans in found.items():
            spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)  # [k, 2]
            overlaps = (start < spans[None, :, 1]) & (spans[None, :, 0] < end)  # [rows, k]
            out[name][rows] = (offsets[:, 0] >= 0) & overlaps.any(1)
    return out


def planted_label_rows(activations, corpus, tokenizer, sentence=(), words=()) -> dict[str, np.ndarray]:
    """{name: [n_rows] bool} for many concepts in one pass over the documents: each of ``sentence`` as
    ``token_labels`` gives it (``"dialogue"``, ``"topic=sea"``), each of ``words`` as ``word_labels`` gives
    it, named ``"word:<concept>"``. What an evaluation over every planted concept needs (``evals.planted``):
    calling the two functions once per concept would locate every document's tokens once per concept."""
    _check_alignment(activations, corpus)
    for concept in words:
        if concept not in HIERARCHY and concept not in CHILD_FORMS:
            raise KeyError(_unknown_word_concept(concept))
    in_docs = {c: document_labels(corpus, c) for c in sentence}
    keys = {c: parse_concept(c)[0] for c in sentence}
    texts = corpus.texts

    def spans_of(doc: int) -> dict:
        spans = {c: corpus[doc].spans.get(keys[c], ()) for c in sentence if in_docs[c][doc]}
        found = word_spans(texts[doc])
        return spans | {f"word:{c}": found[c] for c in words if c in found}

    names = [*sentence, *(f"word:{c}" for c in words)]
    return _rows_in_span_sets(activations, texts, tokenizer, spans_of, names)


def latent_scores(sae, activations, labels, threshold: float = 0.0, batch_size: int = 4096) -> dict:
    """Every latent scored as a classifier of ``labels`` ([n_rows] bool): its firing is ``acts > threshold``.

    Returns ``precision``, ``recall``, ``f1`` and ``density`` (fraction of rows where it fires),
    each [d_sae] float64, plus ``base_rate`` (the fraction of positive rows; a latent that fires
    everywhere has this precision).
    """
    return latent_scores_many(sae, activations, {"labels": labels}, threshold, batch_size)["labels"]


def latent_scores_many(
    sae, activations, label_sets: dict, threshold: float = 0.0, batch_size: int = 4096
) -> dict[str, dict]:
    """``latent_scores`` for several label sets ({name: [n_rows] bool}) from one pass of the SAE over the
    rows: the hits of every label set are one [C, b] @ [b, d_sae] product per batch."""
    import torch

    x = activation_rows(activations)
    names = list(label_sets)
    columns = []
    for name in names:
        labels = np.asarray(label_sets[name], dtype=bool)
        if labels.shape != (len(x),):
            raise ValueError(
                f"labels {name!r} must be one bool per activation row: shape ({len(x)},), got {labels.shape}"
            )
        if not labels.any():
            raise ValueError(
                f"no row carries the label {name!r}: pick a concept present in the corpus (or more documents)"
            )
        columns.append(labels)
    y = torch.as_tensor(np.stack(columns, 1), dtype=torch.float64)  # [n_rows, C]
    fires = hits = None
    for start, a in encode_batches(sae, x, batch_size):
        on = (a > threshold).cpu().double()  # [b, d_sae]
        f, h = on.sum(0), y[start : start + len(a)].T @ on  # [d_sae], [C, d_sae]: exact counts in float64
        fires, hits = (f, h) if fires is None else (fires + f, hits + h)
    fires, hits = fires.numpy(), hits.numpy()
    out = {}
    for c, name in enumerate(names):
        n_pos = columns[c].sum()
        precision = np.divide(hits[c], fires, out=np.zeros_like(fires), where=fires > 0)
        recall = hits[c] / n_pos
        denom = precision + recall
        f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
        out[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "density": fires / len(x),
            "base_rate": float(n_pos / len(x)),
        }
    return out


def best_latents(scores: dict, n: int = 5, by: str = "f1") -> list[dict]:
    """The ``n`` latents with the highest ``scores[by]``: [{latent, f1, precision, recall, density}]."""
    order = np.argsort(-scores[by], kind="stable")[:n]
    return [
        {"latent": int(i), **{k: float(scores[k][i]) for k in ("f1", "precision", "recall", "density")}}
        for i in order
    ]


def concept_table(sae, activations, corpus, tokenizer, concepts: Sequence[str]) -> list[dict]:
    """For each concept, its best-matching latent at the token level (highest F1) and the scores."""
    rows = []
    for concept in concepts:
        labels = token_labels(activations, corpus, tokenizer, concept)
        best = best_latents(latent_scores(sae, activations, labels), n=1)[0]
        rows.append({"concept": concept, "base_rate": float(labels.mean()), **best})
    return rows
