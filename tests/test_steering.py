import pytest
import torch

import saewidgets as sw
from saewidgets.steering import compare, generate, steering_hook, typical_max

LAST = "blocks.3.hook_resid_post"


def test_same_seed_same_text_and_zero_strength_changes_nothing(model, sea_sae):
    a = generate(model, "Once upon a time", max_new_tokens=20, temperature=0.8, seed=3)
    assert a == generate(model, "Once upon a time", max_new_tokens=20, temperature=0.8, seed=3)
    assert a != generate(model, "Once upon a time", max_new_tokens=20, temperature=0.8, seed=4)
    c = compare(
        model,
        "Once upon a time",
        sae=sea_sae,
        hook=LAST,
        strengths={0: 0.0},
        max_new_tokens=20,
        temperature=0.8,
        seed=3,
    )
    assert c.unsteered == c.steered == a


def test_adding_a_direction_steers_the_story(model, sea_sae):
    c = compare(
        model,
        "Once upon a time",
        sae=sea_sae,
        hook=LAST,
        strengths={0: 12.0},
        max_new_tokens=24,
        temperature=0.7,
        seed=1,
    )
    assert c.steered.count(" sea") > c.unsteered.count(" sea") + 5  # far too strong: "sea sea sea ..."


def test_clamp_to_the_current_value_is_the_identity(model, corpus):
    torch.manual_seed(0)
    acts = sw.harvest(model, corpus.texts[:16], "blocks.1.hook_resid_post")
    sae = sw.train(
        sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=64, k=4)),
        acts,
        n_tokens=8192,
        batch_size=512,
        progress=False,
    ).sae
    x = acts.acts[:50].unsqueeze(0)  # [1, 50, d]
    with torch.no_grad():
        current = sae.encode(x[0, 1:])  # [49, d_sae]
        # clamping every latent to what it already is leaves x unchanged (the error term is kept)
        hook = steering_hook(sae, {i: 1.0 for i in range(64)}, mode="clamp", units=torch.ones(64))
        y = hook(x)
    assert y.shape == x.shape and torch.equal(y[:, 0], x[:, 0])  # BOS position untouched
    moved = y[0, 1:] - x[0, 1:]
    expected = (torch.ones(64) - current) @ sae.W_dec
    assert torch.allclose(moved, expected, atol=1e-4)
    units = typical_max(sae, acts)
    assert units.shape == (64,) and (units > 0).all()
    assert torch.allclose(units.max(), sae.encode(acts.acts).max(), rtol=0.05)


def test_bad_input(model, sea_sae):
    with pytest.raises(ValueError, match="mode"):
        steering_hook(sea_sae, {0: 1.0}, mode="multiply")
    with pytest.raises(ValueError, match="out of range .* d_sae=8"):
        steering_hook(sea_sae, {9: 1.0})
    with pytest.raises(ValueError, match="needs sae"):
        generate(model, "Once", strengths={0: 1.0})
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, "Once", max_new_tokens=0)
