"""Tiny random-weight Hugging Face checkpoints of each model family, built at test time (no download).

``build_tiny(family, folder)`` writes ``config.json``, ``model.safetensors`` and a tokenizer into ``folder`` and
returns it. Every model has hidden size 64, 2 layers, 4 heads and a context of 256 positions; weights are seeded,
so a folder is the same on every run. A family's code path (its blocks, norms, rotary embeddings, attention
variants) is the same with random weights as with real ones, which is what the family tests need.

The causal LMs share the bundled storyteller tokenizer (byte-level BPE, BOS ``<|endoftext|>`` = id 0, PAD id 1).
``"bert"`` is an encoder (``BertModel``, no language-model head) with its own WordPiece tokenizer trained here on
the storyteller corpus: [CLS]/[SEP] and no BOS, lower-cased, ``##`` continuation pieces, like the real thing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from saewidgets.zoo import STORYTELLER_DIR

CAUSAL = ("gpt2", "gpt_neox", "llama", "gemma2", "gemma3", "qwen2", "qwen3")
ENCODERS = ("bert",)
FAMILIES = CAUSAL + ENCODERS
D_MODEL, N_LAYERS, N_HEADS, N_CTX = 64, 2, 4, 256
BOS_ID, PAD_ID = 0, 1  # the storyteller tokenizer's <|endoftext|> and <|pad|>
SEED = 0


def build_tiny(family: str, folder: str | Path) -> Path:
    """Save a tiny random-weight checkpoint of ``family`` (one of ``FAMILIES``) in ``folder``; returns it."""
    if family not in FAMILIES:
        raise ValueError(f"Unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if family == "bert":
        tokenizer = _wordpiece_tokenizer()
        tokenizer.save_pretrained(folder)
        vocab = len(tokenizer)
    else:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(STORYTELLER_DIR / name, folder / name)
        vocab = _storyteller_vocab()
    config = _config(family, vocab)
    from transformers import AutoModel, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    torch.manual_seed(SEED)
    auto = AutoModel if family in ENCODERS else AutoModelForCausalLM
    model = auto.from_config(config)
    model.eval()
    hf_logging.disable_progress_bar()  # "Writing model shards" for a 1 MB file is only noise in test logs
    try:
        model.save_pretrained(folder)
    finally:
        hf_logging.enable_progress_bar()
    return folder


def _storyteller_vocab() -> int:
    import json

    config = json.loads((STORYTELLER_DIR / "config.json").read_text())
    return int(config["vocab_size"])


def _config(family: str, vocab: int):
    import transformers as tf

    special = dict(bos_token_id=BOS_ID, eos_token_id=BOS_ID, pad_token_id=PAD_ID)
    rope = dict(
        vocab_size=vocab,
        hidden_size=D_MODEL,
        intermediate_size=4 * D_MODEL,
        num_hidden_layers=N_LAYERS,
        num_attention_heads=N_HEADS,
        max_position_embeddings=N_CTX,
        **special,
    )
    if family == "gpt2":
        return tf.GPT2Config(
            vocab_size=vocab, n_embd=D_MODEL, n_layer=N_LAYERS, n_head=N_HEADS, n_positions=N_CTX, **special
        )
    if family == "gpt_neox":
        return tf.GPTNeoXConfig(**rope, rotary_pct=0.25)  # Pythia's partial rotary
    if family == "llama":
        return tf.LlamaConfig(**rope, num_key_value_heads=2)  # grouped-query attention
    if family == "gemma2":
        return tf.Gemma2Config(**rope, num_key_value_heads=2, head_dim=D_MODEL // N_HEADS, sliding_window=64)
    if family == "gemma3":
        return tf.Gemma3TextConfig(
            **rope, num_key_value_heads=2, head_dim=D_MODEL // N_HEADS, sliding_window=64
        )
    if family == "qwen2":
        return tf.Qwen2Config(**rope, num_key_value_heads=2)
    if family == "qwen3":
        return tf.Qwen3Config(**rope, num_key_value_heads=2, head_dim=D_MODEL // N_HEADS)
    # bert: an encoder, [PAD] = 0 in its own vocabulary
    return tf.BertConfig(
        vocab_size=vocab,
        hidden_size=D_MODEL,
        intermediate_size=4 * D_MODEL,
        num_hidden_layers=N_LAYERS,
        num_attention_heads=N_HEADS,
        max_position_embeddings=N_CTX,
        pad_token_id=0,
    )


def _wordpiece_tokenizer(vocab_size: int = 1000):
    """A BERT-style uncased WordPiece tokenizer trained on 300 storyteller documents (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from saewidgets import load_corpus

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # ids 0-4, as in BERT's own order of use
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(load_corpus("storyteller", n_docs=300, seed=0).texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        padding_side="right",
        model_max_length=N_CTX,
    )


class TinyCheckpoints:
    """Builds each family's folder once under ``root`` (a session's tmp dir) and hands back the path."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._built: dict[str, Path] = {}

    def __call__(self, family: str) -> Path:
        if family not in self._built:
            self._built[family] = build_tiny(family, self.root / family)
        return self._built[family]
