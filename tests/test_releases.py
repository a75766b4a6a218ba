"""Pretrained SAEs by release id (saewidgets.releases + load_sae), offline: files placed in a temporary Hugging Face
cache in the hub's own layout (models--ORG--NAME/refs/main, snapshots/<hash>/..., blobs/), one per file layout
(SAELens cfg.json + safetensors, Gemma Scope params.npz, Gemma Scope 2 config.json + params.safetensors), with tiny
random weights; each loaded SAE must match an encode/decode computed from the raw arrays. Then the bad input: ids
not in the table, files not in the cache, malformed files."""

import copy
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from saewidgets import releases
from saewidgets.config import SAEConfig
from saewidgets.io import check_sae_fits, load_sae, load_sparsity, save_sae
from saewidgets.sae import JumpReLUSAE, ReLUSAE, build_sae

ROOT = Path(__file__).resolve().parents[1]
D_IN, D_SAE = 8, 16
COMMIT = "a" * 40


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty hub cache, offline; set after huggingface_hub was imported, as a notebook would."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def put(cache: Path, repo: str, files: dict, commit: str = COMMIT) -> Path:
    """Place files in the cache as the hub client does: content in blobs/<sha256>, a symlink in the snapshot."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit)
    (root / "blobs").mkdir(exist_ok=True)
    for name, data in files.items():
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = root / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return root / "snapshots" / commit


def weights(seed=0, jumprelu=False):
    g = torch.Generator().manual_seed(seed)
    t = {
        "W_enc": torch.randn(D_IN, D_SAE, generator=g),
        "W_dec": torch.randn(D_SAE, D_IN, generator=g),
        "b_enc": torch.randn(D_SAE, generator=g),
        "b_dec": torch.randn(D_IN, generator=g),
    }
    if jumprelu:
        t["threshold"] = torch.rand(D_SAE, generator=g)
    return t


def safetensors_bytes(t: dict, tmp: Path) -> bytes:
    save_file({k: v.contiguous() for k, v in t.items()}, str(tmp))
    return tmp.read_bytes()


def npz_bytes(t: dict, tmp: Path) -> bytes:
    np.savez(tmp, **{k: v.numpy() for k, v in t.items()})
    return tmp.read_bytes()


def x_batch(n=32):
    return torch.randn(n, D_IN, generator=torch.Generator().manual_seed(1))


def reference_relu(t, x):
    """SAELens's standard SAE (apply_b_dec_to_input=True) from the raw arrays."""
    acts = torch.relu((x - t["b_dec"]) @ t["W_enc"] + t["b_enc"])
    return acts, acts @ t["W_dec"] + t["b_dec"]


def reference_jumprelu(t, x):
    """Gemma Scope's JumpReLU (no b_dec subtracted from the input), from the raw arrays."""
    pre = x @ t["W_enc"] + t["b_enc"]
    acts = (pre > t["threshold"]) * torch.relu(pre)
    return acts, acts @ t["W_dec"] + t["b_dec"]


def check_outputs(sae, t, x, reference):
    acts, recon = reference(t, x)
    torch.testing.assert_close(sae.encode(x), acts)
    torch.testing.assert_close(sae.decode(sae.encode(x)), recon)
    torch.testing.assert_close(sae(x).recon, recon)


def tiny_table(monkeypatch, release: str, **sizes):
    """The real table with one release's stated sizes set to the tiny test sizes."""
    table = copy.deepcopy(releases.release_table())
    row = table["releases"][release]
    for key, value in sizes.items():
        if key in row:
            row[key] = value
        for entry in row["saes"].values():
            if key in entry:
                entry[key] = value
    monkeypatch.setattr(releases, "release_table", lambda: table)
    return table


# ---- the table ---------------------------------------------------------------------------------------------------
def test_the_table_states_its_source_and_holds_the_releases_asked_for():
    table = releases.release_table()
    assert set(table["sources"]) == set(table["releases"]) and "refresh_sae_releases.py" in table["refresh"]
    assert all("SAELens@" in src for src in table["sources"].values()) and table["generated"]
    rows = table["releases"]
    gpt2 = rows["gpt2-small-res-jb"]
    assert (gpt2["repo"], gpt2["layout"], gpt2["model"]) == (
        "jbloom/GPT2-Small-SAEs-Reformatted",
        "saelens",
        "gpt2-small",
    )
    assert gpt2["saes"]["blocks.8.hook_resid_pre"]["path"] == "blocks.8.hook_resid_pre"
    assert gpt2["config_overrides"]["model_from_pretrained_kwargs"] == {"center_writing_weights": True}
    pythia = rows["pythia-70m-deduped-res-sm"]
    assert pythia["saes"]["blocks.3.hook_resid_post"] == {
        "path": "3-res-sm",
        "hook": "blocks.3.hook_resid_post",
        "neuronpedia": "pythia-70m-deduped/3-res-sm",
    }
    assert {"pythia-70m-deduped-mlp-sm", "pythia-70m-deduped-att-sm"} <= set(rows)
    scope = rows["gemma-scope-2b-pt-res-canonical"]
    assert (scope["repo"], scope["layout"], scope["d_in"]) == (
        "google/gemma-scope-2b-pt-res",
        "gemma_scope",
        2304,
    )
    assert scope["saes"]["layer_12/width_16k/canonical"]["path"] == "layer_12/width_16k/average_l0_82"
    assert scope["saes"]["layer_12/width_16k/canonical"]["hook"] == "blocks.12.hook_resid_post"
    scope2 = rows["gemma-scope-2-270m-pt-res"]
    assert (scope2["repo"], scope2["layout"], scope2["model"]) == (
        "google/gemma-scope-2-270m-pt",
        "gemma_scope_2",
        "google/gemma-3-270m",
    )
    medium = scope2["saes"]["layer_12_width_16k_l0_medium"]
    assert medium["path"] == "resid_post/layer_12_width_16k_l0_medium" and medium["d_sae"] == 16384
    for name, row in rows.items():
        assert row["layout"] in releases.LAYOUT_FILES, name
        assert all(e["hook"] and e["hook"].startswith("blocks.") for e in row["saes"].values()), name


def test_the_refresh_script_rebuilds_rows_from_a_registry_file(tmp_path):
    registry = {
        name: copy.deepcopy(row)
        for name, row in {
            "gpt2-small-res-jb": {
                "conversion_func": None,
                "model": "gpt2-small",
                "repo_id": "jbloom/GPT2-Small-SAEs-Reformatted",
                "config_overrides": {"model_from_pretrained_kwargs": {"center_writing_weights": True}},
                "saes": [{"id": "blocks.8.hook_resid_pre", "path": "blocks.8.hook_resid_pre", "l0": 60.0}],
            },
            "gemma-scope-2b-pt-res-canonical": {
                "conversion_func": "gemma_2",
                "model": "gemma-2-2b",
                "repo_id": "google/gemma-scope-2b-pt-res",
                "saes": [{"id": "layer_12/width_16k/canonical", "path": "layer_12/width_16k/average_l0_82"}],
            },
            "gemma-scope-2-270m-pt-res": {
                "conversion_func": "gemma_3",
                "model": "google/gemma-3-270m",
                "repo_id": "google/gemma-scope-2-270m-pt",
                "saes": [{"id": "layer_5_width_65k_l0_big", "path": "resid_post/layer_5_width_65k_l0_big"}],
            },
        }.items()
    }
    for name in ("pythia-70m-deduped-res-sm", "pythia-70m-deduped-mlp-sm", "pythia-70m-deduped-att-sm"):
        registry[name] = {
            "conversion_func": None,
            "model": "pythia-70m-deduped",
            "repo_id": "r/p",
            "saes": [],
        }
    src = tmp_path / "pretrained_saes.yaml"
    src.write_text(json.dumps(registry))  # JSON is YAML
    out = tmp_path / "releases.json"
    script = ROOT / "bench" / "refresh_sae_releases.py"
    subprocess.run([sys.executable, str(script), str(src), "--source", "x@1", "--out", str(out)], check=True)
    rows = json.loads(out.read_text())["releases"]
    assert rows["gpt2-small-res-jb"]["saes"]["blocks.8.hook_resid_pre"] == {
        "path": "blocks.8.hook_resid_pre",
        "hook": "blocks.8.hook_resid_pre",
        "l0": 60.0,
    }
    assert rows["gemma-scope-2b-pt-res-canonical"]["d_in"] == 2304
    assert (
        rows["gemma-scope-2-270m-pt-res"]["saes"]["layer_5_width_65k_l0_big"]["hook"]
        == "blocks.5.hook_resid_post"
    )
    assert rows["gemma-scope-2-270m-pt-res"]["saes"]["layer_5_width_65k_l0_big"]["d_sae"] == 65536


# ---- each layout, from the cache -----------------------------------------------------------------------------------
def test_gpt2_small_res_jb_from_the_cache(hub, tmp_path):
    t = weights(0)
    cfg = {  # the pre-6 cfg.json of jbloom/GPT2-Small-SAEs-Reformatted
        "model_name": "gpt2-small",
        "hook_point": "blocks.8.hook_resid_pre",
        "hook_point_layer": 8,
        "hook_point_head_index": None,
        "dataset_path": "Skylion007/openwebtext",
        "is_dataset_tokenized": False,
        "context_size": 128,
        "use_cached_activations": False,
        "d_in": D_IN,
        "d_sae": D_SAE,
        "dtype": "torch.float32",
        "device": "cuda",
    }
    put(
        hub,
        "jbloom/GPT2-Small-SAEs-Reformatted",
        {
            "blocks.8.hook_resid_pre/cfg.json": json.dumps(cfg).encode(),
            "blocks.8.hook_resid_pre/sae_weights.safetensors": safetensors_bytes(t, tmp_path / "w"),
            "blocks.9.hook_resid_pre/cfg.json": b"{}",  # a neighbour, not read
        },
    )
    sae = load_sae("gpt2-small-res-jb/blocks.8.hook_resid_pre")
    assert isinstance(sae, ReLUSAE) and not sae.training and sae.cfg.apply_b_dec_to_input
    assert (sae.hook_name, sae.model_name) == ("blocks.8.hook_resid_pre", "gpt2-small")
    assert sae.metadata["release"] == "gpt2-small-res-jb" and sae.metadata["repo_id"].startswith("jbloom/")
    assert sae.metadata["config_overrides"]["model_from_pretrained_kwargs"]["center_writing_weights"] is True
    check_outputs(sae, t, x_batch(), reference_relu)
    assert load_sparsity("gpt2-small-res-jb/blocks.8.hook_resid_pre") is None  # the folder has none


def test_pythia_res_sm_takes_its_hook_from_the_table_when_the_cfg_has_none(hub, tmp_path):
    t = weights(1)
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    put(
        hub,
        "ctigges/pythia-70m-deduped__res-sm_processed",
        {
            "3-res-sm/cfg.json": json.dumps(cfg).encode(),
            "3-res-sm/sae_weights.safetensors": safetensors_bytes(t, tmp_path / "w"),
            "3-res-sm/sparsity.safetensors": safetensors_bytes(
                {"sparsity": torch.zeros(D_SAE)}, tmp_path / "s"
            ),
        },
    )
    found = releases.resolve_release("pythia-70m-deduped-res-sm/blocks.3.hook_resid_post")
    assert set(found.files) == {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors"}
    assert found.folder.name == "3-res-sm" and str(hub) in str(found.folder)
    sae = load_sae("pythia-70m-deduped-res-sm/blocks.3.hook_resid_post")
    assert torch.equal(
        load_sparsity("pythia-70m-deduped-res-sm/blocks.3.hook_resid_post"), torch.zeros(D_SAE)
    )
    assert (sae.hook_name, sae.model_name) == ("blocks.3.hook_resid_post", "pythia-70m-deduped")
    check_outputs(sae, t, x_batch(), reference_relu)


def test_gemma_scope_canonical_from_the_cache(hub, tmp_path, monkeypatch):
    t = weights(2, jumprelu=True)
    put(
        hub,
        "google/gemma-scope-2b-pt-res",
        {"layer_12/width_16k/average_l0_82/params.npz": npz_bytes(t, tmp_path / "p.npz")},
    )
    # the real table says d_in 2304, d_sae 16384: tiny files under that name are another SAE, refused
    with pytest.raises(
        ValueError, match=r"files give d_in 8 but the release table says 2304.*fetch them again"
    ):
        load_sae("gemma-scope-2b-pt-res-canonical/layer_12/width_16k/canonical")
    tiny_table(monkeypatch, "gemma-scope-2b-pt-res-canonical", d_in=D_IN, d_sae=D_SAE)
    sae = load_sae("gemma-scope-2b-pt-res-canonical/layer_12/width_16k/canonical")
    assert isinstance(sae, JumpReLUSAE) and not sae.cfg.apply_b_dec_to_input
    assert (sae.hook_name, sae.model_name) == ("blocks.12.hook_resid_post", "gemma-2-2b")
    assert sae.metadata["path"] == "layer_12/width_16k/average_l0_82"
    assert sae.metadata["neuronpedia"] == "gemma-2-2b/12-gemmascope-res-16k"
    check_outputs(sae, t, x_batch(), reference_jumprelu)


def test_gemma_scope_2_from_the_cache(hub, tmp_path, monkeypatch):
    t = weights(3, jumprelu=True)
    raw = {"w_enc": t["W_enc"], "w_dec": t["W_dec"], "b_enc": t["b_enc"], "b_dec": t["b_dec"]}
    raw["threshold"] = t["threshold"]
    config = {
        "architecture": "jump_relu",
        "model_name": "gemma-v3-270m-pt",
        "hf_hook_point_in": "model.layers.12.output",
    }
    folder = "resid_post/layer_12_width_16k_l0_medium"
    put(
        hub,
        "google/gemma-scope-2-270m-pt",
        {
            f"{folder}/config.json": json.dumps(config).encode(),
            f"{folder}/params.safetensors": safetensors_bytes(raw, tmp_path / "p"),
        },
    )
    tiny_table(monkeypatch, "gemma-scope-2-270m-pt-res", d_sae=D_SAE)
    sae = load_sae("gemma-scope-2-270m-pt-res/layer_12_width_16k_l0_medium")
    assert isinstance(sae, JumpReLUSAE) and not sae.cfg.apply_b_dec_to_input
    assert (sae.hook_name, sae.model_name) == ("blocks.12.hook_resid_post", "google/gemma-3-270m")
    assert sae.metadata["hf_hook_point_in"] == "model.layers.12.output" and sae.metadata["l0"] == 60
    check_outputs(sae, t, x_batch(), reference_jumprelu)


def test_online_the_files_are_fetched_into_the_cache_with_the_hub_client(hub, tmp_path, monkeypatch):
    """The online path, without a network: hf_hub_download replaced by a stand-in that fills the cache."""
    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError

    t = weights(6)
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    remote = {
        "blocks.8.hook_resid_pre/cfg.json": json.dumps(cfg).encode(),
        "blocks.8.hook_resid_pre/sae_weights.safetensors": safetensors_bytes(t, tmp_path / "w"),
    }
    asked = []

    def fake_download(repo, filename, cache_dir=None, **kw):
        asked.append(filename)
        assert cache_dir == str(hub) and repo == "jbloom/GPT2-Small-SAEs-Reformatted"
        if filename not in remote:
            raise EntryNotFoundError(f"404 {filename}")
        return str(put(Path(cache_dir), repo, {filename: remote[filename]}) / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(releases, "_may_download", lambda: True)
    sae = load_sae("gpt2-small-res-jb/blocks.8.hook_resid_pre")
    check_outputs(sae, t, x_batch(), reference_relu)
    assert sorted(a.split("/")[1] for a in asked) == [
        "cfg.json",
        "sae_weights.safetensors",
        "sparsity.safetensors",
    ]
    asked.clear()
    load_sae(
        "gpt2-small-res-jb/blocks.8.hook_resid_pre"
    )  # cached now: only the absent optional file is asked
    assert asked == ["blocks.8.hook_resid_pre/sparsity.safetensors"]
    quickly(
        lambda: load_sae("gpt2-small-res-jb/blocks.9.hook_resid_pre"),
        FileNotFoundError,
        r"fetching them failed: cfg.json: EntryNotFoundError 404 blocks.9.hook_resid_pre/cfg.json",
    )
    assert releases.resolve_release("gpt2-small-res-jb/blocks.8.hook_resid_pre", download=False).files


# ---- bad input: each a clear error, at once, and nothing written --------------------------------------------------
def quickly(fn, exc, match):
    start = time.perf_counter()
    with pytest.raises(exc, match=match) as e:
        fn()
    assert time.perf_counter() - start < 2.0
    return str(e.value)


def test_a_release_not_in_the_table_suggests_close_matches(hub):
    msg = quickly(
        lambda: load_sae("gpt2-small-res-jbb/blocks.8.hook_resid_pre"),
        releases.UnknownReleaseError,
        r"neither a SAE folder nor '<release>/<sae_id>'.*Did you mean 'gpt2-small-res-jb'",
    )
    assert "gemma-scope-2-270m-pt-res" in msg  # the known releases are listed
    quickly(
        lambda: load_sae("gpt2-small-res-jb/blocks.8.hook_resid_mid"),
        releases.UnknownReleaseError,
        r"'blocks.8.hook_resid_mid' is not a SAE id of release 'gpt2-small-res-jb'.*'blocks.8.hook_resid_pre'",
    )
    quickly(
        lambda: load_sae("gemma-scope-2-270m-pt-res"),
        releases.UnknownReleaseError,
        r"'' is not a SAE id of release 'gemma-scope-2-270m-pt-res' \(52 ids; for example: 'layer_12_width_16k",
    )
    assert not any(hub.iterdir())


def test_a_release_missing_from_the_cache_offline_says_where_and_how(hub):
    msg = quickly(
        lambda: load_sae("gemma-scope-2b-pt-res-canonical/layer_12/width_16k/canonical"),
        FileNotFoundError,
        r"params.npz of repo 'google/gemma-scope-2b-pt-res', folder 'layer_12/width_16k/average_l0_82'",
    )
    assert str(hub) in msg and "HF_HUB_OFFLINE" in msg
    assert "hf download google/gemma-scope-2b-pt-res layer_12/width_16k/average_l0_82/params.npz" in msg
    assert not any(hub.iterdir())  # nothing half-written into the cache


def test_a_partly_cached_saelens_folder_names_the_missing_file(hub):
    put(hub, "jbloom/GPT2-Small-SAEs-Reformatted", {"blocks.8.hook_resid_pre/cfg.json": b"{}"})
    quickly(
        lambda: load_sae("gpt2-small-res-jb/blocks.8.hook_resid_pre"),
        FileNotFoundError,
        r"file\(s\) sae_weights.safetensors of repo 'jbloom/GPT2-Small-SAEs-Reformatted'",
    )


def test_malformed_cached_files_name_the_file(hub, tmp_path, monkeypatch):
    put(
        hub,
        "google/gemma-scope-2b-pt-res",
        {"layer_12/width_16k/average_l0_82/params.npz": b"<html>rate limited"},
    )
    quickly(
        lambda: load_sae("gemma-scope-2b-pt-res-canonical/layer_12/width_16k/canonical"),
        ValueError,
        r"average_l0_82/params.npz is not a .npz archive",
    )
    put(
        hub,
        "jbloom/GPT2-Small-SAEs-Reformatted",
        {
            "blocks.8.hook_resid_pre/cfg.json": b'{"d_in": 8, ',
            "blocks.8.hook_resid_pre/sae_weights.safetensors": safetensors_bytes(weights(), tmp_path / "w"),
        },
    )
    quickly(
        lambda: load_sae("gpt2-small-res-jb/blocks.8.hook_resid_pre"),
        ValueError,
        r"blocks.8.hook_resid_pre/cfg.json is not valid JSON",
    )
    t = weights(4, jumprelu=True)
    raw = {k.lower(): v for k, v in t.items()} | {"affine_skip_connection": torch.zeros(D_IN, D_IN)}
    folder = "resid_post/layer_12_width_16k_l0_small"
    put(
        hub,
        "google/gemma-scope-2-270m-pt",
        {
            f"{folder}/config.json": b'{"architecture": "jump_relu"}',
            f"{folder}/params.safetensors": safetensors_bytes(raw, tmp_path / "p"),
        },
    )
    quickly(
        lambda: load_sae("gemma-scope-2-270m-pt-res/layer_12_width_16k_l0_small"),
        ValueError,
        r"is a Gemma Scope 2 transcoder.*not a SAE",
    )


def test_a_missing_local_folder_is_still_reported_as_a_folder(tmp_path):
    (tmp_path / "saes").mkdir()
    quickly(lambda: load_sae(str(tmp_path / "saes" / "missing")), FileNotFoundError, "not a SAE folder")


# ---- an SAE used with a model it does not fit ----------------------------------------------------------------------
def fake_model(n_layers, d_model, hf=False):
    from types import SimpleNamespace

    if hf:  # a Hugging Face model: sizes on .config
        return SimpleNamespace(config=SimpleNamespace(num_hidden_layers=n_layers, hidden_size=d_model))
    return SimpleNamespace(cfg=SimpleNamespace(n_layers=n_layers, d_model=d_model))


@pytest.mark.parametrize("hf", [False, True])
def test_an_sae_that_does_not_fit_the_model_is_refused_before_any_forward(hub, tmp_path, hf):
    t = weights(5)
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    put(
        hub,
        "jbloom/GPT2-Small-SAEs-Reformatted",
        {
            "blocks.8.hook_resid_pre/cfg.json": json.dumps(cfg).encode(),
            "blocks.8.hook_resid_pre/sae_weights.safetensors": safetensors_bytes(t, tmp_path / "w"),
        },
    )
    name = "gpt2-small-res-jb/blocks.8.hook_resid_pre"
    assert load_sae(name, model=fake_model(12, D_IN, hf)).cfg.d_in == D_IN  # fits
    quickly(
        lambda: load_sae(name, model=fake_model(4, D_IN, hf)),
        ValueError,
        r"reads 'blocks.8.hook_resid_pre', but the model has 4 blocks \(blocks.0 .. blocks.3\); "
        r"this SAE was trained on 'gpt2-small'",
    )
    quickly(
        lambda: load_sae(name, model=fake_model(12, 768, hf)),
        ValueError,
        r"d_in=8, but 'blocks.8.hook_resid_pre' of this model has width d_model=768",
    )
    sae = load_sae(name)
    check_sae_fits(
        sae, fake_model(12, 768, hf), hook="blocks.8.attn.hook_z"
    )  # another width: not judged here
    check_sae_fits(sae, object())  # no sizes to compare: says nothing


def test_the_bundled_sae_fits_the_bundled_model_and_a_gpt2_sized_one_does_not(tmp_path):
    from saewidgets.models import load_model

    model = load_model("storyteller")
    check_sae_fits(load_sae("storyteller"), model)
    assert load_sae("storyteller", model=model).hook_name == "blocks.1.hook_resid_post"
    wrong = build_sae(SAEConfig(architecture="relu", d_in=model.cfg.d_model + 1, d_sae=D_SAE))
    save_sae(wrong, tmp_path / "wrong", hook="blocks.1.hook_resid_post", model_name="gpt2-small")
    quickly(
        lambda: load_sae(tmp_path / "wrong", model=model),
        ValueError,
        rf"d_in={model.cfg.d_model + 1}, but 'blocks.1.hook_resid_post' of this model has width "
        rf"d_model={model.cfg.d_model}; this SAE was trained on 'gpt2-small'",
    )
