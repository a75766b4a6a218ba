import pytest

from saewidgets.steering import compare
from saewidgets.widgets.steering_panel import SteeringPanel

LAST = "blocks.3.hook_resid_post"


def test_sliders_regenerate_and_the_latest_value_wins(model, sea_sae):
    panel = SteeringPanel(model, sea_sae, LAST, [0, 3], labels=["sea", "other"], max_new_tokens=16, seed=2)
    assert panel.steered == panel.unsteered and panel.generations == 1 and not panel.busy
    for s in (1.0, 5.0, 12.0):  # three quick moves: each regenerates with the values current when it runs
        panel.strengths = [s, 0.0]
    assert panel.generations == 4
    expected = compare(
        model,
        "Once upon a time",
        sae=sea_sae,
        hook=LAST,
        strengths={0: 12.0},
        max_new_tokens=16,
        temperature=0.8,
        seed=2,
    )
    assert (panel.unsteered, panel.steered) == expected
    assert panel.steered.count(" sea") > 5
    panel.mode = "clamp"
    assert panel.generations == 5
    assert "SteeringPanel(clamp" in panel._repr_mimebundle_()[0]["text/plain"]


def test_grid_for_the_offline_page(model, sea_sae, tmp_path):
    panel = SteeringPanel(model, sea_sae, LAST, [0], max_new_tokens=8)
    grid = panel.precompute_grid((0.0, 12.0))
    assert grid["values"] == [0.0, 12.0] and grid["texts"][0][0] == grid["unsteered"]
    assert grid["texts"][0][1] != grid["unsteered"]
    path = panel.to_html(tmp_path / "steer.html", grid=(0.0, 12.0))
    assert "saew-state" in path.read_text() and panel._grid == grid


def test_bad_input(model, sea_sae):
    with pytest.raises(ValueError, match="at least one latent"):
        SteeringPanel(model, sea_sae, LAST, [])
    with pytest.raises(ValueError, match="2 labels for 1 latents"):
        SteeringPanel(model, sea_sae, LAST, [0], labels=["a", "b"])
    with pytest.raises(ValueError, match="out of range"):
        SteeringPanel(model, sea_sae, LAST, [99]).strengths = [1.0]


def test_latents_checked_in_the_constructor(model, sea_sae):
    with pytest.raises(ValueError, match="latent 99 is out of range: this SAE has 8 latents"):
        SteeringPanel(model, sea_sae, LAST, [99], max_new_tokens=2)  # used to pass until a strength was set
    with pytest.raises(ValueError, match="latent -1 is out of range"):
        SteeringPanel(model, sea_sae, LAST, [0, -1], max_new_tokens=2)
    with pytest.raises(TypeError, match="got 2.5"):
        SteeringPanel(model, sea_sae, LAST, [2.5], max_new_tokens=2)
    import numpy as np

    assert SteeringPanel(model, sea_sae, LAST, [np.int64(3)], max_new_tokens=2).latents == [3]


def test_a_hook_other_than_the_saes_is_flagged(model):
    import saewidgets as sw

    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    sae.hook_name = "blocks.1.hook_resid_post"  # as load_sae records it
    with pytest.warns(
        UserWarning,
        match=r"SteeringPanel: this SAE was trained on activations at "
        r"'blocks.1.hook_resid_post' .* used at 'blocks.3.hook_resid_post'.*"
        r"Pass hook='blocks.1.hook_resid_post'",
    ):
        SteeringPanel(model, sae, LAST, [0], max_new_tokens=2)
