"""Tests of the storyteller corpus generator: determinism, labels <=> text, matched variants."""

from __future__ import annotations

import collections.abc
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from saewidgets.zoo import lexicon, lexicon_topics
from saewidgets.zoo.corpus import (
    CONCEPTS,
    RARE_CONCEPTS,
    TOPICS,
    Corpus,
    Document,
    generate_storyteller,
    remove_spans,
)

REPO = Path(__file__).resolve().parents[1]
COMMON = ("dialogue", "question", "counting", "negation", "colour")

# Detectors written independently of the generator, deliberately broader than its markers.
NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
NUMBER_VALUE = {w: i for i, w in enumerate(NUMBER_WORDS, start=1)}
NUMBER_LEAKS = {"zero", "hundred", "thousand", "dozen", "million"}
NEGATIONS = {
    "not",
    "no",
    "never",
    "nothing",
    "nobody",
    "none",
    "nowhere",
    "neither",
    "nor",
    "cannot",
    "without",
}
COLOURS = set("red blue green yellow orange purple pink brown black white grey silver golden".split())
COLOUR_LEAKS = {
    "gold",
    "gray",
    "violet",
    "indigo",
    "scarlet",
    "crimson",
    "turquoise",
    "amber",
    "lilac",
    "maroon",
    "navy",
    "beige",
}
TONE = {tone: set(words) for tone, words in lexicon.TONE_WORDS.items()}


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z']+|\d+", text.lower())


def is_negation(tok: str) -> bool:
    return tok in NEGATIONS or tok.endswith("n't")


def sentences(text: str) -> list[str]:
    """Split after . ! or ? (and a closing quote) when a capital or an opening quote follows."""
    out, start = [], 0
    for m in re.finditer(r'(?<=[.!?])(")? ', text):
        nxt = text[m.end() : m.end() + 1]
        if nxt.isupper() or nxt == '"':
            out.append(text[start : m.end() - 1])
            start = m.end()
    out.append(text[start:])
    return out


def outside_quotes(text: str) -> str:
    return re.sub(r'"[^"]*"', " ", text)


@pytest.fixture(scope="module")
def big() -> tuple[Corpus, float]:
    t0 = time.perf_counter()
    corpus = generate_storyteller(10_000, seed=0)
    return corpus, time.perf_counter() - t0


@pytest.fixture(scope="module")
def dense() -> Corpus:
    """Every concept planted often and independently, so every template is exercised."""
    return generate_storyteller(3000, seed=7, plant={k: 0.5 for k in CONCEPTS}, co_plant=())


def corpora(big, dense):
    return (big[0][:3000], dense)


# --- API --------------------------------------------------------------------------------------
def test_constants():
    assert len(TOPICS) >= 10 and len(set(TOPICS)) == len(TOPICS)
    assert set(COMMON) | set(RARE_CONCEPTS) == set(CONCEPTS)
    assert all(0 <= r <= 1 for r in CONCEPTS.values())
    assert CONCEPTS["dialogue"] == pytest.approx(0.35) and CONCEPTS["dragon"] == pytest.approx(0.02)


def test_corpus_object():
    c = generate_storyteller(20, seed=3)
    assert isinstance(c, collections.abc.Sequence) and len(c) == 20
    assert isinstance(c[0], Document) and c[-1] is c[19] and len(c[2:5]) == 3
    assert c.texts == [d.text for d in c] and c.name == "storyteller" and c.seed == 3
    assert c.label("topic") == [d.labels["topic"] for d in c]
    assert "20" in repr(c) and "storyteller" in repr(c) and "3" in repr(c)
    assert c.plant["dialogue"] == 0.35 and c.plant["sad"] == 0.5 and c.plant["treasure"] == 0.02
    with pytest.raises(KeyError):
        c.label("nope")
    assert len(generate_storyteller(0)) == 0
    keys = {"topic", "tone", "characters", "numbers", "colours", *CONCEPTS}
    assert all(set(d.labels) == keys for d in c)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"plant": {"dragn": 0.1}},
        {"plant": {"dialogue": 1.5}},
        {"plant": {"sad": -0.1}},
        {"plant": {"question": math.nan}},
        {"plant": {"question": "high"}},
        {"plant": {"treasure": 0.5}},  # follows dragon under the default co_plant
        {"co_plant": (("dragon", "unicorn"),)},
        {"co_plant": (("robot", "wizard"), ("wizard", "robot"))},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        generate_storyteller(5, **kwargs)


def test_bad_parameters_list_valid_keys():
    with pytest.raises(ValueError, match="dialogue.*negation"):
        generate_storyteller(5, plant={"dragn": 0.1})
    with pytest.raises(ValueError):
        generate_storyteller(-1)


# --- determinism ------------------------------------------------------------------------------
def dump(c: Corpus) -> str:
    return json.dumps(
        [[d.text, d.labels, {k: list(v) for k, v in d.spans.items()}] for d in c], sort_keys=True
    )


def test_deterministic_and_seeded():
    a, b = generate_storyteller(300, seed=5), generate_storyteller(300, seed=5)
    assert dump(a) == dump(b)
    other = generate_storyteller(300, seed=6)
    assert sum(x != y for x, y in zip(a.texts, other.texts)) > 290


def test_deterministic_across_processes():
    code = (
        "import json,sys; from saewidgets.zoo.corpus import generate_storyteller as g; "
        "c=g(200, seed=11, plant={'sad':0.3}); "
        "sys.stdout.write(json.dumps([[d.text,d.labels] for d in c], sort_keys=True))"
    )
    outs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        outs.append(
            subprocess.run(
                [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    here = generate_storyteller(200, seed=11, plant={"sad": 0.3})
    assert outs[0] == outs[1] == json.dumps([[d.text, d.labels] for d in here], sort_keys=True)


def test_prefix_stable():
    assert dump(generate_storyteller(400, seed=2)[:120]) == dump(generate_storyteller(120, seed=2))


# --- labels <=> text --------------------------------------------------------------------------
def test_labels_match_text(big, dense):
    for c in corpora(big, dense):
        for d in c:
            text, lab, toks = d.text, d.labels, tokens(d.text)
            assert lab["dialogue"] == ('"' in text), text
            assert lab["question"] == ("?" in text), text
            numbers = [
                int(t) if t.isdigit() else NUMBER_VALUE[t] for t in toks if t.isdigit() or t in NUMBER_VALUE
            ]
            assert lab["counting"] == bool(numbers) and lab["numbers"] == numbers, text
            assert not NUMBER_LEAKS & set(toks), text
            assert lab["negation"] == any(is_negation(t) for t in toks), text
            colours = [t for t in toks if t in COLOURS]
            assert lab["colour"] == bool(colours) and lab["colours"] == colours, text
            assert not COLOUR_LEAKS & set(toks), text
            for concept in RARE_CONCEPTS:
                assert lab[concept] == bool(set(toks) & set(lexicon.RARE_WORDS[concept])), text
                assert lab[concept] == (concept in toks), text


def test_quotes_and_questions_are_well_formed(dense):
    for d in dense:
        assert d.text.count('"') % 2 == 0
        for quote in re.findall(r'"([^"]*)"', d.text):
            assert quote[-1] in ".!," and "?" not in quote, d.text
        for s, e in d.spans.get("question", ()):
            assert d.text[s:e].endswith("?")


def test_spans(big, dense):
    markers = {
        "dialogue": lambda s: '"' in s,
        "question": lambda s: s.endswith("?"),
        "counting": lambda s: any(t.isdigit() or t in NUMBER_VALUE for t in tokens(s)),
        "negation": lambda s: any(is_negation(t) for t in tokens(s)),
        "colour": lambda s: bool(COLOURS & set(tokens(s))),
        **{c: (lambda s, c=c: c in tokens(s)) for c in RARE_CONCEPTS},
    }
    for c in corpora(big, dense):
        for d in c:
            present = {k for k in CONCEPTS if d.labels[k]}
            assert set(d.spans) == present | {"tone", "topic"}, d.spans
            split = sentences(d.text)
            for key, spans in d.spans.items():
                assert spans and all(d.text[s:e] in split for s, e in spans), (key, d.text)
                if key in markers:
                    assert all(markers[key](d.text[s:e]) for s, e in spans), (key, d.text)
            # Markers occur only inside their spans.
            for key in present:
                rest = remove_spans(d.text, d.spans[key])
                assert not markers[key](rest), (key, d.text)


def test_tone(big, dense):
    for c in corpora(big, dense):
        for d in c:
            tone, other = d.labels["tone"], {"happy": "sad", "sad": "happy"}[d.labels["tone"]]
            spans = d.spans["tone"]
            assert 1 <= len(spans) <= 2 and spans[-1][1] == len(d.text)
            for s, e in spans:
                toks = set(tokens(d.text[s:e]))
                assert toks & TONE[tone] and not toks & TONE[other], d.text
            rest = set(tokens(remove_spans(d.text, spans)))
            assert not rest & (TONE["happy"] | TONE["sad"]), d.text
    sad = generate_storyteller(2000, seed=1, plant={"sad": 0.3}).label("tone")
    assert abs(sad.count("sad") / len(sad) - 0.3) < 0.04
    default = generate_storyteller(2000, seed=1).label("tone")
    assert abs(default.count("sad") / len(default) - 0.5) < 0.04


def test_topic_vocabulary(big):
    corpus = big[0]

    def with_plurals(ws):
        return (
            ws
            | {w + "s" for w in ws}
            | {w + "es" for w in ws}
            | {w[:-1] + "ies" for w in ws}
            | {"mice", "geese", "calves"}
        )

    vocab = {
        t: with_plurals({w for key, words in lists.items() for entry in words for w in entry.split()})
        for t, lists in lexicon_topics.TOPIC_WORDS.items()
    }
    exclusive = {
        t: {
            w
            for key, words in lists.items()
            if key not in lexicon_topics.SHARED_KEYS
            for entry in words
            for w in entry.split()
        }
        for t, lists in lexicon_topics.TOPIC_WORDS.items()
    }
    counts = Counter(corpus.label("topic"))
    assert set(counts) == set(TOPICS) and min(counts.values()) > 0.8 * len(corpus) / len(TOPICS)
    for d in corpus:
        toks = set(tokens(d.text))
        assert len(toks & vocab[d.labels["topic"]]) >= 2, d.text
        leaks = {t: toks & exclusive[t] for t in TOPICS if t != d.labels["topic"]}
        assert not any(leaks.values()), (leaks, d.text)
        for s, e in d.spans["topic"]:
            assert set(tokens(d.text[s:e])) & vocab[d.labels["topic"]], d.text


# --- matched variants -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "concept,partners,co_plant",
    [
        ("dragon", ("dragon", "treasure"), None),
        ("negation", ("negation",), None),
        ("treasure", ("treasure",), ()),
        ("dialogue", ("dialogue",), ()),
    ],
)
def test_variants_differ_only_by_planted_sentences(concept, partners, co_plant):
    a = generate_storyteller(500, seed=4, plant={concept: 0.0}, co_plant=co_plant)
    b = generate_storyteller(500, seed=4, plant={concept: 0.3}, co_plant=co_plant)
    planted = 0
    for da, db in zip(a, b):
        assert not any(da.labels[p] for p in partners)
        assert {k: v for k, v in da.labels.items() if k not in partners} == {
            k: v for k, v in db.labels.items() if k not in partners
        }
        spans = [span for p in partners for span in db.spans.get(p, ())]
        assert remove_spans(db.text, spans) == da.text
        for key in da.spans:  # every other span keeps its sentences
            assert [da.text[s:e] for s, e in da.spans[key]] == [db.text[s:e] for s, e in db.spans[key]]
        planted += db.labels[concept]
        if len(partners) == 2:
            assert db.labels[partners[0]] == db.labels[partners[1]]
    assert abs(planted / 500 - 0.3) < 0.06


def test_co_plant():
    linked = generate_storyteller(3000, seed=9, plant={"dragon": 0.2})
    assert linked.label("dragon") == linked.label("treasure") and 450 < sum(linked.label("dragon")) < 750
    assert linked.plant["treasure"] == 0.2
    free = generate_storyteller(3000, seed=9, plant={"dragon": 0.2, "treasure": 0.2}, co_plant=())
    both = sum(x and y for x, y in zip(free.label("dragon"), free.label("treasure")))
    assert sum(free.label("treasure")) > 450 and both < 250


def test_rates_monotone():
    low = generate_storyteller(1000, seed=8, plant={"colour": 0.1}).label("colour")
    high = generate_storyteller(1000, seed=8, plant={"colour": 0.6}).label("colour")
    assert all(hi for lo, hi in zip(low, high) if lo) and sum(high) > 3 * sum(low)


# --- story shape and language -----------------------------------------------------------------
def test_story_shape(big):
    docs = big[0][:5000]
    lengths = [len(sentences(d.text)) for d in docs]
    assert min(lengths) >= 3 and max(lengths) <= 12
    once = sum(d.text.startswith("Once upon a time") for d in docs)
    assert once >= 0.4 * len(docs)
    for d in docs:
        split = sentences(d.text)
        assert " ".join(split) == d.text
        for s in split:
            assert re.match(r'"?[A-Z]', s) and re.search(r'[.!?]"?$', s), s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_length_cap_is_a_guarantee(seed):
    """At default rates the cap of 12 sentences holds for every document, not just on average."""
    assert max(len(sentences(t)) for t in generate_storyteller(4000, seed=seed).texts) <= 12


def test_extreme_rates():
    none = generate_storyteller(300, seed=1, plant={k: 0.0 for k in CONCEPTS})
    assert not any(d.labels[k] for d in none for k in CONCEPTS)
    assert all(set(d.spans) == {"tone", "topic"} for d in none)
    every = generate_storyteller(300, seed=1, plant={k: 1.0 for k in CONCEPTS})
    assert all(d.labels[k] for d in every for k in CONCEPTS)
    sad = generate_storyteller(100, seed=1, plant={"sad": 1.0}).label("tone")
    assert set(sad) == {"sad"}


def test_language(big):
    for d in big[0][:5000]:
        low = d.text.lower()
        assert d.text.isascii() and "  " not in d.text
        assert not re.search(r"\ba [aeiou]", low) and not re.search(r"\ban [^aeiou\s]", low), d.text
        assert "{" not in d.text and "}" not in d.text and "_" not in d.text
        # Articles are never doubled and sentences never repeat within a story.
        assert not re.search(r"\b(the|a|an) (the|a|an)\b", low), d.text
        assert len(set(sentences(d.text))) == len(sentences(d.text)), d.text


def test_characters_and_pronouns(big):
    names = dict(lexicon.NAMES)
    counts = Counter()
    for d in big[0][:5000]:
        cast = d.labels["characters"]
        assert 1 <= len(cast) <= 2 and len(set(cast)) == len(cast)
        positions = [re.search(rf"\b{n}\b", d.text).start() for n in cast]
        assert positions == sorted(positions), d.text
        counts.update(cast)
        words = set(tokens(outside_quotes(d.text)))
        if len(cast) == 1:  # a lone protagonist: every pronoun is theirs
            wrong = {"he": {"she", "her", "hers"}, "she": {"he", "him", "his"}}[names[cast[0]]]
            assert not words & wrong, d.text
    frequencies = counts.most_common()
    assert len(counts) >= 35 and frequencies[0][1] > 5 * frequencies[-1][1]


def test_vocabulary_and_speed(big):
    corpus, seconds = big
    vocab = {w for t in corpus.texts for w in re.findall(r"[a-z]+", t.lower())}
    print(f"\n10,000 documents in {seconds:.2f} s, {len(vocab)} word types")
    assert len(vocab) >= 1500
    assert seconds < 15


# --- lexicon hygiene --------------------------------------------------------------------------
def test_lexicon_hygiene():
    markers = (
        set(NUMBER_WORDS)
        | NEGATIONS
        | COLOURS
        | COLOUR_LEAKS
        | TONE["happy"]
        | TONE["sad"]
        | {w for words in lexicon.RARE_WORDS.values() for w in words}
    )
    word_lists = [*lexicon.GENERAL.values()] + [
        words for lists in lexicon_topics.TOPIC_WORDS.values() for words in lists.values()
    ]
    for words in word_lists:
        for entry in words:
            assert not set(entry.lower().split()) & markers, entry
    for t in TOPICS:
        assert len(lexicon_topics.TOPIC_TEMPLATES[t]) >= 8
        vocab = {w for words in lexicon_topics.TOPIC_WORDS[t].values() for e in words for w in e.split()}
        assert len(vocab) >= 60, (t, len(vocab))
    for concept, templates in lexicon.CONCEPT_TEMPLATES.items():
        assert len(templates) >= 5, concept
    rare = [set(w) for w in lexicon.RARE_WORDS.values()]
    assert all(not (x & y) for i, x in enumerate(rare) for y in rare[i + 1 :])


def test_topic_words_are_exclusive_in_the_lexicon():
    """Static twin of test_topic_vocabulary: a topic's exclusive words occur in no other list
    and in no template text outside the topic."""

    def words(texts):
        return {w for t in texts for w in tokens(re.sub(r"\{[^}]*\}", " ", t))}

    templates = {
        name: value
        for name, value in vars(lexicon).items()
        if name.isupper() and "TEMPLATES" in name or name.startswith(("OPENINGS", "ENDINGS"))
    }
    outside = words(
        t
        for group in templates.values()
        for t in (group if isinstance(group, tuple) else sum(group.values(), ()))
    )
    outside |= words(e for ws in lexicon.GENERAL.values() for e in ws)
    for topic, lists in lexicon_topics.TOPIC_WORDS.items():
        mine = words(e for k, ws in lists.items() if k not in lexicon_topics.SHARED_KEYS for e in ws)
        others = set(outside)
        for other, other_lists in lexicon_topics.TOPIC_WORDS.items():
            if other != topic:
                others |= words(e for ws in other_lists.values() for e in ws)
                others |= words(lexicon_topics.TOPIC_TEMPLATES[other])
                others |= words(lexicon_topics.TOPIC_FRIEND_TEMPLATES[other])
        assert not mine & others, (topic, mine & others)
