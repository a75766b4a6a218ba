"""User text in every widget's static picture (the matplotlib fallback): drawn as written, never a traceback.

A label, title, name or document holding ``$$``, ``$5 and $10`` or an unknown backslash command used to make
matplotlib's mathtext raise, so the notebook showed a ValueError and the widget's object repr instead of the
widget; CJK or emoji printed one "Glyph ... missing from font" warning per character above it.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from displayed import displayed, static_png
from matplotlib.figure import Figure

from saewidgets import datacentric as dc
from saewidgets.activation_set import ActivationSet

MONEY = "$5 and $10"
HOSTILE = [
    MONEY,
    "$$",
    r"\unknowncommand{x} and \frac{1}",
    "a_b^c {braces} 50% #hash & ~tilde",
    "abc\u202edef\u202c (RTL override)",
    "e\u0301\u0308 a\u0336 (combining)",
    "🙂👍🏽 emoji",
    "漢字 かな 한국어",
    "x" * 10_000,
]


@pytest.fixture
def drawn(monkeypatch):
    """Every Text of every figure saved while the test runs: (its string, whether mathtext would parse it)."""
    texts: list[tuple[str, bool]] = []
    savefig = Figure.savefig

    def recording(fig, *args, **kwargs):
        out = savefig(fig, *args, **kwargs)
        from matplotlib.text import Text

        texts.extend((t.get_text(), t.get_parse_math()) for t in fig.findobj(Text))
        return out

    monkeypatch.setattr(Figure, "savefig", recording)
    return texts


def make_emb(dense, texts=None) -> dc.DocEmbeddings:
    dense = np.asarray(dense, np.float32)
    return dc.DocEmbeddings(sp.csr_matrix(dense), "max", "h", "m", "s", np.full(len(dense), 10), texts)


def hostile_widgets():
    """Every widget with a static picture, each given the hostile strings wherever it takes user text."""
    from saewidgets import SAEConfig, build_sae
    from saewidgets.widgets import (
        ClusterBrowser,
        DiffBars,
        FeatureActivations,
        FrontierPlot,
        NPMIScatter,
        RetrievalBox,
        TrainingMonitor,
    )

    rng = np.random.default_rng(0)
    n = len(HOSTILE)
    target, other = (rng.random((60, 12)) < 0.2).astype(np.float32), (rng.random((60, 12)) < 0.2)
    target[:, :n] = 1  # every labelled latent is among the rows shown
    diff = dc.diff(make_emb(target), make_emb(other.astype(np.float32)), n_permutations=10)
    labels = {i: s for i, s in enumerate(HOSTILE)}
    yield DiffBars(diff, names=[MONEY, HOSTILE[1]], labels=labels, n=n)

    x = (rng.random((80, 12)) < 0.3).astype(np.float32)
    r = dc.npmi(x, min_count=3)
    sae = type("Dec", (), {"W_dec": torch.randn(12, 16)})()
    yield NPMIScatter(r, dc.decoder_similarity(sae, r), labels=labels, title=MONEY)

    docs = (rng.random((2 * n, 10)) < 0.3).astype(np.float32)
    docs[:n, :3], docs[n:, 3:6] = 1, 1
    emb = make_emb(docs, HOSTILE + HOSTILE[::-1])
    yield ClusterBrowser(emb, dc.cluster(emb, 2), labels=labels)
    yield RetrievalBox(emb, examples=[1, 2], k=2 * n - 2)

    points = [
        {"architecture": arch, "l0": 2.0 ** (i + 1 + j), "fvu": 0.5 / (i + 1 + j), "name": arch}
        for i, arch in enumerate(HOSTILE)
        for j in range(2)
    ]
    yield FrontierPlot(points, title=MONEY)

    mon = TrainingMonitor(min_interval=0.0, labels=HOSTILE[:3], title=MONEY)
    for sae_i in range(3):
        for step in (10, 20, 30):
            mon.update({"sae": sae_i, "step": step, "l0": 5.0 + step, "fvu": 1 / step, "dead_frac": 0.1})
    mon.finish()
    yield mon

    torch.manual_seed(0)
    fa_sae = build_sae(SAEConfig("relu", d_in=8, d_sae=30))
    m = 4 * n
    acts = ActivationSet(
        torch.randn(m, 8),
        torch.zeros(m, dtype=torch.long),
        torch.arange(m) // n,
        torch.arange(m) % n + 1,
        "h",
        "m",
        1.0,
        [f"doc {i}" for i in range(4)],
    )
    yield FeatureActivations.from_activations(fa_sae, acts, HOSTILE * 4, n_latents=4)


@pytest.mark.parametrize("widget", list(hostile_widgets()), ids=lambda w: type(w).__name__)
def test_hostile_text_draws_literally_without_warnings(widget, drawn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        live, static = displayed(widget)
    assert "no static picture" not in live.data["text/plain"] + static.data["text/html"]
    assert static_png(widget)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [str(w.message) for w in caught], [str(w.message)[:200] for w in caught][:3]
    assert drawn, "no figure was drawn"
    with_dollars = [(s, parse) for s, parse in drawn if "$" in s]
    # ClusterBrowser's picture draws cluster sizes and latent ids only: no user text reaches it
    assert with_dollars or type(widget).__name__ == "ClusterBrowser", "the hostile text never reached it"
    assert not [s for s, parse in with_dollars if parse], "text with $ would be set as math"


def test_the_fallback_draws_text_as_written(drawn):
    from saewidgets.widgets.frontier_plot import frontier_png

    # called directly (the demo report does), outside any widget repr: still literal
    png = frontier_png([{"architecture": MONEY, "l0": 4.0, "fvu": 0.2}], title="$$ \\nope")
    assert png[:4] == b"\x89PNG"
    strings = {s for s, _ in drawn}
    assert MONEY in strings and "$$ \\nope" in strings
    assert not [s for s, parse in drawn if parse and "$" in s]


def test_a_picture_that_fails_costs_the_picture_not_the_widget():
    from saewidgets.widgets import FrontierPlot

    class Broken(FrontierPlot):
        def _png(self):
            raise ValueError("cannot draw this")

    w = Broken([{"architecture": "relu", "l0": 4.0, "fvu": 0.2}])
    live, static = displayed(w)
    assert "application/vnd.jupyter.widget-view+json" in live.data
    assert live.data["text/plain"].startswith("FrontierPlot(")
    # the static view says why it has no picture instead
    assert "<img" not in static.data["text/html"]
    assert (
        "FrontierPlot(" in static.data["text/html"]
        and "ValueError: cannot draw this" in static.data["text/html"]
    )


def test_the_widgets_page_counts_and_names_every_widget():
    import re
    from pathlib import Path

    from saewidgets import widgets

    names = [n for n in widgets.__all__ if n[0].isupper()]
    page = (Path(__file__).resolve().parent.parent / "docs" / "widgets.md").read_text()
    words = {4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine", 10: "Ten"}
    assert page.split("\n\n")[1].startswith(f"{words[len(names)]} anywidget components")
    assert [n for n in names if not re.search(rf"^- \*\*{n}\*\* — ", page, re.M)] == []


def test_a_steering_panel_cell_prints_no_warnings(model, sea_sae):
    """A SteeringPanel cell and a slider move print nothing above the widget (the bridge's KV-cache call
    passes an argument transformers deprecates with a FutureWarning: ``generation._cached_forward``)."""
    from saewidgets.widgets.steering_panel import SteeringPanel

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = SteeringPanel(model, sea_sae, "blocks.3.hook_resid_post", [0], max_new_tokens=6, seed=1)
        panel.strengths = [4.0]
        panel._repr_mimebundle_()
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
