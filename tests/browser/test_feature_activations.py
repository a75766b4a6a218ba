"""FeatureActivations in real Chromium: offline page, tooltip, picker, prompt note, escaping, 100k tokens."""

import time

import numpy as np
import pytest
import torch

from saewidgets import SAEConfig, build_sae
from saewidgets.activation_set import ActivationSet
from saewidgets.widgets.feature_activations import FeatureActivations

HOOK = "blocks.1.hook_resid_post"
EVIL = 'Tom found <img src=x onerror=alert(1)> and <script>alert(1)</script> in the "box" & ran.'


@pytest.fixture(scope="module")
def trained(model, corpus):
    from saewidgets import harvest, train

    acts = harvest(model, corpus, HOOK)
    sae = build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=8))
    return train(sae, acts, n_tokens=30_000, batch_size=512, progress=False).sae


@pytest.fixture(scope="module")
def story_page(trained, model, corpus, tmp_path_factory):
    texts = [d.text for d in corpus[:6]] + [EVIL]
    w = FeatureActivations.from_sae(trained, model, texts, HOOK, n_latents=12)
    return w, w.to_html(tmp_path_factory.mktemp("fa") / "story.html")


def test_renders_light_and_dark_with_tooltip_and_picker(story_page, page):
    w, path = story_page
    for scheme in ("light", "dark"):
        p = page(scheme)
        bp = p.open(path)
        assert bp.inner_text(".saew-fa-title") == f"Latent {w.latent}"
        assert bp.locator(".saew-fa-ex").count() > 0 and bp.locator(".saew-fa-bar").count() > 0
        assert bp.locator(".saew-fa-logrow").count() == 20
        # hover the token where the latent fires hardest: the tooltip shows its value
        j = w.candidates.index(w.latent)
        row = int(np.argmax(w.column()))
        bp.hover(f".saew-fa-tokens [data-row='{row}']")
        tip = bp.locator(".saew-fa-tip")
        assert tip.is_visible()
        assert f"latent {w.latent}: {w._stats[j, 1]:.3f}" in tip.inner_text()
        assert f"#{w.latent}" in tip.inner_text()  # listed among the top latents at that token
        p.shot(f"feature_activations_{scheme}")
    # choose another latent in the picker: the same token's background changes
    other = w.candidates[1]
    col_other = w.column(other)
    # a token where exactly one of the two fires, so the colours must differ (both could saturate otherwise)
    row = int(np.argmax(np.where((w.column() > 0) != (col_other > 0), np.abs(w.column() - col_other), -1)))
    span = bp.locator(f".saew-fa-tokens [data-row='{row}']")
    before = span.evaluate("e => e.style.background")
    bp.click(f".saew-fa-chip[data-latent='{other}']")
    assert bp.inner_text(".saew-fa-title") == f"Latent {other}"
    assert span.evaluate("e => e.style.background") != before
    # the id input + Enter does the same; a latent that is not precomputed says it needs a kernel
    bp.fill(".saew-fa-input", str(w.latent))
    bp.press(".saew-fa-input", "Enter")
    assert bp.inner_text(".saew-fa-title") == f"Latent {w.latent}"
    missing = next(i for i in range(w._d_sae) if i not in w.candidates)
    bp.fill(".saew-fa-input", str(missing))
    bp.click(".saew-fa-go")
    assert "needs a Python kernel" in bp.inner_text(".saew-fa-status")
    assert bp.inner_text(".saew-fa-title") == f"Latent {w.latent}"


def test_prompt_box_offline_shows_kernel_note(story_page, page):
    _, path = story_page
    p = page()
    bp = p.open(path)
    bp.fill(".saew-fa-prompt", "Tom met a dragon.")
    bp.click(".saew-fa-run")
    assert "needs a Python kernel" in bp.inner_text(".saew-fa-prompt-note")
    # keyboard: focus the tokens, arrow keys walk them and show the tooltip; Escape hides it
    bp.focus(".saew-fa-tokens")
    bp.keyboard.press("ArrowRight")
    bp.keyboard.press("ArrowRight")
    assert bp.locator(".saew-fa-tip").is_visible() and "position 2" in bp.inner_text(".saew-fa-tip")
    bp.keyboard.press("Escape")
    assert not bp.locator(".saew-fa-tip").is_visible()


def test_corpus_markup_is_text_and_runs_nothing(story_page, page):
    w, path = story_page
    p = page()
    dialogs = []
    p.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    bp = p.open(path)
    last_page = -(-len(w._tok) // w._page_size)
    for _ in range(last_page - 1):
        bp.click(".saew-fa-next")
    text = bp.inner_text(".saew-fa-tokens").replace("\n", "")
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(1)</script>" in text
    assert bp.query_selector("img") is None and bp.query_selector("#saew-root script") is None
    bp.wait_for_timeout(200)
    assert dialogs == []


def synthetic(n_tokens: int, doc_len: int = 200, seed: int = 0):
    """n_tokens rows over documents of doc_len tokens, a ReLU SAE reading 8 dims with 16 latents."""
    g = torch.Generator().manual_seed(seed)
    sae = build_sae(SAEConfig("relu", d_in=8, d_sae=16))
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(8, 16, generator=g))
        sae.b_enc.fill_(-2.0)
    x = torch.randn(n_tokens, 8, generator=g)
    rows = torch.arange(n_tokens)
    acts = ActivationSet(
        x, rows % 50, rows // doc_len, rows % doc_len + 1, hook="toy", model_name="toy", norm_scale=1.0
    )
    words = [f" w{i}" for i in range(50)]
    tokens = [words[i] for i in (rows % 50).tolist()]
    return FeatureActivations.from_activations(
        sae, acts, tokens, W_U=torch.randn(8, 50, generator=g), decode=lambda i: words[i], n_latents=4
    )


def test_100k_tokens_render_paged(tmp_path, page):
    w = synthetic(100_000)
    path = w.to_html(tmp_path / "big.html")
    p = page()
    t0 = time.perf_counter()
    bp = p.open(path)
    seconds = time.perf_counter() - t0
    assert bp.locator(".saew-fa-tokens .saew-fa-tok").count() == 2000
    assert bp.locator(".saew-fa-capnote").is_visible()
    assert "of 100,000" in bp.inner_text(".saew-fa-pageinfo")
    p.shot("feature_activations_100k")
    bp.click(".saew-fa-next")
    assert bp.inner_text(".saew-fa-pageinfo").startswith("Tokens 2,001")
    print(
        f"\n100k tokens: page open + first render {seconds:.2f} s, "
        f"render() {bp.get_attribute('#saew-root', 'data-saew-render-ms')} ms"
    )
    assert seconds < 10


def test_first_render_time_for_10k_tokens(tmp_path, page):
    w = synthetic(10_000)
    w._page_size = 10_000  # every token on one page: the worst case for one render
    path = w.to_html(tmp_path / "ten.html")
    p = page()
    bp = p.open(path)
    assert bp.locator(".saew-fa-tokens .saew-fa-tok").count() == 10_000
    ms = float(bp.get_attribute("#saew-root", "data-saew-render-ms"))
    print(f"\n10k tokens on one page: render() {ms:.1f} ms (performance.now in the page)")
