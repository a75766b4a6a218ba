"""Checking and adopting the tensors of a SAE file: shared by every reader (``io`` for SAELens folders,
``gemma_scope`` for Gemma Scope 1 and 2 files).

Private. Each check names the file and the fix; ``_build`` adopts the tensors into a SAE built on the meta
device (no random init, no second copy). Nothing here unpickles: safetensors files are plain arrays.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor

from .config import SAEConfig
from .matryoshka import build_sae  # sae.build_sae, with MatryoshkaSAE registered
from .sae import SAE

# File names of a SAE folder, from SAELens ``sae_lens/constants.py``
CFG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
SPARSITY_FILE = "sparsity.safetensors"
_REWRITE = "restore the file from a backup, or re-save the SAE with save_sae"


def _file_shapes(arch: str, d_in: int, d_sae: int) -> dict[str, tuple[int, ...]]:
    """The tensors sae_weights.safetensors holds for a SAELens architecture, with their shapes."""
    shapes = {"W_enc": (d_in, d_sae), "W_dec": (d_sae, d_in), "b_dec": (d_in,)}
    if arch == "gated":  # gate and magnitude paths share W_enc; no b_enc
        shapes.update(b_gate=(d_sae,), r_mag=(d_sae,), b_mag=(d_sae,))
    else:
        shapes["b_enc"] = (d_sae,)
    if arch == "jumprelu":
        shapes["threshold"] = (d_sae,)
    if arch in ("batchtopk", "matryoshka_batchtopk"):  # SAELens *training* checkpoints: one scalar threshold
        shapes["topk_threshold"] = ()
    return shapes


def _check_tensors(tensors: dict[str, Tensor], shapes: dict[str, tuple[int, ...]], where: str) -> None:
    missing, extra = sorted(set(shapes) - set(tensors)), sorted(set(tensors) - set(shapes))
    if missing:
        raise ValueError(f"{where}: missing tensor(s) {missing}; this SAE needs exactly {sorted(shapes)}")
    if extra:
        raise ValueError(f"{where}: unexpected tensor(s) {extra}; this SAE needs exactly {sorted(shapes)}")
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != shape:
            hint = (
                f"; it looks transposed: store {name}.T"
                if len(shape) == 2 and shape[0] != shape[1] and tuple(tensors[name].shape) == shape[::-1]
                else ""
            )
            raise ValueError(
                f"{where}: tensor {name!r} has shape {list(tensors[name].shape)}, "
                f"expected {list(shape)} from the config (d_in, d_sae){hint}"
            )


def _build(
    cfg: SAEConfig, state: dict[str, Tensor], device: str | torch.device | None, *, exact_dtype: str | None
) -> SAE:
    """Build on the meta device and adopt the loaded tensors (assign=True): no random init, no second copy.
    ``exact_dtype`` (the weights file, for our own folders) refuses tensors whose dtype differs from the SAE's
    (they would load and fail at the first forward); otherwise (SAELens, Gemma Scope) they are cast, as SAELens does."""
    with torch.device("meta"):
        sae = build_sae(cfg)
    if exact_dtype is not None:
        _check_dtypes(
            state,
            cfg,
            exact_dtype,
            f'set "dtype" in {CFG_FILE} (top level and saewidgets.config) '
            "to the weights' dtype, or re-save the SAE from weights in the dtype its config names",
            reference=sae.state_dict(),
        )
    else:
        ref = sae.state_dict()
        state = {k: v.to(ref[k].dtype) if k in ref else v for k, v in state.items()}
    sae.load_state_dict(state, strict=True, assign=True)
    return (sae.to(device) if device is not None else sae).eval()


def _annotate(sae: SAE, hook_name: str | None, model_name: str | None, metadata: dict) -> SAE:
    sae.hook_name, sae.model_name, sae.metadata = hook_name, model_name, dict(metadata)
    return sae


def _read_weights(file: Path) -> dict[str, Tensor]:
    """A safetensors file's tensors (plain arrays: nothing is executed), or a ValueError naming the file."""
    try:
        return load_file(str(file))
    except Exception as e:  # safetensors raises its own SafetensorError (header too small / too large / ...)
        with open(file, "rb") as f:
            head = f.read(64)
        what = (
            "it is empty"
            if not head
            else "it is a Git LFS pointer, not the tensors: run `git lfs pull`"
            if head.startswith(b"version https://git-lfs")
            else f"it is damaged or not safetensors: {e}"
        )
        raise ValueError(f"{file} is not a readable safetensors file ({what}); {_REWRITE}") from None


def _check_finite(tensors: dict[str, Tensor], where: str) -> None:
    """NaN or inf in a weight makes every output NaN; only a JumpReLU threshold may be +inf (never fires)."""
    for name, t in tensors.items():
        if not (t.is_floating_point() or t.is_complex()):
            continue
        bad = ~torch.isfinite(t)
        if name in ("threshold", "log_threshold"):
            bad &= t != float("inf")
        if bool(bad.any()):
            first = [int(i) for i in bad.nonzero()[0]]
            raise ValueError(
                f"{where}: tensor {name!r} holds {int(bad.sum())} NaN or infinite value(s) (first at "
                f"index {first}); the SAE would output NaN. The file is damaged or training diverged: "
                "restore it, or retrain (lower lr; check that the activations are finite)"
            )


def _check_dtypes(
    state: dict[str, Tensor], cfg: SAEConfig, where: str, fix: str, reference: dict[str, Tensor] | None = None
) -> None:
    """Each tensor's dtype must be the one a SAE built from ``cfg`` has (``reference``: that SAE's state)."""
    if reference is None:
        with torch.device("meta"):
            reference = build_sae(cfg).state_dict()
    bad = {k: v.dtype for k, v in state.items() if k in reference and v.dtype != reference[k].dtype}
    if bad:
        names = ", ".join(f"{k} ({str(d).removeprefix('torch.')})" for k, d in bad.items())
        raise ValueError(
            f"{where}: tensor(s) {names} are not in the dtype of the config, "
            f"{str(reference[next(iter(bad))].dtype).removeprefix('torch.')} (cfg.dtype "
            f"{cfg.dtype!r}); {fix}"
        )
