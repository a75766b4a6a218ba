"""DiffBars: which latents fire in more of one corpus's documents than of the others' (``datacentric.diff``).

One row per latent: a signed bar for the difference in document share (target minus the largest other
share, Jiang et al. 2025 §4.1), the two shares as text, and a shaded band of ±``null`` -- the
permutation null of ``diff``: shuffled corpus labels cross it for *any* latent with probability
1 - quantile, so a bar beyond it is a difference noise does not make. Bars inside the band are faded.
Click a row (or Enter on it) to set ``selected_latent``; ``link(feature_activations)`` shows it there.
Given ``sae``, ``activations`` and ``tokenizer`` (or the model), each latent without a label is shown with
the tokens it fires hardest on, so a row says more than a bare id.

    r = datacentric.diff(emb_b, emb_a)
    DiffBars(r, names=["sad stories", "happy stories"], labels={12: "tone=sad"})
    DiffBars(r, sae=sae, activations=acts, tokenizer=model)  # rows read '#12 "rain" "grey" "tears"'
"""

from __future__ import annotations

import numpy as np
import traitlets

from ..datacentric.diff import DiffResult
from ._base import Array, SaeWidget, static_text
from ._fallback import figure_png, new_figure
from ._links import LatentSelection, check_latent
from ._palette import color

MAX_ROWS = 200


def check_labels(labels, d_sae: int) -> dict[str, str]:
    """{latent id: text} -> {"id": text} for JSON; ValueError for ids out of [0, d_sae) (d_sae 0: unknown)."""
    out = {}
    for key, text in dict(labels or {}).items():
        try:
            i = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"labels maps latent ids to text; {key!r} is not a latent id") from None
        if i < 0 or (d_sae and i >= d_sae):
            raise ValueError(f"label for latent {i}, but the latents are 0..{d_sae - 1 if d_sae else 'n'}")
        out[str(i)] = str(text)
    return out


def shown_latents(result: DiffResult, n: int, n_negative: int) -> np.ndarray:
    """The ``n`` largest differences, then the ``n_negative`` most negative ones (if below 0), largest first."""
    top = [int(i) for i in result.order[:n]]
    taken = set(top)
    bottom = [
        int(i) for i in result.order[::-1][:n_negative] if result.difference[i] < 0 and int(i) not in taken
    ]
    return np.asarray(top + bottom[::-1], dtype=np.int64)


def token_labels(sae, activations, tokenizer, ids) -> dict[str, str]:
    """{"latent id": '"tok" "tok" "tok"'}: the tokens each latent fires hardest on (``features.top_tokens``).
    ``tokenizer`` may be the model (it carries its tokenizer)."""
    from .. import features

    tok = getattr(tokenizer, "tokenizer", None) or tokenizer
    tops = features.top_tokens(sae, activations, [int(i) for i in ids], tok)
    return {str(i): " ".join(f"\u201c{t}\u201d" for t in ts) for i, ts in tops.items() if ts}


class DiffBars(LatentSelection, SaeWidget):
    """Signed frequency-difference bars for the top latents of a ``DiffResult``, with the null band."""

    _esm = static_text("common.js", "datacentric.js", "diff_bars.js")
    _css = static_text("base.css", "datacentric.css", "diff_bars.css")

    selected_latent = traitlets.Int(None, allow_none=True).tag(sync=True)
    """The latent clicked last (None: none); ``link(feature_activations)`` forwards it."""
    corpus_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Target first, then the others (as passed to ``diff``)."""
    null = traitlets.Float(0.0).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    _latents = Array()  # [n] int32 latent ids, by difference (largest first)
    _difference = Array()  # [n] float32 target share - largest other share
    _target = Array()  # [n] float32 share of target documents the latent fires in
    _others = Array()  # [n] float32 largest share among the other corpora
    _labels = traitlets.Dict().tag(sync=True)  # {"latent id": label}
    _d_sae = traitlets.Int(0).tag(sync=True)
    _n_significant = traitlets.Int(0).tag(sync=True)  # above the band among *all* latents, not only the shown
    _html_private = ("_latents", "_difference", "_target", "_others", "_labels", "_d_sae", "_n_significant")

    def __init__(
        self,
        result: DiffResult,
        names=None,
        labels=None,
        *,
        n: int = 20,
        n_negative: int = 5,
        sae=None,
        activations=None,
        tokenizer=None,
        **kwargs,
    ):
        if not isinstance(result, DiffResult):
            raise TypeError(
                f"DiffBars needs a DiffResult from datacentric.diff(...), got {type(result).__name__}"
            )
        if not isinstance(n, int) or not isinstance(n_negative, int) or n < 1 or n_negative < 0:
            raise ValueError(
                f"n must be >= 1 and n_negative >= 0 (integers), got n={n!r}, n_negative={n_negative!r}"
            )
        if n + n_negative > MAX_ROWS:
            raise ValueError(f"DiffBars draws at most {MAX_ROWS} rows, asked for {n + n_negative}")
        n_corpora, d_sae = result.frequencies.shape
        if names is None:
            names = ["target"] + (
                ["other"] if n_corpora == 2 else [f"other {i}" for i in range(1, n_corpora)]
            )
        names = [str(s) for s in names]
        if len(names) != n_corpora:
            raise ValueError(
                f"{len(names)} names for {n_corpora} corpora (the target first, then the others)"
            )
        ids = shown_latents(result, n, n_negative)
        labels = check_labels(labels, d_sae)
        if sae is not None and activations is not None and tokenizer is not None:
            labels = {**token_labels(sae, activations, tokenizer, ids), **labels}  # the user's labels win
        super().__init__(
            corpus_names=names,
            null=float(result.null),
            note=result.note,
            _d_sae=d_sae,
            _latents=ids,
            _difference=result.difference[ids],
            _target=result.frequencies[0, ids],
            _others=result.frequencies[1:, ids].max(0),
            _labels=labels,
            _n_significant=int(len(result.significant())),
            **kwargs,
        )

    @traitlets.validate("selected_latent")
    def _check_selected(self, proposal):
        return check_latent(proposal["value"], self._d_sae)

    @property
    def latents(self) -> list[int]:
        """The latents shown, top to bottom."""
        return [int(i) for i in self._latents]

    @property
    def significant(self) -> list[int]:
        """The shown latents whose difference is above the band."""
        return [int(i) for i, d in zip(self._latents, self._difference) if d > self.null]

    def _summary(self) -> str:
        return (
            f"DiffBars({self.corpus_names[0]} vs {', '.join(self.corpus_names[1:])}: {len(self.latents)} latents "
            f"shown, {self._n_significant} above the ±{self.null:.3f} null band, "
            f"selected={self.selected_latent})"
        )

    def _png(self) -> bytes | None:
        d = np.asarray(self._difference, float)
        n = len(d)
        fig = new_figure(figsize=(6.4, 0.6 + 0.22 * n), dpi=100)
        ax = fig.add_subplot()
        y = np.arange(n)
        colors = [color(0) if v > 0 else color(1) for v in d]
        alphas = [1.0 if abs(v) > self.null else 0.35 for v in d]
        for yi, v, c, a in zip(y, d, colors, alphas):
            ax.barh(yi, v, color=c, alpha=a, height=0.7)
        ax.axvspan(
            -self.null, self.null, color="grey", alpha=0.18, lw=0, label=f"permutation null ±{self.null:.3f}"
        )
        ax.axvline(0, color="black", lw=0.8)
        ticks = [f"#{i} {self._labels.get(str(i), '')}".strip()[:28] for i in self.latents]
        ax.set_yticks(y, ticks, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(
            f"share of documents: {self.corpus_names[0]} − {' / '.join(self.corpus_names[1:])}", fontsize=8
        )
        ax.legend(fontsize=7, loc="lower right")
        if self.selected_latent in self.latents:
            k = self.latents.index(self.selected_latent)
            ax.barh(k, d[k], fill=False, edgecolor="black", lw=1.5, height=0.8)
        ax.tick_params(axis="x", labelsize=7)
        return figure_png(fig)
