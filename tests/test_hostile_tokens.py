"""Token views on hostile text with the bundled byte-level BPE model: no U+FFFD for text that has none, the
strings join to the text; truncation says so in the widget (issue 16)."""

import numpy as np
import pytest

import saewidgets as sw
from saewidgets.widgets import FeatureActivations

HOOK = "blocks.1.hook_resid_post"
HOSTILE = [
    "Emoji 🎉🚀 party 👩‍👩‍👧 done",
    "中文字符测试，日本語テキスト",
    "e\u0301 combining a\u0308 marks",
    "RTL \u202eabc\u202c end",
    "plain ascii",
]


@pytest.fixture(scope="module")
def widget(model):
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    return FeatureActivations.from_sae(sae, model, HOSTILE + ["x" * 10_000], HOOK)


def test_from_sae_tokens_join_to_the_text(widget):
    toks = [widget._vocab[i] for i in widget._tok]
    for d in np.unique(widget._doc):
        joined = "".join(t for t, dd in zip(toks, widget._doc) if dd == d)
        assert "\ufffd" not in joined
        doc = (HOSTILE + ["x" * 10_000])[d]
        assert doc.startswith(joined) and (joined == doc or d == 5)


@pytest.mark.parametrize("text", HOSTILE)
def test_prompt_view_tokens_join_to_the_text(widget, text):
    widget.prompt = text
    assert widget._status == ""
    assert not any("\ufffd" in t for t in widget._prompt_tokens)
    assert "".join(widget._prompt_tokens) == text
    assert widget._prompt_note == ""


def test_prompt_view_says_what_it_left_out(widget, model):
    text = "word " * 300
    with pytest.warns(UserWarning, match="truncated"):
        widget.prompt = text
    n = len(model.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert len(widget._prompt_tokens) == 255
    assert widget._prompt_note.startswith(f"showing the first 255 of {n} tokens")


def test_from_sae_says_what_its_cap_left_out(model, corpus):
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    with pytest.warns(UserWarning, match=r"showing the first 300 tokens \(\d+ of 64 documents\)"):
        w = FeatureActivations.from_sae(sae, model, corpus.texts, HOOK, max_tokens=300)
    assert w._note.startswith("showing the first 300 tokens") and "max_tokens" in w._note
    assert "_note" in w._html_private
    whole = FeatureActivations.from_sae(sae, model, HOSTILE, HOOK)
    assert whole._note == ""


def test_logit_effect_tokens_that_are_part_of_a_character_show_their_bytes(model):
    from saewidgets.token_text import vocab_piece

    ids = model.tokenizer("🎉", add_special_tokens=False)["input_ids"]
    pieces = [vocab_piece(model.tokenizer, i) for i in ids]
    assert not any("\ufffd" in p for p in pieces)
    assert "".join(pieces) == "\\xf0\\x9f\\x8e\\x89"  # the UTF-8 bytes of U+1F389
    assert (
        vocab_piece(model.tokenizer, model.tokenizer(" sea", add_special_tokens=False)["input_ids"][0])
        == " sea"
    )


def test_no_replacement_character_anywhere_in_the_widget(widget):
    assert not any("\ufffd" in v for v in widget._vocab)  # token table and logit-effect tokens
