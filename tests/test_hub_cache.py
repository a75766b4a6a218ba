"""Hub names offline: a model or dataset that sits in the local Hugging Face cache loads by its hub name with
HF_HUB_OFFLINE=1, and an empty cache fails at once, naming the name, the cache searched and how to fill it.

The cache is filled by hand in the hub client's layout (tests/hub_cache.py) with tiny random-weight checkpoints
(tests/tiny_models.py) under real repo ids, so the resolution is exactly what a cache filled by `hf download`
gives, with no download."""

import json
import time

import pytest
import torch
from hub_cache import put_in_hub_cache

from saewidgets import OfflineError, harvest, load_corpus, load_model
from saewidgets.models import model_name


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty hub cache that the library (and the hub client) read, offline."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))  # read at import time
    return cache


@pytest.mark.parametrize(
    "name, repo, family",
    [
        ("gpt2-small", "gpt2", "gpt2"),  # a TransformerLens alias -> its hub id
        ("EleutherAI/pythia-70m-deduped", "EleutherAI/pythia-70m-deduped", "gpt_neox"),  # an org/repo id
    ],
)
def test_a_cached_hub_name_loads_offline(name, repo, family, hub_cache, tiny_checkpoint):
    put_in_hub_cache(tiny_checkpoint(family), hub_cache, repo, blobs=family == "gpt_neox")  # both layouts
    model = load_model(name, device="cpu")
    # The cache's own config.json, not TransformerLens's table for the alias (the real gpt2 has 12 layers).
    assert model.cfg.n_layers == 2 and model.cfg.d_model == 64 and model_name(model) == repo
    texts = ["Once upon a time there was a cat.", "The dragon flew over the sea."]
    acts = harvest(model, texts, "blocks.1.hook_resid_post", n_tokens=12)
    assert acts.acts.shape == (12, 64) and torch.isfinite(acts.acts).all()


@pytest.mark.parametrize(
    "name, repo",
    [
        ("gpt2-small", "gpt2"),  # in the package's own table
        ("EleutherAI/pythia-70m-deduped", None),  # a hub id
        ("pythia-160m", "EleutherAI/pythia-160m"),  # any TransformerLens alias (its table, read as JSON)
    ],
)
def test_an_empty_cache_fails_fast_naming_the_name_the_cache_and_the_fix(name, repo, hub_cache):
    repo = repo or name
    t = time.perf_counter()
    with pytest.raises(OfflineError) as e:
        load_model(name, device="cpu")
    seconds = time.perf_counter() - t
    message = str(e.value)
    assert seconds < 2, f"{seconds:.2f} s"
    assert repr(name) in message and str(hub_cache) in message and "storyteller" in message
    assert f"hf download {repo}" in message and "HF_HUB_CACHE" in message


def test_the_alias_table_read_without_transformer_lens_is_transformer_lens_table():
    from transformer_lens.supported_models import get_official_model_name

    from saewidgets.models import _tl_aliases

    table = _tl_aliases()
    assert len(table) > 200 and table["pythia-70m-deduped"] == "EleutherAI/pythia-70m-deduped"
    assert all(get_official_model_name(alias) == repo for alias, repo in table.items())


def test_a_half_cached_model_is_not_taken_for_a_checkpoint(hub_cache, tiny_checkpoint, tmp_path):
    """Only config.json in the cache (an interrupted download): offline, the same clear error as an empty cache."""
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((tiny_checkpoint("gpt2") / "config.json").read_text())
    put_in_hub_cache(partial, hub_cache, "EleutherAI/pythia-70m-deduped")
    with pytest.raises(OfflineError, match="hf download EleutherAI/pythia-70m-deduped"):
        load_model("EleutherAI/pythia-70m-deduped", device="cpu")


def _parquet(folder, name, texts):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": texts, "meta": [str(i) for i in range(len(texts))]}), folder / name)


def test_a_cached_dataset_streams_offline(hub_cache, tmp_path):
    files = tmp_path / "pile"
    train = [f"train document {i} about the sea." for i in range(30)]
    _parquet(files / "data", "train-00000-of-00001.parquet", train)
    _parquet(files / "data", "test-00000-of-00001.parquet", ["held-out document"] * 5)
    for name in ("pile-train.txt", "pile-more-train.txt", "pile-test.txt"):  # more .txt files: parquet wins
        (files / name).write_text("a line\nanother line\n")
    put_in_hub_cache(files, hub_cache, "NeelNanda/pile-10k", repo_type="dataset", blobs=True)
    corpus = load_corpus("NeelNanda/pile-10k", n_docs=8, seed=0)
    assert len(corpus) == 8 and set(corpus.texts) <= set(train) and corpus[0].labels == {}
    assert load_corpus("NeelNanda/pile-10k", n_docs=8, seed=0).texts == corpus.texts  # the seed decides
    assert load_corpus("NeelNanda/pile-10k", n_docs=3, split="test").texts == ["held-out document"] * 3


def test_a_cached_jsonl_dataset_with_another_column(hub_cache, tmp_path):
    files = tmp_path / "stories"
    files.mkdir()
    (files / "train.jsonl").write_text(
        "\n".join(json.dumps({"story": f"story {i}"}) for i in range(10)) + "\n"
    )
    put_in_hub_cache(files, hub_cache, "someone/stories", repo_type="dataset")
    corpus = load_corpus("someone/stories", n_docs=4, text_column="story")
    assert len(corpus) == 4 and all(t.startswith("story ") for t in corpus.texts)
    with pytest.raises(ValueError, match="columns are \\['story'\\]"):
        load_corpus("someone/stories", n_docs=4)


@pytest.mark.parametrize("name, repo", [("tinystories", "roneneldan/TinyStories"), ("someone/data", None)])
def test_an_uncached_dataset_fails_fast_naming_the_cache_and_the_fix(name, repo, hub_cache):
    repo = repo or name
    t = time.perf_counter()
    with pytest.raises(OfflineError) as e:
        load_corpus(name, n_docs=5)
    seconds = time.perf_counter() - t
    message = str(e.value)
    assert seconds < 2, f"{seconds:.2f} s"
    assert repr(name) in message and str(hub_cache) in message and "storyteller" in message
    assert f"hf download {repo} --repo-type dataset" in message
