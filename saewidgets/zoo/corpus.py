"""The storyteller corpus: seeded children's stories with planted, exactly labelled concepts.

Every document is a short story: an opening sentence, 1-5 body sentences about one topic,
sentences carrying planted concepts inserted among the body, and a happy or sad ending of 1-2
sentences.  Sentences are joined by single spaces.

Labels are exact because every concept has an *exclusive* marker vocabulary (quotes for
dialogue, "?" for questions, number words, negations, colour words, the rare concepts' words,
tone words; see ``lexicon.py``) that the rest of the lexicon never uses: a document contains a
concept's marker iff it carries the concept.

Matched variants.  Document ``i`` draws from separate random streams, each seeded by the string
``f"{seed}:{i}:{stream}"`` (string seeds are hashed with SHA-512 by ``random``, so they are
stable across processes, unlike ``hash()``):

* ``base`` -- topic, characters, opening and body sentences;
* ``tone`` -- whether the ending is sad, and the ending sentences;
* one stream per concept -- its first draw ``u`` decides presence (``u < rate``), the next ones
  its insertion slot among the body sentences and its sentence.

Changing one concept's rate therefore changes only that concept's decisions (monotonically:
raising the rate only adds documents) and nothing else: the two corpora are identical except
for the inserted sentences, which :func:`remove_spans` deletes exactly.  Co-planted concepts
(``co_plant=(("dragon", "treasure"),)``) take the leader's decision and keep their own content.
Document ``i`` never depends on ``n_docs``, so corpora are prefix-stable.

Length cap.  To keep every story within 12 sentences at the default rates, the body and ending
are shortened in the rare documents whose concepts would otherwise overflow.  This reads the
concepts' presence draws ``u`` and the *default* rates only -- never the requested ones -- so
the base story stays identical across variant corpora.
"""

from __future__ import annotations

import collections.abc
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from . import lexicon as lex
from .lexicon import NAMES, NUMBER_WORDS, PRONOUNS
from .lexicon_topics import TOPIC_FRIEND_TEMPLATES, TOPIC_TEMPLATES, TOPIC_WORDS
from .word_concepts import plural as inflect
from .word_concepts import word_spans

__all__ = [
    "Document",
    "Corpus",
    "generate_storyteller",
    "remove_spans",
    "TOPICS",
    "CONCEPTS",
    "RARE_CONCEPTS",
]

TOPICS: tuple[str, ...] = tuple(TOPIC_WORDS)
RARE_CONCEPTS: tuple[str, ...] = ("dragon", "treasure", "wizard", "robot")
CONCEPTS: dict[str, float] = {
    "dialogue": 0.35,
    "question": 0.3,
    "counting": 0.3,
    "negation": 0.3,
    "colour": 0.35,
    **{name: 0.02 for name in RARE_CONCEPTS},
}
DEFAULT_SAD = 0.5
DEFAULT_CO_PLANT: tuple[tuple[str, str], ...] = (("dragon", "treasure"),)

# Story shape.  A story has at most _MAX_SENTENCES sentences at the default rates (see
# _default_concept_sentences); the body is 1-5 sentences, the ending 1-2.
_MAX_SENTENCES = 12
_BODY_LENGTHS = (1, 2, 3, 4, 5)
_BODY_CUM_WEIGHTS = tuple(accumulate((0.15, 0.3, 0.3, 0.15, 0.1)))
_P_FRIEND = 0.35
_P_TOPIC_OPENING = 0.3
_P_ONCE_UPON = 0.55  # among the other solo openings
_P_GENERAL_BODY = 0.25  # body sentences after the first may be topic-neutral
_P_TWO_ENDINGS = 0.4
_P_DIGITS = 0.3  # how often {num} is written with digits
_NAME_CUM_WEIGHTS = tuple(accumulate(1.0 / rank for rank in range(1, len(NAMES) + 1)))

_SLOT = re.compile(r"\{(\w+?)(2?)(:pl)?\}")
_A_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_NUMBER_VALUE = {word: value for value, word in enumerate(NUMBER_WORDS, start=1)}
_COLOUR_SET = frozenset(lex.COLOURS)
_DEFAULT_LEADERS = {follower: leader for leader, follower in DEFAULT_CO_PLANT}


@dataclass(frozen=True)
class Document:
    """One story.  ``spans[key]`` are the ``(start, end)`` offsets of the sentences carrying
    ``key`` (each present binary concept, ``"tone"`` and ``"topic"``): ``text[start:end]`` is
    the sentence, without the separating space."""

    text: str
    labels: dict
    spans: dict

    @cached_property  # not a field: equality, repr and the existing labels stay as they were
    def words(self) -> dict:
        """``{concept: ((start, end), ...)}`` of the words realising each planted word concept
        (``"animal"``, ``"animal=cat"``, ...; see ``saewidgets.zoo.word_concepts``)."""
        return word_spans(self.text)


class Corpus(collections.abc.Sequence):
    """An immutable sequence of :class:`Document` with the parameters that generated it."""

    def __init__(
        self,
        documents: Iterable[Document],
        *,
        name: str,
        seed: int,
        plant: dict[str, float],
        co_plant: tuple[tuple[str, str], ...],
    ) -> None:
        self._docs = tuple(documents)
        self.name, self.seed, self.plant, self.co_plant = name, seed, plant, co_plant

    def __len__(self) -> int:
        return len(self._docs)

    def __getitem__(self, index):  # an int gives a Document, a slice a list of them
        return list(self._docs[index]) if isinstance(index, slice) else self._docs[index]

    @property
    def texts(self) -> list[str]:
        return [doc.text for doc in self._docs]

    def label(self, key: str) -> list:
        """``labels[key]`` of every document, in order."""
        if self._docs and key not in self._docs[0].labels:
            raise KeyError(f"unknown label {key!r}; labels are {sorted(self._docs[0].labels)}")
        return [doc.labels[key] for doc in self._docs]

    def __repr__(self) -> str:
        return f"Corpus(name={self.name!r}, n_docs={len(self)}, seed={self.seed})"


def remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Delete the sentences ``text[s:e]`` together with the single space that joins each to its
    neighbour -- the exact inverse of planting them."""
    for start, end in sorted(spans, reverse=True):
        if end < len(text):
            text = text[:start] + text[end + 1 :]
        else:  # a final sentence: drop the space before it
            text = text[: max(start - 1, 0)]
    return text


def generate_storyteller(
    n_docs: int,
    seed: int = 0,
    plant: dict[str, float] | None = None,
    co_plant: tuple[tuple[str, str], ...] | None = None,
) -> Corpus:
    """Generate ``n_docs`` stories.  ``plant`` overrides the rates of ``CONCEPTS`` (and
    ``"sad"``, the probability of a sad ending); ``co_plant`` lists ``(leader, follower)`` pairs
    whose follower is present exactly when its leader is (default: dragon -> treasure)."""
    for arg, value in (("n_docs", n_docs), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    if n_docs < 0:
        raise ValueError(f"n_docs must be >= 0, got {n_docs}")
    pairs = DEFAULT_CO_PLANT if co_plant is None else tuple(tuple(p) for p in co_plant)
    leader_of = _check_co_plant(pairs)
    rates = _effective_rates(plant or {}, leader_of)
    docs = [_make_document(seed, i, rates, leader_of) for i in range(n_docs)]
    return Corpus(docs, name="storyteller", seed=seed, plant=rates, co_plant=pairs)


# --- parameter checks --------------------------------------------------------------------------
def _check_co_plant(pairs: tuple[tuple[str, ...], ...]) -> dict[str, str]:
    leader_of: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2 or not all(name in CONCEPTS for name in pair) or pair[0] == pair[1]:
            raise ValueError(
                f"co_plant entries must be (leader, follower) pairs of two "
                f"different concepts from {sorted(CONCEPTS)}; got {pair!r}"
            )
        if pair[1] in leader_of:
            raise ValueError(f"{pair[1]!r} is co-planted with more than one leader")
        leader_of[pair[1]] = pair[0]
    for name in leader_of:  # reject cycles such as (a, b), (b, a)
        seen = {name}
        while name in leader_of:
            name = leader_of[name]
            if name in seen:
                raise ValueError(f"co_plant pairs form a cycle through {name!r}")
            seen.add(name)
    return leader_of


def _effective_rates(plant: Mapping[str, float], leader_of: Mapping[str, str]) -> dict[str, float]:
    valid = sorted([*CONCEPTS, "sad"])
    for key, rate in plant.items():
        if key not in CONCEPTS and key != "sad":
            raise ValueError(f"unknown plant key {key!r}; valid keys are {valid}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"plant rate for {key!r} must be a number in [0, 1], got {rate!r}; valid keys are {valid}"
            )
    rates = {**CONCEPTS, "sad": DEFAULT_SAD, **{k: float(v) for k, v in plant.items()}}
    for follower in leader_of:
        leader = _root(follower, leader_of)
        if follower in plant and plant[follower] != rates[leader]:
            raise ValueError(
                f"{follower!r} is co-planted with {leader!r} and follows its rate "
                f"{rates[leader]}; plant {leader!r} instead, or pass co_plant=()"
            )
        rates[follower] = rates[leader]
    return rates


def _root(name: str, leader_of: Mapping[str, str]) -> str:
    while name in leader_of:
        name = leader_of[name]
    return name


# --- one document ------------------------------------------------------------------------------
def _make_document(seed: int, i: int, rates: Mapping[str, float], leader_of: Mapping[str, str]) -> Document:
    base = random.Random(f"{seed}:{i}:base")
    topic = base.choice(TOPICS)
    cast = [_draw_name(base, exclude=None)]
    if base.random() < _P_FRIEND:
        cast.append(_draw_name(base, exclude=cast[0]))
    ctx = _context(cast)
    lists = (TOPIC_WORDS[topic], lex.GENERAL, {"colour": lex.COLOURS})
    opening, opening_is_topic = _opening(base, ctx, lists, has_friend=len(cast) == 2)
    # Concept decisions and content come from the concepts' own streams (see module docstring).
    streams = {name: random.Random(f"{seed}:{i}:{name}") for name in CONCEPTS}
    draws = {name: stream.random() for name, stream in streams.items()}
    reserved = _default_concept_sentences(draws)
    body = _body(
        base, topic, ctx, lists, has_friend=len(cast) == 2, max_len=max(1, _MAX_SENTENCES - 3 - reserved)
    )  # 3: opening + two endings
    present = {name: draws[_root(name, leader_of)] < rates[_root(name, leader_of)] for name in CONCEPTS}
    inserted: dict[int, list[tuple[str, str]]] = collections.defaultdict(list)
    for name in CONCEPTS:  # a fixed order, so that slot-mates keep their relative order
        if present[name]:
            rng = streams[name]
            slot = rng.randint(0, len(body))
            inserted[slot].append((name, _concept_sentence(rng, name, ctx, lists, cast)))

    tone_rng = random.Random(f"{seed}:{i}:tone")
    tone = "sad" if tone_rng.random() < rates["sad"] else "happy"
    endings = _endings(
        tone_rng,
        tone,
        ctx,
        lists,
        has_friend=len(cast) == 2,
        max_len=_MAX_SENTENCES - 1 - len(body) - reserved,
    )

    # Assemble: (sentence, span keys) in reading order.
    parts = [(opening, ("topic",) if opening_is_topic else ())]
    for slot in range(len(body) + 1):
        parts += [(sentence, (name,)) for name, sentence in inserted.get(slot, ())]
        if slot < len(body):
            parts.append(body[slot])
    parts += [(sentence, ("tone",)) for sentence in endings]
    return _assemble(parts, topic, tone, cast, present)


def _assemble(
    parts: Sequence[tuple[str, tuple[str, ...]]],
    topic: str,
    tone: str,
    cast: Sequence[tuple[str, str]],
    present: Mapping[str, bool],
) -> Document:
    spans: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    numbers: list[int] = []
    colours: list[str] = []
    offset = 0
    for sentence, keys in parts:
        for key in keys:
            spans[key].append((offset, offset + len(sentence)))
        if "counting" in keys or "colour" in keys:  # the only sentences with these markers
            tokens = [t.lower() for t in _TOKEN.findall(sentence)]
            numbers += [
                int(t) if t.isdigit() else _NUMBER_VALUE[t]
                for t in tokens
                if t.isdigit() or t in _NUMBER_VALUE
            ]
            colours += [t for t in tokens if t in _COLOUR_SET]
        offset += len(sentence) + 1
    labels: dict = {
        "topic": topic,
        "tone": tone,
        "characters": [name for name, _ in cast],
        **present,
        "numbers": numbers,
        "colours": colours,
    }
    text = " ".join(sentence for sentence, _ in parts)
    return Document(text, labels, {key: tuple(value) for key, value in spans.items()})


def _draw_name(rng: random.Random, exclude: tuple[str, str] | None) -> tuple[str, str]:
    while True:  # Zipf-like: the most frequent names recur a lot
        name = rng.choices(NAMES, cum_weights=_NAME_CUM_WEIGHTS)[0]
        if name != exclude:
            return name


def _context(cast: Sequence[tuple[str, str]]) -> dict[str, str]:
    (name, pronoun), *friend = cast
    return {"name": name, **PRONOUNS[pronoun], **({"friend": friend[0][0]} if friend else {})}


def _opening(rng: random.Random, ctx: dict, lists: tuple, has_friend: bool) -> tuple[str, bool]:
    if has_friend:  # the friend is always introduced first thing, so characters keep their order
        return _fill(rng.choice(lex.OPENINGS_FRIEND), rng, ctx, lists), False
    if rng.random() < _P_TOPIC_OPENING:
        return _fill(rng.choice(lex.OPENINGS_TOPIC), rng, ctx, lists), True
    pool = lex.OPENINGS_ONCE if rng.random() < _P_ONCE_UPON else lex.OPENINGS_OTHER
    return _fill(rng.choice(pool), rng, ctx, lists), False


def _default_concept_sentences(draws: Mapping[str, float]) -> int:
    """How many concept sentences the document gets at the default rates and co-planting
    (the room to leave for them under _MAX_SENTENCES; see "Length cap" above)."""
    roots = {name: _root(name, _DEFAULT_LEADERS) for name in CONCEPTS}
    return sum(draws[roots[name]] < CONCEPTS[roots[name]] for name in CONCEPTS)


def _body(
    rng: random.Random, topic: str, ctx: dict, lists: tuple, has_friend: bool, max_len: int
) -> list[tuple[str, tuple[str, ...]]]:
    n = min(rng.choices(_BODY_LENGTHS, cum_weights=_BODY_CUM_WEIGHTS)[0], max_len)
    is_topic = [j == 0 or rng.random() >= _P_GENERAL_BODY for j in range(n)]
    topic_pool = TOPIC_TEMPLATES[topic] + (TOPIC_FRIEND_TEMPLATES[topic] if has_friend else ())
    general_pool = lex.GENERAL_TEMPLATES + (lex.GENERAL_FRIEND_TEMPLATES if has_friend else ())
    # Sampling without replacement keeps a story from repeating a sentence pattern.
    topic_templates = iter(rng.sample(topic_pool, sum(is_topic)))
    general_templates = iter(rng.sample(general_pool, n - sum(is_topic)))
    return [
        (_fill(next(topic_templates), rng, ctx, lists), ("topic",))
        if flag
        else (_fill(next(general_templates), rng, ctx, lists), ())
        for flag in is_topic
    ]


def _concept_sentence(
    rng: random.Random, concept: str, ctx: dict, lists: tuple, cast: Sequence[tuple[str, str]]
) -> str:
    template = rng.choice(lex.CONCEPT_TEMPLATES[concept])
    if concept == "dialogue":  # either character may speak
        ctx = {**ctx, "speaker": rng.choice(cast)[0]}
    return _fill(template, rng, ctx, lists)


def _endings(
    rng: random.Random, tone: str, ctx: dict, lists: tuple, has_friend: bool, max_len: int
) -> list[str]:
    n = 2 if rng.random() < _P_TWO_ENDINGS and max_len >= 2 else 1
    pool = lex.ENDINGS[tone] + (lex.ENDINGS_FRIEND[tone] if has_friend else ())
    # A closing "And ... lived happily ever after." always comes last.
    templates = sorted(rng.sample(pool, n), key=lambda t: t.startswith("And "))
    return [_fill(template, rng, ctx, lists) for template in templates]


# --- templates ---------------------------------------------------------------------------------
def _fill(
    template: str, rng: random.Random, ctx: Mapping[str, str], lists: Sequence[Mapping[str, Sequence[str]]]
) -> str:
    """Fill a template's slots (syntax in :mod:`.lexicon`), fix a/an, capitalise."""
    chosen: dict[str, str] = {}

    def slot(match: re.Match) -> str:
        key, second, plural = match.groups()
        if key in ctx:
            return ctx[key]
        if key + second not in chosen:
            avoid = chosen.get(key) if second else None  # {key2} differs from {key}
            word = _draw(rng, key, lists)
            while word == avoid:
                word = _draw(rng, key, lists)
            chosen[key + second] = word
        word = chosen[key + second]
        return inflect(word) if plural else word

    text = _A_BEFORE_VOWEL.sub(r"\1n ", _SLOT.sub(slot, template))
    first = 1 if text.startswith('"') else 0
    return text[:first] + text[first].upper() + text[first + 1 :]


def _draw(rng: random.Random, key: str, lists: Sequence[Mapping[str, Sequence[str]]]) -> str:
    if key in ("num", "numw"):  # numw: always a word (used at the start of a sentence)
        if key == "num" and rng.random() < _P_DIGITS:
            return str(rng.randint(2, 60))
        return NUMBER_WORDS[rng.randint(2, 20) - 1]
    for table in lists:
        if key in table:
            return rng.choice(table[key])
    raise KeyError(f"template slot {{{key}}} has no word list")
