"""Save and load SAEs in the SAELens folder layout; load pretrained SAEs by release id.

A SAE folder (file names from SAELens ``sae_lens/constants.py``) holds::

    cfg.json                 architecture, d_in, d_sae, dtype, ..., metadata {hook_name, model_name, ...}
    sae_weights.safetensors  W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_dec [d_in], and [d_sae] vectors:
                             b_enc (standard, topk, jumprelu), threshold (jumprelu), b_gate, r_mag, b_mag (gated)
    sparsity.safetensors     optional; key "sparsity": log10 firing density of each latent [d_sae]

``save_sae`` writes a cfg.json that SAELens v6 reads (``SAE.load_from_disk``) plus our whole ``SAEConfig`` under
"saewidgets", so ``load_sae`` gives back the same SAE bit for bit. ``load_sae`` also reads folders SAELens wrote,
with the v6 cfg.json or the older (<= 5.x) one, Gemma Scope files (``gemma_scope``), and pretrained SAEs named
``"<release>/<sae_id>"`` as in SAELens's registry (``releases``: the table, resolved through the local Hugging
Face cache). Every reader returns the SAE in eval mode with three attributes added: ``hook_name`` and
``model_name`` (str or None) and ``metadata`` (the cfg.json metadata block, a dict). Nothing is ever unpickled:
JSON, safetensors and ``np.load(allow_pickle=False)`` only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import warnings
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor

from . import releases
from ._files import atomic_folder, recover_folder
from ._sae_tensors import (
    CFG_FILE,
    SPARSITY_FILE,
    WEIGHTS_FILE,
    _annotate,
    _build,
    _check_dtypes,
    _check_finite,
    _check_tensors,
    _file_shapes,
    _read_weights,
)
from .gemma_scope import load_gemma_scope, load_gemma_scope_2
from .sae import SAE, BatchTopKSAE, JumpReLUSAE
from .saelens_cfg import (
    _THRESHOLD_EMA,
    _V5_METADATA,
    SAELENS_FORMAT_VERSION,
    TO_SAELENS,
    _from_saelens,
    _ours,
    _read_cfg,
)

# load_gemma_scope lives in gemma_scope; it stays importable from here, where it always was
__all__ = ["save_sae", "load_sae", "load_sparsity", "load_gemma_scope", "to_jumprelu", "check_sae_fits"]


def save_sae(
    sae: SAE,
    path: str | os.PathLike,
    *,
    hook: str | None = None,
    model_name: str | None = None,
    sparsity: Tensor | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write ``sae`` to the folder ``path`` (SAELens layout) and return that path.

    - ``hook`` / ``model_name``: where the SAE reads activations (saved as metadata.hook_name / model_name);
      default: the ``hook_name`` / ``model_name`` attributes ``load_sae`` put on the SAE, if any.
    - ``sparsity``: [d_sae] log10 firing density of each latent, written to sparsity.safetensors.
    - ``metadata``: extra JSON-able entries for cfg.json's metadata block.

    The folder is written whole into a temporary sibling and then renamed into place, so a failure leaves no
    half-written SAE. An existing folder is replaced only if it is empty or holds a cfg.json.
    """
    cfg, dest = sae.cfg, Path(path)
    tensors = _tensors_for_saving(sae)  # everything is checked before anything touches the disk
    hook = hook if hook is not None else getattr(sae, "hook_name", None)
    model_name = model_name if model_name is not None else getattr(sae, "model_name", None)
    meta = {**(getattr(sae, "metadata", None) or {}), **(metadata or {})}
    meta.update(sae_lens_version=SAELENS_FORMAT_VERSION, hook_name=hook, model_name=model_name)
    if cfg.architecture in _THRESHOLD_EMA:  # as SAELens's own inference save records it
        meta["training_architecture"] = {"matryoshka": "matryoshka_batchtopk"}.get(
            cfg.architecture, "batchtopk"
        )
    arch = TO_SAELENS[cfg.architecture]
    raw = {
        "architecture": arch,
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "dtype": cfg.dtype,
        "device": "cpu",
        "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
        "normalize_activations": "none",
        "reshape_activations": "hook_z" if hook and hook.endswith("hook_z") else "none",
    }
    if arch == "topk":
        raw.update(k=cfg.k, rescale_acts_by_decoder_norm=False)
    raw["metadata"] = meta
    raw["saewidgets"] = {"format": 1, "config": cfg.to_dict()}
    text = json.dumps(raw, indent=2)  # a TypeError here (metadata not JSON-able) happens before any write
    if sparsity is not None:
        if not isinstance(sparsity, Tensor) or tuple(sparsity.shape) != (cfg.d_sae,):
            raise ValueError(
                f"sparsity must be a tensor of shape [d_sae={cfg.d_sae}]; got "
                f"{list(sparsity.shape) if isinstance(sparsity, Tensor) else type(sparsity).__name__}"
            )
        sparsity = sparsity.detach().float().cpu().contiguous()
    _check_destination(dest)
    with atomic_folder(dest) as tmp:
        (tmp / CFG_FILE).write_text(text)
        save_file(tensors, str(tmp / WEIGHTS_FILE))
        if sparsity is not None:
            save_file({"sparsity": sparsity}, str(tmp / SPARSITY_FILE))
    return dest


def load_sae(path: str | os.PathLike, device: str | torch.device | None = None, *, model=None) -> SAE:
    """Read a SAE: a folder, a Gemma Scope file, the bundled SAE, or a pretrained SAE by release id.

    - a folder written by ``save_sae`` (exact round trip) or by SAELens (v6 or <= 5.x cfg.json);
    - a Gemma Scope ``params.npz`` file, or a Gemma Scope 2 folder (config.json + params.safetensors)
      (``gemma_scope``);
    - ``"storyteller"``: the SAE shipped with the package, a TopK SAE (d_sae 2048, k 8) on the bundled model's
      ``blocks.1.hook_resid_post`` (``python -m saewidgets.zoo.train_reader_sae`` retrains it);
    - ``"<release>/<sae_id>"``, as in SAELens's registry, for the releases in saewidgets' table (``releases``):
      ``"gpt2-small-res-jb/blocks.8.hook_resid_pre"``, ``"gemma-scope-2b-pt-res-canonical/layer_12/width_16k/
      canonical"``, ``"gemma-scope-2-270m-pt-res/layer_12_width_16k_l0_medium"``. The files come from the local
      Hugging Face cache (fetched into it first when the hub is reachable and HF_HUB_OFFLINE is not set); hook_name
      and model_name come from the table where the files do not say, and metadata records release, sae_id and repo.

    ``model``: the model the SAE is for; if given, ``check_sae_fits`` refuses an SAE whose hook or d_in does not
    fit it.

    Returns the SAE in eval mode with ``hook_name``, ``model_name`` and ``metadata`` attributes (see the module
    docstring). Raises FileNotFoundError for a folder without cfg.json / sae_weights.safetensors, or for a
    release whose files are not in the cache (naming repo, files, cache folder and how to fetch them);
    ``releases.UnknownReleaseError`` (a ValueError) for a name that is neither a path nor in the table, with close
    matches; and ValueError, naming the file and the fix, for a cfg.json that is not a JSON object with the needed
    entries, an unreadable weights file, an unsupported architecture, a missing, extra or wrongly shaped tensor,
    weights in another dtype than cfg.json's (our own folders) and NaN or infinite weights.
    """
    if str(path) == "storyteller" and not Path(path).exists():
        from .zoo import READER_SAE_DIR

        path = READER_SAE_DIR
    if isinstance(path, str) and _looks_like_an_id(path):
        sae = _load_release(releases.resolve_release(path), device)
    else:
        sae = _load_path(path, device)
    if model is not None:
        check_sae_fits(sae, model)
    return sae


def _load_path(path: str | os.PathLike, device) -> SAE:
    folder = Path(path)
    if folder.is_file() and folder.suffix == ".npz":
        return load_gemma_scope(folder, device)
    if folder.is_file() and folder.name in (CFG_FILE, WEIGHTS_FILE, SPARSITY_FILE):
        folder = folder.parent
    recover_folder(folder)  # a save_sae killed between its two renames left the SAE beside its name
    if not (folder / CFG_FILE).is_file() and (folder / "params.safetensors").is_file():
        return load_gemma_scope_2(folder, device)
    for name in (CFG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder} is not a SAE folder: no {name}. A SAE folder (SAELens layout) must "
                f"contain {CFG_FILE} and {WEIGHTS_FILE}, optionally {SPARSITY_FILE}; load_sae also reads a "
                "Gemma Scope params.npz, a Gemma Scope 2 folder (config.json + params.safetensors) and "
                "'<release>/<sae_id>' names (saewidgets.releases)"
            )
    return _load_folder(folder, device)


# Hooks that carry the residual stream's width, d_model (TransformerLens names)
_D_MODEL_HOOK = re.compile(
    r"^(blocks\.\d+\.hook_(resid_pre|resid_mid|resid_post|attn_out|mlp_out)|hook_embed|hook_pos_embed)$"
)


def check_sae_fits(sae: SAE, model, hook: str | None = None) -> None:
    """Raise a ValueError, before any forward pass, when ``sae`` cannot read ``model`` at ``hook`` (default: the
    SAE's ``hook_name``): a block the model does not have, or d_in unequal to d_model at a residual-width hook
    (resid_pre/mid/post, attn_out, mlp_out, hook_embed). Reads ``model.cfg`` (TransformerLens: n_layers,
    d_model) or ``model.config`` (Hugging Face: num_hidden_layers, hidden_size); says nothing when neither is
    there. Other hooks (hook_z, mlp post) have other widths; the first forward pass checks those."""
    hook = hook or getattr(sae, "hook_name", None)
    cfg, hf = getattr(model, "cfg", None), getattr(model, "config", None)
    n_layers = getattr(cfg, "n_layers", None) or getattr(hf, "num_hidden_layers", None)
    d_model = getattr(cfg, "d_model", None) or getattr(hf, "hidden_size", None)
    trained = getattr(sae, "model_name", None)
    fix = (
        f"this SAE was trained on {trained!r}: load that model, or an SAE trained on yours"
        if trained
        else "load the SAE trained on this model, or pass the hook it reads"
    )
    parts = (hook or "").split(".")
    if isinstance(n_layers, int) and len(parts) > 1 and parts[0] == "blocks" and parts[1].isdigit():
        if int(parts[1]) >= n_layers:
            raise ValueError(
                f"The SAE reads {hook!r}, but the model has {n_layers} blocks (blocks.0 .. "
                f"blocks.{n_layers - 1}); {fix}"
            )
    if hook and _D_MODEL_HOOK.match(hook) and isinstance(d_model, int) and sae.cfg.d_in != d_model:
        raise ValueError(
            f"The SAE has d_in={sae.cfg.d_in}, but {hook!r} of this model has width d_model={d_model}; {fix}"
        )


def _looks_like_an_id(name: str) -> bool:
    """A "<release>/<sae_id>" rather than a path: nothing exists there, and it is relative with a "/" in it."""
    if Path(name).exists() or name.startswith(("/", ".", "~")) or "\\" in name:
        return False
    if "/" not in name:  # a bare release name: resolve_release says which ids it has
        return name in releases.release_table()["releases"]
    return releases.is_release_id(name) or not Path(name.split("/")[0]).exists()


def _load_folder(folder: Path, device) -> SAE:
    raw = _read_cfg(folder / CFG_FILE)
    tensors = _read_weights(folder / WEIGHTS_FILE)
    where = str(folder)
    _check_finite(tensors, f"{folder / WEIGHTS_FILE}")
    ours = "saewidgets" in raw
    cfg, state = _ours(raw, tensors, where) if ours else _from_saelens(raw, tensors, where)
    if not ours or "input_scale" not in raw["saewidgets"]["config"]:
        cfg.input_scale = (
            1.0  # no record (another library's file, or an older one): it reads raw x (SAEConfig)
        )
    meta = raw.get("metadata") or {k: raw[k] for k in _V5_METADATA if k in raw}
    hook = meta.get("hook_name") or raw.get("hook_name") or raw.get("hook_point")
    sae = _build(cfg, state, device, exact_dtype=f"{folder / WEIGHTS_FILE}" if ours else None)
    return _annotate(sae, hook, meta.get("model_name") or raw.get("model_name"), meta)


def _load_release(found: releases.PretrainedSAE, device) -> SAE:
    """Read a resolved table row with the reader of its layout; fill in what the files leave out."""
    if found.layout == "saelens":
        sae = _load_folder(found.folder, device)
    elif found.layout == "gemma_scope":
        sae = load_gemma_scope(found.files["params.npz"], device)
    else:
        sae = load_gemma_scope_2(found.folder, device)
    where = f"{found.release}/{found.sae_id} ({found.repo}, {found.path})"
    for name, want, got in (("d_in", found.d_in, sae.cfg.d_in), ("d_sae", found.d_sae, sae.cfg.d_sae)):
        if want is not None and want != got:
            raise ValueError(
                f"{where}: the files give {name} {got} but the release table says {want}; the cached files "
                "belong to another SAE. Delete them from the cache and fetch them again"
            )
    if found.hook and sae.hook_name and sae.hook_name != found.hook:
        warnings.warn(
            f"{where}: its files name hook {sae.hook_name!r}, the release table {found.hook!r}; using the files'",
            stacklevel=3,
        )
    return _annotate(
        sae,
        sae.hook_name or found.hook,
        sae.model_name or found.model,
        {**sae.metadata, **found.metadata()},
    )


def load_sparsity(path: str | os.PathLike) -> Tensor | None:
    """The [d_sae] log10 firing densities in a SAE folder's sparsity.safetensors, or None if it has none.
    ``path`` may be a ``"<release>/<sae_id>"`` too (its file in the hub cache, fetched if reachable)."""
    if isinstance(path, str) and _looks_like_an_id(path):
        local = releases.resolve_release(path).files.get(SPARSITY_FILE)
        file = Path(local) if local else Path(path) / SPARSITY_FILE
    else:
        file = Path(path) / SPARSITY_FILE
    if not file.is_file():
        return None
    t = _read_weights(file)
    if "sparsity" not in t:
        raise ValueError(
            f"{file} has no 'sparsity' tensor (it holds {sorted(t)}); delete the file or re-save the "
            "SAE with save_sae(..., sparsity=...)"
        )
    return t["sparsity"]


def to_jumprelu(sae: BatchTopKSAE) -> JumpReLUSAE:
    """The same SAE as a ``JumpReLUSAE`` with theta_i = ``sae.threshold`` for every latent (how SAELens saves
    BatchTopK, and how ``save_sae`` does). Its outputs equal the BatchTopK SAE's in eval mode."""
    thr = float(sae.threshold)
    if thr <= 0:
        raise ValueError(
            "BatchTopKSAE.threshold is not estimated yet: run training-mode forward passes first"
        )
    cfg = dataclasses.replace(
        sae.cfg, architecture="jumprelu", jumprelu_init_threshold=thr, jumprelu_sparsity="l0"
    )
    jump = JumpReLUSAE(cfg).to(sae.W_enc.device)
    jump.load_state_dict({**sae.state_dict(), "threshold": sae.threshold.expand(cfg.d_sae).clone()})
    return jump.train(sae.training)


# ---- helpers ------------------------------------------------------------------------------------------------
def _tensors_for_saving(sae: SAE) -> dict[str, Tensor]:
    """The SAELens inference tensors of ``sae``: BatchTopK as a JumpReLU."""
    cfg = sae.cfg
    _check_dtypes(
        dict(sae.state_dict()),
        cfg,
        f"cannot save this {type(sae).__name__}",
        f"convert it back with sae.to(torch.{cfg.dtype}), or build it with SAEConfig(dtype=...) set to "
        "the dtype you want saved",
    )
    if cfg.architecture in _THRESHOLD_EMA and float(sae.threshold) > 0:
        state = to_jumprelu(sae).state_dict()
    elif cfg.architecture in _THRESHOLD_EMA:
        warnings.warn(
            "BatchTopKSAE.threshold is not estimated yet (0): SAELens will read this SAE as a JumpReLU "
            "with threshold 0, i.e. a plain ReLU SAE. Run training-mode forward passes first.",
            stacklevel=3,
        )
        state = {**sae.state_dict(), "threshold": sae.threshold.expand(cfg.d_sae)}
    else:
        state = dict(sae.state_dict())
    shapes = _file_shapes(TO_SAELENS[cfg.architecture], cfg.d_in, cfg.d_sae)
    _check_tensors({k: state[k] for k in shapes if k in state}, shapes, type(sae).__name__)
    return {k: state[k].detach().cpu().contiguous() for k in shapes}


def _check_destination(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"cannot save a SAE to {dest}: it exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / CFG_FILE).is_file():
        raise FileExistsError(
            f"refusing to overwrite {dest}: it is a non-empty folder without {CFG_FILE}, so not a "
            "SAE folder. Save to a new or empty folder, or to an existing SAE folder"
        )
