"""FeatureActivations offline with hostile text and a token cap: no U+FFFD on the page for text that has
none, and the cap is said in the widget (issue 16)."""

import saewidgets as sw
from saewidgets.widgets import FeatureActivations

HOOK = "blocks.1.hook_resid_post"
HOSTILE = ["Emoji 🎉🚀 party 👩‍👩‍👧 done", "中文字符测试，日本語テキスト", "e\u0301 combining a\u0308 marks"]


def test_hostile_tokens_and_the_cap_note_on_the_page(model, corpus, page, tmp_path):
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    texts = HOSTILE + list(corpus.texts)
    w = FeatureActivations.from_sae(sae, model, texts, HOOK, max_tokens=300)
    assert w._note
    p = page("light")
    pg = p.open(w.to_html(tmp_path / "fa.html"))
    cap = pg.locator(".saew-fa-cap").inner_text()
    assert cap.startswith("showing the first 300 tokens (") and f"of {len(texts)} documents" in cap
    tokens = pg.locator(".saew-fa-tokens").first.inner_text()
    assert "\ufffd" not in tokens and "🎉🚀" in tokens and "日本語" in tokens
    p.shot("feature_activations_hostile_cap")
