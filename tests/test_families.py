"""Every model family users bring, offline: tiny random-weight checkpoints (tests/tiny_models.py) of GPT-2,
GPT-NeoX (Pythia), Llama, Gemma 2, Gemma 3, Qwen 2 and Qwen 3 go through the whole path — load_model, the
documented hook names, harvest (equal to run_with_cache, stopping at the hook), training an SAE, evaluate with
the SAE spliced in (ΔCE, KL), steered generation (KV cache == full forward) and FeatureActivations with logit
effects. A family's code path is the same with random weights as with real ones.

Harvest's batching, for every family and the BERT encoder: a row does not depend on its batch-mates (attention
mask), documents of similar length share a batch, the first token is kept when there is no BOS, and long texts
are truncated with one warning."""

import warnings

import pytest
import torch
from tiny_models import CAUSAL, FAMILIES

import saewidgets as sw
from saewidgets.generation import sample
from saewidgets.steering import compare, steering_hook

HOOK = "blocks.1.hook_resid_post"
DOCUMENTED = ("hook_resid_pre", "hook_resid_post", "hook_attn_out", "hook_mlp_out")


@pytest.fixture(scope="module")
def texts():
    # Stories of varied lengths (a few sentences to a dozen), so batches are padded.
    return sw.load_corpus("storyteller", n_docs=24, seed=0).texts


@pytest.fixture(scope="module")
def family_state(tiny_checkpoint, texts):
    """family -> {"model", "acts", "sae"}: each built once, on first use."""
    state: dict[str, dict] = {}

    def get(family: str) -> dict:
        if family not in state:
            model = sw.load_model(tiny_checkpoint(family), device="cpu")
            state[family] = {"model": model, "acts": sw.harvest(model, texts, HOOK)}
        return state[family]

    return get


def _trained(entry: dict):
    if "sae" not in entry:
        acts = entry["acts"]
        sae = sw.build_sae(sw.SAEConfig("topk", d_in=acts.d_in, d_sae=128, k=8))
        entry["sae"] = sw.train(sae, acts, n_tokens=8_192, batch_size=512, progress=False).sae
    return entry["sae"]


@pytest.mark.parametrize("family", CAUSAL)
def test_load_and_documented_hook_names(family, family_state):
    model = family_state(family)["model"]
    assert model.cfg.n_layers == 2 and model.cfg.d_model == 64
    names = set(sw.models.hook_names(model))
    # GPT-NeoX (Pythia) runs attention and MLP in parallel from the same input: there is no residual stream
    # between them, so no hook_resid_mid (as in TransformerLens's HookedTransformer for Pythia).
    parallel = getattr(model.original_model.config, "use_parallel_residual", False)
    wanted = DOCUMENTED if parallel else (*DOCUMENTED, "hook_resid_mid")
    missing = [f"blocks.{i}.{h}" for i in range(2) for h in wanted if f"blocks.{i}.{h}" not in names]
    assert not missing, f"{family}: documented hook names missing: {missing}"


@pytest.mark.parametrize("family", CAUSAL)
def test_harvest_equals_run_with_cache_and_stops_at_the_hook(family, family_state, texts):
    entry = family_state(family)
    model, acts = entry["model"], entry["acts"]
    for doc in (0, 7, 23):
        tokens = model.to_tokens(texts[doc], prepend_bos=True)  # [1, pos] BOS first, as harvest feeds it
        _, cache = model.run_with_cache(tokens)
        rows = acts.doc_ids == doc
        assert acts.positions[rows].tolist() == list(range(1, tokens.shape[1]))
        assert torch.equal(acts.token_ids[rows], tokens[0, 1:])
        torch.testing.assert_close(acts.acts[rows], cache[HOOK][0, 1:], atol=1e-5, rtol=1e-4)
    # Stopping at layer 0 means block 1 never runs.
    calls = []
    handle = model.blocks[1].register_forward_hook(lambda *_: calls.append(1))
    try:
        early = sw.harvest(model, texts[:4], "blocks.0.hook_resid_post")
    finally:
        handle.remove()
    assert not calls and early.d_in == 64


@pytest.mark.parametrize("family", CAUSAL)
def test_train_and_evaluate_with_the_sae_spliced(family, family_state, texts):
    entry = family_state(family)
    sae = _trained(entry)
    m = sw.evaluate(sae, entry["acts"], model=entry["model"], texts=texts[:8], hook=HOOK)
    for key in ("ce_clean", "ce_sae", "ce_zero_ablation", "delta_ce", "kl", "kl_zero_ablation", "fvu"):
        assert torch.isfinite(torch.tensor(m[key])), (key, m[key])
    assert m["n_ce_tokens"] > 100 and m["kl"] >= 0
    # random weights: CE near log(vocab) and the splice barely matters, but it must not *help* much
    assert m["delta_ce"] > -0.05 and m["ce_zero_ablation"] >= m["ce_clean"] - 0.05, m
    assert m["fvu"] < 1.0, m


@pytest.mark.parametrize("family", CAUSAL)
def test_steered_generation_cached_equals_uncached(family, family_state):
    entry = family_state(family)
    model, sae = entry["model"], _trained(entry)
    tokens = model.to_tokens("Once upon a time").expand(2, -1)  # [2, pos]
    hooks = [(HOOK, steering_hook(sae, {0: 4.0, 3: -2.0}))]
    kw = dict(max_new_tokens=12, temperature=0.9, seeds=[0, 1], fwd_hooks=hooks, stop_at_eos=False)
    cached = sample(model, tokens, kv_cache="on", **kw)
    plain = sample(model, tokens, kv_cache="off", **kw)
    assert torch.equal(cached, plain)
    strong = {0: 4.0 * float(entry["acts"].acts.norm(dim=1).mean())}  # |W_dec row| = 1: a few times |x|
    c_on = compare(
        model, "Once upon a time", sae=sae, hook=HOOK, strengths=strong, kv_cache="on", temperature=0
    )
    c_off = compare(
        model, "Once upon a time", sae=sae, hook=HOOK, strengths=strong, kv_cache="off", temperature=0
    )
    assert c_on == c_off
    # Random weights make nearly flat logits (W_U ~ N(0, 0.02)), so the text may not change; the logits must.
    with torch.no_grad():
        clean = model(tokens[:1])
        steered = model.run_with_hooks(tokens[:1], fwd_hooks=[(HOOK, steering_hook(sae, strong))])
    assert float((steered - clean)[:, 1:].abs().amax()) > 1e-2


@pytest.mark.parametrize("family", CAUSAL)
def test_feature_activations_with_logit_effects(family, family_state, texts):
    entry = family_state(family)
    model, sae = entry["model"], _trained(entry)
    w = sw.FeatureActivations.from_sae(sae, model, texts[:6], HOOK, n_latents=4)
    assert w._logit_ids.shape[-1] == 10 and w._logit_vals.shape[-1] == 10  # the unembedding was found
    W_U = sw.features.unembedding(model)  # [d_model, vocab]
    assert tuple(W_U.shape) == (64, model.cfg.d_vocab)


# ------------------------------------------------------------------------------------------------------------
# harvest's batching, every family


def _ragged(texts):
    """Texts of very different lengths, interleaved (a whole story, then its first words, ...)."""
    out = []
    for t in texts[:10]:
        out += [t, " ".join(t.split()[:3])]
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_a_row_does_not_depend_on_its_batch(family, tiny_checkpoint, texts):
    """Defect: harvest right-padded batches and ran the model with no attention mask; a bidirectional model's
    rows then depended on their batch-mates (MiniLM: mean cosine 0.88 between batch 32 and batch 1)."""
    model = sw.load_model(tiny_checkpoint(family), device="cpu")
    ragged = _ragged(texts)
    one = sw.harvest(model, ragged, HOOK, batch_size=1)
    many = sw.harvest(model, ragged, HOOK, batch_size=8)
    assert torch.equal(one.doc_ids, many.doc_ids) and torch.equal(one.positions, many.positions)
    assert torch.equal(one.token_ids, many.token_ids)
    torch.testing.assert_close(many.acts, one.acts, atol=1e-4, rtol=1e-4)


def test_batches_hold_documents_of_similar_length(monkeypatch, model, texts):
    """Length bucketing: alternating long and short texts no longer pad every short one to the longest."""
    import saewidgets.activations as A

    widths, real = [], []
    pad = A._pad

    def spy(batch, pad_id, device):
        widths.append(max(map(len, batch)) * len(batch))
        real.append(sum(map(len, batch)))
        return pad(batch, pad_id, device)

    monkeypatch.setattr(A, "_pad", spy)
    ragged = _ragged(texts)
    bucketed = sw.harvest(model, ragged, HOOK, batch_size=4)
    lengths = [len(model.to_tokens(t)[0]) for t in ragged]
    in_order = sum(lengths) / sum(4 * max(lengths[i : i + 4]) for i in range(0, len(lengths), 4))
    assert sum(real) / sum(widths) > in_order + 0.2, (in_order, sum(real) / sum(widths))
    monkeypatch.setattr(A, "_pad", pad)
    assert torch.equal(bucketed.doc_ids, sw.harvest(model, ragged, HOOK, batch_size=1).doc_ids)


def test_n_tokens_takes_the_first_rows_in_document_order(model, texts):
    ragged = _ragged(texts)
    every = sw.harvest(model, ragged, HOOK, batch_size=4)
    few = sw.harvest(model, ragged, HOOK, n_tokens=77, batch_size=4)
    assert torch.equal(few.doc_ids, every.doc_ids[:77]) and torch.equal(few.positions, every.positions[:77])
    torch.testing.assert_close(few.acts, every.acts[:77], atol=1e-5, rtol=1e-4)


# ------------------------------------------------------------------------------------------------------------
# no BOS, encoders' [CLS]/[SEP], long texts


def test_the_first_token_is_kept_when_the_tokenizer_has_no_bos(tiny_checkpoint, texts):
    """Defect: position 0 was dropped unconditionally, so without a BOS every document lost its first token
    and every position was off by one."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    folder = tiny_checkpoint("gpt2")
    hf = GPT2LMHeadModel.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    tok.bos_token = None  # e.g. Qwen's tokenizers have none
    acts = sw.harvest(hf, texts[:3], "transformer.h.0", tokenizer=tok)
    for doc in range(3):
        ids = tok(texts[doc], add_special_tokens=False, return_tensors="pt")["input_ids"]  # [1, pos]
        with torch.no_grad():
            want = hf(ids, output_hidden_states=True).hidden_states[1][0]  # [pos, d] after block 0
        rows = acts.doc_ids == doc
        assert acts.positions[rows].tolist() == list(range(ids.shape[1]))
        assert torch.equal(acts.token_ids[rows], ids[0])
        torch.testing.assert_close(acts.acts[rows], want, atol=1e-5, rtol=1e-4)


def test_an_encoder_sees_cls_and_sep_and_keeps_every_word(tiny_checkpoint, texts):
    """A plain Hugging Face BERT with its WordPiece tokenizer (no BOS): each text runs as [CLS] text [SEP],
    exactly as tokenizer(text) gives it; rows are the text's own tokens at their model positions (1..n)."""
    from transformers import AutoModel, AutoTokenizer

    folder = tiny_checkpoint("bert")
    bert, tok = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    assert tok.bos_token_id is None
    docs = ["Return the ball, said Tom.", *texts[:5]]
    acts = sw.harvest(bert, docs, "encoder.layer.1", tokenizer=tok, batch_size=4)
    for doc, text in enumerate(docs):
        enc = tok(text, return_tensors="pt")  # [CLS] ... [SEP]
        with torch.no_grad():
            want = bert(**enc, output_hidden_states=True).hidden_states[2][0]  # [pos, d]
        rows = acts.doc_ids == doc
        n = enc["input_ids"].shape[1]
        assert acts.positions[rows].tolist() == list(range(1, n - 1))
        assert torch.equal(acts.token_ids[rows], enc["input_ids"][0, 1:-1])
        torch.testing.assert_close(acts.acts[rows], want[1:-1], atol=1e-5, rtol=1e-4)
    assert tok.convert_ids_to_tokens(acts.token_ids[acts.doc_ids == 0][:1])[0] == "re"  # "Return" kept
    with pytest.raises(ValueError, match="cls_token"):
        sw.harvest(bert, docs, "encoder.layer.1", tokenizer=sw.load_model().tokenizer, special_tokens=True)


def test_long_texts_are_truncated_with_one_warning(tiny_checkpoint, capfd):
    from transformers import AutoModel, AutoTokenizer

    folder = tiny_checkpoint("bert")
    bert, tok = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    long = "the cat sat on the mat . " * 60  # 420 tokens > 256 positions
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        acts = sw.harvest(bert, [long, "a short one .", long], "encoder.layer.0", tokenizer=tok)
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "2 of 3 texts" in said[0] and "truncated" in said[0], said
    assert "Token indices sequence length" not in capfd.readouterr().err  # the tokenizer's own, per text
    assert int(acts.positions.max()) == 254 and int((acts.doc_ids == 0).sum()) == 254  # 256 - [CLS] - [SEP]


# ------------------------------------------------------------------------------------------------------------
# a family the bridge does not support


def test_an_unsupported_family_fails_naming_the_plain_hugging_face_route(tmp_path, texts):
    """CTRL is a causal LM TransformerLens's bridge does not know: load_model says so in a second and names the
    alternative, which then works (plain Hugging Face model, module-path hook, tokenizer=)."""
    import shutil
    import time

    from transformers import AutoModelForCausalLM, AutoTokenizer, CTRLConfig

    from saewidgets.zoo import STORYTELLER_DIR

    torch.manual_seed(0)
    cfg = CTRLConfig(vocab_size=3786, n_embd=64, n_layer=2, n_head=4, dff=128, n_positions=256)
    AutoModelForCausalLM.from_config(cfg).save_pretrained(tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(STORYTELLER_DIR / name, tmp_path / name)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"CTRLLMHeadModel.*not support.*AutoModelForCausalLM.*module_names"):
        sw.load_model(tmp_path, device="cpu")
    assert time.perf_counter() - start < 2
    hf = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    acts = sw.harvest(hf, texts[:4], "transformer.h.1", tokenizer=AutoTokenizer.from_pretrained(tmp_path))
    assert acts.d_in == 64 and len(acts) > 100


def test_generation_refuses_an_encoder_and_a_plain_hugging_face_model(tiny_checkpoint):
    from transformers import AutoModelForCausalLM

    from saewidgets.generation import generate

    bert = sw.load_model(tiny_checkpoint("bert"), device="cpu")
    with pytest.raises(ValueError, match="causal language model"):
        generate(bert, "The cat")
    hf = AutoModelForCausalLM.from_pretrained(tiny_checkpoint("llama")).eval()
    with pytest.raises(ValueError, match=r"LlamaForCausalLM.*sw\.load_model"):
        generate(hf, "The cat")
    with pytest.raises(ValueError, match=r"LlamaForCausalLM.*sw\.load_model"):
        compare(hf, "The cat", sae=None, hook=HOOK, strengths=None)
