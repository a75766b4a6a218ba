"""FeatureActivations: one SAE latent over real text -- coloured tokens, examples, histogram, logit effects.

Thin: the numbers come from ``saewidgets.features``; this class only packs them into traits. Data for a
set of candidate latents (the top latents in the text plus the one asked for) is precomputed, so the
offline page (``to_html``) can switch between them without a kernel. With a kernel, choosing any other
latent computes it in Python and appends it to the candidates; typing a prompt runs the model + SAE.

    w = FeatureActivations.from_sae(sae, model, corpus[:8], "blocks.1.hook_resid_post")
    w.latent = 12          # or pick it in the widget
    w.to_html("latent.html")
"""

from __future__ import annotations

import warnings

import numpy as np
import traitlets

from .. import features
from ..token_text import vocab_piece
from ._base import Array, SaeWidget, static_text
from ._fallback import figure_png, new_figure

_PANEL_ARRAYS = ("examples", "band_edges", "hist_edges", "hist_counts", "stats", "logit_vals")


class FeatureActivations(SaeWidget):
    """Tokens coloured by one latent's activation, with its top and quantile examples, activation
    histogram, density and logit effects; a picker to switch latents and a prompt box (kernel only)."""

    _esm = static_text("common.js", "feature_activations_panels.js", "feature_activations.js")
    _css = static_text("base.css", "feature_activations.css")

    latent = traitlets.Int(0).tag(sync=True)
    """The latent shown (settable from Python and from the picker)."""
    prompt = traitlets.Unicode("").tag(sync=True)
    """Text for the prompt-centric view (runs the model + SAE in Python when set)."""

    _d_sae = traitlets.Int(0).tag(sync=True)
    _n_docs = traitlets.Int(0).tag(sync=True)
    _page_size = traitlets.Int(2000).tag(sync=True)
    _n_top = traitlets.Int(10).tag(sync=True)  # examples[:, :n_top] are top-k, the rest quantile bands
    _n_bands = traitlets.Int(4).tag(sync=True)
    _vocab = traitlets.List(traitlets.Unicode()).tag(sync=True)  # distinct token strings; arrays index it
    _tok = Array()  # [n] int32 index into _vocab
    _doc = Array()  # [n] int32 document of each row
    _pos = Array()  # [n] int32 position in BOS + document
    _top_ids = Array()  # [n, 5] int32 top latents at each token (-1: none)
    _top_vals = Array()  # [n, 5] float32
    _latents = Array()  # [c] int32 candidate latents (the ones precomputed)
    _act_offsets = Array()  # [c + 1] int32 sparse activations of candidate j: rows/values[o[j]:o[j+1]]
    _act_rows = Array()  # [nnz] int32
    _act_values = Array()  # [nnz] float32
    _examples = Array()  # [c, n_top + n_bands * per_band, 3] int32 (start, stop, center) rows; -1 pads
    _band_edges = Array()  # [c, n_bands + 1] float32
    _hist_edges = Array()  # [c, bins + 1] float32
    _hist_counts = Array()  # [c, bins] int32
    _stats = Array()  # [c, 5] float32 density, max, mean, mean_nonzero, n_nonzero
    _logit_ids = Array()  # [c, 2, k] int32 index into _vocab (row 0 promoted, 1 suppressed)
    _logit_vals = Array()  # [c, 2, k] float32
    _prompt_tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _prompt_top_ids = Array()  # [m, 5] int32
    _prompt_top_vals = Array()  # [m, 5] float32
    _prompt_acts = Array()  # [c, m] float32 each candidate's activation on the prompt
    _status = traitlets.Unicode("").tag(sync=True)  # a message from Python (errors, "computing")
    _has_model = traitlets.Bool(False).tag(sync=True)  # built from a model: the prompt box is shown
    _logits_note = traitlets.Unicode("").tag(sync=True)  # why there are no logit effects (an encoder)
    _note = traitlets.Unicode("").tag(sync=True)  # what from_sae left out (its max_tokens cap)
    _prompt_note = traitlets.Unicode("").tag(sync=True)  # what the prompt view left out (the context)

    _html_private = (
        "_d_sae",
        "_n_docs",
        "_page_size",
        "_n_top",
        "_n_bands",
        "_vocab",
        "_tok",
        "_doc",
        "_pos",
        "_top_ids",
        "_top_vals",
        "_latents",
        "_act_offsets",
        "_act_rows",
        "_act_values",
        "_examples",
        "_band_edges",
        "_hist_edges",
        "_hist_counts",
        "_stats",
        "_logit_ids",
        "_logit_vals",
        "_prompt_tokens",
        "_prompt_top_ids",
        "_prompt_top_vals",
        "_prompt_acts",
        "_status",
        "_has_model",
        "_logits_note",
        "_note",
        "_prompt_note",
    )

    def __init__(self, **kwargs):
        self._ctx: dict | None = None  # sae, activations, W_U, decode, model, hook, panel kwargs
        self._prompt_dense = None
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_sae(
        cls,
        sae,
        model,
        texts,
        hook: str | None = None,
        latent: int | None = None,
        n_latents: int = 32,
        max_tokens: int | None = features.MAX_TOKENS,
        tokenizer=None,
        **panel_kwargs,
    ) -> FeatureActivations:
        """Harvest ``texts`` (strings, a corpus or an ActivationSet) at ``hook``, encode with ``sae`` and
        precompute ``latent`` plus the top ``n_latents`` latents in the text. ``model`` is one from
        ``load_model`` or a plain Hugging Face module (then ``tokenizer=`` too, and a module path as ``hook``).
        A model without a next-token head (an encoder) gets no logit effects: the widget says why instead."""
        from ..models import why_no_logits

        hook = hook or getattr(texts, "hook", None) or features.sae_hook(sae)
        if hook is None:
            raise ValueError("from_sae needs hook=... (the hook site the SAE reads)")
        tok = features.model_tokenizer(model, tokenizer)
        acts = features.as_activation_set(model, texts, hook, max_tokens, tokenizer=tok)
        features.check_sae_hook(sae, getattr(acts, "hook", None) or hook, "FeatureActivations")
        if max_tokens is not None and len(acts) > max_tokens:
            acts = acts.head(max_tokens)
        note = _cap_note(texts, acts, max_tokens)
        if note:
            warnings.warn(f"FeatureActivations: {note}", stacklevel=2)
        tokens = features.readable_tokens(tok, acts)
        W_U = features.unembedding(model)
        w = cls.from_activations(
            sae,
            acts,
            tokens,
            W_U=W_U,
            decode=(lambda i: vocab_piece(tok, i)) if W_U is not None else None,
            latent=latent,
            n_latents=n_latents,
            **panel_kwargs,
        )
        w._ctx.update(model=model, hook=hook, tokenizer=tok)
        w._note = note
        w._has_model = True
        if why_no_logits(model) is not None:  # the full reason: saewidgets.models.why_no_logits(model)
            w._logits_note = "this model has no next-token head (an encoder, or a model loaded without one)"
        return w

    @classmethod
    def from_activations(
        cls,
        sae,
        activations,
        tokens,
        W_U=None,
        decode=None,
        latent: int | None = None,
        n_latents: int = 32,
        page_size: int = 2000,
        **panel_kwargs,
    ) -> FeatureActivations:
        """From an ActivationSet-like object (``.acts``, ``.doc_ids``, ``.positions``) and one token string
        per row; ``W_U`` [d_in, vocab] and ``decode`` (id -> string) add the logit effects."""
        if len(tokens) != len(activations.acts):
            raise ValueError(f"{len(tokens)} token strings for {len(activations.acts)} activation rows")
        d_sae = int(sae.W_dec.shape[0])
        if latent is not None:
            latent = features.latent_id(latent, d_sae)  # 3.7 is refused, not truncated; -1 does not wrap
        s = features.scan(sae, activations)
        cands = features.candidate_latents(s["max"], latent, n_latents)
        panel_kwargs.setdefault("k_top", 10)
        panel_kwargs.setdefault("n_bands", 4)
        p = features.latent_panels(
            sae, activations, cands, W_U=W_U if decode is not None else None, **panel_kwargs
        )
        vocab, tok, logit_idx = features.decode_table(tokens, decode, p.get("logit_ids", np.zeros(0)))
        doc = np.asarray(activations.doc_ids)
        w = cls(
            latent=int(cands[0]),
            _d_sae=d_sae,
            _n_docs=int(len(np.unique(doc))),
            _page_size=page_size,
            _n_top=panel_kwargs["k_top"],
            _n_bands=panel_kwargs["n_bands"],
            _vocab=vocab,
            _tok=tok,
            _doc=doc.astype(np.int32),
            _pos=np.asarray(activations.positions).astype(np.int32),
            _top_ids=s["top_ids"],
            _top_vals=s["top_vals"],
            **_panel_traits(p, logit_idx),
        )
        w._ctx = {"sae": sae, "acts": activations, "W_U": W_U, "decode": decode, "panel": panel_kwargs}
        return w

    # ---------------------------------------------------------------- kernel-side interactions

    @traitlets.validate("latent")
    def _check_latent(self, proposal):
        value = proposal["value"]
        if self._d_sae and not 0 <= value < self._d_sae:
            raise traitlets.TraitError(f"latent must be in [0, {self._d_sae}), got {value}")
        return value

    @traitlets.observe("latent")
    def _on_latent(self, change):
        if change["new"] in self.candidates:
            return
        if self._ctx is None:
            self._status = (
                f"Latent {change['new']} was not precomputed and this widget has no SAE to compute it."
            )
            return
        try:
            self.add_latents([change["new"]])
        except Exception as e:  # shown in the widget: errors in observers are otherwise swallowed
            self._status = f"Could not compute latent {change['new']}: {e}"

    @property
    def candidates(self) -> list[int]:
        """The latents whose data the widget holds (switchable offline)."""
        return [] if self._latents is None else [int(i) for i in self._latents]

    def add_latents(self, latents) -> None:
        """Compute and append data for more latents (needs the SAE this widget was built from)."""
        ctx = self._ctx
        new = [int(i) for i in latents if int(i) not in self.candidates]
        if not new:
            return
        p = features.latent_panels(
            ctx["sae"], ctx["acts"], new, W_U=ctx["W_U"] if ctx["decode"] else None, **ctx["panel"]
        )
        vocab_map = {t: i for i, t in enumerate(self._vocab)}
        vocab = list(self._vocab)
        logit_idx = np.fromiter(
            (
                vocab_map.setdefault(s, len(vocab_map))
                for s in (ctx["decode"](int(i)) for i in p.get("logit_ids", np.zeros(0)).reshape(-1))
            ),
            np.int32,
        )
        vocab.extend(list(vocab_map)[len(vocab) :])
        old = {
            name: getattr(self, "_" + name)
            for name in (*_PANEL_ARRAYS, "logit_ids", "act_rows", "act_values")
        }
        new_t = _panel_traits(p, logit_idx)
        with self.hold_sync():
            self._vocab = vocab
            for name in _PANEL_ARRAYS + ("logit_ids", "act_rows", "act_values"):
                if old[name] is not None and new_t.get("_" + name) is not None:
                    setattr(self, "_" + name, np.concatenate([old[name], new_t["_" + name]]))
            self._act_offsets = np.concatenate(
                [self._act_offsets, self._act_offsets[-1] + p["act_offsets"][1:]]
            )
            if self._prompt_dense is not None:
                self._prompt_acts = np.concatenate([self._prompt_acts, self._prompt_dense[:, new].T])
            self._latents = np.concatenate([self._latents, p["latents"]])
            self._status = ""

    def _on_msg(self, widget, content, buffers):
        if isinstance(content, dict) and content.get("type") == "prompt":
            self.prompt = str(content.get("text", ""))

    @traitlets.observe("prompt")
    def _on_prompt(self, change):
        text = change["new"]
        if not text.strip():
            self._prompt_tokens, self._prompt_dense = [], None
            return
        if self._ctx is None or "model" not in self._ctx:
            self._status = "The prompt view needs a widget built with FeatureActivations.from_sae(...)."
            return
        ctx = self._ctx
        try:
            out = features.prompt_features(
                ctx["sae"],
                ctx["model"],
                ctx["hook"],
                text,
                latents=range(self._d_sae),
                tokenizer=ctx.get("tokenizer"),
            )
            self._prompt_dense = out["acts"].T  # [m, d_sae]: a prompt is short
        except Exception as e:
            self._status = f"Could not run the prompt: {e}"
            return
        n_all = _n_tokens(ctx.get("tokenizer"), text)
        shown = len(out["tokens"])
        note = ""
        if n_all > shown:
            note = (
                f"showing the first {shown:,} of {n_all:,} tokens (the model's context); split the text to see "
                "the rest"
            )
            # (harvest has warned in Python that the text was truncated)
        with self.hold_sync():
            self._prompt_note = note
            self._prompt_top_ids, self._prompt_top_vals = out["top_ids"], out["top_vals"]
            self._prompt_acts = self._prompt_dense[:, self.candidates].T.copy()  # [c, m]
            self._prompt_tokens = list(out["tokens"])
            self._status = ""

    # ---------------------------------------------------------------- static views

    def _index(self) -> int:
        c = self.candidates
        return c.index(self.latent) if self.latent in c else 0

    def column(self, latent: int | None = None) -> np.ndarray:
        """Dense activations [n] of a precomputed latent over the token table."""
        j = self.candidates.index(self.latent if latent is None else latent)
        o = self._act_offsets
        col = np.zeros(len(self._tok), np.float32)
        col[self._act_rows[o[j] : o[j + 1]]] = self._act_values[o[j] : o[j + 1]]
        return col

    def _summary(self) -> str:
        if self._stats is None or not self.candidates:
            return "FeatureActivations(empty)"
        st = self._stats[self._index()]
        return (
            f"FeatureActivations(latent {self.latent}: density {st[0]:.3f}, max {st[1]:.2f}; "
            f"{self._n_docs:,} documents, {len(self._tok):,} tokens)"
        )

    def _png(self) -> bytes | None:
        if self._stats is None or not self.candidates:
            return None
        j = self._index()
        col, st = self.column(self.candidates[j]), self._stats[j]
        fig = new_figure(figsize=(8, 3.2))
        ax_t, ax_h = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.4]})
        ax_t.set_axis_off()
        ex = self._examples[j, 0]
        scale = float(st[1]) or 1.0
        if ex[0] >= 0:
            renderer = fig.canvas.get_renderer()
            x = 0.0
            for r in range(int(ex[0]), int(ex[1])):
                t = self._vocab[int(self._tok[r])].replace("\n", "\u21b5")
                a = min(1.0, max(0.0, col[r] / scale))
                txt = ax_t.text(
                    x,
                    0.5,
                    t,
                    family="monospace",
                    fontsize=9,
                    va="center",
                    transform=ax_t.transAxes,
                    bbox={"facecolor": (1, 0.55, 0, 0.85 * a), "edgecolor": "none", "pad": 1},
                )
                x += txt.get_window_extent(renderer).width / ax_t.get_window_extent(renderer).width
                if x > 0.98:
                    break
        ax_t.set_title(
            f"latent {self.latent}: top example (max {st[1]:.2f}, density {st[0]:.4f})", fontsize=9
        )
        edges, counts = self._hist_edges[j], self._hist_counts[j]
        ax_h.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="darkorange")
        ax_h.set_xlabel("non-zero activation", fontsize=8)
        ax_h.set_ylabel("tokens", fontsize=8)
        ax_h.tick_params(labelsize=7)
        return figure_png(fig, dpi=80)


def _n_tokens(tokenizer, text: str) -> int:
    """Tokens in ``text`` without special tokens (0 if it cannot be counted)."""
    try:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    except Exception:
        return 0


def _cap_note(texts, acts, max_tokens) -> str:
    """What ``from_sae``'s ``max_tokens`` left out of ``texts``, in words ("" if nothing)."""
    if max_tokens is None or len(acts) < max_tokens or hasattr(texts, "acts"):
        return ""
    n_texts = len(getattr(texts, "texts", texts)) if hasattr(texts, "__len__") else None
    n_docs = len(np.unique(np.asarray(acts.doc_ids)))
    if n_texts is not None and n_docs >= n_texts:
        return ""  # every document is there (the last one whole or not: harvest warns about that)
    of = f" ({n_docs:,} of {n_texts:,} documents)" if n_texts is not None else ""
    return f"showing the first {len(acts):,} tokens{of}: pass a larger max_tokens (None: all) to see more"


def _panel_traits(p: dict, logit_idx: np.ndarray) -> dict:
    out = {
        "_" + k: p[k] for k in ("latents", "act_offsets", "act_rows", "act_values", *_PANEL_ARRAYS) if k in p
    }
    if "logit_ids" in p:
        out["_logit_ids"] = logit_idx.reshape(p["logit_ids"].shape).astype(np.int32)
    else:  # no unembedding: empty [c, 2, 0]
        c = len(p["latents"])
        out["_logit_ids"], out["_logit_vals"] = np.zeros((c, 2, 0), np.int32), np.zeros((c, 2, 0), np.float32)
    return out
