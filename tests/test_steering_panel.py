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
    expected = compare(model, "Once upon a time", sae=sea_sae, hook=LAST, strengths={0: 12.0},
                       max_new_tokens=16, temperature=0.8, seed=2)
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
