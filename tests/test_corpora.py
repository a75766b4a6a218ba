import time

import pytest

from saewidgets import OfflineError, load_corpus
from saewidgets.zoo.corpus import generate_storyteller


def test_storyteller_by_name_is_the_generator():
    a = load_corpus("storyteller", n_docs=20, seed=4, plant={"dragon": 0.5})
    b = generate_storyteller(20, seed=4, plant={"dragon": 0.5})
    assert a.texts == b.texts and a.label("dragon") == b.label("dragon")


def test_unknown_corpus_lists_the_available_ones():
    with pytest.raises(ValueError, match="'storyteller'.*tinystories"):
        load_corpus("storytelling")


@pytest.mark.parametrize("name", ["tinystories", "someone/some-dataset"])
def test_hub_corpus_offline_fails_fast(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.perf_counter()
    with pytest.raises(OfflineError, match="storyteller"):
        load_corpus(name, n_docs=5)
    assert time.perf_counter() - t < 5
