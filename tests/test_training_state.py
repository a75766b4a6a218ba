"""What train() does to the SAE it is given: the input scale as saved state, continuing training, failures that
leave the SAE as it was, plain tensors as input, the timed loop and seeding."""

import json
import types

import pytest
import torch
from test_training import as_set, small

from saewidgets import training
from saewidgets.config import SAEConfig
from saewidgets.io import load_sae, save_sae
from saewidgets.sae import build_sae
from saewidgets.toy import toy_superposition
from saewidgets.training import fold_input_scale_, train

FAST = dict(n_tokens=40 * 512, batch_size=512, lr=1e-2, progress=False, log_every=10)
# one step that moves no weight measurably: whatever changes the FVU is what train() does around the step
ONE_STEP = dict(n_tokens=512, batch_size=512, lr=1e-12, progress=False)


@pytest.fixture(scope="module")
def raw():
    """Toy activations far from unit scale (norm_scale ~ 0.2), so training in the wrong space shows."""
    x, _, _ = toy_superposition(20_000, 32, 16, p_active=0.05, seed=0)
    x = x * 20 + 3.0  # [n, 16]
    return as_set(
        x, norm_scale=16**0.5 / float(torch.linalg.vector_norm(x, dim=1, dtype=torch.float64).mean())
    )


def rows_of_step(acts, step: int, batch_size: int = 512) -> torch.Tensor:
    """The rows of the activations that training meets at ``step`` (epoch 0; ActivationSet.batches' order)."""
    order = torch.randperm(len(acts), generator=torch.Generator().manual_seed(0))
    return order[step * batch_size : (step + 1) * batch_size]


def fresh(arch: str):
    """A new SAE that FAST trains to a low FVU on ``raw`` (0.04-0.15), so that a change in it shows."""
    return small(arch, l1_coefficient=0.3) if arch == "relu" else small(arch)


def fvu(sae, x: torch.Tensor) -> float:
    with torch.no_grad():
        recon = sae(x).recon
    return float((recon - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())


def test_input_scale_is_recorded_and_survives_save_and_load(raw, tmp_path):
    sae = train(small("topk"), raw, **FAST).sae
    assert sae.cfg.input_scale == raw.norm_scale and not hasattr(sae, "_folded_scale")
    save_sae(sae, tmp_path / "sae")
    assert (
        json.loads((tmp_path / "sae" / "cfg.json").read_text())["saewidgets"]["config"]["input_scale"]
        == raw.norm_scale
    )
    assert load_sae(tmp_path / "sae").cfg.input_scale == raw.norm_scale
    assert train(small("topk"), raw, **FAST, normalize=False).sae.cfg.input_scale == 1.0


@pytest.mark.parametrize("arch", ["relu", "topk", "jumprelu"])
def test_training_a_loaded_sae_continues(arch, raw, tmp_path):
    first = train(fresh(arch), raw, **FAST).sae
    before = fvu(first, raw.acts)
    save_sae(first, tmp_path / "sae")
    again = train(load_sae(tmp_path / "sae"), raw, **ONE_STEP)
    # without the scale in cfg.json the loaded SAE was taken for a fresh one: inputs scaled twice, b_dec re-set
    assert fvu(again.sae, raw.acts) == pytest.approx(before, rel=1e-3)
    assert again.history[-1]["fvu"] == pytest.approx(before, rel=0.2)  # the logged FVU (one batch) agrees


def test_training_twice_in_process_continues_and_keeps_b_dec(raw):
    sae = train(fresh("relu"), raw, **FAST).sae
    before, b_dec = fvu(sae, raw.acts), sae.b_dec.detach().clone()
    train(sae, raw, **ONE_STEP)
    assert fvu(sae, raw.acts) == pytest.approx(before, rel=1e-3)
    torch.testing.assert_close(sae.b_dec, b_dec, rtol=1e-5, atol=1e-6)  # not re-initialised
    assert sae.cfg.input_scale == raw.norm_scale
    # continuing keeps the SAE's own scale even on activations with another norm_scale
    other = as_set(raw.acts, norm_scale=1.0)
    train(sae, other, **ONE_STEP)
    assert fvu(sae, raw.acts) == pytest.approx(before, rel=1e-3) and sae.cfg.input_scale == raw.norm_scale


def test_files_that_do_not_record_a_scale_load_as_reading_raw_inputs(raw, tmp_path):
    sae = train(small("topk"), raw, **FAST).sae
    before = fvu(sae, raw.acts)
    save_sae(sae, tmp_path / "old")
    cfg_file = tmp_path / "old" / "cfg.json"
    old = json.loads(cfg_file.read_text())
    del old["saewidgets"]["config"]["input_scale"]  # as saved before the field existed
    cfg_file.write_text(json.dumps(old))
    loaded = load_sae(tmp_path / "old")
    assert loaded.cfg.input_scale == 1.0
    assert fvu(train(loaded, raw, **ONE_STEP).sae, raw.acts) == pytest.approx(before, rel=1e-3)
    del old["saewidgets"]  # a plain SAELens cfg.json: another library's SAE
    cfg_file.write_text(json.dumps(old))
    loaded = load_sae(tmp_path / "old")
    assert loaded.cfg.input_scale == 1.0
    assert fvu(train(loaded, raw, **ONE_STEP).sae, raw.acts) == pytest.approx(before, rel=1e-3)


def test_fold_input_scale_records_the_scale():
    sae = small("relu")
    fold_input_scale_(sae, 0.5)
    assert sae.cfg.input_scale == 0.5
    fold_input_scale_(sae, 4.0)
    assert sae.cfg.input_scale == 2.0


# ---- failures leave the caller's SAE as it was ---------------------------------------------------------------
def snapshot(sae):
    return {k: v.clone() for k, v in sae.state_dict().items()}, sae.cfg, sae.training


def assert_unchanged(sae, snap):
    state, cfg, mode = snap
    for key, value in sae.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert sae.cfg is cfg and sae.training == mode
    assert all(p.grad is None for p in sae.parameters())


def with_nan(acts, rows):
    x = acts.acts.clone()
    x[rows, 2] = float("nan")
    out = as_set(x, norm_scale=acts.norm_scale)
    out.doc_ids = torch.arange(len(x)) // 100  # 100 rows per document
    return out


def test_nan_in_the_first_batch_names_row_and_document_and_leaves_the_sae(raw):
    row = int(rows_of_step(raw, 0)[5])
    bad = with_nan(raw, [row])
    sae = small("relu")
    snap = snapshot(sae)
    with pytest.raises(
        ValueError,
        match=rf"step 0 holds 1 NaN/inf values; 1 row\(s\) of the activations hold "
        rf"NaN/inf: row {row} \(document {row // 100}\)\..*left as it was",
    ):
        train(sae, bad, **FAST)
    assert_unchanged(sae, snap)  # b_dec was NaN: init_b_dec ran before the check


def test_nan_mid_run_leaves_the_sae_as_it_was(raw):
    bad = with_nan(raw, rows_of_step(raw, 12)[:3].tolist())  # the run trains twelve steps, then fails
    for sae in (small("topk"), train(small("topk"), raw, **FAST).sae):  # fresh, and trained before
        snap = snapshot(sae)
        rows = []
        with pytest.raises(ValueError, match=r"at step 12 holds 3 NaN/inf values; 3 row\(s\)"):
            train(sae, bad, **FAST | dict(log_every=1), callback=rows.append)
        assert [r["step"] for r in rows] == list(range(1, 13))  # it had trained
        assert_unchanged(sae, snap)


def test_sweep_failure_restores_every_sae(raw):
    saes = [small("relu"), small("topk")]
    snaps = [snapshot(s) for s in saes]
    with pytest.raises(ValueError, match="NaN/inf"):
        training.train_sweep(saes, with_nan(raw, rows_of_step(raw, 12)[:1].tolist()), **FAST)
    for sae, snap in zip(saes, snaps):
        assert_unchanged(sae, snap)


def test_all_zero_activations_cannot_be_normalised():
    with pytest.raises(ValueError, match="norm_scale is nan.*all zero"):
        train(small("relu"), torch.zeros(1024, 16), **FAST)


# ---- a plain tensor ---------------------------------------------------------------------------------------------
def test_train_accepts_a_plain_tensor(raw):
    from_tensor = train(small("topk"), raw.acts, **FAST)
    from_set = train(small("topk"), raw, **FAST)
    assert from_tensor.sae.cfg.input_scale == raw.norm_scale  # measured as harvest does
    for key, value in from_set.sae.state_dict().items():
        assert torch.equal(from_tensor.sae.state_dict()[key], value), key
    assert fvu(train(small("topk"), raw.acts.numpy(), **FAST).sae, raw.acts) < 0.9  # numpy arrays too
    with pytest.raises(TypeError, match=r"\[n, d_in\] float tensor; got a 3-D"):
        train(small("topk"), raw.acts[None], **FAST)
    x = raw.acts.clone()
    x[7, 3] = float("inf")
    with pytest.raises(ValueError, match=r"row 7[;.]"):  # no documents to name
        train(small("topk"), x, **FAST)


# ---- the timed loop, and seeding -------------------------------------------------------------------------------
def test_optimiser_construction_is_outside_the_timed_loop(raw, monkeypatch):
    # torch's first Adam() in a process imports dynamo (~2 s): a clock that only moves while an optimiser is
    # built must leave every logged "seconds" at 0
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(training, "time", types.SimpleNamespace(time=lambda: clock.now))

    class SlowAdam(torch.optim.Adam):
        def __init__(self, *args, **kw):
            clock.now += 100.0
            super().__init__(*args, **kw)

    monkeypatch.setattr(training.torch.optim, "Adam", SlowAdam)
    rows = training.train_sweep([small("relu"), small("topk")], raw, **FAST)[1].history
    assert [r["seconds"] for r in rows] == [0.0] * len(rows)


def test_same_seed_same_weights_whatever_the_global_rng(raw):
    cfg = SAEConfig("relu", d_in=16, d_sae=64, l1_coefficient=0.3)
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(0)
        sae = build_sae(cfg)
        torch.manual_seed(global_seed)  # training must draw nothing from the global RNG
        torch.rand(global_seed)
        runs.append(
            train(sae, raw, **FAST, resample_every=5, dead_window_tokens=1024, seed=3).sae.state_dict()
        )
    for key, value in runs[0].items():
        assert torch.equal(runs[1][key], value), key


def test_a_checkpoint_killed_between_its_two_renames_is_resumed_not_restarted(raw, tmp_path, monkeypatch):
    """files.commit_folder replaces a checkpoint by two renames; a kill between them used to leave no folder
    under the real name, and the next run silently started again from step 0."""
    import os
    import shutil

    from saewidgets import _files as files

    ckpt = tmp_path / "ckpt"
    kw = dict(
        n_tokens=512 * 8,
        batch_size=512,
        progress=False,
        log_every=1,
        checkpoint_every=2,
        checkpoint_dir=str(ckpt),
    )

    def ctrl_c_after_step_4(row):
        if row["step"] == 4:
            raise KeyboardInterrupt

    assert train(
        fresh("relu"), raw, callback=ctrl_c_after_step_4, **kw
    ).interrupted  # a checkpoint at step 2 or 4
    real_rename, calls = os.rename, []

    def killed_after_first_rename(src, dst):
        calls.append(dst)
        if len(calls) >= 2:  # dest -> .old happened; the process "dies" here: no rename after this one runs
            raise SystemExit("killed")
        return real_rename(src, dst)

    monkeypatch.setattr(files.os, "rename", killed_after_first_rename)
    new = files.partial_folder(ckpt)
    shutil.copytree(ckpt, new, dirs_exist_ok=True)  # a finished new checkpoint (the same step-4 state)
    with pytest.raises(SystemExit):
        files.commit_folder(new, ckpt)
    monkeypatch.setattr(files.os, "rename", real_rename)
    assert not ckpt.exists()
    steps_run = []
    train(fresh("relu"), raw, callback=lambda row: steps_run.append(row["step"]), **kw)
    assert steps_run[0] in (3, 5), "restarted from scratch instead of resuming the saved checkpoint"


def test_fold_input_scale_works_on_a_module_without_a_config():
    """Notebook 02 folds the scale into the learner's own SAE module, which has weights but no cfg."""
    module = torch.nn.Module()
    for name, shape in (("W_enc", (4, 8)), ("W_dec", (8, 4)), ("b_dec", (4,))):
        module.register_parameter(name, torch.nn.Parameter(torch.ones(shape)))
    fold_input_scale_(module, 2.0)
    assert (
        float(module.W_enc[0, 0]) == 2.0
        and float(module.W_dec[0, 0]) == 0.5
        and float(module.b_dec[0]) == 0.5
    )
