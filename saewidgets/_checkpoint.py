"""Resumable training checkpoints: weights, Adam state and loop state, with no pickle anywhere.

A checkpoint folder holds ``state.safetensors`` (SAE parameters and buffers, Adam moments, the
dead-latent counters, RNG states) and ``state.json`` (step, history, the configs it was made
with); a sweep's holds one such pair per SAE, in ``sae_<i>/``. The whole folder, every SAE of a sweep
at once, is written to a temporary sibling and renamed into place, so a crash or Ctrl-C mid-save leaves
the previous checkpoint intact and the SAEs of a sweep are always saved at the same step. Resuming
with a different configuration is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors.torch import load_file, save_file

from ._files import atomic_folder, recover_folder

# Fields that may differ between the run that saved and the run that resumes: they change how
# the run is observed or where it runs, not what it computes.
_FREE_TRAIN_FIELDS = ("log_every", "checkpoint_every", "checkpoint_dir", "device")


def identity(sae_cfg: dict, train_cfg: dict, norm_scale: float, n_rows: int) -> dict:
    """What a resumed run must share with the run that saved the checkpoint."""
    train = {k: v for k, v in train_cfg.items() if k not in _FREE_TRAIN_FIELDS}
    return {"sae": sae_cfg, "train": train, "norm_scale": norm_scale, "n_rows": n_rows}


class Part(NamedTuple):
    """One SAE's share of a checkpoint."""

    folder: str
    """Where in the checkpoint folder it goes: "" (the folder itself) for a single SAE, "sae_<i>" in a sweep."""
    sae: torch.nn.Module
    opt: torch.optim.Optimizer
    tensors: dict[str, torch.Tensor]
    """Loop state: dead-latent counters, RNG state."""
    meta: dict
    """JSON-able: step, history, identity."""


def save(path: str | Path, parts: list[Part]) -> None:
    """Write every part into one temporary folder, then rename that into place as ``path``: all or nothing."""
    with atomic_folder(path) as tmp:
        for part in parts:  # one SAE's tensors on the CPU at a time
            folder = tmp / part.folder
            folder.mkdir(exist_ok=True)
            save_file(_flatten(part), str(folder / "state.safetensors"))
            (folder / "state.json").write_text(json.dumps(part.meta))


def _flatten(part: Part) -> dict[str, torch.Tensor]:
    flat = {f"sae.{k}": v.detach().cpu().contiguous() for k, v in part.sae.state_dict().items()}
    names = {id(p): n for n, p in part.sae.named_parameters()}
    for group in part.opt.param_groups:
        for p in group["params"]:
            for key, value in part.opt.state.get(p, {}).items():
                flat[f"opt.{names[id(p)]}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    flat.update({f"loop.{k}": v.detach().cpu().contiguous() for k, v in part.tensors.items()})
    return flat


def exists(path: str | Path | None) -> bool:
    """Whether a checkpoint is there, after putting back one that a kill left between two renames (files.py):
    a resumable run must not silently restart from scratch."""
    return path is not None and (recover_folder(Path(path)) / "state.json").is_file()


def load(
    path: str | Path, sae: torch.nn.Module, opt: torch.optim.Optimizer, expected: dict
) -> tuple[dict, dict]:
    """Restore ``sae`` and ``opt`` in place; returns (loop tensors, meta). Refuses a different run."""
    path = Path(path)
    meta = json.loads((path / "state.json").read_text())
    saved = meta["identity"]
    if saved != expected:
        diff = _diff(saved, expected)
        raise ValueError(
            f"The checkpoint in {path} was made by a different run ({diff}). Refusing to resume: "
            "use another checkpoint_dir, or delete this one to start afresh."
        )
    flat = load_file(str(path / "state.safetensors"))
    sae.load_state_dict({k[4:]: v for k, v in flat.items() if k.startswith("sae.")})
    device = next(sae.parameters()).device
    params = dict(sae.named_parameters())
    for name, p in params.items():
        state = {
            key.split(".")[-1]: v.to(device)
            for key, v in flat.items()
            if key.startswith(f"opt.{name}.") and key.count(".") == name.count(".") + 2
        }
        if state:
            state["step"] = state["step"].cpu()  # Adam keeps its step counter on the CPU
            opt.state[p] = state
    loop = {k[5:]: v for k, v in flat.items() if k.startswith("loop.")}
    return loop, meta


def _diff(saved: dict, expected: dict, prefix: str = "") -> str:
    out = []
    for key in sorted(set(saved) | set(expected)):
        a, b = saved.get(key), expected.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            inner = _diff(a, b, f"{prefix}{key}.")
            if inner:
                out.append(inner)
        elif a != b:
            out.append(f"{prefix}{key}: checkpoint {a!r}, now {b!r}")
    return "; ".join(out)
