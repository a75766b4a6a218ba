"""The bundled model really learned the corpus, and its shipped files are what the card says."""

import json
import re

import pytest
import torch

from saewidgets import load_corpus, load_model
from saewidgets.zoo import STORYTELLER_DIR
from saewidgets.zoo import train_storyteller as ts
from saewidgets.zoo.corpus import generate_storyteller


@pytest.fixture(scope="module")
def fresh_losses(model):
    """Model and unigram cross-entropy on documents from seeds the model never trained on."""
    tok = model.tokenizer
    fresh = tok(load_corpus("storyteller", n_docs=300, seed=12345).texts, add_special_tokens=False)[
        "input_ids"
    ]
    unigram_fit = tok(load_corpus("storyteller", n_docs=5000, seed=54321).texts, add_special_tokens=False)[
        "input_ids"
    ]
    hf = model.original_model
    return ts.model_loss(hf, fresh, tok.bos_token_id), ts.unigram_loss(unigram_fit, fresh, len(tok))


def test_model_loss_is_at_least_40_percent_below_unigram(fresh_losses):
    model_loss, unigram = fresh_losses
    assert model_loss <= 0.6 * unigram, (model_loss, unigram)


def test_training_card_matches_the_weights(fresh_losses):
    card = json.loads((STORYTELLER_DIR / "training.json").read_text())
    assert card["train_corpus"]["seed"] == ts.TRAIN_CORPUS_SEED != ts.HELDOUT_CORPUS_SEED
    assert card["reduction_vs_unigram"] >= 0.4
    assert len(card["curve"]) >= 10 and card["curve"][-1]["train_loss"] < card["curve"][0]["train_loss"] / 2
    assert abs(card["heldout_loss"] - fresh_losses[0]) < 0.15  # another fresh sample, same model
    assert card["train_seconds"] <= 30 * 60
    assert (STORYTELLER_DIR / "model.safetensors").stat().st_size <= 15 * 2**20


def test_greedy_story_reads_as_a_story(model):
    with torch.no_grad():
        story = model.generate("Once upon a time", max_new_tokens=100, do_sample=False, verbose=False)
    words = re.findall(r"[a-z]+", story.lower())
    vocab = set(re.findall(r"[a-z]+", " ".join(generate_storyteller(3000, seed=77).texts).lower()))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", story) if s]
    assert len(words) >= 30
    assert sum(w in vocab for w in words) / len(words) >= 0.97, story  # real words, not fragments
    assert len(sentences) >= 3 and all(s[0].isupper() or s[0] == '"' for s in sentences), story
    assert len(set(sentences)) >= len(sentences) - 1, story  # not one sentence on a loop


def test_training_script_smoke(tmp_path):
    card = ts.main(
        [
            "--steps",
            "3",
            "--n-docs",
            "200",
            "--vocab",
            "400",
            "--n-layer",
            "2",
            "--d-model",
            "32",
            "--n-ctx",
            "64",
            "--out",
            str(tmp_path / "st"),
            "--figure",
            str(tmp_path / "curve.png"),
        ]
    )
    assert card["steps"] == 3 and len(card["curve"]) == 2
    small = load_model(tmp_path / "st", device="cpu")
    assert small.cfg.n_layers == 2 and small.cfg.d_model == 32
    assert json.loads((tmp_path / "st" / "training.json").read_text())["heldout_loss"] == card["heldout_loss"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "st"]  # no temporary folders left
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pack_rows_starts_every_row_with_bos_and_a_whole_story():
    docs = [[5] * 10, [6] * 3, [7] * 7]
    rows = ts.pack_rows(docs, bos=0, n_ctx=8)
    assert rows[:, 0].tolist() == [0, 0, 0]
    assert rows[0].tolist() == [0] + [5] * 7  # a story longer than the context is cut
    assert rows[1].tolist() == [0, 6, 6, 6, 0, 7, 7, 7]  # the next story cut at the row end...
    assert rows[2].tolist() == [0] + [7] * 7  # ...starts the next row in full


def test_training_is_reproducible_from_its_seed(tmp_path):
    from safetensors.torch import load_file

    args = [
        "--steps",
        "4",
        "--n-docs",
        "150",
        "--vocab",
        "350",
        "--n-layer",
        "2",
        "--d-model",
        "32",
        "--n-ctx",
        "64",
    ]
    first = ts.main(args + ["--out", str(tmp_path / "a")])
    second = ts.main(args + ["--out", str(tmp_path / "b")])
    assert [p["train_loss"] for p in first["curve"]] == [p["train_loss"] for p in second["curve"]]
    wa, wb = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    other = ts.main(args + ["--seed", "1", "--out", str(tmp_path / "c")])
    assert other["curve"][-1]["train_loss"] != first["curve"][-1]["train_loss"]
