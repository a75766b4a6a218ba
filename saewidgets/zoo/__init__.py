"""The embedded default: the storyteller corpus, its tokenizer and a tiny transformer trained on it.

Everything here works offline; ``STORYTELLER_DIR`` is a Hugging Face checkpoint folder shipped
inside the package (config.json, model.safetensors, tokenizer files, training.json).
"""

from pathlib import Path

STORYTELLER_DIR = Path(__file__).parent / "storyteller"
READER_SAE_DIR = Path(__file__).parent / "storyteller_sae"  # a TopK SAE on blocks.1.hook_resid_post
