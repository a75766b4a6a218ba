"""Word-level concepts in the storyteller corpus: a planted hierarchy with exact character spans.

Sentence concepts (``Document.spans``) say *which sentence* carries a concept; absorption and
token-level probing need to know *which words* realise it. The hierarchy here is read off the
generator's own vocabularies, so a word's role is known exactly:

* ``animal`` -- the animals topic's nouns (``animal=cat``, ``animal=guinea_pig``, ...);
* ``food`` -- the food topic's nouns and meals (``food=apple``, ``food=soup``, ...);
* ``colour`` -- the colour words (``colour=red``, ...);
* ``number`` -- the number words ``one`` to ``twenty`` (``number=seven``, ...);
* ``clothing`` -- the general clothing words (``clothing=scarf``, ``clothing=bow_tie``, ...).

A child is one vocabulary entry: its singular and plural are the same child, and a multi-word
entry (``guinea_pig``) is one child whose span covers all its words. A parent's spans are the
union of its children's. Numbers written with digits (``{num}`` draws them 30% of the time) are
not words and belong to no child.

Why a regex over the text is exact: every one of these word lists is *exclusive* (its words occur
nowhere else in the lexicon or its templates; the colour and number words are the corpus's marker
vocabularies), so a whole-word, case-insensitive match finds exactly the words the generator drew
for the role. The exceptions are phrases from other lists that contain a child's word --
``duck pond`` (an animals place) uses "duck" as a place name, not an animal -- which are matched
and dropped (``BLOCKERS``); ``one`` also occurs in the fixed counting sentence "kept just one
{noun}", where it is the number one. ``tests/test_word_concepts.py`` proves the spans equal the
generator's draws over thousands of documents.

Frequency. Absorption metrics need children that occur often (say 30 tokens). Tokens of the bundled
tokenizer that overlap each child's words, seed 0:

======== ======== ====================== =================================================
parent   children tokens / 1,000 docs    children with >= 30 tokens
======== ======== ====================== =================================================
animal   49       336 (1-16 per child)   none in 1,000 docs; 33 in 5,000
food     57       311 (1-11 per child)   none in 1,000 docs; 37 in 5,000
colour   13       393 (22-38 per child)  red blue green orange pink grey silver; all 13 in 5,000
number   20       240 (5-38 per child)   one (all from "kept just one"); all 20 in 5,000
clothing 17       72 (0-10 per child)    none in 1,000 docs; 4 in 5,000
======== ======== ====================== =================================================

So absorption on the animal and food children wants ~5,000 documents (the rarest need ~10,000); the
corpus cannot plant them more often without changing existing documents.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexicon import COLOURS, GENERAL, IRREGULAR_PLURALS, NUMBER_WORDS
from .lexicon_topics import TOPIC_WORDS

__all__ = ["HIERARCHY", "BLOCKERS", "CHILD_FORMS", "plural", "word_spans"]


def plural(phrase: str) -> str:
    """The plural the generator writes for ``{key:pl}``: the last word of ``phrase`` inflected."""
    head, _, last = phrase.rpartition(" ")
    if last in IRREGULAR_PLURALS:
        last = IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


# parent -> (its vocabulary entries, whether templates ever pluralise them)
_SOURCES: dict[str, tuple[tuple[str, ...], bool]] = {
    "animal": (TOPIC_WORDS["animals"]["noun"], True),
    "food": (TOPIC_WORDS["food"]["noun"] + TOPIC_WORDS["food"]["meal"], True),
    "colour": (COLOURS, False),
    "number": (NUMBER_WORDS, False),
    "clothing": (GENERAL["clothing"], True),
}

# child name -> the lower-case forms that realise it ("animal=mouse" -> ("mouse", "mice"))
CHILD_FORMS: dict[str, tuple[str, ...]] = {
    f"{parent}={entry.replace(' ', '_')}": tuple(
        dict.fromkeys((entry, plural(entry)) if countable else (entry,))
    )
    for parent, (entries, countable) in _SOURCES.items()
    for entry in entries
}
HIERARCHY: dict[str, tuple[str, ...]] = {
    parent: tuple(child for child in CHILD_FORMS if child.partition("=")[0] == parent) for parent in _SOURCES
}

# Multi-word entries of other lists that contain a child's word in another role: a match of one of
# these is consumed and dropped, so "duck pond" never counts as the animal "duck".
_ALL_ENTRIES = {e for words in GENERAL.values() for e in words} | {
    e for lists in TOPIC_WORDS.values() for words in lists.values() for e in words
}
_ALL_FORMS = {f for forms in CHILD_FORMS.values() for f in forms}
BLOCKERS: tuple[str, ...] = tuple(
    sorted(
        {
            form
            for entry in _ALL_ENTRIES
            if " " in entry and entry not in _ALL_FORMS and set(entry.split()) & _ALL_FORMS
            for form in (entry, plural(entry))
        }
    )
)


@lru_cache(maxsize=1)
def _matcher() -> tuple[re.Pattern, dict[str, str]]:
    child_of = {form: child for child, forms in CHILD_FORMS.items() for form in forms}
    # Longest first: at one position the alternation takes the first alternative that matches, so
    # "guinea pig" wins over a shorter form and "duck pond" over "duck".
    alternatives = sorted({*child_of, *BLOCKERS}, key=lambda f: (-len(f), f))
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in alternatives) + r")\b", re.IGNORECASE)
    return pattern, child_of


def word_spans(text: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """``{concept: ((start, end), ...)}`` for every parent and child concept realised in ``text``:
    ``text[start:end]`` is the word (or multi-word entry), in reading order. Concepts that do not
    occur are absent (as in ``Document.spans``)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    pattern, child_of = _matcher()
    spans: dict[str, list[tuple[int, int]]] = {}
    for match in pattern.finditer(text):
        child = child_of.get(match.group().lower())
        if child is None:  # a blocker phrase
            continue
        for concept in (child.partition("=")[0], child):
            spans.setdefault(concept, []).append(match.span())
    return {concept: tuple(found) for concept, found in spans.items()}
