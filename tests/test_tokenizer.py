from saewidgets.zoo.tokenizer import BOS, PAD, train_tokenizer


def test_bundled_tokenizer_round_trips_corpus_and_arbitrary_text(model, corpus):
    tok = model.tokenizer
    for text in corpus.texts[:20] + ["Zebras jump; naïve café ☕ 123!", "  two  spaces\nnewline"]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text


def test_bundled_tokenizer_special_tokens_and_size(model):
    tok = model.tokenizer
    assert tok.bos_token == BOS and tok.eos_token == BOS and tok.pad_token == PAD
    assert tok.bos_token_id != tok.pad_token_id
    assert len(tok) == model.cfg.d_vocab
    # Story words are mostly single tokens: the tokenizer was trained on this corpus.
    ids = tok(" the little dog ran to the garden", add_special_tokens=False)["input_ids"]
    assert len(ids) <= 8


def test_train_tokenizer_small_and_bad_size():
    texts = ["Once upon a time, a cat sat.", "The dog ran to the sea."] * 20
    tok = train_tokenizer(texts, vocab_size=320)
    assert len(tok) <= 320
    assert tok.decode(tok("The cat ran.", add_special_tokens=False)["input_ids"]) == "The cat ran."
    import pytest

    with pytest.raises(ValueError, match="at least 300"):
        train_tokenizer(texts, vocab_size=100)
