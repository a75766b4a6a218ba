"""SteeringPanel at scale: the unsteered text cached per prompt/settings, sliders capped with a picker, a bounded
export with progress (issue 16)."""

import pytest
import traitlets

import saewidgets.steering as steering
from saewidgets.widgets.steering_panel import MAX_SLIDERS, SteeringPanel

LAST = "blocks.3.hook_resid_post"


@pytest.fixture
def rows(monkeypatch):
    """Rows of every generation batch run (2: unsteered + steered together, 1: one text)."""
    seen = []
    real = steering.sample

    def counting(model, tokens, **kw):
        seen.append(int(tokens.shape[0]))
        return real(model, tokens, **kw)

    monkeypatch.setattr(steering, "sample", counting)
    return seen


def test_a_slider_move_generates_only_the_steered_text(model, sea_sae, rows):
    panel = SteeringPanel(model, sea_sae, LAST, [0, 3], max_new_tokens=8, seed=2)
    first = panel.unsteered
    rows.clear()
    for s in (1.0, 5.0, 12.0):
        panel.strengths = [s, 0.0]
    assert rows == [1, 1, 1]  # was [2, 2, 2]: the unsteered row regenerated on every move
    assert panel.unsteered == first
    ref = steering.compare(
        model,
        "Once upon a time",
        sae=sea_sae,
        hook=LAST,
        strengths={0: 12.0},
        max_new_tokens=8,
        temperature=0.8,
        seed=2,
    )
    assert (panel.unsteered, panel.steered) == ref
    rows.clear()
    panel.seed = 3  # new settings: both texts are new (one batch of two)
    assert rows == [2]
    panel.seed = 2  # back: cached again
    assert rows == [2, 1] and panel.unsteered == first


def test_many_latents_get_a_capped_set_of_sliders(model, sea_sae):
    import saewidgets as sw

    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=1000))
    panel = SteeringPanel(model, sae, LAST, list(range(1000)), max_new_tokens=2)
    assert len(panel.available) == 1000 and panel.latents == list(range(MAX_SLIDERS)) == list(range(12))
    assert len(panel.labels) == len(panel.strengths) == 12 and panel.max_sliders == 12
    panel.strengths = [2.0] + [0.0] * 11
    n = panel.generations
    panel.latents = [0, 500, 999]  # the picker: kept latent keeps its strength, new ones start at 0
    assert panel.labels == ["latent 0", "latent 500", "latent 999"] and panel.strengths == [2.0, 0.0, 0.0]
    assert panel.generations == n + 1  # one regeneration, not one per trait
    with pytest.raises(traitlets.TraitError, match="at most 12"):
        panel.latents = list(range(13))
    with pytest.raises(traitlets.TraitError, match="not among the 1000 available"):
        panel.latents = [1000]


def test_export_is_bounded_to_the_shown_sliders_with_progress(model, sea_sae, tmp_path, capsys):
    panel = SteeringPanel(model, sea_sae, LAST, list(range(8)), max_new_tokens=2)
    panel.latents = [0, 1]
    path = panel.to_html(tmp_path / "s.html", grid=(0.0, 2.0))
    assert len(panel._grid["texts"]) == 2 and panel._grid["n_available"] == 8
    assert "steering grid" in capsys.readouterr().err  # the tqdm bar
    assert path.exists()
