"""``saewidgets eval DIR...``: saved SAEs measured on the embedded default, written as eval.json and eval.html.

For each SAE (a folder ``save_sae`` or SAELens wrote, or anything else ``load_sae`` reads):

- reconstruction and downstream metrics on held-out storyteller text (``metrics.evaluate``): L0, FVU,
  explained variance, ΔCE and the CE loss score on the first ``ce_docs`` documents, dead fraction, ...;
- every planted-truth metric (``evals.planted.evaluate_planted``): truth F1, sparse probing, absorption,
  label-oracle autointerp; their meanings are in ``metric_info``;

and for each pair of SAEs with the same architecture, width, d_in and hook, seed stability
(``evals.stability``; for SAEs of one sweep it measures how much of the dictionary the sparsity knob keeps).

The model is loaded once and each distinct hook harvested once, from the corpus of seed
``EVAL_CORPUS_SEED + seed``: documents neither the bundled model (corpus seeds 1000, held out 999), the bundled
SAE (2000, 2001) nor the demo (0 to train, 1 for its report, by default) saw. Every SAE is read before the model
is loaded, so a folder that is not an SAE fails in a second, not after minutes. ``eval_page`` draws the page.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

EVAL_CORPUS_SEED = 3000
"""The held-out corpus is ``load_corpus("storyteller", n_docs, seed=EVAL_CORPUS_SEED + seed)``."""

MAX_STABILITY_D_SAE = 8192
"""Wider pairs are listed but not matched: the Hungarian matching is cubic in d_sae (~2 s at 4096)."""

SAE_FILES = "cfg.json + sae_weights.safetensors (save_sae or SAELens), a Gemma Scope params.npz or release id"


class LoadedSAE(NamedTuple):
    name: str  # the folder's name (its path where two folders share a name)
    path: str
    sae: object
    hook: str


def load_saes(paths: Sequence[str], hook: str | None = None, model: str | None = None, device=None):
    """Every SAE of ``paths`` as a ``LoadedSAE``, or a ValueError that names the first path that is not one and
    what was found there. ``hook``: for SAEs whose files name none. ``model``: refuse SAEs trained on another."""
    from .io import load_sae

    if not paths:
        raise ValueError(f"no SAE given: pass one or more SAE folders ({SAE_FILES})")
    loaded = []
    for path in paths:
        try:
            sae = load_sae(path, device=device)
        except FileNotFoundError as e:
            raise ValueError(_not_an_sae(Path(path), e)) from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        where = getattr(sae, "hook_name", None) or hook
        if not where:
            raise ValueError(
                f"{path}: its files name no hook (cfg.json metadata.hook_name), so which activations it reads "
                "is unknown; pass --hook (e.g. blocks.1.hook_resid_post)"
            )
        trained = getattr(sae, "model_name", None)
        if model and trained and trained != model:
            raise ValueError(
                f"{path} was trained on model {trained!r} (cfg.json metadata.model_name), not {model!r}: "
                f"pass --model {trained}, or evaluate it in a run of its own"
            )
        loaded.append(LoadedSAE(Path(path).name or str(path), str(path), sae, where))
    counts = {}
    for s in loaded:
        counts[s.name] = counts.get(s.name, 0) + 1
    return [s._replace(name=s.path) if counts[s.name] > 1 else s for s in loaded]


def _not_an_sae(path: Path, error: Exception) -> str:
    """What was expected at ``path`` and what is there instead."""
    if not path.exists():
        return f"{path} does not exist; expected a SAE folder ({SAE_FILES})"
    if not path.is_dir():
        return f"{path} is a file, not a SAE folder; expected a folder with {SAE_FILES} ({error})"
    entries = sorted(path.iterdir())
    saes = [p.name for p in entries if (p / "cfg.json").is_file()]
    if saes:
        shown = ", ".join(saes[:4]) + (", ..." if len(saes) > 4 else "")
        return (
            f"{path} is not a SAE folder but holds {len(saes)} of them ({shown}): pass those, e.g. "
            f"saewidgets eval {path}/*"
        )
    found = ", ".join(p.name + ("/" if p.is_dir() else "") for p in entries[:8]) or "nothing (it is empty)"
    more = f" and {len(entries) - 8} more" if len(entries) > 8 else ""
    return f"{path} is not a SAE folder: expected {SAE_FILES}; found {found}{more}"


def evaluate_saes(
    paths: Sequence[str],
    *,
    model: str = "storyteller",
    n_docs: int = 1000,
    seed: int = 0,
    n_latents: int = 100,
    ce_docs: int = 100,
    hook: str | None = None,
    device=None,
    log: Callable[[str], None] = print,
) -> dict:
    """Every metric of every SAE in ``paths`` and the stability of each like pair, as eval.json holds it
    (plain numbers, NaN as None): ``{"model", "hooks", "corpus", "settings", "saes": [...], "stability":
    [...], "seconds"}``. ``log`` gets one line per step."""
    from .activations import harvest
    from .corpora import load_corpus
    from .io import check_sae_fits
    from .models import load_model

    t_start = time.time()
    for name, value, low in (("n_docs", n_docs, 1), ("n_latents", n_latents, 1), ("ce_docs", ce_docs, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    saes = load_saes(paths, hook=hook, model=model, device=device)
    log(f"saes      {len(saes)}: " + ", ".join(f"{s.name} ({_shape(s.sae)})" for s in saes))
    t0 = time.time()
    lm = load_model(model, device=device)
    for s in saes:
        try:
            check_sae_fits(s.sae, lm, s.hook)
        except ValueError as e:
            raise ValueError(f"{s.path}: {e}") from None
    corpus_seed = EVAL_CORPUS_SEED + seed
    corpus = load_corpus("storyteller", n_docs=n_docs, seed=corpus_seed)
    log(
        f"model     {model} in {time.time() - t0:.1f} s; corpus storyteller, {len(corpus)} documents (seed {corpus_seed})"
    )
    hooks = list(dict.fromkeys(s.hook for s in saes))
    acts = {}
    for h in hooks:
        t0 = time.time()
        acts[h] = harvest(lm, corpus, h)
        log(f"harvest   {len(acts[h]):,} tokens at {h} in {time.time() - t0:.1f} s")
    records = [
        _evaluate_one(s, acts[s.hook], lm, corpus, seed=seed, n_latents=n_latents, ce_docs=ce_docs, log=log)
        for s in saes
    ]
    stability = _stability(saes, seed, log)
    return _plain(
        {
            "model": model,
            "hooks": hooks,
            "corpus": {
                "name": "storyteller",
                "n_docs": len(corpus),
                "seed": corpus_seed,
                "n_tokens": {h: len(a) for h, a in acts.items()},
                "ce_docs": min(ce_docs, len(corpus)),
            },
            "settings": {"seed": seed, "n_latents": n_latents},
            "saes": records,
            "stability": stability,
            "seconds": time.time() - t_start,
        }
    )


def _shape(sae) -> str:
    k = getattr(sae.cfg, "k", None)
    arch = sae.cfg.architecture
    return f"{arch}, d_sae {sae.cfg.d_sae}" + (
        f", k {k}" if arch in ("topk", "batchtopk", "matryoshka") else ""
    )


def _evaluate_one(s: LoadedSAE, acts, lm, corpus, *, seed: int, n_latents: int, ce_docs: int, log) -> dict:
    from .evals.planted import evaluate_planted
    from .metrics import evaluate
    from .sweeps import POINT_METRICS

    t0 = time.time()
    texts = corpus.texts[:ce_docs]
    m = evaluate(
        s.sae, acts, model=lm if texts else None, texts=texts or None, hook=s.hook if texts else None
    )
    planted = evaluate_planted(s.sae, acts, corpus, lm.tokenizer, seed=seed, n_latents=n_latents)
    cfg = s.sae.cfg
    record = {
        "name": s.name,
        "path": s.path,
        "architecture": cfg.architecture,
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "hook": s.hook,
        "trained_on": getattr(s.sae, "model_name", None),
        "n_tokens": m["n_tokens"],
        **{k: m[k] for k in POINT_METRICS if k in m},
        **planted["summary"],
        "details": _details(planted, lm.tokenizer),
        "seconds": time.time() - t0,
    }
    if cfg.architecture in ("topk", "batchtopk", "matryoshka"):
        record["k"] = cfg.k
    summary = planted["summary"]
    log(
        f"eval      {s.name}: L0 {m['l0']:.1f}, FVU {m['fvu']:.4f}"
        + (f", dCE {m['delta_ce']:.4f}" if "delta_ce" in m else "")
        + f", truth F1 {summary['truth_f1']:.3f}, absorption {summary['absorption']:.3f}, "
        f"autointerp {summary['autointerp']:.3f} in {record['seconds']:.1f} s"
    )
    return record


def _details(planted: dict, tokenizer) -> dict:
    """The per-concept numbers worth reading: F1s, not latent lists or balanced accuracies."""
    from .token_text import vocab_piece

    concepts = {}
    for name, best in planted["truth"].items():
        row = {"truth_f1": best}
        probe = planted["probing"].get(name)
        if probe:
            row |= {f"probing_f1_k{k}": v["f1"] for k, v in probe["sae"].items()}
            row |= {
                "top_latent": probe["sae"][min(probe["sae"])]["latents"][0],
                "probe_ceiling_f1": probe["linear_probe"]["f1"],
                "diff_in_means_f1": probe["diff_in_means"]["f1"],
                "positives_test": probe["positives_test"],
            }
        concepts[name] = row
    absorption = {
        parent: {
            "absorption": a["absorption_fraction"],
            "full_absorption": a["full_absorption"],
            "planted_absorption": a["planted"],
            "n_evaluated": a["n_evaluated"],
            "main_latents": a["main_latents"],
            "children": {c: v for c, v in a["children"].items() if v.get("n")},
        }
        for parent, a in planted["absorption"].items()
    }
    interp = planted["autointerp"]
    latents = {
        str(i): {
            "label": e["label"] if e["uses"] in ("label", "either") else None,
            "tokens": [vocab_piece(tokenizer, int(t)) for t in e["tokens"]] if e["uses"] != "label" else [],
            "uses": e["uses"],
            "detection": e["detection"],
        }
        for i, e in interp["latents"].items()
    }
    return {
        "concepts": concepts,
        "absorption": absorption,
        "autointerp": {"score": interp["score"], "n_scored": interp["n_scored"], "latents": latents},
    }


def _stability(saes: list[LoadedSAE], seed: int, log) -> list[dict]:
    from .evals.stability import seed_stability

    out = []
    for i, a in enumerate(saes):
        for b in saes[i + 1 :]:
            key_a = (a.sae.cfg.architecture, a.sae.cfg.d_sae, a.sae.cfg.d_in, a.hook)
            if key_a != (b.sae.cfg.architecture, b.sae.cfg.d_sae, b.sae.cfg.d_in, b.hook):
                continue
            row = {"a": a.name, "b": b.name, "architecture": key_a[0], "d_sae": key_a[1], "hook": a.hook}
            if key_a[1] > MAX_STABILITY_D_SAE:
                row["note"] = f"not matched: d_sae {key_a[1]} > {MAX_STABILITY_D_SAE} (cubic matching)"
            else:
                row |= seed_stability(a.sae, b.sae, seed=seed)
                log(
                    f"stability {a.name} ~ {b.name}: {100 * row['shared']:.1f}% of latents shared "
                    f"(random {100 * row['random_baseline']:.1f}%)"
                )
            out.append(row)
    return out


def _plain(v):
    """JSON-safe, recursively: numpy scalars and arrays to numbers and lists, NaN/inf to None, keys to str."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "tolist"):  # numpy scalar or array, 0-d tensor
        return _plain(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_eval(result: dict, out: str | Path) -> dict[str, Path]:
    """``out``/eval.json and ``out``/eval.html, each written atomically; their paths."""
    from ._files import write_bytes_atomic, write_json_atomic
    from .eval_page import eval_page

    out = Path(out)
    return {
        "json": write_json_atomic(out / "eval.json", result),
        "html": write_bytes_atomic(out / "eval.html", eval_page(result).encode("utf-8")),
    }


def eval_cmd(args) -> dict:
    """The command: evaluate, write, say where."""
    result = evaluate_saes(
        args.dirs,
        model=args.model,
        n_docs=args.n_docs,
        seed=args.seed,
        n_latents=args.n_latents,
        ce_docs=args.ce_docs,
        hook=args.hook,
        device=args.device,
    )
    paths = write_eval(result, args.out)
    size = paths["html"].stat().st_size / 1024
    print(f"wrote     {paths['json']} and {paths['html']} ({size:,.0f} KB) in {result['seconds']:.0f} s")
    return result
