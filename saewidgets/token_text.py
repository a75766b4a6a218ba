"""Token strings that read as text, for every tokenizer family.

The widgets print one string per activation row. Decoding ids one by one (``token_strings``) is exact for
byte-level BPE (GPT-2, Pythia: each token carries its leading space) but not for WordPiece, which glues words
and shows ``##`` continuations (BERT: "baseclasses(abc##s)"), nor for SentencePiece, whose word-initial
"\u2581" turns into nothing. A fast tokenizer's character offsets locate every token in its document
(``token_spans``), and ``readable_tokens`` shows the document's own text instead: the space before a word
stays with it, ``##`` pieces join their word, and a document's strings concatenate to its text.
A vocabulary token on its own (a logit effect: no document around it) is ``vocab_piece``: a byte-level piece
of a character is shown as its bytes, never as U+FFFD.

Pure numpy plus the tokenizer; no torch.
"""

from __future__ import annotations

import numpy as np


def token_strings(tokenizer, ids) -> list[str]:
    """Token ids -> strings, decoding each distinct id once."""
    ids = np.asarray(ids).reshape(-1)
    uniq, inv = np.unique(ids, return_inverse=True)
    table = [tokenizer.decode([int(i)]) for i in uniq]
    return [table[j] for j in inv.reshape(-1)]


def token_spans(tokenizer, token_ids, doc_ids, positions, texts) -> np.ndarray:
    """Character span ``(start, end)`` of every row's token in its document: [n, 2] int64, -1 where unknown.

    Each document is tokenized again with offsets (a fast tokenizer's ``offset_mapping``); the rows of a
    document are contiguous with consecutive positions, so they are located by matching their token ids
    (a BOS or [CLS] before the document shifts positions by one; the match finds the shift). A document whose
    rows do not match (a slow tokenizer, special tokens inside) keeps -1.
    """
    token_ids, doc_ids, positions = (np.asarray(a).reshape(-1) for a in (token_ids, doc_ids, positions))
    out = np.full((len(token_ids), 2), -1, np.int64)
    if texts is None or not getattr(tokenizer, "is_fast", False) or len(token_ids) == 0:
        return out
    cuts = np.flatnonzero(np.diff(doc_ids)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(doc_ids)]):
        doc = int(doc_ids[lo])
        if not 0 <= doc < len(texts):
            continue
        enc = tokenizer(texts[doc], add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = np.asarray(enc["input_ids"]), np.asarray(enc["offset_mapping"], np.int64).reshape(-1, 2)
        rel = positions[lo:hi] - positions[lo]  # [rows] 0, 1, 2, ...
        for first in range(0, 3):  # index of the first row's token in the document's own tokens
            idx = rel + first
            if idx[-1] < len(ids) and np.array_equal(ids[idx], token_ids[lo:hi]):
                out[lo:hi] = offs[idx]
                break
    return out


def readable_tokens(tokenizer, activations, texts=None) -> list[str]:
    """One display string per row of ``activations`` (``token_ids``, ``doc_ids``, ``positions``; ``texts``
    defaults to its own), for any tokenizer family.

    Where decoding ids one by one reproduces the document (byte-level BPE: GPT-2, Pythia) that is kept. Otherwise
    (WordPiece ``##`` pieces, SentencePiece's dropped spaces) each row shows the document's text from the end of
    the previous row's token to the end of its own: the space before a word stays with it (as GPT-2's tokens
    carry it), ``##`` continuations glue to their word, and the strings of a document join to its text.
    """
    token_ids = np.asarray(activations.token_ids).reshape(-1)
    decoded = token_strings(tokenizer, token_ids) if len(token_ids) else []
    texts = texts if texts is not None else getattr(activations, "texts", None)
    if texts is None or not getattr(tokenizer, "is_fast", False) or not decoded:
        return decoded
    doc_ids = np.asarray(activations.doc_ids).reshape(-1)
    cuts = np.flatnonzero(np.diff(doc_ids)) + 1
    runs = [(lo, hi) for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(doc_ids)])]
    bad = [
        (lo, hi)
        for lo, hi in runs
        if not (
            0 <= int(doc_ids[lo]) < len(texts) and texts[int(doc_ids[lo])].startswith("".join(decoded[lo:hi]))
        )
    ]
    if not bad:
        return decoded
    out = list(decoded)
    for lo, hi in bad:
        spans = token_spans(tokenizer, token_ids[lo:hi], doc_ids[lo:hi], activations.positions[lo:hi], texts)
        if spans[0, 0] < 0:
            continue  # could not be located: decoded strings it is
        text, prev = texts[int(doc_ids[lo])], int(spans[0, 0])
        for r, (_, end) in enumerate(spans):
            if end > prev:
                out[lo + r], prev = text[prev:end], int(end)
            elif end >= 0:  # a byte-level piece of a character the previous token already shows (emoji, CJK)
                out[lo + r] = ""
    return out


def _gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet: the printable character standing for each byte, reversed."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\u00a1"), ord("\u00ac") + 1)]
    keep += range(ord("\u00ae"), ord("\u00ff") + 1)
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)], extra = b, extra + 1
    return chars


_BYTE_DECODER = _gpt2_byte_decoder()


def vocab_piece(tokenizer, i: int) -> str:
    """One vocabulary token as text for the logit-effect lists. A byte-level BPE token holding part of a
    character (a piece of an emoji or CJK character) decodes to U+FFFD alone; it is shown as its bytes,
    e.g. "\\xf0\\x9f", instead."""
    text = tokenizer.decode([int(i)])
    if "\ufffd" not in text:
        return text
    piece = tokenizer.convert_ids_to_tokens(int(i))
    if not isinstance(piece, str) or any(c not in _BYTE_DECODER for c in piece):
        return text  # not a byte-level token: keep what the tokenizer says
    return bytes(_BYTE_DECODER[c] for c in piece).decode("utf-8", "backslashreplace")
