"""Gemma Scope's JumpReLU SAEs: ``params.npz`` (Gemma Scope, Gemma 2) and ``params.safetensors`` + ``config.json``
(Gemma Scope 2, Gemma 3).

Gemma Scope (Lieberum et al. 2024, arXiv 2408.05147): ``google/gemma-scope-2b-pt-res`` and its siblings hold
``layer_{L}/width_{W}/average_l0_{N}/params.npz``, a zip of float32 arrays W_enc [d_in, d_sae], W_dec [d_sae, d_in],
b_enc [d_sae], b_dec [d_in], threshold [d_sae].

Gemma Scope 2 (``google/gemma-scope-2-{270m,1b,4b,12b,27b}-{pt,it}``): one repo per model, a folder per site
(``resid_post/``, ``mlp_out/``, ``attn_out/``, their ``*_all/`` variants for every layer, ``transcoder/``), then
``layer_{L}_width_{W}_l0_{small|medium|big}/`` holding ``config.json`` (``"architecture": "jump_relu"``,
``model_name``, ``hf_hook_point_in``) and ``params.safetensors`` with lower-case keys w_enc, w_dec, b_enc, b_dec,
threshold (SAELens's ``gemma_3_sae_huggingface_loader``, decoderesearch/SAELens
``sae_lens/loading/pretrained_sae_loaders.py``). Transcoders also hold ``affine_skip_connection``; they map one
site to another and are not SAEs, so they are refused here.

Both: acts = (pre > threshold) * relu(pre), pre = x @ W_enc + b_enc, trained without subtracting b_dec from the
input (``apply_b_dec_to_input=False``, as SAELens sets). The files do not name the model's hook in
TransformerLens terms; ``load_sae("<release>/<sae_id>")`` fills hook_name and model_name from the release table.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ._sae_tensors import (
    CFG_FILE,
    _annotate,
    _build,
    _check_finite,
    _check_tensors,
    _file_shapes,
    _read_weights,
)
from .config import SAEConfig
from .sae import SAE

__all__ = ["load_gemma_scope", "load_gemma_scope_2"]

GS2_CONFIG = "config.json"
GS2_PARAMS = "params.safetensors"
_GS2_KEYS = {"w_enc": "W_enc", "w_dec": "W_dec", "b_enc": "b_enc", "b_dec": "b_dec", "threshold": "threshold"}


def load_gemma_scope(path: str | os.PathLike, device: str | torch.device | None = None) -> SAE:
    """A ``JumpReLUSAE`` from a Gemma Scope ``params.npz`` (Lieberum et al. 2024, arXiv 2408.05147).

    The file holds W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in], threshold [d_sae];
    acts = (pre > threshold) * relu(pre) with pre = x @ W_enc + b_enc. Gemma Scope was trained without subtracting
    b_dec from the input, so ``apply_b_dec_to_input=False``, as SAELens's ``gemma_2_sae_huggingface_loader`` sets.
    hook_name and model_name are None (the file does not say); set them on the returned SAE if you know them.
    """
    arrays = _read_npz(Path(path))
    need = sorted(_file_shapes("jumprelu", 0, 0))
    missing = sorted(set(need) - set(arrays))
    if missing:
        raise ValueError(f"{path}: missing array(s) {missing}; a Gemma Scope params.npz holds {need}")
    if arrays["b_dec"].ndim != 1 or arrays["b_enc"].ndim != 1:
        raise ValueError(
            f"{path}: b_dec and b_enc must be vectors; got shapes {list(arrays['b_dec'].shape)} and "
            f"{list(arrays['b_enc'].shape)}"
        )
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    # The sizes come from the two bias vectors, not from W_enc, so a transposed (or otherwise wrong) W_enc is
    # reported as W_enc rather than as a bad W_dec.
    d_in, d_sae = len(arrays["b_dec"]), len(arrays["b_enc"])
    _check_tensors(tensors, _file_shapes("jumprelu", d_in, d_sae), str(path))
    _check_finite(tensors, str(path))
    tensors["threshold"] = tensors["threshold"].clamp_min(0)  # SAELens compares with threshold.relu()
    # input_scale 1.0: trained elsewhere on raw activations as far as we know; train() continues it as it is
    cfg = SAEConfig(
        architecture="jumprelu", d_in=d_in, d_sae=d_sae, apply_b_dec_to_input=False, input_scale=1.0
    )
    return _annotate(_build(cfg, tensors, device, exact_dtype=None), None, None, {})


def load_gemma_scope_2(path: str | os.PathLike, device: str | torch.device | None = None) -> SAE:
    """A ``JumpReLUSAE`` from a Gemma Scope 2 folder (``config.json`` + ``params.safetensors``), or from its
    ``params.safetensors`` alone (then config.json, if present beside it, is still checked).

    ``metadata`` holds config.json's entries (model_name, hf_hook_point_in, ...); hook_name and model_name are
    None here, since the files give Hugging Face module names, not TransformerLens hooks: load by release id
    (``load_sae("gemma-scope-2-270m-pt-res/layer_12_width_16k_l0_medium")``) to have them set.
    """
    where = Path(path)
    folder = where.parent if where.is_file() else where
    params = where if where.is_file() else folder / GS2_PARAMS
    if not params.is_file():
        what = "a folder" if folder.is_dir() else "no such folder"
        raise FileNotFoundError(
            f"{params}: no such file ({folder} is {what}). A Gemma Scope 2 SAE folder holds {GS2_CONFIG} "
            f"and {GS2_PARAMS}; a Gemma Scope 1 params.npz is read by load_gemma_scope"
        )
    meta = _read_gs2_config(folder / GS2_CONFIG) if (folder / GS2_CONFIG).is_file() else {}
    raw = _read_weights(params)
    if "affine_skip_connection" in raw:
        raise ValueError(
            f"{params} is a Gemma Scope 2 transcoder (it holds affine_skip_connection): it maps one site to "
            "another and is not a SAE. Pick a resid_post, mlp_out or attn_out SAE instead"
        )
    unknown = sorted(set(raw) - set(_GS2_KEYS) - set(_GS2_KEYS.values()))
    if unknown:
        raise ValueError(
            f"{params}: unexpected tensor(s) {unknown}; a Gemma Scope 2 params.safetensors holds "
            f"{sorted(_GS2_KEYS)}"
        )
    tensors = {_GS2_KEYS.get(k, k): v.float() for k, v in raw.items()}
    need = sorted(_file_shapes("jumprelu", 0, 0))
    missing = sorted(set(need) - set(tensors))
    if missing:
        raise ValueError(
            f"{params}: missing tensor(s) {missing}; a Gemma Scope 2 params.safetensors holds {need}"
        )
    return _jumprelu(tensors, str(params), device, meta)


def _jumprelu(tensors: dict[str, Tensor], where: str, device, metadata: dict | None = None) -> SAE:
    """The JumpReLU SAE of a Gemma Scope file's five tensors, each checked."""
    if tensors["b_dec"].ndim != 1 or tensors["b_enc"].ndim != 1:
        raise ValueError(
            f"{where}: b_dec and b_enc must be vectors; got shapes {list(tensors['b_dec'].shape)} and "
            f"{list(tensors['b_enc'].shape)}"
        )
    # The sizes come from the two bias vectors, not from W_enc, so a transposed (or otherwise wrong) W_enc is
    # reported as W_enc rather than as a bad W_dec.
    d_in, d_sae = len(tensors["b_dec"]), len(tensors["b_enc"])
    _check_tensors(tensors, _file_shapes("jumprelu", d_in, d_sae), where)
    _check_finite(tensors, where)
    tensors["threshold"] = tensors["threshold"].clamp_min(0)  # SAELens compares with threshold.relu()
    # input_scale 1.0: trained elsewhere on raw activations as far as we know; train() continues it as it is
    cfg = SAEConfig(
        architecture="jumprelu", d_in=d_in, d_sae=d_sae, apply_b_dec_to_input=False, input_scale=1.0
    )
    return _annotate(_build(cfg, tensors, device, exact_dtype=None), None, None, metadata or {})


def _read_gs2_config(file: Path) -> dict:
    """A Gemma Scope 2 config.json: a JSON object whose architecture is jump_relu."""
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{file} is not valid JSON ({e}); download or copy the file again") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{file} holds a JSON {type(raw).__name__}, not an object; download it again")
    arch = raw.get("architecture")
    if arch != "jump_relu":
        raise ValueError(
            f"{file}: architecture {arch!r}; Gemma Scope 2 SAEs are 'jump_relu' (transcoders and other "
            "files are not read here)"
        )
    return raw


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """A Gemma Scope params.npz as float32 arrays, ``w_`` names read as ``W_`` (as SAELens does). Checks the first
    bytes itself, so a wrong file gets a message about the file, not numpy's advice to allow pickles."""
    if path.is_dir():
        hint = "; it is a SAE folder: use load_sae" if (path / CFG_FILE).is_file() else ""
        raise IsADirectoryError(f"{path} is a folder; load_gemma_scope reads one params.npz file{hint}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (a Gemma Scope params.npz)")
    with open(path, "rb") as f:
        head = f.read(64)
    refetch = "download or copy the file again"
    if not head:
        raise ValueError(f"{path} is empty (0 bytes): the download or copy did not finish; {refetch}")
    if head.startswith(b"version https://git-lfs"):
        raise ValueError(
            f"{path} is a Git LFS pointer (a small text file), not the arrays: run `git lfs pull`, or "
            "download the file itself"
        )
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(
            f"{path} is a single .npy array, not a Gemma Scope params.npz archive (a zip of W_enc, "
            "W_dec, b_enc, b_dec, threshold)"
        )
    if not head.startswith(b"PK"):
        raise ValueError(
            f"{path} is not a .npz archive (a zip of .npy arrays); it starts with {head[:20]!r} (an "
            f"HTML error page or a text file saved under this name?); {refetch}"
        )
    key = None
    try:
        with np.load(
            path, allow_pickle=False
        ) as data:  # SAELens renames lower-case "w_enc" / "w_dec" the same way
            arrays = {}
            for key in data.files:
                arrays["W_" + key[2:] if key.startswith("w_") else key] = np.array(
                    data[key], dtype=np.float32
                )
    except ValueError as e:
        if "allow_pickle" in str(e):  # numpy's message advises allow_pickle=True: wrong advice for weights
            raise ValueError(
                f"{path}: array {key!r} holds Python objects (pickled data), which this loader never "
                "unpickles (unpickling runs code); a Gemma Scope params.npz holds numeric arrays "
                "only: re-save it with np.savez and numeric arrays"
            ) from None
        raise ValueError(
            f"{path}: array {key!r} is not numeric ({e}); a Gemma Scope params.npz holds float arrays"
        ) from None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"{path} is a damaged .npz archive ({e}); {refetch}") from None
    return arrays
