"""Load a language model by name and talk about its hook sites with stable names.

Every model comes back as a TransformerLens 4 ``TransformerBridge``, so the rest of the package
uses one vocabulary of hook names (``blocks.{L}.hook_resid_post``, ``blocks.{L}.hook_mlp_out``,
...), ``to_tokens`` / ``to_string`` and ``generate`` whatever the backend:

- ``"storyteller"``: the tiny model shipped inside the package (offline, instant);
- a TransformerLens / Hugging Face name (``"gelu-1l"``, ``"tiny-stories-1M"``,
  ``"pythia-70m-deduped"``, ``"gpt2-small"``, ...): read from the local Hugging Face cache when it holds
  the checkpoint (also offline, ``HF_HUB_OFFLINE=1``), else downloaded when the hub is reachable; offline
  and not cached it fails in under two seconds, naming the cache searched and the ``hf download`` that
  fills it, instead of the hub client's ~23 s of retries;
- a local Hugging Face checkpoint folder (anything with a ``config.json``).

Plain PyTorch modules need no loading: ``harvest`` takes them directly with module-path hooks.
"""

from __future__ import annotations

import difflib
import os
import weakref
from pathlib import Path

import torch

from ._devices import default_device
from ._hub import OfflineError, cached_snapshot, how_to_fetch, hub_reachable, is_cached
from .zoo import STORYTELLER_DIR

BUNDLED = {"storyteller": STORYTELLER_DIR}
# The names the notebooks and docs use, with their hub ids: resolved here without importing
# TransformerLens (~4 s), so that offline they fail in well under two seconds. Any other
# TransformerLens alias or hub id also works online.
SUGGESTED_HUB_MODELS = {
    "gelu-1l": "NeelNanda/GELU_1L512W_C4_Code",
    "tiny-stories-1M": "roneneldan/TinyStories-1M",
    "pythia-70m-deduped": "EleutherAI/pythia-70m-deduped",
    "gpt2-small": "gpt2",
}

# What this module knows about a model, kept beside it instead of set on it as attributes (the model is
# TransformerLens' or the user's object). Weak keys: an entry goes away with its model.
_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> the name load_model loaded it by
_HOOK_NAMES: weakref.WeakKeyDictionary = (
    weakref.WeakKeyDictionary()
)  # model -> hook_names(model), listed once
# model -> why its logits are not next-token predictions (an encoder: load_model records it, see why_no_logits)
_NO_LOGITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Architecture names of models whose logits predict the next token (Hugging Face's naming convention).
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")


def load_model(name: str = "storyteller", device: str | torch.device | None = None):
    """Load ``name`` as a TransformerLens ``TransformerBridge`` in eval mode.

    ``name`` is ``"storyteller"`` (bundled), a local checkpoint folder, or a TransformerLens /
    Hugging Face hub name. ``device`` defaults to cuda > mps > cpu.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"load_model expects a model name or a folder path, got {type(name).__name__}")
    device = torch.device(device) if device is not None else default_device()
    if str(name) in BUNDLED:
        return _boot(BUNDLED[str(name)], device, label=str(name))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"{path} is a folder but not a Hugging Face checkpoint (no config.json in it).")
        return _boot(path, device, label=str(path))
    return _boot_hub(str(name), device)


def _boot(path: Path, device: torch.device, label: str):
    from transformer_lens.model_bridge import TransformerBridge

    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"The weights of {label!r} are missing from {path}. Reinstall saewidgets, or rebuild them "
            "with `python -m saewidgets.zoo.train_storyteller`."
        )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a weight-loading bar for a 5 MB local file is only noise
    try:
        model = TransformerBridge.boot_transformers(str(path), device=device)
    except ValueError as err:
        if "supported architecture" not in str(err).lower():
            raise
        raise _unsupported(path, label) from None
    finally:
        hf_logging.enable_progress_bar()
    model.eval()
    _NAMES[model] = label  # recorded in activation caches, so a cache knows which model made it
    _check_encoder(model, label)
    return model


def _unsupported(path: Path, label: str) -> ValueError:
    """The error for a checkpoint whose architecture TransformerLens's bridge does not know, naming the way
    that works without it: the plain Hugging Face model, with module paths as hook names."""
    import json

    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    arch = (config.get("architectures") or [config.get("model_type", "this architecture")])[0]
    auto = "AutoModelForCausalLM" if str(arch).endswith(CAUSAL_SUFFIXES) else "AutoModel"
    return ValueError(
        f"{label!r} is a {arch}, which TransformerLens's TransformerBridge does not support, so load_model "
        f"cannot give it TransformerLens hook names. Use the plain Hugging Face model instead: "
        f"`model = transformers.{auto}.from_pretrained(path)`, `tokenizer = "
        "transformers.AutoTokenizer.from_pretrained(path)`, then `harvest(model, texts, hook, tokenizer=tokenizer)` "
        "with a module path as hook (listed by saewidgets.models.module_names(model), e.g. a block's output)."
    )


def _boot_hub(name: str, device: torch.device):
    repo = SUGGESTED_HUB_MODELS.get(name) or (name if "/" in name else _official_name(name))
    local = cached_snapshot(repo)
    if local is not None and (local / "model.safetensors").is_file() and (local / "config.json").is_file():
        # Read from the cache folder itself: no network, and for a TransformerLens alias the checkpoint the
        # cache holds (its own config.json), not TransformerLens's table of official configs.
        return _boot(local, device, label=repo)
    # Cached but sharded (no model.safetensors): the hub client reads it below. Nothing or half a download: fetch.
    weights = local is not None and any(p.suffix in (".safetensors", ".bin") for p in local.iterdir())
    if not (weights and is_cached(repo)) and not hub_reachable():
        raise OfflineError(
            f"{name!r} has to be downloaded from the Hugging Face Hub ({repo}), which is not reachable "
            "from here, and it is not in the local cache. Use load_model('storyteller'), the model "
            f"bundled with saewidgets, or a local checkpoint folder. {how_to_fetch(repo)}"
        )
    from transformer_lens.model_bridge import TransformerBridge

    model = TransformerBridge.boot_transformers(repo, device=device)
    model.eval()
    _NAMES[model] = repo
    _check_encoder(model, repo)
    return model


def _check_encoder(model, label: str) -> None:
    """Record an encoder's missing next-token logits, and give it a real BOS.

    The bridge wraps an encoder checkpoint (BERT, MiniLM, ...: ``architectures`` ``BertModel``) in a masked-LM
    class whose head is *randomly initialised* (the checkpoint has no head weights), and sets BOS to GPT-2's
    ``<|endoftext|>``, which is [UNK] in a WordPiece vocabulary. Its hidden states (every ``blocks.{L}.hook_*``)
    are the real model's; its logits are noise, so ``why_no_logits`` says so and everything that needs logits
    (evaluate's CE/KL, logit effects, generation) skips or refuses. BOS and EOS go back to what the checkpoint's
    own tokenizer says (none, for BERT): ``harvest`` then frames each text as [CLS] ... [SEP], as BERT-style models
    were trained (Devlin et al. 2019), instead of prepending [UNK].
    """
    config = getattr(getattr(model, "original_model", None), "config", None)
    archs = list(getattr(config, "architectures", None) or [])
    if not archs or any(a.endswith(CAUSAL_SUFFIXES) for a in archs):
        return
    _NO_LOGITS[model] = (
        f"{label} is {archs[0]}, not a causal language model (an encoder: no next-token head; the checkpoint's "
        "architecture has none, and a head the loader adds would be random). Its activations are real; "
        "metrics, logit effects and generation that need next-token logits are skipped"
    )
    tok = getattr(model, "tokenizer", None)
    unk = getattr(tok, "unk_token_id", None)
    # '<|endoftext|>' is not in a WordPiece vocabulary: it maps to [UNK]
    if tok is not None and unk is not None:
        if tok.bos_token is not None and tok.bos_token_id == unk:
            tok.bos_token = None
        if tok.eos_token is not None and tok.eos_token_id == unk:
            tok.eos_token = None


def why_no_logits(model) -> str | None:
    """Why ``model``'s outputs are not next-token logits, or None when they are (a causal language model).

    A model ``load_model`` loaded: from its checkpoint's ``architectures`` (an encoder such as ``BertModel``
    has no next-token head). A plain Hugging Face module: from its class (``...ForCausalLM`` /
    ``...LMHeadModel`` have one; ``AutoModel``'s bare ``GPT2Model`` or ``BertModel`` do not). Any other module
    is trusted to return logits."""
    known = _known(_NO_LOGITS, model)
    if known is not None or hasattr(model, "original_model"):
        return known
    if getattr(model, "config", None) is None or not hasattr(model, "get_output_embeddings"):
        return None  # a plain PyTorch module: nothing says otherwise
    name = type(model).__name__
    if name.endswith(CAUSAL_SUFFIXES) and model.get_output_embeddings() is not None:
        return None
    return (
        f"this {name} has no next-token head (load it with AutoModelForCausalLM if the checkpoint has one; "
        "an encoder has none): metrics, logit effects and generation that need next-token logits are skipped"
    )


def _official_name(name: str) -> str:
    """A TransformerLens alias -> its hub id, or a ValueError listing what is available."""
    if name.lower() in _tl_aliases():
        return _tl_aliases()[name.lower()]
    from transformer_lens.supported_models import get_official_model_name

    try:
        return get_official_model_name(name)
    except ValueError:
        known = list(BUNDLED) + list(SUGGESTED_HUB_MODELS)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} Available: {', '.join(map(repr, known))} (bundled and "
            "offline: 'storyteller'), any other TransformerLens or Hugging Face hub name, or the path "
            "of a local Hugging Face checkpoint folder."
        ) from None


_ALIASES: dict[str, str] = {}


def _tl_aliases() -> dict[str, str]:
    """TransformerLens's alias table (lower-cased alias or official name -> hub id), read from its JSON file
    without importing TransformerLens (~4 s), so that an uncached alias fails offline in well under two seconds.
    Empty if the file is not where TransformerLens 4.3 keeps it: TransformerLens itself is asked then."""
    if not _ALIASES:
        import importlib.util
        import json

        spec = importlib.util.find_spec("transformer_lens")  # finds the package without running it
        for root in (spec.submodule_search_locations or []) if spec else []:
            try:
                table = json.loads(Path(root, "tools/model_registry/data/model_aliases.json").read_text())
            except (OSError, ValueError):
                continue
            for official, aliases in table.get("aliases", {}).items():
                _ALIASES.update({alias.lower(): official for alias in aliases})
                _ALIASES[official.lower()] = official
    return _ALIASES


def model_name(model) -> str:
    """The name ``load_model`` loaded ``model`` by ("storyteller", a hub id or a folder path); for any other
    model its class name. Activation caches record it, so a cache knows which model made it."""
    return _known(_NAMES, model) or type(model).__name__


def _known(table: weakref.WeakKeyDictionary, model):
    try:
        return table.get(model)
    except TypeError:  # an object that cannot be weakly referenced (or hashed) was never recorded
        return None


def hook_names(model) -> list[str]:
    """Every hook name a TransformerLens model accepts, its aliases included (e.g. hook_resid_post)."""
    cached = _known(_HOOK_NAMES, model)
    if cached is not None:  # the hook sites are fixed by the architecture: list them once per model
        return cached
    names = set(getattr(model, "hook_dict", {}).keys())
    # Aliases such as blocks.0.hook_resid_post resolve at run time and are not all keys of
    # hook_dict; a one-token run_with_cache lists exactly the names the cache and hooks accept.
    with torch.no_grad():
        bos = model.tokenizer.bos_token_id or 0
        tokens = torch.tensor([[bos]], device=model.cfg.device)
        _, cache = model.run_with_cache(tokens)
    names.update(cache.keys())
    listed = sorted(names)
    try:
        _HOOK_NAMES[model] = listed
    except TypeError:  # not weakly referenceable: list them again next time
        pass
    return listed


def module_names(module: torch.nn.Module) -> list[str]:
    """Hookable submodule paths of a plain PyTorch module (e.g. 'transformer.h.1')."""
    return [n for n, _ in module.named_modules() if n]


def check_hook(name: str, valid: list[str]) -> None:
    """Raise a ValueError naming the closest valid hooks when ``name`` is not one of ``valid``."""
    if name in valid:
        return
    close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
    if not close:  # e.g. 'resid_post' alone: offer names that contain it
        close = [v for v in valid if name.split(".")[-1] in v][:5]
    raise ValueError(
        f"Hook {name!r} is not in this model. Closest valid names: {', '.join(close) or '(none)'}. "
        f"The model has {len(valid)} hook sites; see saewidgets.models.hook_names(model)."
    )


def n_parameters(model: torch.nn.Module) -> int:
    """Parameters of the checkpoint, shared storage counted once: a TransformerBridge's own modules add
    views (q/k/v split from c_attn) and an unembedding bias that the checkpoint does not have."""
    module = getattr(model, "original_model", model)
    try:  # the wrapped Hugging Face module lists only its own weights, tied ones under each name
        params = [p for _, p in module.named_parameters(remove_duplicate=False)]
    except TypeError:  # a module whose named_parameters takes no remove_duplicate
        params = list(module.parameters())
    storages = {
        p.untyped_storage().data_ptr(): p.untyped_storage().nbytes() // p.element_size() for p in params
    }
    return sum(storages.values())


def hook_layer(name: str) -> int | None:
    """The block index in a TransformerLens hook name ('blocks.3.hook_resid_post' -> 3)."""
    parts = name.split(".")
    if len(parts) > 1 and parts[0] == "blocks" and parts[1].isdigit():
        return int(parts[1])
    return None
