"""NPMIScatter: which latents fire together, and are they just the same direction? (Jiang et al. 2025 §4.2, Fig. 3)

Each pair of latents is a point: x = cosine similarity of their decoder directions, y = NPMI of their
firing across documents. Pairs up and to the left (NPMI > 0.8, similarity < 0.2: the paper's cut, with
decoder cosine standing in for label similarity offline) are the non-obvious co-occurrences -- two
different properties that come together. Drag a rectangle to select pairs (``selected_pairs``, listed in
a table); click a point to select that pair and its first latent (``selected_latent``).

    r = datacentric.npmi(emb, min_count=5, smoothing=0.5)
    NPMIScatter(r, datacentric.decoder_similarity(sae, r))
"""

from __future__ import annotations

import numpy as np
import traitlets

from ..datacentric.npmi import NPMIResult
from ._base import Array, SaeWidget, static_text
from ._fallback import figure_png, new_figure
from ._links import LatentSelection, check_latent
from ._palette import color
from .diff_bars import check_labels

MAX_POINTS = 5000
"""SVG stays responsive with a few thousand points; the highest-NPMI pairs are the interesting ones."""


class NPMIScatter(LatentSelection, SaeWidget):
    """Latent pairs: decoder cosine similarity (x) against NPMI (y), brush to select, click for one pair."""

    _esm = static_text("common.js", "datacentric.js", "npmi_scatter.js")
    _css = static_text("base.css", "datacentric.css", "npmi_scatter.css")

    selected_pairs = traitlets.List(traitlets.List(traitlets.Int(), minlen=2, maxlen=2)).tag(sync=True)
    """[[x, y], ...] latent ids of the pairs brushed or clicked (each one of the points shown)."""
    selected_latent = traitlets.Int(None, allow_none=True).tag(sync=True)
    """The first latent of the pair clicked last, or a latent clicked in the table."""
    npmi_line = traitlets.Float(0.8, allow_none=True).tag(sync=True)
    similarity_line = traitlets.Float(0.2, allow_none=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    _x = Array()  # [p] int32 first latent of each pair
    _y = Array()  # [p] int32 second latent
    _npmi = Array()  # [p] float32
    _sim = Array()  # [p] float32 decoder-direction cosine similarity
    _co = Array()  # [p] int32 documents where both fire
    _labels = traitlets.Dict().tag(sync=True)
    _d_sae = traitlets.Int(0).tag(sync=True)  # 0: unknown
    _n_pairs = traitlets.Int(0).tag(sync=True)  # pairs before the cap
    _html_private = ("_x", "_y", "_npmi", "_sim", "_co", "_labels", "_d_sae", "_n_pairs")

    def __init__(
        self,
        result: NPMIResult,
        similarity,
        *,
        max_points: int = 2000,
        min_npmi: float = -1.0,
        labels=None,
        d_sae: int = 0,
        **kwargs,
    ):
        if not isinstance(result, NPMIResult):
            raise TypeError(
                f"NPMIScatter needs an NPMIResult from datacentric.npmi(...), got {type(result).__name__}"
            )
        sim = np.asarray(similarity, dtype=np.float32)
        if sim.shape != result.values.shape:
            raise ValueError(
                f"similarity has shape {sim.shape}, the NPMI matrix {result.values.shape}: use "
                "datacentric.decoder_similarity(sae, result)"
            )
        if not isinstance(max_points, int) or not 1 <= max_points <= MAX_POINTS:
            raise ValueError(f"max_points must be an integer in [1, {MAX_POINTS}], got {max_points!r}")
        pairs = result.pairs(min_npmi=min_npmi, similarity=sim)
        if not pairs:
            raise ValueError(f"no pair has NPMI >= {min_npmi}: lower min_npmi")
        d_sae = int(d_sae) or 0
        shown = pairs[:max_points]  # highest NPMI first
        col = lambda key, dt: np.asarray([p[key] for p in shown], dtype=dt)  # noqa: E731
        super().__init__(
            _x=col("x", np.int32),
            _y=col("y", np.int32),
            _npmi=col("npmi", np.float32),
            _sim=col("similarity", np.float32),
            _co=col("co_count", np.int32),
            _d_sae=d_sae,
            _n_pairs=len(pairs),
            _labels=check_labels(labels, d_sae),
            **kwargs,
        )

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self._x.tolist(), self._y.tolist()))

    @traitlets.validate("selected_pairs")
    def _check_pairs(self, proposal):
        known = set(self.pairs)
        out = []
        for pair in proposal["value"]:
            key = (int(pair[0]), int(pair[1]))
            if key not in known:
                raise traitlets.TraitError(f"pair {list(key)} is not one of the points shown")
            out.append(list(key))
        return out

    @traitlets.validate("selected_latent")
    def _check_selected(self, proposal):
        return check_latent(proposal["value"], self._d_sae)

    @property
    def selected(self) -> list[dict]:
        """The selected pairs with their numbers: [{x, y, npmi, similarity, co_count}]."""
        index = {p: i for i, p in enumerate(self.pairs)}
        rows = []
        for x, y in self.selected_pairs:
            i = index[(x, y)]
            rows.append(
                {
                    "x": x,
                    "y": y,
                    "npmi": float(self._npmi[i]),
                    "similarity": float(self._sim[i]),
                    "co_count": int(self._co[i]),
                }
            )
        return rows

    def _summary(self) -> str:
        return (
            f"NPMIScatter({len(self._x)} of {self._n_pairs} pairs, {len(self.selected_pairs)} selected, "
            f"selected_latent={self.selected_latent})"
        )

    def _png(self) -> bytes | None:
        fig = new_figure(figsize=(6.4, 4.2), dpi=100)
        ax = fig.add_subplot()
        ax.scatter(self._sim, self._npmi, s=8, color=color(0), alpha=0.5, lw=0)
        chosen = set(map(tuple, self.selected_pairs))
        sel = [i for i, p in enumerate(self.pairs) if p in chosen]
        if sel:
            ax.scatter(
                self._sim[sel],
                self._npmi[sel],
                s=30,
                facecolors="none",
                edgecolors=color(1),
                lw=1.2,
                label=f"selected ({len(sel)})",
            )
            ax.legend(fontsize=8, loc="lower right")
        if self.npmi_line is not None:
            ax.axhline(self.npmi_line, color="grey", ls="--", lw=0.8)
        if self.similarity_line is not None:
            ax.axvline(self.similarity_line, color="grey", ls="--", lw=0.8)
        ax.set_xlabel("decoder-direction cosine similarity", fontsize=9)
        ax.set_ylabel("NPMI (co-occurrence across documents)", fontsize=9)
        ax.set_title(self.title or f"{len(self._x)} latent pairs, highest NPMI first", fontsize=9)
        ax.grid(True, alpha=0.3)
        return figure_png(fig)
