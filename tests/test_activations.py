import math
from pathlib import Path

import pytest
import torch

from saewidgets import ActivationSet, CachedActivations, harvest

HOOK = "blocks.1.hook_resid_post"


@pytest.fixture(scope="module")
def acts(model, corpus):
    return harvest(model, corpus, HOOK)


def test_rows_equal_run_with_cache_and_trace_back_to_text(model, corpus, acts):
    assert isinstance(acts, ActivationSet) and acts.d_in == model.cfg.d_model
    for doc in (0, 5, 63):
        tokens = model.to_tokens(corpus[doc].text)  # [1, pos] with BOS first
        _, cache = model.run_with_cache(tokens)
        rows = acts.doc_ids == doc
        # BOS (position 0) is skipped; every other position is there, in order.
        assert acts.positions[rows].tolist() == list(range(1, tokens.shape[1]))
        assert torch.equal(acts.token_ids[rows], tokens[0, 1:])
        assert torch.allclose(acts.acts[rows], cache[HOOK][0, 1:], atol=1e-5)
        assert acts.text_of(int(rows.nonzero()[0])) == corpus[doc].text


def test_no_bos_or_padding_rows(model, corpus, acts):
    n_real = sum(model.to_tokens(t).shape[1] - 1 for t in corpus.texts)
    assert len(acts) == n_real
    assert (acts.positions >= 1).all()
    assert not (acts.token_ids == model.tokenizer.pad_token_id).any()


def test_stop_early_gives_the_same_values(model, corpus, acts):
    full = harvest(model, corpus, HOOK, stop_early=False)
    assert torch.equal(full.acts, acts.acts)
    # and the model still runs normally afterwards (the hook was removed, nothing left behind)
    tokens = model.to_tokens(corpus[0].text)
    with torch.no_grad():
        logits = model(tokens)
    assert logits.shape[-1] == model.cfg.d_vocab and torch.isfinite(logits).all()


def test_other_hooks_and_batch_sizes_agree(model, corpus):
    a = harvest(model, corpus.texts[:10], "blocks.0.hook_mlp_out", batch_size=3)
    b = harvest(model, corpus.texts[:10], "blocks.0.hook_mlp_out", batch_size=10)
    assert torch.allclose(a.acts, b.acts, atol=1e-5) and torch.equal(a.doc_ids, b.doc_ids)


def test_norm_scale_makes_mean_norm_sqrt_d(acts):
    scaled = acts.acts.double() * acts.norm_scale
    assert scaled.norm(dim=1).mean().item() == pytest.approx(math.sqrt(acts.d_in), rel=1e-6)


def test_n_tokens_truncates_and_warns_when_short(model, corpus, acts):
    few = harvest(model, corpus, HOOK, n_tokens=100)
    assert len(few) == 100 and torch.equal(few.acts, acts.acts[:100])
    with pytest.warns(UserWarning, match="fewer than n_tokens"):
        short = harvest(model, corpus.texts[:2], HOOK, n_tokens=10_000)
    assert 0 < len(short) < 10_000


def test_plain_pytorch_module_with_forward_hooks(model, corpus, acts):
    from transformers import GPT2LMHeadModel

    from saewidgets.zoo import STORYTELLER_DIR

    hf = GPT2LMHeadModel.from_pretrained(STORYTELLER_DIR).eval()
    # transformer.h.1's output is the residual stream after block 1 = blocks.1.hook_resid_post
    plain = harvest(hf, corpus, "transformer.h.1", tokenizer=model.tokenizer)
    assert torch.allclose(plain.acts, acts.acts, atol=1e-4)
    assert torch.equal(plain.token_ids, acts.token_ids)
    with pytest.raises(ValueError, match="transformer.h.1"):
        harvest(hf, corpus, "transformer.h1", tokenizer=model.tokenizer)
    with pytest.raises(ValueError, match="tokenizer"):
        harvest(torch.nn.Linear(2, 2), ["a"], "")


def test_batches_cover_every_row_once(acts):
    seen = torch.cat(list(acts.batches(50, seed=3)))
    assert seen.shape == acts.acts.shape
    assert torch.allclose(seen.sum(0), acts.acts.sum(0), atol=1e-3)
    again = torch.cat(list(acts.batches(50, seed=3)))
    assert torch.equal(seen, again)  # the seed makes the order reproducible
    assert not torch.equal(seen, acts.acts)  # and it is shuffled
    normed = next(acts.batches(8, shuffle=False, normalize=True))
    assert torch.allclose(normed, acts.acts[:8] * acts.norm_scale)
    assert all(len(b) == 64 for b in acts.batches(64, drop_last=True))


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(n_tokens=0), "n_tokens must be a positive"),
        (dict(n_tokens=-5), "n_tokens must be a positive"),
        (dict(batch_size=0), "batch_size"),
        (dict(hook="blocks.1.hook_resid_pots"), "Closest valid names: blocks.1.hook_resid_post"),
    ],
)
def test_bad_arguments(model, corpus, bad, match):
    kwargs = dict(hook=HOOK) | bad
    with pytest.raises(ValueError, match=match):
        harvest(model, corpus.texts[:3], **kwargs)


def test_bad_texts(model):
    with pytest.raises(ValueError, match="empty"):
        harvest(model, [], HOOK)
    with pytest.raises(ValueError, match="Text 1 .* shorter than one token"):
        harvest(model, ["A cat.", ""], HOOK)
    with pytest.raises(TypeError, match="single string"):
        harvest(model, "A cat sat.", HOOK)
    with pytest.raises(TypeError, match="Item 0"):
        harvest(model, [3], HOOK)


def test_cache_round_trip_and_reuse(model, corpus, acts, tmp_path, monkeypatch):
    path = tmp_path / "cache"
    cached = harvest(model, corpus, HOOK, cache_dir=path, shard_tokens=1000)
    assert isinstance(cached, CachedActivations) and len(cached) == len(acts)
    assert len(cached.meta["shards"]) == math.ceil(len(acts) / 1000)
    loaded = cached.load()
    for name in ("acts", "token_ids", "doc_ids", "positions"):
        assert torch.equal(getattr(loaded, name), getattr(acts, name))
    assert loaded.norm_scale == pytest.approx(acts.norm_scale) and loaded.texts == corpus.texts
    streamed = torch.cat(list(cached.batches(128, seed=0)))
    assert streamed.shape == acts.acts.shape
    assert torch.allclose(streamed.sum(0), acts.acts.sum(0), atol=1e-3)
    assert torch.equal(torch.cat(list(cached.batches(128, shuffle=False))), acts.acts)

    # A second harvest into the same folder reads it back without running the model.
    monkeypatch.setattr(type(model), "forward", lambda *a, **k: pytest.fail("model ran"))
    again = harvest(model, corpus, HOOK, cache_dir=path)
    assert torch.equal(again.load().acts, acts.acts)


def test_cache_refuses_a_different_model_hook_dtype_or_texts(model, corpus, tmp_path):
    path = tmp_path / "cache"
    harvest(model, corpus.texts[:8], HOOK, cache_dir=path)
    for kwargs, what in [
        (dict(hook="blocks.0.hook_resid_post"), "hook"),
        (dict(dtype=torch.float16), "dtype"),
    ]:
        with pytest.raises(ValueError, match=f"made differently .*{what}: cache has"):
            harvest(model, corpus.texts[:8], **(dict(hook=HOOK) | kwargs), cache_dir=path)
    with pytest.raises(ValueError, match="texts_fingerprint"):
        harvest(model, corpus.texts[:9], HOOK, cache_dir=path)
    other = _perturbed_copy(model)
    with pytest.raises(ValueError, match="model_fingerprint"):
        harvest(other, corpus.texts[:8], HOOK, cache_dir=path)
    # More than the texts hold: a fresh harvest returns every token with a warning, and so does the cache.
    with pytest.warns(UserWarning, match="fewer than n_tokens=100000"):
        assert len(harvest(model, corpus.texts[:8], HOOK, n_tokens=100_000, cache_dir=path)) == len(
            harvest(model, corpus.texts[:8], HOOK, cache_dir=path)
        )


def _perturbed_copy(model):
    from saewidgets import load_model

    other = load_model("storyteller", device="cpu")
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    return other


def test_cache_never_left_half_written(model, corpus, tmp_path, monkeypatch):
    from saewidgets import activation_cache

    path = tmp_path / "cache"
    calls = {"n": 0}
    real_save = activation_cache.save_file

    def failing_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_save(*args, **kwargs)

    monkeypatch.setattr(activation_cache, "save_file", failing_save)
    with pytest.raises(KeyboardInterrupt):
        harvest(model, corpus, HOOK, cache_dir=path, shard_tokens=500)
    import gc

    gc.collect()
    assert not path.exists()
    assert list(Path(tmp_path).iterdir()) == []


def test_cache_refuses_a_folder_that_is_not_a_cache(model, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an activation cache"):
        harvest(model, ["A cat sat."], HOOK, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not an activation cache"):
        CachedActivations(tmp_path)


def test_cache_reuse_returns_exactly_the_n_tokens_asked_for(model, corpus, tmp_path, monkeypatch):
    path, texts = tmp_path / "cache", corpus.texts[:8]
    full = harvest(model, texts, HOOK, cache_dir=path, shard_tokens=40)
    fresh = harvest(model, texts, HOOK, n_tokens=50)
    monkeypatch.setattr(type(model), "forward", lambda *a, **k: pytest.fail("model ran"))
    few = harvest(model, texts, HOOK, n_tokens=50, cache_dir=path)  # used to return all of the cache's rows
    assert len(few) == 50 < len(full) and few.meta["n_tokens_on_disk"] == len(full)
    assert few.norm_scale == pytest.approx(fresh.norm_scale, rel=1e-12) != pytest.approx(full.norm_scale)
    loaded = few.load()
    for name in ("acts", "token_ids", "doc_ids", "positions"):
        assert torch.equal(getattr(loaded, name), getattr(fresh, name))
    assert loaded.norm_scale == few.norm_scale
    streamed = torch.cat(list(few.batches(16, seed=1)))  # 50 rows over two shards, the second cut short
    assert streamed.shape == (50, fresh.d_in) and torch.allclose(
        streamed.sum(0), fresh.acts.sum(0), atol=1e-4
    )
    assert torch.equal(torch.cat(list(few.batches(16, shuffle=False))), fresh.acts)
    assert len(harvest(model, texts, HOOK, cache_dir=path)) == len(full)


def test_cache_with_fewer_rows_is_refused_with_a_clear_message(model, corpus, tmp_path):
    path, texts = tmp_path / "cache", corpus.texts[:8]
    harvest(model, texts, HOOK, n_tokens=50, cache_dir=path)
    assert len(harvest(model, texts, HOOK, n_tokens=20, cache_dir=path)) == 20
    with pytest.raises(ValueError, match="holds 50 tokens, fewer than the 60 asked for"):
        harvest(model, texts, HOOK, n_tokens=60, cache_dir=path)
    with pytest.raises(
        ValueError,
        match=r"holds 50 tokens, fewer than the \d+ tokens of the texts that "
        r"n_tokens=None asks for \(it was made with n_tokens=50\)",
    ) as e:
        harvest(model, texts, HOOK, cache_dir=path)
    assert "the None" not in str(e.value)


class Spiky(torch.nn.Module):
    """Embedding -> identity ("block"): the activation at "block" is the embedding, with token ``bad`` set to
    ``value`` (inf, NaN, or a number too large for float16)."""

    def __init__(self, vocab, bad, value):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 4)
        with torch.no_grad():
            self.emb.weight[bad] = value
        self.block = torch.nn.Identity()

    def forward(self, ids):  # [batch, pos] -> [batch, pos, 4]
        return self.block(self.emb(ids))


@pytest.mark.parametrize(
    "value, dtype, match",
    [
        (float("inf"), torch.float32, "holds inf .*load it in float32.*remove texts\\[1\\]"),
        (float("nan"), torch.float32, "holds NaN"),
        (
            1e6,
            torch.float16,
            "holds inf .*finite but exceed float16's range: harvest with dtype=torch.float32",
        ),
    ],
)
@pytest.mark.parametrize("cached", [False, True])
def test_non_finite_activations_say_where(model, tmp_path, value, dtype, match, cached):
    tok = model.tokenizer
    texts = ["A cat sat on the mat.", "The dog ran home."]
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    bad = ids[1][1]
    assert bad not in ids[0] and ids[1].count(bad) == 1
    spiky = Spiky(len(tok), bad, value)
    row, pos = len(ids[0]) + 1, 2  # position 0 is BOS; doc 1's token 1 sits at position 2
    where = f"activation row {row} \\(document 1, position {pos}, token id {bad}\\) at hook 'block'"
    with pytest.raises(ValueError, match=f"{where} {match}"):
        harvest(
            spiky,
            texts,
            "block",
            tokenizer=tok,
            dtype=dtype,
            batch_size=1,
            cache_dir=tmp_path / "cache" if cached else None,
        )
    assert list(tmp_path.iterdir()) == []  # no cache folder, no partial folder
    # the same texts without the bad token are fine
    ok = harvest(Spiky(len(tok), bad, 1.0), texts, "block", tokenizer=tok, dtype=dtype)
    assert torch.isfinite(ok.acts).all() and math.isfinite(ok.norm_scale) and ok.norm_scale > 0


def test_all_zero_activations_are_refused(model):
    zero = Spiky(len(model.tokenizer), 0, 0.0)
    with torch.no_grad():
        zero.emb.weight.zero_()
    with pytest.raises(ValueError, match="Every activation harvested at 'block' is exactly zero"):
        harvest(zero, ["A cat sat."], "block", tokenizer=model.tokenizer)


def test_head_is_the_first_rows_in_memory_or_on_disk(model, corpus, acts, tmp_path):
    few = acts.head(50)
    assert len(few) == 50 and few.texts is acts.texts and few.norm_scale == acts.norm_scale
    for name in ("acts", "token_ids", "doc_ids", "positions"):
        assert torch.equal(getattr(few, name), getattr(acts, name)[:50])
    assert acts.head(len(acts)) is acts
    cached = harvest(model, corpus.texts[:8], HOOK, cache_dir=tmp_path / "cache", shard_tokens=40)
    on_disk = cached.head(50)  # crosses a shard boundary: two shards read, the second cut short
    assert isinstance(on_disk, ActivationSet) and on_disk.norm_scale == cached.norm_scale
    assert on_disk.texts == corpus.texts[:8] and on_disk.text_of(49) == corpus[int(on_disk.doc_ids[49])].text
    for name in ("acts", "token_ids", "doc_ids", "positions"):
        assert torch.equal(getattr(on_disk, name), getattr(acts, name)[:50])
    assert len(cached.head(0)) == 0 and len(cached.head(10**9)) == len(cached)
    with pytest.raises(ValueError, match="non-negative"):
        acts.head(-1)


def test_model_name_is_the_loaded_name_or_the_class_name(model, corpus, acts):
    from saewidgets.models import model_name

    assert acts.model_name == model_name(model) == "storyteller"
    assert (
        harvest(
            Spiky(len(model.tokenizer), 0, 1.0), ["A cat."], "block", tokenizer=model.tokenizer
        ).model_name
        == "Spiky"
    )
