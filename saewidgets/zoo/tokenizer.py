"""A byte-level BPE tokenizer trained offline on the storyteller corpus.

Byte-level BPE (as in GPT-2) rather than word-level, so any text a user types into a widget
still tokenizes (unknown words fall back to bytes) and ``decode(encode(text)) == text`` holds
exactly. The result is a ``transformers.PreTrainedTokenizerFast`` so TransformerLens and plain
transformers load it from the checkpoint folder with no custom code.
"""

from __future__ import annotations

from collections.abc import Iterable

BOS = "<|endoftext|>"  # also EOS: a story ends where the next one's BOS would start (GPT-2 style)
PAD = "<|pad|>"  # distinct from BOS so padding can be told apart from real positions by id too


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096):
    """Train a byte-level BPE tokenizer on ``texts``; returns a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 300:
        raise ValueError(
            f"vocab_size={vocab_size} is too small: byte-level BPE needs 256 byte tokens "
            "plus merges; use at least 300 (the bundled model uses 4096)."
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, PAD],  # ids 0 and 1
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=BOS,
        pad_token=PAD,
        padding_side="right",
        model_max_length=1_000_000,
    )
