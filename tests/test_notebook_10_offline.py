"""Notebook 10 (real models from the Hub): offline it says so once and every later cell skips; its online path
runs end to end, every cell, from a local Hugging Face cache filled in the hub's own layout with stand-ins under the
repo ids the notebook names: a tiny random-weight GPT-2 as "gpt2" (TransformerLens "gpt2-small"), a random SAE in
Bloom's SAELens folder layout as jbloom/GPT2-Small-SAEs-Reformatted, and storyteller documents as the parquet file of
NeelNanda/pile-10k. Nothing is monkeypatched but the notebook's own ONLINE flag: load_model, load_corpus and
snapshot_download resolve from the cache with HF_HUB_OFFLINE=1. Random weights: the test checks that every cell
runs and what it makes has the right shapes, not what the numbers say."""

import json
from pathlib import Path

import nbformat
import torch
from hub_cache import put_in_hub_cache
from IPython.core.inputtransformer2 import TransformerManager
from safetensors.torch import save_file

import saewidgets
import saewidgets.models

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "solutions" / "10_real_models.ipynb"
FLAG_CELL = 2  # the parameter cell defines ONLINE


def _cells():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    return [TransformerManager().transform_cell(c.source) for c in nb.cells if c.cell_type == "code"]


def _run(cells, namespace):
    for src in cells:
        exec(compile(src, str(NOTEBOOK), "exec"), namespace)


def test_every_cell_after_the_flag_is_guarded():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "ONLINE = hub_reachable()" in code[1]  # the first code cell is the Colab install cell
    for src in code[2:]:
        assert src.startswith("if ONLINE:"), f"this cell would run offline:\n{src[:200]}"


def test_offline_it_says_so_once_and_skips_everything(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace = {}
    _run(_cells(), namespace)
    out = capsys.readouterr().out
    assert namespace["ONLINE"] is False and out.count("Offline") == 1 and out.count("\n") == 2
    assert "model" not in namespace and "sae" not in namespace


class _Recorder:
    def __init__(self):
        self.shown = []

    def __call__(self, obj):
        self.shown.append(obj)


def _saelens_v2_folder(root: Path, hook: str, d_in: int, d_sae: int) -> None:
    """A SAE folder in the layout of Bloom's GPT-2 SAEs: an old SAELens cfg.json (no "architecture")."""
    folder = root / hook
    folder.mkdir(parents=True)
    (folder / "cfg.json").write_text(
        json.dumps(
            {
                "model_name": "gpt2-small",
                "hook_point": hook,
                "hook_point_layer": 1,
                "hook_point_head_index": None,
                "d_in": d_in,
                "d_sae": d_sae,
                "expansion_factor": d_sae // d_in,
                "context_size": 128,
                "dtype": "torch.float32",
                "device": "cpu",
                "l1_coefficient": 8e-5,
                "lr": 4e-4,
            }
        )
    )
    g = torch.Generator().manual_seed(0)
    W_dec = torch.randn(d_sae, d_in, generator=g)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    save_file(
        {
            "W_enc": W_dec.T.contiguous()
            * 4.0,  # the tiny model's residual stream is small: let latents fire
            "W_dec": W_dec,
            "b_enc": torch.zeros(d_sae),
            "b_dec": torch.zeros(d_in),
        },
        str(folder / "sae_weights.safetensors"),
    )
    save_file({"sparsity": torch.full((d_sae,), -2.0)}, str(folder / "sparsity.safetensors"))


def _fill_hub_cache(cache: Path, tmp: Path, tiny_checkpoint, hook: str) -> None:
    """The three repos notebook 10 downloads, as stand-ins, in the hub's cache layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    put_in_hub_cache(tiny_checkpoint("gpt2"), cache, "gpt2")  # GPT-2's architecture, 2 layers, d_model 64
    _saelens_v2_folder(tmp / "sae", hook, d_in=64, d_sae=256)
    put_in_hub_cache(tmp / "sae", cache, "jbloom/GPT2-Small-SAEs-Reformatted")
    (tmp / "pile" / "data").mkdir(parents=True)
    texts = saewidgets.load_corpus("storyteller", n_docs=32, seed=1).texts
    pq.write_table(pa.table({"text": texts}), tmp / "pile" / "data" / "train-00000-of-00001.parquet")
    put_in_hub_cache(tmp / "pile", cache, "NeelNanda/pile-10k", repo_type="dataset")


def test_the_online_path_runs_against_stand_ins(monkeypatch, tmp_path, capsys, tiny_checkpoint):
    import huggingface_hub.constants

    hook = (
        "blocks.1.hook_resid_pre"  # the same kind of site as GPT-2's blocks.8.hook_resid_pre (2 layers here)
    )
    cache = tmp_path / "hub"
    _fill_hub_cache(cache, tmp_path, tiny_checkpoint, hook)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))  # read at import time
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    # Only the notebook's flag is told the hub is there; the library itself sees HF_HUB_OFFLINE=1 and the cache.
    monkeypatch.setattr(saewidgets, "hub_reachable", lambda timeout=1.5: True, raising=False)

    cells = _cells()
    shown = _Recorder()
    namespace = {"display": shown}
    _run(cells[: FLAG_CELL + 1], namespace)  # imports + parameters
    assert namespace["ONLINE"] is True
    namespace.update(HOOK=hook, N_DOCS=6, N_TOKENS=400, N_SAMPLES=1, NEW_TOKENS=8)
    _run(cells[FLAG_CELL + 1 :], namespace)

    model, sae, acts = namespace["model"], namespace["sae"], namespace["acts"]
    assert saewidgets.models.model_name(model) == "gpt2" and model.cfg.d_model == 64
    assert Path(namespace["local"]).is_relative_to(cache)  # the SAE came from the cache
    assert sae.cfg.architecture == "relu" and sae.hook_name == hook and sae.model_name == "gpt2-small"
    assert namespace["corpus"].name == "NeelNanda/pile-10k" and len(namespace["corpus"]) == 6
    assert acts.acts.shape == (400, 64) and torch.isfinite(acts.acts).all()
    assert acts.acts.mean(-1).abs().max() < 1e-4  # compatibility mode centred the residual stream
    assert 0 <= namespace["SEA_LATENT"] < 256 and len(namespace["ranked"]) == 5
    assert {"fvu", "delta_ce", "ce_loss_score"} <= set(namespace["m"])
    assert [type(w).__name__ for w in shown.shown] == ["FeatureActivations", "SteeringPanel"]
    out = capsys.readouterr().out
    assert "Offline" not in out and out.count("strength ") == 4


def test_compatibility_mode_centres_the_residual_stream_and_keeps_the_outputs():
    """Why notebook 10 calls enable_compatibility_mode: HookedTransformer-trained SAEs expect residual vectors
    with mean 0 over d_model; the processing changes the residual stream only by that mean, never the outputs."""
    model = saewidgets.load_model("storyteller", device="cpu")
    tokens = model.to_tokens("Once upon a time, there was a girl called Mia. She went to the beach.")
    name = "blocks.2.hook_resid_pre"
    with torch.no_grad():
        logits0, cache0 = model.run_with_cache(tokens, names_filter=lambda n: n == name)
        model.enable_compatibility_mode(disable_warnings=True)
        logits1, cache1 = model.run_with_cache(tokens, names_filter=lambda n: n == name)
    x0, x1 = cache0[name], cache1[name]  # [1, pos, d_model]
    assert x0.mean(-1).abs().max() > 1e-3  # the raw stream is not centred ...
    torch.testing.assert_close(
        x1, x0 - x0.mean(-1, keepdim=True), atol=1e-4, rtol=1e-4
    )  # ... the processed is
    torch.testing.assert_close(logits1.log_softmax(-1), logits0.log_softmax(-1), atol=1e-3, rtol=1e-3)
