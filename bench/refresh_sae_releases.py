"""Regenerate saewidgets/releases.json, the small table of pretrained SAEs that ``load_sae("<release>/<id>")`` reads,
from SAELens's registry (``sae_lens/pretrained_saes.yaml`` in a local SAELens checkout; no network).

    python bench/refresh_sae_releases.py PATH/TO/SAELens/sae_lens/pretrained_saes.yaml [MORE.yaml ...] \\
        --source "decoderesearch/SAELens@<commit> (<date>)"

Only the releases in RELEASES below are kept (the package ships a small table, not SAELens's 170 releases).
Each file is read in order; a release found in a later file replaces the earlier entry. How a registry entry
becomes a row:

- ``conversion_func`` null -> layout "saelens" (``<path>/cfg.json`` + ``<path>/sae_weights.safetensors``);
  ``gemma_2`` -> "gemma_scope" (``<path>/params.npz``); ``gemma_3`` -> "gemma_scope_2" (``<path>/config.json`` +
  ``<path>/params.safetensors``). Anything else is refused: saewidgets has no reader for it.
- the TransformerLens hook: for SAELens-layout releases the id when it is a hook name (cfg.json says it too); for
  Gemma Scope the rule SAELens's loaders apply to the path (``layer_N`` + res/resid_post -> blocks.N.hook_resid_post,
  mlp -> hook_mlp_out, attn_out -> hook_attn_out).
- d_in / d_sae where SAELens's code states them (Gemma Scope: the model's width from ``get_gemma_2_config_from_hf``,
  the SAE width from ``width_16k`` & co.); otherwise null, and the files give them.

Requires PyYAML (a dependency of transformers' tooling; ``pip install pyyaml`` otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "saewidgets" / "releases.json"
RELEASES = (
    "gpt2-small-res-jb",
    "pythia-70m-deduped-res-sm",
    "pythia-70m-deduped-mlp-sm",
    "pythia-70m-deduped-att-sm",
    "gemma-scope-2b-pt-res-canonical",
    "gemma-scope-2-270m-pt-res",
)
LAYOUTS = {None: "saelens", "gemma_2": "gemma_scope", "gemma_3": "gemma_scope_2"}
# sae_lens/loading/pretrained_sae_loaders.py, get_gemma_2_config_from_hf: model_params and width_map
GEMMA_2_D_IN = {"2b": 2304, "9b": 3584, "27b": 4608}
WIDTHS = {"4k": 4096, "16k": 16384, "32k": 32768, "65k": 65536, "131k": 131072, "262k": 262144}
WIDTHS |= {"524k": 524288, "1m": 1048576}
HOOK_ID = re.compile(r"^(blocks\.\d+\.)?hook_\w+$")


def gemma_hook(repo: str, path: str) -> str:
    """SAELens's rule (get_gemma_2_config_from_hf / get_gemma_3_config_from_hf) for the hook of a Gemma Scope path."""
    layer = int(re.search(r"layer_(\d+)", path).group(1))
    where = path + " " + repo
    if "resid_post" in path or re.search(r"-res\b", repo):
        return f"blocks.{layer}.hook_resid_post"
    if "mlp" in where:
        return f"blocks.{layer}.hook_mlp_out"
    if "att" in where:
        return f"blocks.{layer}.hook_attn_out" if "attn_out" in path else f"blocks.{layer}.attn.hook_z"
    raise ValueError(f"no hook rule for {repo}/{path}")


def row(name: str, entry: dict) -> dict:
    func = entry.get("conversion_func")
    if func not in LAYOUTS:
        raise SystemExit(
            f"{name}: conversion_func {func!r} has no reader in saewidgets ({sorted(map(str, LAYOUTS))})"
        )
    layout, repo = LAYOUTS[func], entry["repo_id"]
    saes = {}
    for sae in entry["saes"]:
        path = sae["path"]
        item = {"path": path}
        if layout == "saelens":
            item["hook"] = sae["id"] if HOOK_ID.match(sae["id"]) else None
        else:
            item["hook"] = gemma_hook(repo, path)
            width = re.search(r"width_(\d+[km])", path)
            item["d_sae"] = WIDTHS.get(width.group(1)) if width else None
        for key in ("l0", "neuronpedia"):
            if sae.get(key) is not None:
                item[key] = sae[key]
        saes[sae["id"]] = item
    out = {"repo": repo, "layout": layout, "model": entry["model"]}
    if layout == "gemma_scope":
        size = next((k for k in GEMMA_2_D_IN if f"-{k}-" in repo), None)
        out["d_in"] = GEMMA_2_D_IN.get(size)
    overrides = entry.get("config_overrides")
    if overrides:
        out["config_overrides"] = overrides
    out["saes"] = saes
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("yaml", nargs="+", type=Path, help="SAELens pretrained_saes.yaml file(s), in order")
    ap.add_argument("--source", action="append", default=[], help="where each file came from (repo@commit)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    found, origin = {}, {}
    for i, file in enumerate(args.yaml):
        registry = yaml.safe_load(file.read_text())
        source = args.source[i] if i < len(args.source) else str(file)
        for name in RELEASES:
            if name in registry:
                found[name], origin[name] = row(name, registry[name]), source
    missing = [n for n in RELEASES if n not in found]
    if missing:
        raise SystemExit(f"not in the given registry file(s): {missing}")
    table = {
        "about": "Pretrained SAEs saewidgets.load_sae reads by '<release>/<sae_id>': a few releases of SAELens's "
        "registry (sae_lens/pretrained_saes.yaml), regenerated by bench/refresh_sae_releases.py.",
        "generated": datetime.date.today().isoformat(),
        "sources": {name: origin[name] for name in RELEASES},
        "refresh": "python bench/refresh_sae_releases.py PATH/TO/SAELens/sae_lens/pretrained_saes.yaml "
        '--source "decoderesearch/SAELens@<commit>"',
        "releases": {name: found[name] for name in RELEASES},
    }
    args.out.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {args.out}: {len(found)} releases, {sum(len(r['saes']) for r in found.values())} SAEs")


if __name__ == "__main__":
    main()
