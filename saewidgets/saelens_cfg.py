"""cfg.json <-> ``SAEConfig``: the one place that knows how SAELens names and lays out each architecture.

``io`` reads and writes SAE folders; this module translates their cfg.json. Our own folders carry the whole
``SAEConfig`` under "saewidgets" (``_ours``); folders SAELens wrote (v6 cfg.json, or the flat <= 5.x one) are
mapped architecture by architecture (``_from_saelens``), with the tensor rewrites SAELens's inference layouts
need (a BatchTopK threshold copied to every latent, TopK's decoder-norm folding, thresholds clamped at 0).
``_read_cfg`` reads a cfg.json with an error that names the file and says what is wrong.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import Tensor

from ._sae_tensors import _REWRITE, CFG_FILE, _check_tensors, _file_shapes
from .config import SAEConfig

# Written as metadata.sae_lens_version: SAELens reads a cfg.json without one (or older than 6.0) as the pre-6 layout
# (``handle_config_defaulting`` in sae_lens/loading/pretrained_sae_loaders.py) and would drop the metadata block.
SAELENS_FORMAT_VERSION = "6.0.0"
# Our architecture -> SAELens's. SAELens serves BatchTopK as a JumpReLU whose threshold is the BatchTopK threshold
# for every latent (BatchTopKTrainingSAEConfig.get_inference_config_class -> JumpReLUSAEConfig), and
# Matryoshka (MatryoshkaBatchTopKTrainingSAEConfig, a BatchTopK subclass) the same way.
TO_SAELENS = {
    "relu": "standard",
    "gated": "gated",
    "topk": "topk",
    "batchtopk": "jumprelu",
    "jumprelu": "jumprelu",
    "matryoshka": "jumprelu",
}
_THRESHOLD_EMA = (
    "batchtopk",
    "matryoshka",
)  # ours with BatchTopK's one inference threshold, saved as JumpReLU
FROM_SAELENS = {
    "standard": "relu",
    "gated": "gated",
    "topk": "topk",
    "batchtopk": "batchtopk",
    "jumprelu": "jumprelu",
    "matryoshka_batchtopk": "matryoshka",  # a training checkpoint: cfg.json has k and matryoshka_widths
}
_V5_METADATA = (
    "model_name",
    "hook_name",
    "hook_layer",
    "hook_head_index",
    "context_size",
    "dataset_path",
    "prepend_bos",
    "neuronpedia_id",
    "sae_lens_training_version",
)


def _ours(raw: dict, tensors: dict[str, Tensor], where: str) -> tuple[SAEConfig, dict[str, Tensor]]:
    """A folder save_sae wrote: our SAEConfig is in raw["saewidgets"]; BatchTopK back from a JumpReLU."""
    file = f"{where}/{CFG_FILE}"
    block = raw["saewidgets"]
    if not isinstance(block.get("config"), dict):
        raise ValueError(
            f'{file}: the "saewidgets" block has no "config" object; re-save the SAE with '
            "save_sae, or delete that block to read the file as a plain SAELens cfg.json"
        )
    config = dict(block["config"])
    theta_param = config.pop("jumprelu_theta_param", "direct")  # a field of saewidgets <= 0.1; theta is saved
    if theta_param != "direct":
        raise ValueError(
            f"{file}: saewidgets.config has jumprelu_theta_param={theta_param!r}, a "
            "training option (train log(theta)) that saewidgets no longer has. The weights file "
            "holds theta itself: delete that key to load this SAE as a JumpReLU that trains it"
        )
    try:
        cfg = SAEConfig.from_dict(config)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"{file}: saewidgets.config is not a valid SAEConfig ({e}); fix that entry, or re-save "
            "the SAE with save_sae"
        ) from None
    for key in (
        "d_in",
        "d_sae",
    ):  # one of the two copies edited by hand: which one the weights follow is unknown
        if key in raw and raw[key] != getattr(cfg, key):
            raise ValueError(
                f"{file}: {key} is {raw[key]!r} at the top level but {getattr(cfg, key)!r} under "
                f"saewidgets.config; make the two agree with the weights' shapes"
            )
    _check_tensors(tensors, _file_shapes(TO_SAELENS[cfg.architecture], cfg.d_in, cfg.d_sae), where)
    if cfg.architecture in _THRESHOLD_EMA:  # one threshold copied to every latent -> the scalar buffer
        thr = tensors.pop("threshold")
        if not bool((thr == thr[0]).all()):
            raise ValueError(f"{where}: a {cfg.architecture} SAE needs the same threshold for every latent")
        tensors["threshold"] = thr[0].clone()
    return cfg, tensors


def _from_saelens(raw: dict, tensors: dict[str, Tensor], where: str) -> tuple[SAEConfig, dict[str, Tensor]]:
    """A folder SAELens wrote. v6 keeps hook/model names under "metadata"; <= 5.x keeps them at the top level and
    writes TopK as architecture "standard" with activation_fn_str "topk" and activation_fn_kwargs {"k": k}."""
    arch = raw.get("architecture", "standard")
    act = raw.get("activation_fn_str", raw.get("activation_fn")) or "relu"  # "activation_fn" in some exports
    k = raw.get("k", (raw.get("activation_fn_kwargs") or {}).get("k"))
    if arch == "standard" and act == "topk":
        arch = "topk"
    elif arch == "standard" and act != "relu":
        raise ValueError(
            f"{where}: standard SAE with activation {act!r} is not supported (only relu and topk)"
        )
    if arch not in FROM_SAELENS:
        raise ValueError(
            f"unknown SAE architecture {arch!r} in {where}/{CFG_FILE}; supported: "
            f"{', '.join(sorted(FROM_SAELENS))} (SAELens names) and saewidgets' own folders"
        )
    norm = raw.get("normalize_activations")
    if norm in ("constant_norm_rescale", "layer_norm"):
        raise ValueError(
            f"{where}: normalize_activations={norm!r} rescales inputs at run time; not supported"
        )
    if norm in (True, "expected_average_only_in"):
        warnings.warn(
            f"{where}: the SAE expects inputs scaled by a dataset norm factor that cfg.json does not hold "
            "(normalize_activations='expected_average_only_in'); scale inputs yourself",
            stacklevel=3,
        )
    try:
        d_in, d_sae = int(raw["d_in"]), int(raw["d_sae"])
    except KeyError as e:
        raise ValueError(
            f"{where}/{CFG_FILE} has no {e.args[0]!r}: a SAELens cfg.json gives the SAE's sizes as "
            "d_in and d_sae; add them (the shape of W_enc is [d_in, d_sae])"
        ) from None
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}/{CFG_FILE}: d_in and d_sae must be integers; got {raw['d_in']!r} and {raw['d_sae']!r}"
        ) from None
    ours, extra = FROM_SAELENS[arch], {}
    if ours in ("topk", *_THRESHOLD_EMA):
        if k is None or float(k) != int(k):
            raise ValueError(f"{where}: a {arch} SAE needs an integer k in cfg.json; got {k!r}")
        extra["k"] = int(k)
    if ours == "matryoshka":  # SAELens appends d_sae to widths that stop short of it (with a warning)
        widths = list(raw.get("matryoshka_widths") or [])
        extra["matryoshka_widths"] = widths + [d_sae] if not widths or widths[-1] != d_sae else widths
    dtype = str(raw.get("dtype") or "float32").removeprefix("torch.")
    try:
        cfg = SAEConfig(
            architecture=ours,
            d_in=d_in,
            d_sae=d_sae,
            dtype=dtype,
            apply_b_dec_to_input=bool(raw.get("apply_b_dec_to_input", True)),
            **extra,
        )
    except ValueError as e:
        raise ValueError(f"{where}/{CFG_FILE}: {e}") from None
    t = dict(tensors)
    # SAELens <= 5 could multiply acts by a per-latent finetuning scale before W_dec (older files: "scaling_factor")
    scale = t.pop("finetuning_scaling_factor", t.pop("scaling_factor", None))
    if "log_threshold" in t and "threshold" not in t:  # early SAELens JumpReLU checkpoints
        t["threshold"] = t.pop("log_threshold").exp()
    _check_tensors(t, _file_shapes(arch, d_in, d_sae), where)
    if scale is not None and tuple(scale.shape) != (d_sae,):
        raise ValueError(f"{where}: scaling factor has shape {list(scale.shape)}, expected [{d_sae}]")
    t = {name: v.to(getattr(torch, dtype)) for name, v in t.items()}
    if scale is not None:  # (acts * s) @ W_dec == acts @ (s[:, None] * W_dec)
        t["W_dec"] = t["W_dec"] * scale.to(t["W_dec"].dtype)[:, None]
    if ours in ("topk", *_THRESHOLD_EMA) and raw.get("rescale_acts_by_decoder_norm", False):
        # SAELens picks the top k of pre * ||W_dec_i|| and decodes (acts / ||W_dec_i||) @ W_dec: the same SAE as
        # scaling W_enc's columns and b_enc by the norms and W_dec's rows to unit norm (its _fold_norm_topk).
        norms = t["W_dec"].norm(dim=1).clamp_min(1e-8)  # [d_sae]
        t["W_enc"], t["b_enc"], t["W_dec"] = (
            t["W_enc"] * norms,
            t["b_enc"] * norms,
            t["W_dec"] / norms[:, None],
        )
    if ours in _THRESHOLD_EMA:
        t["threshold"] = t.pop("topk_threshold").clamp_min(0)
    elif ours == "jumprelu":  # SAELens compares pre with threshold.relu(); ours with theta, so clamp it
        t["threshold"] = t["threshold"].clamp_min(0)
    return cfg, t


# ---- reading files ----------------------------------------------------------------------------------------------
def _read_cfg(file: Path) -> dict:
    """cfg.json as a dict, or a ValueError that names the file and says what is wrong with it."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{file} is not text (not UTF-8): a cfg.json is a JSON object; {_REWRITE}") from None
    if not text.strip():
        raise ValueError(f"{file} is empty (an interrupted save or copy?); {_REWRITE}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{file} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); fix it by hand, "
            f"or {_REWRITE}"
        ) from None
    if not isinstance(raw, dict):
        raise ValueError(
            f"{file} holds a JSON {type(raw).__name__}, not an object: a cfg.json is "
            '{"architecture": ..., "d_in": ..., "d_sae": ..., "metadata": {...}}; ' + _REWRITE
        )
    for block in ("metadata", "saewidgets"):
        if (
            block in raw
            and not isinstance(raw[block], dict)
            and not (block == "metadata" and raw[block] is None)
        ):
            raise ValueError(
                f"{file}: the {block!r} entry is a JSON {type(raw[block]).__name__}, not an object; "
                f"fix it by hand, or {_REWRITE}"
            )
    return raw
