"""Encoders honestly (issue 15, item 4), and what a plain Hugging Face model needs: ``tokenizer=``.

A BERT-style checkpoint has no next-token head: the bridge wraps it in a masked LM with a *random* head and
gives it GPT-2's BOS (= [UNK] in a WordPiece vocabulary). Here ``load_model`` records that, so evaluate
reports reconstruction only (with a note), FeatureActivations hides logit effects and says why, and
SteeringPanel refuses. Token strings of every family read as text (WordPiece: no ``##``, spaces kept).
All on tiny random-weight checkpoints built at test time (tests/tiny_models.py): offline, seconds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import saewidgets as sw
from saewidgets import features
from saewidgets.activation_set import CachedActivations
from saewidgets.models import why_no_logits
from saewidgets.widgets import FeatureActivations, SteeringPanel

HOOK = "blocks.1.hook_resid_post"
TEXTS = [
    "Return the base classes (abcs) according to pep 3119.",
    "Once upon a time, a little fox found a shiny stone by the river.",
    "The cat sat on the mat and looked at the moon.",
]


@pytest.fixture(scope="module")
def bert_dir(tiny_checkpoint):
    return tiny_checkpoint("bert")


@pytest.fixture(scope="module")
def gpt2_dir(tiny_checkpoint):
    return tiny_checkpoint("gpt2")


@pytest.fixture(scope="module")
def bert(bert_dir):
    return sw.load_model(bert_dir, device="cpu")


@pytest.fixture(scope="module")
def sae64():
    return sw.build_sae(sw.SAEConfig("topk", d_in=64, d_sae=32, k=4), seed=0)


# ------------------------------------------------------------------------------------------------ loading


def test_bert_folder_loads_as_an_encoder_without_logits(bert, bert_dir):
    note = why_no_logits(bert)
    assert note is not None and "BertModel" in note and "not a causal language model" in note
    assert features.unembedding(bert) is None  # the bridge's random masked-LM head is not offered as W_U
    # BOS is what the checkpoint's own tokenizer says (none), not GPT-2's <|endoftext|> mapped to [UNK]
    assert bert.tokenizer.bos_token_id is None
    assert bert.tokenizer.unk_token_id not in (bert.tokenizer.bos_token_id, bert.tokenizer.eos_token_id)


def test_causal_lm_keeps_its_logits(gpt2_dir):
    model = sw.load_model(gpt2_dir, device="cpu")
    assert why_no_logits(model) is None
    assert features.unembedding(model).shape[0] == 64


def test_plain_hugging_face_modules_are_judged_by_class(bert_dir, gpt2_dir):
    from transformers import AutoModel, AutoModelForCausalLM

    assert why_no_logits(AutoModelForCausalLM.from_pretrained(gpt2_dir)) is None
    bare = AutoModel.from_pretrained(gpt2_dir)  # GPT2Model: the same checkpoint without its head
    assert "no next-token head" in why_no_logits(bare)
    assert features.unembedding(bare) is None
    assert why_no_logits(AutoModel.from_pretrained(bert_dir)) is not None
    assert why_no_logits(torch.nn.Linear(2, 2)) is None  # a plain module: trusted to return logits


# ------------------------------------------------------------------------------------------------ evaluate


def test_evaluate_on_an_encoder_is_reconstruction_only_with_a_note(bert, sae64):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = sw.evaluate(sae64, model=bert, texts=TEXTS, hook=HOOK)
    notes = [w for w in caught if "reconstruction-only" in str(w.message)]
    assert len(notes) == 1  # said once
    assert "reconstruction-only" in out["note"] and "BertModel" in out["note"]
    assert not any(k.startswith(("ce_", "kl", "delta_ce")) for k in out)  # no CE 10.8 from a random head
    assert out["n_tokens"] > 0 and np.isfinite(out["fvu"]) and out["l0"] > 0


def test_evaluate_plain_hugging_face_causal_lm_with_tokenizer(gpt2_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf, tok = AutoModelForCausalLM.from_pretrained(gpt2_dir), AutoTokenizer.from_pretrained(gpt2_dir)
    sae = sw.build_sae(sw.SAEConfig("topk", d_in=64, d_sae=32, k=4), seed=0)
    out = sw.evaluate(sae, model=hf, texts=TEXTS, hook="transformer.h.1", tokenizer=tok)
    assert "note" not in out
    assert np.isfinite(out["ce_clean"]) and np.isfinite(out["ce_sae"]) and out["n_ce_tokens"] > 0
    # the same checkpoint through load_model: the same clean loss (same tokens, same weights)
    tl = sw.load_model(gpt2_dir, device="cpu")
    ref = sw.evaluate(sae, model=tl, texts=TEXTS, hook=HOOK)
    assert out["ce_clean"] == pytest.approx(ref["ce_clean"], rel=1e-4)
    assert out["ce_sae"] == pytest.approx(ref["ce_sae"], rel=1e-3)


def test_evaluate_plain_hugging_face_encoder_is_reconstruction_only(bert_dir, sae64):
    from transformers import AutoModel, AutoTokenizer

    enc, tok = AutoModel.from_pretrained(bert_dir), AutoTokenizer.from_pretrained(bert_dir)
    with pytest.warns(UserWarning, match="reconstruction-only"):
        out = sw.evaluate(sae64, model=enc, texts=TEXTS, hook="encoder.layer.1", tokenizer=tok)
    assert "no next-token head" in out["note"] and "ce_clean" not in out and out["n_tokens"] > 0


def test_plain_model_without_tokenizer_is_told_to_pass_one(gpt2_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf, tok = AutoModelForCausalLM.from_pretrained(gpt2_dir), AutoTokenizer.from_pretrained(gpt2_dir)
    sae = sw.build_sae(sw.SAEConfig("topk", d_in=64, d_sae=32, k=4), seed=0)
    acts = sw.harvest(hf, TEXTS, "transformer.h.1", tokenizer=tok)
    with pytest.raises(ValueError, match="tokenizer="):
        sw.evaluate(sae, acts, model=hf, texts=TEXTS, hook="transformer.h.1")
    with pytest.raises(ValueError, match="tokenizer="):
        FeatureActivations.from_sae(sae, hf, TEXTS, "transformer.h.1")
    with pytest.raises(ValueError, match="tokenizer="):
        features.prompt_features(sae, hf, "transformer.h.1", "the cat")


# ------------------------------------------------------------------------------------------------ widgets


def test_feature_activations_on_an_encoder_hides_logit_effects(bert, sae64):
    w = FeatureActivations.from_sae(sae64, bert, TEXTS, HOOK)
    assert w._logit_ids.shape[2] == 0 and w._logit_vals.shape[2] == 0  # nothing, not a table of zeros
    assert "no next-token head" in w._logits_note
    assert w._has_model
    assert not any("##" in t for t in w._vocab)
    out = features.prompt_features(sae64, bert, HOOK, "Return the base classes (abcs).")
    assert "Return the base classes (abcs).".endswith("".join(out["tokens"]))  # read as text, no "##"


def test_feature_activations_plain_hugging_face_models_with_tokenizer(bert_dir, gpt2_dir):
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    sae = sw.build_sae(sw.SAEConfig("topk", d_in=64, d_sae=32, k=4), seed=0)
    lm, tok = AutoModelForCausalLM.from_pretrained(gpt2_dir), AutoTokenizer.from_pretrained(gpt2_dir)
    w = FeatureActivations.from_sae(sae, lm, TEXTS, "transformer.h.1", tokenizer=tok)
    assert w._logit_ids.shape[2] > 0 and w._logits_note == ""  # W_U from get_output_embeddings
    enc, btok = AutoModel.from_pretrained(bert_dir), AutoTokenizer.from_pretrained(bert_dir)
    w = FeatureActivations.from_sae(sae, enc, TEXTS, "encoder.layer.1", tokenizer=btok)
    assert w._logit_ids.shape[2] == 0 and "no next-token head" in w._logits_note
    w.prompt = "the cat sat"  # the prompt view reuses the tokenizer it was built with
    assert w._prompt_tokens and not w._status


def test_prompt_box_only_with_a_model(sae64):
    acts = sw.ActivationSet(
        torch.randn(6, 64),
        torch.arange(6),
        torch.zeros(6, dtype=torch.long),
        torch.arange(1, 7),
        hook=HOOK,
        model_name="x",
        norm_scale=1.0,
    )
    w = FeatureActivations.from_activations(sae64, acts, [f"t{i}" for i in range(6)])
    assert not w._has_model
    assert "_has_model" in w._html_private and "_logits_note" in w._html_private


def test_steering_panel_refuses_an_encoder(bert, sae64):
    with pytest.raises(ValueError, match="causal language model"):
        SteeringPanel(bert, sae64, HOOK, [0])


def test_steering_panel_names_load_model_for_a_plain_hugging_face_model(gpt2_dir, sae64):
    from transformers import AutoModelForCausalLM

    with pytest.raises(ValueError, match=r"sw\.load_model"):
        SteeringPanel(AutoModelForCausalLM.from_pretrained(gpt2_dir), sae64, "transformer.h.1", [0])


# ------------------------------------------------------------------------------------------------ tokens


def _rows(tokenizer, texts, first_position: int) -> sw.ActivationSet:
    """Every token of ``texts`` as rows (no activations needed), positions from ``first_position``."""
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    n = sum(map(len, ids))
    return sw.ActivationSet(
        torch.zeros(n, 1),
        torch.tensor([i for doc in ids for i in doc]),
        torch.tensor([d for d, doc in enumerate(ids) for _ in doc]),
        torch.tensor([first_position + p for doc in ids for p in range(len(doc))]),
        hook=HOOK,
        model_name="x",
        norm_scale=1.0,
        texts=list(texts),
    )


@pytest.mark.parametrize("first_position", [0, 1])  # no BOS / a BOS or [CLS] before each document
def test_wordpiece_tokens_reconstruct_the_text(bert, first_position):
    acts = _rows(bert.tokenizer, TEXTS, first_position)
    raw = features.token_strings(bert.tokenizer, acts.token_ids)
    assert any(t.startswith("##") for t in raw)  # the failure: one-by-one decoding shows the pieces
    tokens = features.readable_tokens(bert.tokenizer, acts)
    assert len(tokens) == len(acts) and not any("##" in t for t in tokens)
    docs = np.asarray(acts.doc_ids)
    for d, text in enumerate(TEXTS):
        assert "".join(t for t, i in zip(tokens, docs) if i == d) == text  # spaces and case come back
    assert " the" in tokens and " the" not in raw  # a word keeps the space before it


def test_harvested_wordpiece_rows_read_as_text(bert):
    acts = sw.harvest(bert, TEXTS, HOOK)
    tokens = features.readable_tokens(bert.tokenizer, acts)
    assert not any("##" in t for t in tokens)
    docs = np.asarray(acts.doc_ids)
    for d, text in enumerate(TEXTS):
        assert text.endswith("".join(t for t, i in zip(tokens, docs) if i == d))


def test_byte_level_tokens_are_unchanged(gpt2_dir):
    model = sw.load_model(gpt2_dir, device="cpu")
    acts = sw.harvest(model, TEXTS, HOOK)
    assert features.readable_tokens(model.tokenizer, acts) == features.token_strings(
        model.tokenizer, acts.token_ids
    )


def test_token_spans_locate_rows_with_or_without_bos(bert):
    tok = bert.tokenizer
    ids = tok(TEXTS[0], add_special_tokens=False)["input_ids"]
    for first_position in (0, 1):  # no BOS / a BOS or [CLS] before the document
        pos = np.arange(len(ids)) + first_position
        spans = features.token_spans(tok, ids, np.zeros(len(ids)), pos, TEXTS[:1])
        assert (spans >= 0).all() and spans[0, 0] == 0 and spans[-1, 1] == len(TEXTS[0])


# ------------------------------------------------------------------------------------------------ caches


def test_cached_activations_have_texts_and_rows_without_load(tmp_path):
    model = sw.load_model("storyteller", device="cpu")
    cache = sw.harvest(model, TEXTS, "blocks.1.hook_resid_post", cache_dir=tmp_path / "c", shard_tokens=16)
    assert isinstance(cache, CachedActivations)
    fresh = CachedActivations(cache.path)
    assert fresh.texts == TEXTS
    full = fresh.load()
    for name in ("doc_ids", "token_ids", "positions"):
        assert torch.equal(getattr(fresh, name), getattr(full, name))
    part = CachedActivations(cache.path, n_rows=20)
    assert len(part.doc_ids) == 20 and torch.equal(part.doc_ids, full.doc_ids[:20])


# ------------------------------------------------------------------------------------------------ DiffBars


def test_diff_bars_show_top_tokens_per_latent(bert, sae64):
    import scipy.sparse as sp

    from saewidgets import datacentric as dc
    from saewidgets.widgets import DiffBars

    rng = np.random.default_rng(0)

    def emb(p):
        dense = (rng.random((40, 32)) < p).astype(np.float32)
        return dc.DocEmbeddings(sp.csr_matrix(dense), "max", "h", "m", "s", np.full(40, 10), None)

    result = dc.diff(emb(0.4), emb(0.1), n_permutations=20)
    acts = sw.harvest(bert, TEXTS, HOOK)
    w = DiffBars(
        result,
        n=5,
        n_negative=0,
        labels={int(result.order[0]): "mine"},
        sae=sae64,
        activations=acts,
        tokenizer=bert,
    )
    tops = features.top_tokens(sae64, acts, w.latents, bert.tokenizer)
    assert w._labels[str(w.latents[0])] == "mine"  # a label given wins
    for i in w.latents[1:]:
        assert tops[i] and w._labels[str(i)] == " ".join(f"\u201c{t}\u201d" for t in tops[i])
        assert not any("##" in t for t in tops[i])
    strongest = int(np.argmax(features.latent_activations(sae64, acts, [w.latents[1]])[:, 0]))
    assert tops[w.latents[1]][0] == features.readable_tokens(bert.tokenizer, acts)[strongest].strip()
    assert DiffBars(result, n=5, n_negative=0)._labels == {}  # without the data: bare ids, as before
