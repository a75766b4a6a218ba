"""The planted word hierarchy (saewidgets.zoo.word_concepts) and its token labels (concepts.word_labels).

Exactness is proven against the generator itself, not against a second regex: the corpus is generated again
with every child word replaced by a tagged stand-in ("cat" -> "zqbcqcat"). The random streams draw by list
length and compare words only for equality, so the tagged corpus is the same stories word for word, and its
tags are exactly the words the generator drew for each role.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import defaultdict

import numpy as np
import pytest

import saewidgets as sw
from saewidgets import concepts
from saewidgets.zoo import corpus as corpus_module
from saewidgets.zoo import lexicon
from saewidgets.zoo.corpus import CONCEPTS, Corpus, generate_storyteller
from saewidgets.zoo.lexicon_topics import TOPIC_WORDS
from saewidgets.zoo.word_concepts import BLOCKERS, CHILD_FORMS, HIERARCHY, word_spans

# sha256 of [[text, labels, spans], ...] computed with the generator *before* word concepts existed (commit
# 08cda1e): adding them must not move one character or label of any existing document.
PINS = {
    (0, None): "5e8c797033f3112c9cb8ea66679ce577849fdc5f20e0c383e6ad8294810f5ba0",
    (7, (("dragon", 0.5),)): "b2eb76060998d30d19311605e4a5780de8d6a8a241818dbbeb57ccf18fa92b45",
}
CHILDREN = list(CHILD_FORMS)
WORD = re.compile(r"[A-Za-z0-9]+")
TAG = re.compile(r"zq([a-j]+)q", re.IGNORECASE)


def _tag(entries: tuple[str, ...], parent: str) -> tuple[str, ...]:
    def code(entry: str) -> str:
        index = CHILDREN.index(f"{parent}={entry.replace(' ', '_')}")
        return "".join("abcdefghij"[int(d)] for d in str(index))

    return tuple(" ".join(f"zq{code(e)}q{w}" for w in e.split()) for e in entries)


def _tagged_twin(monkeypatch, n_docs: int, **kwargs):
    """The corpus generated with every word list of the hierarchy replaced by tagged stand-ins."""
    monkeypatch.setitem(TOPIC_WORDS["animals"], "noun", _tag(TOPIC_WORDS["animals"]["noun"], "animal"))
    monkeypatch.setitem(TOPIC_WORDS["food"], "noun", _tag(TOPIC_WORDS["food"]["noun"], "food"))
    monkeypatch.setitem(TOPIC_WORDS["food"], "meal", _tag(TOPIC_WORDS["food"]["meal"], "food"))
    monkeypatch.setitem(lexicon.GENERAL, "clothing", _tag(lexicon.GENERAL["clothing"], "clothing"))
    monkeypatch.setattr(lexicon, "COLOURS", _tag(lexicon.COLOURS, "colour"))
    monkeypatch.setattr(corpus_module, "NUMBER_WORDS", _tag(corpus_module.NUMBER_WORDS, "number"))
    twin = generate_storyteller(n_docs, **kwargs)
    monkeypatch.undo()
    return twin


@pytest.mark.parametrize(
    "kwargs", [{"seed": 0}, {"seed": 7, "plant": {k: 0.5 for k in CONCEPTS}, "co_plant": ()}]
)
def test_spans_are_exactly_the_words_the_generator_drew(monkeypatch, kwargs):
    corpus = generate_storyteller(1000, **kwargs)  # the dense variant exercises every concept template
    twin = _tagged_twin(monkeypatch, 1000, **kwargs)
    seen = defaultdict(int)
    for doc, tagged in zip(corpus, twin):
        words, tagged_words = list(WORD.finditer(doc.text)), list(WORD.finditer(tagged.text))
        assert len(words) == len(tagged_words), (doc.text, tagged.text)
        truth, found = defaultdict(set), defaultdict(set)
        for word, stand_in in zip(words, tagged_words):
            if m := TAG.match(stand_in.group()):
                truth[CHILDREN[int("".join(str("abcdefghij".index(c)) for c in m.group(1).lower()))]].add(
                    word.span()
                )
            elif word.group().lower() == "one":  # the fixed "{name} kept just one {noun}": the number one
                assert doc.text[word.start() - 10 : word.end()] == "kept just one", doc.text
                truth["number=one"].add(word.span())
        for concept, spans in word_spans(doc.text).items():
            if "=" in concept:  # parents: test_a_parent_is_the_union_of_its_children
                for start, end in spans:
                    assert doc.text[start:end].lower() in CHILD_FORMS[concept]
                    found[concept] |= {w.span() for w in words if start <= w.start() and w.end() <= end}
        assert dict(found) == dict(truth), doc.text
        for child, spans in truth.items():
            seen[child] += len(spans)
    assert {child.partition("=")[0] for child in seen} == set(HIERARCHY)
    assert len(seen) > 0.8 * len(CHILDREN)  # nearly every child occurs, so the proof covers them


def test_hierarchy_names_forms_and_unions():
    assert list(HIERARCHY) == ["animal", "food", "colour", "number", "clothing"]
    assert [c for children in HIERARCHY.values() for c in children] == CHILDREN
    assert all(c.startswith(f"{p}=") and " " not in c for p, children in HIERARCHY.items() for c in children)
    forms = [f for fs in CHILD_FORMS.values() for f in fs]
    assert len(forms) == len(set(forms))  # a form names one child
    assert CHILD_FORMS["animal=mouse"] == ("mouse", "mice") and CHILD_FORMS["colour=red"] == ("red",)
    assert BLOCKERS == ("duck pond", "duck ponds")
    text = "Two mice met a Guinea pig by the duck pond, then ate soup in a red bobble hat and a hat."
    spans = word_spans(text)
    found = {k: [text[s:e] for s, e in v] for k, v in spans.items()}
    assert found == {
        "number": ["Two"],
        "number=two": ["Two"],
        "animal": ["mice", "Guinea pig"],
        "animal=mouse": ["mice"],
        "animal=guinea_pig": ["Guinea pig"],
        "food": ["soup"],
        "food=soup": ["soup"],
        "colour": ["red"],
        "colour=red": ["red"],
        "clothing": ["bobble hat", "hat"],
        "clothing=bobble_hat": ["bobble hat"],
        "clothing=hat": ["hat"],
    }
    assert word_spans("A cat.") == {
        "animal": ((2, 5),),
        "animal=cat": ((2, 5),),
    }  # no "category", "caterpillar"
    assert word_spans("A category of caterpillars by the duck pond.") == {}


def test_a_parent_is_the_union_of_its_children():
    for doc in generate_storyteller(500, seed=3):
        spans = doc.words
        for parent, children in HIERARCHY.items():
            union = sorted(s for c in children for s in spans.get(c, ()))
            assert list(spans.get(parent, ())) == union, doc.text


def test_existing_documents_labels_and_spans_are_unchanged():
    for (seed, plant), pin in PINS.items():
        corpus = generate_storyteller(200, seed=seed, plant=dict(plant) if plant else None)
        for doc in corpus[:5]:
            assert isinstance(doc.words, dict)  # computing the words must not touch the fields
        blob = json.dumps([[d.text, d.labels, d.spans] for d in corpus], sort_keys=True)
        assert hashlib.sha256(blob.encode()).hexdigest() == pin


def test_documents_expose_their_words_without_changing_what_they_are():
    doc, again = generate_storyteller(3, seed=0)[2], generate_storyteller(3, seed=0)[2]
    assert [f.name for f in dataclasses.fields(doc)] == ["text", "labels", "spans"]
    assert doc.words == word_spans(doc.text) and doc.words is doc.words  # computed once
    assert doc == again and repr(doc) == repr(again)
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "changed"


@pytest.fixture(scope="module")
def harvest40(model):
    corpus = sw.load_corpus("storyteller", n_docs=40, seed=0)
    return corpus, sw.harvest(model, corpus, "blocks.1.hook_resid_post")


@pytest.mark.parametrize(
    "concept", ["animal", "food", "colour", "number", "clothing", "colour=silver", "food=noodles"]
)
def test_word_labels_mark_exactly_the_tokens_of_the_words(model, harvest40, concept):
    corpus, acts = harvest40
    labels = concepts.word_labels(acts, corpus, model.tokenizer, concept)
    assert labels.shape == (len(acts),) and labels.any()
    # Independently of token_spans: a document's rows decode, one by one, to a prefix of its text.
    tokens = [model.tokenizer.decode([t]) for t in acts.token_ids.tolist()]
    doc_ids = acts.doc_ids.numpy()
    expected = np.zeros(len(acts), bool)
    for doc in np.unique(doc_ids):
        rows = np.flatnonzero(doc_ids == doc)
        text = corpus[int(doc)].text
        assert text.startswith("".join(tokens[r] for r in rows))
        ends = np.cumsum([len(tokens[r]) for r in rows])
        for row, end, start in zip(rows, ends, ends - [len(tokens[r]) for r in rows]):
            expected[row] = any(start < e and s < end for s, e in corpus[int(doc)].words.get(concept, ()))
    np.testing.assert_array_equal(labels, expected)
    # Read back: each run of labelled tokens decodes to one or more of the concept's word forms.
    forms = sorted(
        {f for c, fs in CHILD_FORMS.items() if concept in (c, c.partition("=")[0]) for f in fs}, key=len
    )
    word = "(?:" + "|".join(re.escape(f) for f in reversed(forms)) + ")"
    spelled = "".join(t if x else "|" for t, x in zip(tokens, labels)).split("|")
    runs = [run.strip().lower() for run in spelled if run.strip()]
    assert runs and all(re.fullmatch(rf"{word}(?: {word})*", run) for run in runs), runs


def test_word_labels_for_a_word_of_several_tokens(model):
    full = generate_storyteller(300, seed=0)
    docs = [doc for doc in full if "animal=guinea_pig" in doc.words]
    corpus = Corpus(docs, name="storyteller", seed=0, plant=full.plant, co_plant=full.co_plant)
    acts = sw.harvest(model, corpus, "blocks.0.hook_resid_post")
    labels = concepts.word_labels(acts, corpus, model.tokenizer, "animal=guinea_pig")
    tokens = [model.tokenizer.decode([t]) for t in acts.token_ids.tolist()]
    runs = [run for run in "".join(t if x else "|" for t, x in zip(tokens, labels)).split("|") if run]
    assert len(docs) >= 2 and labels.sum() >= 2 * len(runs)  # every run is at least two tokens
    assert {run.strip().lower() for run in runs} <= {"guinea pig", "guinea pigs"}
    assert len(runs) == sum(len(doc.words["animal=guinea_pig"]) for doc in docs)


def test_bad_input_is_explained(model, harvest40):
    corpus, acts = harvest40
    with pytest.raises(KeyError, match="unknown word concept 'unicorn'.*'animal', 'food'"):
        concepts.word_labels(acts, corpus, model.tokenizer, "unicorn")
    with pytest.raises(KeyError, match="children of 'animal' are .*'animal=cat'"):
        concepts.word_labels(acts, corpus, model.tokenizer, "animal=unicorn")
    with pytest.raises(KeyError, match="sentence concepts such as 'dialogue' go to token_labels"):
        concepts.word_labels(acts, corpus, model.tokenizer, "dialogue")
    other = sw.load_corpus("storyteller", n_docs=10, seed=5)
    with pytest.raises(ValueError, match="not harvested from this corpus"):
        concepts.word_labels(acts, other, model.tokenizer, "animal")
    with pytest.raises(TypeError, match="text must be a str"):
        word_spans(None)
    assert concepts.HIERARCHY is HIERARCHY


def test_planted_label_rows_equal_the_one_concept_functions(model, harvest40):
    """Many concepts in one pass give exactly what token_labels and word_labels give one at a time."""
    from saewidgets.concepts import planted_label_rows, token_labels, word_labels

    corpus, acts = harvest40
    tokenizer = model.tokenizer
    sentence, words = ["dialogue", "topic=sea", "tone=sad", "colour"], ["colour", "colour=red", "animal"]
    rows = planted_label_rows(acts, corpus, tokenizer, sentence=sentence, words=words)
    for c in sentence:
        assert (rows[c] == token_labels(acts, corpus, tokenizer, c)).all(), c
    for c in words:
        assert (rows[f"word:{c}"] == word_labels(acts, corpus, tokenizer, c)).all(), c
    assert rows["word:colour"].any() and rows["colour"].sum() > rows["word:colour"].sum()
