"""FeatureActivations on a BERT-style encoder in real Chromium: WordPiece tokens read as text (no "##", spaces
between words), no logit-effects table of zeros (one line saying why), and no prompt box without a model."""

import pytest

from saewidgets import SAEConfig, build_sae, load_model
from saewidgets.widgets.feature_activations import FeatureActivations

HOOK = "blocks.1.hook_resid_post"
TEXTS = [
    "Return the base classes (abcs) according to pep 3119.",
    "Once upon a time, a little fox found a shiny stone by the river.",
]


@pytest.fixture(scope="module")
def encoder_page(tiny_checkpoint, tmp_path_factory):
    model = load_model(tiny_checkpoint("bert"), device="cpu")
    sae = build_sae(SAEConfig("topk", d_in=64, d_sae=32, k=4), seed=0)
    w = FeatureActivations.from_sae(sae, model, TEXTS, HOOK, n_latents=8)
    return w, w.to_html(tmp_path_factory.mktemp("fa_bert") / "bert.html")


def test_wordpiece_tokens_render_as_words(encoder_page, page):
    w, path = encoder_page
    p = page()
    bp = p.open(path)
    shown = bp.inner_text(".saew-fa-main .saew-fa-tokens")
    assert "##" not in shown
    # spaces between words, ## pieces glued to their word (the first word may be dropped by older harvests)
    assert "the base classes (abcs) according to pep 3119." in shown
    assert "a little fox found a shiny stone by the river." in shown
    examples = bp.inner_text(".saew-fa-examples")
    assert "##" not in examples
    # an encoder has no next-token head: the section says so instead of listing zeros
    assert bp.locator(".saew-fa-logrow").count() == 0
    assert "no next-token head" in bp.inner_text(".saew-fa-logits")
    assert bp.locator(".saew-fa-promptsec").is_visible()  # built from a model: the prompt box stays
    p.shot("feature_activations_bert")


def test_prompt_box_hidden_without_a_model(encoder_page, page, tmp_path):
    w, _ = encoder_page
    ctx = w._ctx
    bare = FeatureActivations.from_activations(ctx["sae"], ctx["acts"], list(w._vocab[i] for i in w._tok))
    p = page()
    bp = p.open(bare.to_html(tmp_path / "bare.html"))
    assert not bp.locator(".saew-fa-promptsec").is_visible()
    assert not bp.locator(".saew-fa-prompt").is_visible()
    assert "no unembedding given" in bp.inner_text(".saew-fa-logits")
