"""RetrievalBox: the documents that *have* a property, and where in them it shows (Jiang et al. 2025 §4.4).

Shows a ``datacentric.retrieve`` result: the query latents with their rank weights w_r = exp(-r / (n T)),
then the ranked documents with their scores and text. Changing the temperature slider or k re-runs
``retrieve`` in Python (a traitlets observer; the offline page says it needs a kernel). Click a latent
to set ``selected_latent`` (``link(feature_activations)``).

Token-level highlights: with the ``sae`` and the ``activations`` the embeddings were pooled from (an
``ActivationSet``: its rows carry ``doc_ids``) plus a ``tokenizer`` (or the model, or ``tokens``: one
string per row), each token of a shown document is coloured by the same weighted score the document
got, sum_r w_r a_r(token) / p90_r -- computed for the shown documents only. Without them, plain text.

    box = RetrievalBox(emb, examples=[3, 17, 42], sae=sae, activations=acts, tokenizer=model)
"""

from __future__ import annotations

import math

import numpy as np
import traitlets

from .. import features
from ..datacentric.embed import DocEmbeddings, sae_fingerprint
from ..datacentric.retrieve import Retrieval, percentile_scale, retrieve
from ._base import Array, SaeWidget, static_text
from ._fallback import bar_rows_png
from ._links import LatentSelection, check_latent
from ._palette import color
from .cluster_browser import excerpt
from .diff_bars import check_labels

MAX_K = 100
MAX_DOC_TOKENS = 512  # highlighted tokens per document; longer documents are cut (and say so)


class RetrievalBox(LatentSelection, SaeWidget):
    """Query latents and weights, a temperature slider and k, ranked documents with highlighted tokens.

    Give a ``Retrieval`` (re-runs rank its latents; add ``examples=`` to re-run the query by example, which
    keeps the examples out of the results) or the query itself (``examples=`` or ``latents=``)."""

    _esm = static_text("common.js", "datacentric.js", "retrieval_box.js")
    _css = static_text("base.css", "datacentric.css", "retrieval_box.css")

    k = traitlets.Int(10).tag(sync=True)
    """How many documents to show; changing it re-runs the retrieval."""
    temperature = traitlets.Float(0.2).tag(sync=True)
    """T in w_r = exp(-r / (n T)); the paper's best average is 0.2. Changing it re-runs the retrieval."""
    selected_latent = traitlets.Int(None, allow_none=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    _query = traitlets.Unicode("").tag(sync=True)  # how the query was given, in words
    _latents = Array()  # [n] int32 query latents by rank
    _weights = Array()  # [n] float32 w_r
    _docs = Array()  # [k] int32 documents, best first
    _scores = Array()  # [k] float32
    _contrib = Array()  # [k, n] float32 w_r a_r / p90_r of each shown document
    _texts = traitlets.List(traitlets.Unicode()).tag(sync=True)  # [k] plain-text excerpt of each document
    _tok_offsets = (
        Array()
    )  # [k + 1] int32 tokens of document j: _tok_strings[o[j]:o[j+1]] (None: no highlights)
    _tok_strings = traitlets.List(traitlets.Unicode()).tag(sync=True)  # [T]
    _tok_contrib = Array()  # [T, n] float32 w_r a_r(token) / p90_r
    _labels = traitlets.Dict().tag(sync=True)
    _d_sae = traitlets.Int(0).tag(sync=True)
    _status = traitlets.Unicode("").tag(sync=True)
    _html_private = (
        "_query",
        "_latents",
        "_weights",
        "_docs",
        "_scores",
        "_contrib",
        "_texts",
        "_tok_offsets",
        "_tok_strings",
        "_tok_contrib",
        "_labels",
        "_d_sae",
        "_status",
    )

    def __init__(
        self,
        emb: DocEmbeddings,
        retrieval: Retrieval | None = None,
        *,
        examples=None,
        latents=None,
        k: int | None = None,
        temperature: float | None = None,
        n_latents: int = 20,
        texts=None,
        sae=None,
        activations=None,
        tokenizer=None,
        tokens=None,
        labels=None,
        max_chars: int = 600,
        **kwargs,
    ):
        if not isinstance(emb, DocEmbeddings):
            raise TypeError(f"RetrievalBox needs DocEmbeddings (embed_documents), got {type(emb).__name__}")
        if retrieval is not None and not isinstance(retrieval, Retrieval):
            raise TypeError(
                f"retrieval must be a Retrieval from datacentric.retrieve, got {type(retrieval).__name__}"
            )
        if retrieval is None and (examples is None) == (latents is None):
            raise ValueError(
                "give a Retrieval, or query by examples=[doc ids] or latents=[latent ids] (exactly one)"
            )
        if retrieval is not None:  # its k and temperature; re-runs rank its latents unless examples= is given
            if latents is None and examples is None:
                latents = [int(i) for i in retrieval.latents]
            k = len(retrieval.docs) if k is None else k
            w = retrieval.weights
            if temperature is None and len(w) > 1 and 0 < w[1] < 1:  # w_1 = exp(-1 / (n T))
                temperature = -1.0 / (len(w) * math.log(w[1]))
        texts = emb.texts if texts is None else list(texts)
        if texts is None and activations is not None:
            texts = getattr(activations, "texts", None)
        if texts is None or len(texts) != emb.n_docs:
            raise ValueError(
                f"RetrievalBox shows document text: pass texts= (one per document, {emb.n_docs}), or "
                "embeddings / activations that carry them"
            )
        self._emb, self._texts_all, self._max_chars = emb, list(texts), int(max_chars)
        self._examples = None if examples is None else [int(i) for i in examples]
        self._query_latents = None if latents is None else [int(i) for i in latents]
        self._n_latents = int(n_latents)
        self._scale = percentile_scale(emb)  # [d_sae], reused by every re-run
        self._tok = _token_source(emb, sae, activations, tokenizer, tokens)
        self.retrieval: Retrieval | None = None
        query = (
            f"by example: documents {', '.join(map(str, self._examples[:12]))}"
            f"{' …' if len(self._examples) > 12 else ''} (the latents they share)"
            if self._examples is not None
            else "by latents"
        )
        super().__init__(
            k=10 if k is None else k,
            temperature=0.2 if temperature is None else float(temperature),
            _d_sae=emb.d_sae,
            _labels=check_labels(labels, emb.d_sae),
            _query=query,
            **kwargs,
        )
        self._show(retrieval if retrieval is not None else self._run())

    # ---------------------------------------------------------------- re-running in Python

    @traitlets.validate("k")
    def _check_k(self, proposal):
        k = proposal["value"]
        if not 1 <= k <= MAX_K:
            raise traitlets.TraitError(f"k must be in [1, {MAX_K}], got {k}")
        return k

    @traitlets.validate("temperature")
    def _check_temperature(self, proposal):
        t = proposal["value"]
        if not (math.isfinite(t) and t > 0):
            raise traitlets.TraitError(f"temperature must be > 0 (the paper's best is 0.2), got {t}")
        return t

    @traitlets.validate("selected_latent")
    def _check_selected(self, proposal):
        return check_latent(proposal["value"], self._d_sae)

    @traitlets.observe("k", "temperature")
    def _rerun(self, change):
        if getattr(self, "_emb", None) is None or self.retrieval is None:
            return  # still in __init__
        try:
            self._show(self._run())
        except Exception as e:  # shown in the widget: errors in observers are otherwise swallowed
            self._status = f"Could not re-run the retrieval: {e}"

    def _run(self) -> Retrieval:
        return retrieve(
            self._emb,
            examples=self._examples,
            latents=self._query_latents,
            k=self.k,
            n_latents=self._n_latents,
            temperature=self.temperature,
            scale=self._scale,
        )

    def _show(self, r: Retrieval) -> None:
        self.retrieval = r
        docs = np.asarray(r.docs, np.int64)
        tok = self._token_highlights(docs, r.latents, r.weights) if self._tok is not None else {}
        with self.hold_sync():
            self._latents, self._weights = r.latents, r.weights
            self._docs, self._scores, self._contrib = docs, r.scores, np.asarray(r.contributions, np.float32)
            self._texts = [excerpt(self._texts_all[d], self._max_chars) for d in docs]
            self._tok_offsets = tok.get("offsets")
            self._tok_strings = tok.get("strings", [])
            self._tok_contrib = tok.get("contrib")
            self._status = ""

    def _token_highlights(self, docs: np.ndarray, latents, weights) -> dict:
        """Per-token contributions w_r a_r / p90_r [T, n] of the shown documents (their rows only)."""
        sae, acts, strings_of = self._tok
        doc_ids = np.asarray(acts.doc_ids)
        rows = [np.flatnonzero(doc_ids == d)[:MAX_DOC_TOKENS] for d in docs]
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int32)
        allrows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        lat = np.asarray(latents, np.int64)
        a = (
            features.latent_activations(sae, acts.acts[allrows], lat)
            if len(allrows)
            else np.zeros((0, len(lat)))
        )  # [T, n]
        contrib = (a / self._scale[lat] * np.asarray(weights)).astype(np.float32)  # [T, n]
        return {"offsets": offsets, "strings": strings_of(allrows), "contrib": contrib}

    # ---------------------------------------------------------------- views

    @property
    def docs(self) -> list[int]:
        return [int(d) for d in self._docs]

    def token_scores(self, doc: int) -> tuple[list[str], np.ndarray]:
        """(token strings, weighted score per token) of a shown document; needs the token highlights."""
        if self._tok_offsets is None:
            raise ValueError("no token highlights: build the box with sae=, activations= and tokenizer=")
        j = self.docs.index(int(doc))
        o = self._tok_offsets
        return self._tok_strings[o[j] : o[j + 1]], self._tok_contrib[o[j] : o[j + 1]].sum(1)

    def _summary(self) -> str:
        top = ", ".join(f"{d} ({s:.2f})" for d, s in zip(self.docs[:3], self._scores[:3]))
        return (
            f"RetrievalBox({len(self._latents)} query latents, T={self.temperature:g}, k={self.k}: {top}"
            f"{' …' if self.k > 3 else ''})"
        )

    def _png(self) -> bytes | None:
        return bar_rows_png(
            self._scores,
            [f"doc {d}" for d in self.docs],
            [excerpt(t, 90) for t in self._texts],
            f"score: Σ w_r a_r / p90_r over {len(self._latents)} query latents (T = {self.temperature:g})",
            color=color(1),
            width=7.2,
            row_height=0.42,
        )


def _token_source(emb: DocEmbeddings, sae, activations, tokenizer, tokens):
    """(sae, activations, rows -> token strings) for highlights, or None when the SAE or activations are missing."""
    if sae is None and activations is None:
        return None
    if sae is None or activations is None:
        raise ValueError(
            "token highlights need both sae= and activations= (the ActivationSet the embeddings "
            "were pooled from); give neither for plain text"
        )
    if not hasattr(activations, "acts") or not hasattr(activations, "doc_ids"):
        raise TypeError("activations must be an ActivationSet from harvest(...): its rows carry doc_ids")
    if emb.sae_id and sae_fingerprint(sae) != emb.sae_id:
        raise ValueError("this SAE is not the one the embeddings were made with (sae_fingerprint differs)")
    n_rows = len(activations.acts)
    if len(activations.doc_ids) and int(activations.doc_ids.max()) >= emb.n_docs:
        raise ValueError(
            f"the activations hold documents up to {int(activations.doc_ids.max())}, the embeddings "
            f"only {emb.n_docs}: pass the ActivationSet the embeddings were pooled from"
        )
    if tokens is not None:
        tokens = list(tokens)
        if len(tokens) != n_rows:
            raise ValueError(f"{len(tokens)} token strings for {n_rows} activation rows")
        return sae, activations, lambda rows: [str(tokens[i]) for i in rows]
    tok = getattr(tokenizer, "tokenizer", tokenizer)  # a model carries its tokenizer
    if tok is None or not hasattr(tok, "decode"):
        raise ValueError(
            "token highlights need tokenizer= (or the model) or tokens= (one string per activation row)"
        )
    readable: list[
        list[str]
    ] = []  # every row's display string, computed on first use (re-tokenizes the texts)

    def strings(rows):
        if not readable:  # WordPiece / SentencePiece pieces read as the text they cover, not "##s"
            readable.append(features.readable_tokens(tok, activations))
        return [readable[0][i] for i in rows]

    return sae, activations, strings
