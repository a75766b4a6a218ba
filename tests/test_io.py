"""saewidgets.io: exact save/load round trips for every architecture, SAELens folders (v6 and <= 5.x cfg.json)
written by hand and checked against the formulas, Gemma Scope params.npz and Gemma Scope 2 folders
(saewidgets.gemma_scope), bad input and atomic writes. Release ids: tests/test_releases.py."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import saewidgets.io as sio
from saewidgets.config import ARCHITECTURES, SAEConfig
from saewidgets.gemma_scope import load_gemma_scope_2
from saewidgets.io import load_gemma_scope, load_sae, load_sparsity, save_sae, to_jumprelu
from saewidgets.sae import BatchTopKSAE, GatedSAE, JumpReLUSAE, ReLUSAE, TopKSAE, build_sae

D_IN, D_SAE, K = 6, 16, 3
HOOK = "blocks.1.hook_resid_post"


def random_sae(arch, **kw):
    """A SAE whose every parameter is random (biases too), in eval mode; BatchTopK with its threshold estimated."""
    torch.manual_seed(0)
    sae = build_sae(SAEConfig(architecture=arch, d_in=D_IN, d_sae=D_SAE, k=K, **kw))
    with torch.no_grad():
        for name, p in sae.named_parameters():
            p.copy_(torch.randn_like(p) * (0.3 if name == "r_mag" else 1.0))
            if name == "threshold":
                p.abs_()
    if arch in ("batchtopk", "matryoshka"):
        sae.train()
        sae(torch.randn(32, D_IN))
    return sae.eval()


def x_batch(n=64):
    return torch.randn(n, D_IN, generator=torch.Generator().manual_seed(1))


# ---- our own round trip ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_round_trip_is_exact(arch, tmp_path):
    sae = random_sae(arch)
    save_sae(sae, tmp_path / "sae", hook=HOOK, model_name="storyteller", metadata={"tokens": 1000})
    loaded = load_sae(tmp_path / "sae")
    assert type(loaded) is type(sae) and not loaded.training
    assert loaded.cfg == sae.cfg
    assert (loaded.hook_name, loaded.model_name, loaded.metadata["tokens"]) == (HOOK, "storyteller", 1000)
    state, state2 = sae.state_dict(), loaded.state_dict()
    assert state.keys() == state2.keys()
    for name in state:
        assert state2[name].dtype == state[name].dtype and torch.equal(state2[name], state[name]), name
    x = x_batch()
    for a, b in zip(sae(x), loaded(x)):
        assert torch.equal(a, b)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_cfg_json_is_saelens_v6(arch, tmp_path):
    sae = random_sae(arch)
    save_sae(sae, tmp_path / "sae", hook=HOOK, model_name="storyteller")
    raw = json.loads((tmp_path / "sae" / "cfg.json").read_text())
    assert raw["architecture"] == {"relu": "standard", "batchtopk": "jumprelu", "matryoshka": "jumprelu"}.get(
        arch, arch
    )
    assert (raw["d_in"], raw["d_sae"], raw["dtype"], raw["device"]) == (D_IN, D_SAE, "float32", "cpu")
    assert raw["apply_b_dec_to_input"] is True and raw["normalize_activations"] == "none"
    assert raw["metadata"]["hook_name"] == HOOK and raw["metadata"]["model_name"] == "storyteller"
    assert int(raw["metadata"]["sae_lens_version"].split(".")[0]) >= 6  # else SAELens reads it as pre-6
    assert (raw.get("k"), raw.get("rescale_acts_by_decoder_norm")) == (
        (K, False) if arch == "topk" else (None, None)
    )
    assert SAEConfig.from_dict(raw["saewidgets"]["config"]) == sae.cfg
    names = set(load_file(str(tmp_path / "sae" / "sae_weights.safetensors")))
    base = {"W_enc", "W_dec", "b_dec"}
    assert names == (
        base | {"b_gate", "r_mag", "b_mag"}
        if arch == "gated"
        else base | {"b_enc", "threshold"}
        if arch in ("jumprelu", "batchtopk", "matryoshka")
        else base | {"b_enc"}
    )


def saelens_view(folder):
    """What SAELens sees: the folder without our "saewidgets" block."""
    raw = json.loads((folder / "cfg.json").read_text())
    del raw["saewidgets"]
    (folder / "cfg.json").write_text(json.dumps(raw))
    return load_sae(folder)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_saelens_view_gives_the_same_outputs(arch, tmp_path):
    sae = random_sae(arch)
    save_sae(sae, tmp_path / "sae")
    other = saelens_view(tmp_path / "sae")
    x = x_batch()
    assert torch.equal(other(x).acts, sae(x).acts) and torch.equal(other(x).recon, sae(x).recon)


def test_batchtopk_is_saved_as_jumprelu(tmp_path):
    sae = random_sae("batchtopk")
    assert float(sae.threshold) > 0
    save_sae(sae, tmp_path / "sae")
    thr = load_file(str(tmp_path / "sae" / "sae_weights.safetensors"))["threshold"]
    assert thr.shape == (D_SAE,) and bool((thr == sae.threshold).all())
    as_jumprelu = saelens_view(tmp_path / "sae")
    assert isinstance(as_jumprelu, JumpReLUSAE) and not isinstance(as_jumprelu, BatchTopKSAE)
    x = x_batch()
    assert torch.equal(as_jumprelu(x).acts, sae(x).acts)
    assert torch.equal(as_jumprelu(x).acts, to_jumprelu(sae).eval()(x).acts)


def test_batchtopk_without_threshold_still_round_trips(tmp_path):
    sae = build_sae(SAEConfig(architecture="batchtopk", d_in=D_IN, d_sae=D_SAE, k=K))
    with pytest.warns(UserWarning, match="not estimated"):
        save_sae(sae, tmp_path / "sae")
    loaded = load_sae(tmp_path / "sae")
    assert isinstance(loaded, BatchTopKSAE) and float(loaded.threshold) == 0


def test_folders_with_the_removed_theta_param_field(tmp_path):
    """saewidgets <= 0.1 wrote jumprelu_theta_param into cfg.json: "direct" (the default) still loads; "log"
    (training log(theta), now notebook 05's own subclass) says what to do. The weights file holds theta."""
    sae = random_sae("jumprelu")
    save_sae(sae, tmp_path / "sae")
    cfg_file = tmp_path / "sae" / "cfg.json"
    raw = json.loads(cfg_file.read_text())
    for value in ("direct", "log"):
        raw["saewidgets"]["config"]["jumprelu_theta_param"] = value
        cfg_file.write_text(json.dumps(raw))
        if value == "direct":
            loaded = load_sae(tmp_path / "sae")
            assert loaded.cfg == sae.cfg and torch.equal(loaded(x_batch()).acts, sae(x_batch()).acts)
        else:
            with pytest.raises(ValueError, match="jumprelu_theta_param='log'.*delete that key"):
                load_sae(tmp_path / "sae")


def test_sparsity_and_names_survive_a_resave(tmp_path):
    sae = random_sae("relu")
    sparsity = torch.linspace(-6, 0, D_SAE)
    save_sae(sae, tmp_path / "a", hook=HOOK, model_name="storyteller", sparsity=sparsity)
    assert torch.equal(load_sparsity(tmp_path / "a"), sparsity)
    save_sae(load_sae(tmp_path / "a"), tmp_path / "b")  # names come from the loaded SAE's attributes
    again = load_sae(tmp_path / "b")
    assert (again.hook_name, again.model_name) == (HOOK, "storyteller") and load_sparsity(
        tmp_path / "b"
    ) is None
    with pytest.raises(ValueError, match="sparsity"):
        save_sae(sae, tmp_path / "c", sparsity=torch.zeros(D_SAE + 1))
    assert not (tmp_path / "c").exists()


# ---- SAELens folders written by hand --------------------------------------------------------------------------
def write_folder(folder, cfg, tensors):
    folder.mkdir(parents=True)
    (folder / "cfg.json").write_text(json.dumps(cfg))
    save_file(tensors, str(folder / "sae_weights.safetensors"))
    return folder


def rand_tensors(arch):
    g = torch.Generator().manual_seed(2)
    t = {
        "W_enc": torch.randn(D_IN, D_SAE, generator=g),
        "W_dec": torch.randn(D_SAE, D_IN, generator=g),
        "b_dec": torch.randn(D_IN, generator=g),
    }
    if arch == "gated":
        t.update(
            b_gate=torch.randn(D_SAE, generator=g),
            r_mag=0.3 * torch.randn(D_SAE, generator=g),
            b_mag=torch.randn(D_SAE, generator=g),
        )
    else:
        t["b_enc"] = torch.randn(D_SAE, generator=g)
    if arch == "jumprelu":
        t["threshold"] = torch.rand(D_SAE, generator=g)
    return t


def v6_cfg(arch, **kw):
    cfg = {
        "architecture": arch,
        "d_in": D_IN,
        "d_sae": D_SAE,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {"sae_lens_version": "6.5.0", "hook_name": HOOK, "model_name": "gpt2-small"},
    }
    return {**cfg, **kw}


def v5_cfg(arch, act="relu", **kw):
    cfg = {
        "architecture": arch,
        "d_in": D_IN,
        "d_sae": D_SAE,
        "dtype": "torch.float32",
        "device": "cpu",
        "model_name": "gpt2-small",
        "hook_name": HOOK,
        "hook_layer": 1,
        "hook_head_index": None,
        "activation_fn_str": act,
        "activation_fn_kwargs": {},
        "apply_b_dec_to_input": True,
        "finetuning_scaling_factor": False,
        "sae_lens_training_version": "5.1.0",
        "prepend_bos": True,
        "dataset_path": "Skylion007/openwebtext",
        "dataset_trust_remote_code": True,
        "context_size": 128,
        "normalize_activations": "none",
        "neuronpedia_id": None,
        "model_from_pretrained_kwargs": {},
    }
    return {**cfg, **kw}


def manual_acts(arch, t, x, b_dec_in=True, k=K):
    """SAELens's inference encoders, written out."""
    x = x - t["b_dec"] if b_dec_in else x
    if arch == "gated":
        gate = (x @ t["W_enc"] + t["b_gate"]) > 0
        return gate * torch.relu(x @ (t["W_enc"] * t["r_mag"].exp()) + t["b_mag"])
    pre = x @ t["W_enc"] + t["b_enc"]
    if arch == "topk":
        vals, idx = pre.topk(k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
    if arch == "jumprelu":
        return torch.relu(pre) * (pre > t["threshold"])
    return torch.relu(pre)


CASES = {  # name -> (our class, cfg.json, architecture for manual_acts)
    "v6-standard": (ReLUSAE, v6_cfg("standard"), "standard"),
    "v6-gated": (GatedSAE, v6_cfg("gated"), "gated"),
    "v6-topk": (TopKSAE, v6_cfg("topk", k=K, rescale_acts_by_decoder_norm=False), "topk"),
    "v6-jumprelu": (JumpReLUSAE, v6_cfg("jumprelu", apply_b_dec_to_input=False), "jumprelu"),
    "v5-standard": (ReLUSAE, v5_cfg("standard"), "standard"),
    "v5-gated": (GatedSAE, v5_cfg("gated"), "gated"),
    "v5-topk": (TopKSAE, v5_cfg("standard", act="topk", activation_fn_kwargs={"k": K}), "topk"),
    "v5-jumprelu": (JumpReLUSAE, v5_cfg("jumprelu"), "jumprelu"),
}


@pytest.mark.parametrize("case", CASES)
def test_reads_saelens_folders(case, tmp_path):
    cls, cfg, arch = CASES[case]
    t = rand_tensors(arch)
    sae = load_sae(write_folder(tmp_path / case, cfg, t))
    assert type(sae) is cls and not sae.training
    assert (sae.hook_name, sae.model_name) == (HOOK, "gpt2-small")
    x = x_batch()
    expected = manual_acts(arch, t, x, b_dec_in=cfg["apply_b_dec_to_input"])
    torch.testing.assert_close(sae.encode(x), expected)
    torch.testing.assert_close(sae(x).recon, expected @ t["W_dec"] + t["b_dec"])


def test_reads_topk_with_decoder_norm_rescaling(tmp_path):
    t = rand_tensors("topk")
    sae = load_sae(write_folder(tmp_path / "s", v6_cfg("topk", k=K, rescale_acts_by_decoder_norm=True), t))
    norms = t["W_dec"].norm(
        dim=1
    )  # SAELens: top k of pre * ||W_dec_i||, decoded as (acts / ||W_dec_i||) @ W_dec
    pre = ((x_batch() - t["b_dec"]) @ t["W_enc"] + t["b_enc"]) * norms
    vals, idx = pre.topk(K, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
    torch.testing.assert_close(sae.encode(x_batch()), acts)
    torch.testing.assert_close(sae(x_batch()).recon, (acts / norms) @ t["W_dec"] + t["b_dec"])


def test_reads_v5_finetuning_scaling_factor(tmp_path):
    t = rand_tensors("standard")
    scale = torch.rand(D_SAE) + 0.5
    cfg = v5_cfg("standard", finetuning_scaling_factor=True)
    sae = load_sae(write_folder(tmp_path / "s", cfg, {**t, "finetuning_scaling_factor": scale}))
    acts = manual_acts("standard", t, x_batch())
    torch.testing.assert_close(sae(x_batch()).recon, (acts * scale) @ t["W_dec"] + t["b_dec"])


# ---- Gemma Scope ----------------------------------------------------------------------------------------------
def test_gemma_scope_npz(tmp_path):
    t = {k: v.numpy() for k, v in rand_tensors("jumprelu").items()}
    np.savez(tmp_path / "params.npz", **t)
    sae = load_gemma_scope(tmp_path / "params.npz")
    assert isinstance(sae, JumpReLUSAE) and not sae.cfg.apply_b_dec_to_input and not sae.training
    x = x_batch()
    pre = x @ torch.from_numpy(t["W_enc"]) + torch.from_numpy(t["b_enc"])
    expected = (pre > torch.from_numpy(t["threshold"])) * torch.relu(pre)
    torch.testing.assert_close(sae.encode(x), expected)
    save_sae(sae, tmp_path / "saved", hook="blocks.20.hook_resid_post")  # and it saves like any other
    assert torch.equal(load_sae(tmp_path / "saved").encode(x), sae.encode(x))


def test_gemma_scope_refuses_pickles_and_wrong_files(tmp_path):
    t = {k: v.numpy() for k, v in rand_tensors("jumprelu").items()}
    np.savez(tmp_path / "pickled.npz", **t, note=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="(?i)pickle"):
        load_gemma_scope(tmp_path / "pickled.npz")
    np.savez(tmp_path / "short.npz", **{k: v for k, v in t.items() if k != "threshold"})
    with pytest.raises(ValueError, match="threshold"):
        load_gemma_scope(tmp_path / "short.npz")


def test_load_sae_reads_a_params_npz_file_too(tmp_path):
    t = {k: v.numpy() for k, v in rand_tensors("jumprelu").items()}
    np.savez(tmp_path / "params.npz", **t)
    x = x_batch()
    assert torch.equal(
        load_sae(tmp_path / "params.npz").encode(x), load_gemma_scope(tmp_path / "params.npz").encode(x)
    )


def gemma_scope_2_folder(folder, t, config=None, extra=None):
    """A Gemma Scope 2 SAE folder: config.json + params.safetensors with lower-case w_enc / w_dec keys."""
    folder.mkdir(parents=True)
    raw = {"w_enc": t["W_enc"], "w_dec": t["W_dec"], "b_enc": t["b_enc"], "b_dec": t["b_dec"]}
    save_file({**raw, "threshold": t["threshold"], **(extra or {})}, str(folder / "params.safetensors"))
    config = config or {"architecture": "jump_relu", "model_name": "gemma-v3-270m-pt", "width": D_SAE}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_gemma_scope_2_folder(tmp_path):
    t = rand_tensors("jumprelu")
    folder = gemma_scope_2_folder(tmp_path / "layer_12_width_16k_l0_medium", t)
    sae = load_gemma_scope_2(folder)
    assert isinstance(sae, JumpReLUSAE) and not sae.cfg.apply_b_dec_to_input and not sae.training
    assert sae.metadata["model_name"] == "gemma-v3-270m-pt" and sae.hook_name is None
    x = x_batch()
    pre = x @ t["W_enc"] + t["b_enc"]
    acts = (pre > t["threshold"]) * torch.relu(pre)
    torch.testing.assert_close(sae.encode(x), acts)
    torch.testing.assert_close(sae(x).recon, acts @ t["W_dec"] + t["b_dec"])
    for other in (load_sae(folder), load_gemma_scope_2(folder / "params.safetensors")):
        assert torch.equal(other.encode(x), sae.encode(x))


@pytest.mark.parametrize(
    "case, match",
    [
        ("transcoder", r"is a Gemma Scope 2 transcoder \(it holds affine_skip_connection\).*not a SAE"),
        ("architecture", r"config.json: architecture 'topk'; Gemma Scope 2 SAEs are 'jump_relu'"),
        ("missing", r"missing tensor\(s\) \['threshold'\]"),
        ("extra", r"unexpected tensor\(s\) \['w_skip'\]"),
        ("shape", r"'W_enc' has shape \[16, 6\], expected \[6, 16\].*transposed"),
        ("no params", r"params.safetensors: no such file.*holds config.json and params.safetensors"),
        ("config", r"config.json is not valid JSON"),
    ],
)
def test_gemma_scope_2_bad_folders(case, match, tmp_path):
    t = rand_tensors("jumprelu")
    config, extra = None, None
    if case == "transcoder":
        extra = {"affine_skip_connection": torch.zeros(D_IN, D_IN)}
    elif case == "architecture":
        config = {"architecture": "topk"}
    elif case == "extra":
        extra = {"w_skip": torch.zeros(D_IN)}
    elif case == "shape":
        t["W_enc"] = t["W_enc"].T.contiguous()
    folder = gemma_scope_2_folder(tmp_path / "sae", t, config, extra)
    if case == "missing":
        raw = load_file(str(folder / "params.safetensors"))
        save_file({k: v for k, v in raw.items() if k != "threshold"}, str(folder / "params.safetensors"))
    elif case == "no params":
        (folder / "params.safetensors").unlink()
    elif case == "config":
        (folder / "config.json").write_text('{"architecture": ')
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_gemma_scope_2(folder)


# ---- bad input ------------------------------------------------------------------------------------------------
def test_unknown_architecture(tmp_path):
    folder = write_folder(tmp_path / "s", v6_cfg("matching_pursuit"), rand_tensors("standard"))
    with pytest.raises(
        ValueError,
        match="matching_pursuit.*supported: batchtopk, gated, jumprelu, matryoshka_batchtopk, standard, topk",
    ):
        load_sae(folder)


@pytest.mark.parametrize(
    "problem, match",
    [
        ("missing", r"missing tensor\(s\) \['b_enc'\]"),
        ("extra", r"unexpected tensor\(s\) \['W_skip'\]"),
        ("shape", r"'W_enc' has shape \[16, 6\], expected \[6, 16\]"),
    ],
)
def test_bad_tensors(problem, match, tmp_path):
    t = rand_tensors("standard")
    if problem == "missing":
        del t["b_enc"]
    elif problem == "extra":
        t["W_skip"] = torch.zeros(D_IN, D_IN)
    else:
        t["W_enc"] = t["W_enc"].T.contiguous()
    with pytest.raises(ValueError, match=match):
        load_sae(write_folder(tmp_path / "s", v6_cfg("standard"), t))
    sae = random_sae("relu")  # our own folders are checked the same way
    save_sae(sae, tmp_path / "ours")
    save_file(t, str(tmp_path / "ours" / "sae_weights.safetensors"))
    with pytest.raises(ValueError, match=match):
        load_sae(tmp_path / "ours")


def test_missing_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="must contain cfg.json and sae_weights.safetensors"):
        load_sae(tmp_path / "empty")
    (tmp_path / "empty" / "cfg.json").write_text(json.dumps(v6_cfg("standard")))
    with pytest.raises(FileNotFoundError, match="no sae_weights.safetensors"):
        load_sae(tmp_path / "empty")


def test_refuses_to_overwrite_a_non_sae_folder(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="non-empty folder without cfg.json"):
        save_sae(random_sae("relu"), tmp_path / "notes")
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["todo.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_replaces_an_existing_sae_folder(tmp_path):
    save_sae(random_sae("relu"), tmp_path / "sae", sparsity=torch.zeros(D_SAE))
    save_sae(random_sae("topk"), tmp_path / "sae")
    assert isinstance(load_sae(tmp_path / "sae"), TopKSAE) and load_sparsity(tmp_path / "sae") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sae"]


def failing_writer(tensors, filename, *args, **kwargs):
    with open(filename, "wb") as f:
        f.write(b"half a file")
    raise RuntimeError("disk full")


def test_atomic_save_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(sio, "save_file", failing_writer)
    with pytest.raises(RuntimeError, match="disk full"):
        save_sae(random_sae("jumprelu"), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_atomic_save_keeps_the_old_folder(tmp_path, monkeypatch):
    old = random_sae("relu")
    save_sae(old, tmp_path / "sae", hook=HOOK)
    before = {p.name: p.read_bytes() for p in (tmp_path / "sae").iterdir()}
    monkeypatch.setattr(sio, "save_file", failing_writer)
    with pytest.raises(RuntimeError, match="disk full"):
        save_sae(random_sae("gated"), tmp_path / "sae")
    assert {p.name: p.read_bytes() for p in (tmp_path / "sae").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sae"]


# ---- damaged or inconsistent files: a ValueError that names the file and the fix ------------------------------
def saved(tmp_path, arch="relu"):
    save_sae(random_sae(arch), tmp_path / "sae", hook=HOOK)
    return tmp_path / "sae"


def edit_cfg(folder, edit):
    raw = json.loads((folder / "cfg.json").read_text())
    edit(raw)
    (folder / "cfg.json").write_text(json.dumps(raw))


@pytest.mark.parametrize(
    "text, match",
    [
        (
            '{"architecture": "standard", d_in: 6',
            r"cfg.json is not valid JSON \(Expecting property name .* line 1",
        ),
        ("[1, 2, 3]", r"cfg.json holds a JSON list, not an object"),
        ("", r"cfg.json is empty"),
        (
            '{"architecture": "standard", "d_in": 6, "d_sae": 16, "metadata": ["a"]}',
            r"'metadata' entry is a JSON list",
        ),
        ('{"architecture": "standard", "d_sae": 16}', r"cfg.json has no 'd_in'.*add them"),
        (
            '{"architecture": "standard", "d_in": 6, "d_sae": 16, "saewidgets": {"format": 1}}',
            r'cfg.json: the "saewidgets" block has no "config" object; re-save',
        ),
    ],
)
def test_bad_cfg_json_names_the_file(text, match, tmp_path):
    folder = saved(tmp_path)
    (folder / "cfg.json").write_text(text)
    with pytest.raises(ValueError, match=match) as e:
        load_sae(folder)
    assert str(folder) in str(e.value)


def test_our_config_block_checked(tmp_path):
    folder = saved(tmp_path)
    edit_cfg(folder, lambda raw: raw["saewidgets"]["config"].pop("d_in"))
    with pytest.raises(
        ValueError, match=r"cfg.json: saewidgets.config is not a valid SAEConfig \(.*missing.*d_in"
    ):
        load_sae(folder)
    folder = saved(tmp_path / "2")
    edit_cfg(folder, lambda raw: raw.update(d_sae=32))
    with pytest.raises(ValueError, match=r"d_sae is 32 at the top level but 16 under saewidgets.config"):
        load_sae(folder)


def test_weights_in_another_dtype_are_refused_on_load_and_save(tmp_path):
    folder = saved(tmp_path)
    t = load_file(str(folder / "sae_weights.safetensors"))
    save_file({k: v.half() for k, v in t.items()}, str(folder / "sae_weights.safetensors"))
    with pytest.raises(
        ValueError,
        match=r"sae_weights.safetensors: tensor\(s\) .*W_enc \(float16\).* not in the dtype "
        r"of the config, float32.*set \"dtype\" in cfg.json",
    ):
        load_sae(folder)
    with pytest.raises(ValueError, match=r"cannot save this ReLUSAE.*float16.*sae.to\(torch.float32\)"):
        save_sae(random_sae("relu").half(), tmp_path / "half")
    assert not (tmp_path / "half").exists()
    # SAELens folders name a dtype to cast to (as SAELens does): a float16 file loads as the cfg's float32
    t16 = {k: v.half() for k, v in rand_tensors("standard").items()}
    sae = load_sae(write_folder(tmp_path / "lens", v6_cfg("standard"), t16))
    assert sae.W_enc.dtype == torch.float32 and torch.equal(sae.W_enc, t16["W_enc"].float())


@pytest.mark.parametrize("where", ["ours", "saelens", "gemma"])
def test_nan_or_inf_weights_are_refused(where, tmp_path):
    t = rand_tensors("jumprelu")
    t["W_dec"][3, 2] = float("nan")
    t["b_enc"][5] = float("inf")
    if where == "gemma":
        np.savez(tmp_path / "params.npz", **{k: v.numpy() for k, v in t.items()})
        with pytest.raises(
            ValueError,
            match=r"params.npz: tensor 'W_dec' holds 1 NaN or infinite value\(s\) "
            r"\(first at index \[3, 2\]\).*retrain",
        ):
            load_gemma_scope(tmp_path / "params.npz")
        return
    folder = (
        write_folder(tmp_path / "s", v6_cfg("jumprelu"), t)
        if where == "saelens"
        else saved(tmp_path, "jumprelu")
    )
    if where == "ours":
        save_file(t, str(folder / "sae_weights.safetensors"))
    with pytest.raises(ValueError, match=r"sae_weights.safetensors: tensor 'W_dec' holds 1 NaN"):
        load_sae(folder)


def test_an_infinite_jumprelu_threshold_is_a_latent_that_never_fires(tmp_path):
    t = rand_tensors("jumprelu")
    t["threshold"][0] = float("inf")
    sae = load_sae(write_folder(tmp_path / "s", v6_cfg("jumprelu"), t))
    assert (sae.encode(x_batch())[:, 0] == 0).all()


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", r"not a readable safetensors file \(it is empty\)"),
        (
            b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n",
            r"Git LFS pointer.*git lfs pull",
        ),
        (b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage", r"not a readable safetensors file \(it is damaged"),
    ],
)
def test_damaged_weights_file(content, match, tmp_path):
    folder = saved(tmp_path)
    (folder / "sae_weights.safetensors").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_sae(folder)


def test_gemma_scope_transposed_w_enc_is_named(tmp_path):
    t = {k: v.numpy() for k, v in rand_tensors("jumprelu").items()}
    np.savez(tmp_path / "params.npz", **{**t, "W_enc": t["W_enc"].T.copy()})
    with pytest.raises(
        ValueError, match=r"'W_enc' has shape \[16, 6\], expected \[6, 16\].*transposed: store W_enc.T"
    ):
        load_gemma_scope(tmp_path / "params.npz")
    np.savez(tmp_path / "params.npz", **{**t, "W_enc": t["W_enc"][:, :D_IN].copy()})  # square, d_in x d_in
    with pytest.raises(ValueError, match=r"'W_enc' has shape \[6, 6\], expected \[6, 16\]"):
        load_gemma_scope(tmp_path / "params.npz")


def test_a_transposed_w_enc_in_a_saelens_folder_is_named(tmp_path):
    t = rand_tensors("standard")
    t["W_enc"] = t["W_enc"].T.contiguous()
    with pytest.raises(ValueError, match=r"'W_enc' has shape \[16, 6\].*transposed"):
        load_sae(write_folder(tmp_path / "s", v6_cfg("standard"), t))


@pytest.mark.parametrize(
    "content, match",
    [
        (b"W_enc,W_dec\n1,2\n", r"is not a .npz archive .*starts with b'W_enc,W_dec"),
        (b"", r"is empty \(0 bytes\)"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n", r"Git LFS pointer.*git lfs pull"),
        ("npy", r"single .npy array"),
        ("truncated", r"damaged .npz archive"),
    ],
)
def test_gemma_scope_wrong_files_get_clear_messages(content, match, tmp_path):
    path = tmp_path / "params.npz"
    if content == "npy":
        np.save(tmp_path / "a.npy", np.zeros(3, np.float32))
        content = (tmp_path / "a.npy").read_bytes()
    elif content == "truncated":
        np.savez(path, **{k: v.numpy() for k, v in rand_tensors("jumprelu").items()})
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as e:
        load_gemma_scope(path)
    assert "allow_pickle" not in str(e.value) and str(path) in str(e.value)
