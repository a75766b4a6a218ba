import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from saewidgets.activation_set import ActivationSet
from saewidgets.config import ARCHITECTURES, SAEConfig, TrainConfig
from saewidgets.sae import build_sae
from saewidgets.toy import mmcs, toy_superposition
from saewidgets.training import fold_input_scale_, train


def as_set(x: torch.Tensor, norm_scale: float = 1.0) -> ActivationSet:
    zeros = torch.zeros(len(x), dtype=torch.long)
    return ActivationSet(x, zeros, zeros, zeros, hook="toy", model_name="toy", norm_scale=norm_scale)


@pytest.fixture(scope="module")
def toy():
    x, true_acts, true_dirs = toy_superposition(40_000, 32, 16, p_active=0.05, seed=0)
    return as_set(x), true_dirs


@pytest.fixture(scope="module")
def resid(model, corpus):
    from saewidgets import harvest

    return harvest(model, corpus, "blocks.1.hook_resid_post")  # ~4.5k tokens, d_in 128


def small(arch: str, d_in: int = 16, d_sae: int = 64, **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    extra = {
        "topk": dict(k=4),
        "batchtopk": dict(k=4),
        "matryoshka": dict(k=4),
        "jumprelu": dict(jumprelu_bandwidth=0.05, jumprelu_init_threshold=0.05),
    }
    return build_sae(SAEConfig(arch, d_in=d_in, d_sae=d_sae, **(extra.get(arch, {}) | kw)))


FAST = dict(n_tokens=40_960, batch_size=512, lr=3e-3, progress=False, log_every=10)


def test_relu_sae_recovers_known_features(toy):
    acts, true_dirs = toy
    result = train(
        small("relu", l1_coefficient=0.3),
        acts,
        n_tokens=2_000_000,
        batch_size=1024,
        lr=3e-3,
        normalize=False,
        progress=False,
        log_every=100,
    )
    assert mmcs(result.sae.W_dec, true_dirs) >= 0.9
    last = result.history[-1]
    assert last["fvu"] < 0.3 and 1 < last["l0"] < 6 and last["step"] == 2_000_000 // 1024


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_trains_and_improves(arch, toy):
    acts, _ = toy
    result = train(small(arch), acts, **FAST)
    fvus = [row["fvu"] for row in result.history]
    assert fvus[-1] < fvus[0] and not result.interrupted
    assert [row["step"] for row in result.history] == list(range(10, 81, 10))
    assert set(result.history[0]) >= {
        "step",
        "tokens",
        "lr",
        "sparsity_scale",
        "loss",
        "mse",
        "sparsity",
        "aux",
        "l0",
        "fvu",
        "dead_fraction",
        "seconds",
    }
    assert not result.sae.training


def test_schedules(toy):
    acts, _ = toy
    rows = train(
        small("relu"),
        acts,
        n_tokens=100 * 512,
        batch_size=512,
        lr=1e-3,
        lr_warmup_fraction=0.1,
        lr_decay_fraction=0.2,
        sparsity_warmup_fraction=0.5,
        log_every=1,
        progress=False,
    ).history
    lr = [r["lr"] for r in rows]
    assert lr[0] == pytest.approx(1e-4) and lr[9] == pytest.approx(1e-3) and lr[50] == pytest.approx(1e-3)
    assert lr[-1] == pytest.approx(1e-3 / 20) and lr[85] < lr[80]
    scale = [r["sparsity_scale"] for r in rows]
    assert scale[0] == pytest.approx(1 / 50) and scale[49] == 1.0 and scale[-1] == 1.0


def test_returned_sae_reads_raw_activations(resid):
    result = train(small("topk", d_in=128, d_sae=256), resid, **FAST)
    assert resid.norm_scale != 1.0
    x = resid.acts[:512]
    with torch.no_grad():
        out = result.sae(x)
    fvu = float((out.recon - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())
    assert fvu < 0.6 and fvu == pytest.approx(result.history[-1]["fvu"], abs=0.1)
    # Training it again continues in the normalised space it was trained in (no double folding).
    again = train(result.sae, resid, **FAST)
    assert again.history[0]["fvu"] < result.history[0]["fvu"]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_fold_input_scale_keeps_latents(arch):
    sae = small(arch).eval()
    x = torch.randn(64, 16) * 3.0
    with torch.no_grad():
        before = sae(x * 0.25)
        fold_input_scale_(sae, 0.25)
        after = sae(x)
    assert torch.allclose(after.acts, before.acts, atol=1e-5)
    assert torch.allclose(after.recon, before.recon / 0.25, atol=1e-4)


def test_reproducible_from_seed(toy):
    acts, _ = toy
    a = train(small("jumprelu"), acts, **FAST).sae.state_dict()
    b = train(small("jumprelu"), acts, **FAST).sae.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = train(small("jumprelu"), acts, **FAST | dict(seed=1)).sae.state_dict()
    assert not torch.equal(a["W_enc"], c["W_enc"])


@pytest.mark.parametrize("arch", ["relu", "topk", "jumprelu"])
def test_resume_equals_uninterrupted_run(arch, toy, tmp_path):
    acts, _ = toy
    cfg = TrainConfig(
        n_tokens=60 * 512,
        batch_size=512,
        lr=3e-3,
        log_every=5,
        dead_window_tokens=4096,
        checkpoint_every=20,
        checkpoint_dir=str(tmp_path / "ckpt"),
    )
    straight = train(small(arch), acts, cfg, progress=False, resume=False)

    def stop_at_step_30(row):
        if row["step"] == 30:
            raise KeyboardInterrupt

    cut = train(small(arch), acts, cfg, progress=False, resume=False, callback=stop_at_step_30)
    assert cut.interrupted and cut.history[-1]["step"] == 30
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text())["step"] == 20
    resumed = train(small(arch), acts, cfg, progress=False)  # picks up at step 20
    assert [r["step"] for r in resumed.history] == [r["step"] for r in straight.history]
    for key, value in straight.sae.state_dict().items():
        assert torch.equal(resumed.sae.state_dict()[key], value), key
    assert resumed.history == [
        r | {"seconds": s["seconds"]} for r, s in zip(straight.history, resumed.history)
    ]


def test_resume_refuses_a_different_config(toy, tmp_path):
    acts, _ = toy
    cfg = TrainConfig(
        n_tokens=20 * 512, batch_size=512, checkpoint_every=10, checkpoint_dir=str(tmp_path / "c")
    )
    train(small("relu"), acts, cfg, progress=False)
    with pytest.raises(ValueError, match="different run .*lr: checkpoint 0.003, now 0.001"):
        train(small("relu"), acts, cfg, progress=False, lr=1e-3)
    with pytest.raises(ValueError, match="l1_coefficient"):
        train(small("relu", l1_coefficient=1.0), acts, cfg, progress=False)


def test_ctrl_c_returns_the_partial_sae_and_history(toy):
    acts, _ = toy
    seen = []

    def interrupt(row):
        seen.append(row)
        if row["step"] == 40:
            raise KeyboardInterrupt

    result = train(small("relu"), acts, **FAST, callback=interrupt)
    assert result.interrupted and len(result.history) == 4 and seen == result.history
    assert not result.sae.training and torch.isfinite(result.sae.W_dec).all()


def test_dead_latents_are_tracked_and_resampled(toy):
    acts, _ = toy
    sae = small("relu", l1_coefficient=0.3)
    with torch.no_grad():
        sae.b_enc[:32] = -100.0  # half the latents can never fire
    kw = dict(FAST, dead_window_tokens=4096, init_b_dec=False)
    dead = train(sae, acts, **kw).history
    assert 0.5 <= dead[-1]["dead_fraction"] <= 0.6
    sae = small("relu", l1_coefficient=0.3)
    with torch.no_grad():
        sae.b_enc[:32] = -100.0
    window = train(sae, acts, **kw | dict(dead_window_tokens=10**7)).history
    assert window[-1]["dead_fraction"] == 0.0  # nothing is dead before a whole window has passed
    sae = small("relu", l1_coefficient=0.3)
    with torch.no_grad():
        sae.b_enc[:32] = -100.0
    revived = train(sae, acts, **kw, resample_every=20).history
    assert revived[-1]["dead_fraction"] < 0.2


def test_bf16_autocast_on_cpu(toy):
    acts, _ = toy
    result = train(small("topk"), acts, **FAST, autocast="bf16")
    assert result.sae.W_enc.dtype == torch.float32 and result.history[-1]["fvu"] < result.history[0]["fvu"]


def test_bad_input(toy, resid):
    acts, _ = toy
    with pytest.raises(ValueError, match="d_in=128 but the SAE expects d_in=16"):
        train(small("relu"), resid, **FAST)
    x = acts.acts.clone()
    x[::2, 3] = float("nan")
    x[1::4, 5] = float("inf")
    with pytest.raises(ValueError, match=r"step 0 holds (3\d\d) NaN/inf"):
        train(small("relu"), as_set(x), **FAST | dict(seed=0), init_b_dec=False)
    with pytest.raises(ValueError, match="fewer than one batch"):
        train(small("relu"), as_set(acts.acts[:100]), **FAST)
    for bad, match in [
        (dict(lr=0), "lr must be a finite number > 0"),
        (dict(batch_size=0), "batch_size must be an integer > 0"),
        (dict(checkpoint_every=5), "needs checkpoint_dir"),
        (dict(autocast="fp8"), "autocast"),
    ]:
        with pytest.raises(ValueError, match=match):
            TrainConfig(**bad)


DDP_SCRIPT = """
import os, sys, torch, torch.distributed as dist
sys.path.insert(0, {root!r})
from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae
from saewidgets.training import train
from tests.test_training import as_set
from saewidgets.toy import toy_superposition
torch.set_num_threads(1)
if len(sys.argv) > 2:
    dist.init_process_group("gloo")
x, _, _ = toy_superposition(8192, 32, 16, p_active=0.05, seed=0)
torch.manual_seed(0)
sae = build_sae(SAEConfig("relu", d_in=16, d_sae=64, l1_coefficient=0.3))
result = train(sae, as_set(x), n_tokens=40 * 512, batch_size=512, lr=3e-3, progress=False)
if not dist.is_initialized() or dist.get_rank() == 0:
    from safetensors.torch import save_file
    save_file(result.sae.state_dict(), sys.argv[1])
if dist.is_initialized():
    dist.barrier()  # rank 0 may still be saving: nobody tears the process group down before everyone is done
    dist.destroy_process_group()
"""


@pytest.mark.slow  # two torchrun processes: ~10 s on 2 cores
def test_ddp_two_gloo_processes_match_one_process(tmp_path):
    root = str(Path(__file__).parents[1])
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT.format(root=root))
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1")
    single = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "one.safetensors")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr[-2000:]
    # --standalone: torchrun binds its own free port for the rendezvous. Picking a free port here and handing it
    # over leaves a moment in which another process (a Jupyter kernel, a parallel suite) can take it.
    _torchrun_two(script, env, tmp_path / "two.safetensors", "ddp")
    from safetensors.torch import load_file

    one, two = load_file(tmp_path / "one.safetensors"), load_file(tmp_path / "two.safetensors")
    for key in one:
        assert torch.allclose(one[key], two[key], atol=1e-5, rtol=1e-4), key


def _torchrun_two(script, env, *args) -> None:
    """Run ``script`` on 2 gloo processes. --standalone: torchrun binds its own free port for the rendezvous."""
    ddp = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(script),
            *map(str, args),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]


DDP_RESAMPLE_SCRIPT = """
import sys, torch, torch.distributed as dist
sys.path.insert(0, {root!r})
from safetensors.torch import save_file
from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae
from saewidgets.training import train
from tests.test_training import as_set
from saewidgets.toy import toy_superposition
torch.set_num_threads(1)
dist.init_process_group("gloo")
x, _, _ = toy_superposition(8192, 32, 16, p_active=0.05, seed=0)
torch.manual_seed(0)
sae = build_sae(SAEConfig("relu", d_in=16, d_sae=64, l1_coefficient=0.3))
with torch.no_grad():
    sae.b_enc[:32] = -100.0  # half the latents never fire: every resampling has work to do
result = train(sae, as_set(x), n_tokens=40 * 512, batch_size=512, lr=3e-3, progress=False,
               dead_window_tokens=1024, resample_every=5, init_b_dec=False)
save_file(result.sae.state_dict(), sys.argv[1] + f".{{dist.get_rank()}}")
dist.barrier()
dist.destroy_process_group()
"""


def test_ddp_resampling_keeps_replicas_identical(tmp_path):
    root = str(Path(__file__).parents[1])
    script = tmp_path / "ddp_resample.py"
    script.write_text(DDP_RESAMPLE_SCRIPT.format(root=root))
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1")
    _torchrun_two(script, env, tmp_path / "sae")
    from safetensors.torch import load_file

    rank0, rank1 = load_file(tmp_path / "sae.0"), load_file(tmp_path / "sae.1")
    assert bool((rank0["b_enc"][:32] > -50).all())  # every never-firing latent was resampled
    for key in rank0:  # each rank resampling from its own half of the batch: W_enc differed by ~0.2
        assert torch.equal(rank0[key], rank1[key]), key


def test_sweep_interrupted_between_its_saes_resumes_exactly(toy, tmp_path, monkeypatch):
    from saewidgets import training

    acts, _ = toy
    cfg = TrainConfig(
        n_tokens=40 * 512,
        batch_size=512,
        lr=3e-3,
        log_every=5,
        dead_window_tokens=4096,
        resample_every=10,
        checkpoint_every=1,
        checkpoint_dir=str(tmp_path / "ckpt"),
    )

    def saes():
        return [small("relu", l1_coefficient=0.3), small("topk"), small("jumprelu")]

    straight = training.train_sweep(saes(), acts, cfg, progress=False, resume=False)
    step = training._Run.step

    def ctrl_c_in_the_second_sae_at_step_30(run, x, i, t0):
        if run.index == 1 and i == 30:  # the first SAE has taken step 30; the second and third have not
            raise KeyboardInterrupt
        return step(run, x, i, t0)

    monkeypatch.setattr(training._Run, "step", ctrl_c_in_the_second_sae_at_step_30)
    cut = training.train_sweep(saes(), acts, cfg, progress=False, resume=False)
    monkeypatch.undo()
    assert all(r.interrupted for r in cut)
    saved = [
        json.loads((tmp_path / "ckpt" / f"sae_{i}" / "state.json").read_text())["step"] for i in range(3)
    ]
    assert saved == [30, 30, 30]
    resumed = training.train_sweep(saes(), acts, cfg, progress=False)
    for a, b in zip(straight, resumed):
        for key, value in a.sae.state_dict().items():
            assert torch.equal(b.sae.state_dict()[key], value), key
        assert [r | {"seconds": 0} for r in a.history] == [r | {"seconds": 0} for r in b.history]


def test_sweep_equals_separate_runs_and_labels_rows(toy, tmp_path):
    from saewidgets.training import train_sweep

    acts, _ = toy
    coefs = [0.1, 0.3, 1.0]
    sweep = train_sweep([small("relu", l1_coefficient=c) for c in coefs], acts, **FAST)
    for c, result in zip(coefs, sweep):
        alone = train(small("relu", l1_coefficient=c), acts, **FAST)
        assert all(torch.equal(alone.sae.state_dict()[k], v) for k, v in result.sae.state_dict().items())
        assert [r | {"seconds": 0} for r in alone.history] == [
            {k: v for k, v in r.items() if k != "sae"} | {"seconds": 0} for r in result.history
        ]
    assert [r["sae"] for r in sweep[2].history] == [2] * len(sweep[2].history)
    l0 = [result.history[-1]["l0"] for result in sweep]
    assert l0[0] > l0[1] > l0[2]  # a stronger L1 penalty gives a sparser SAE
    # mixed architectures share the stream too, and checkpoint into one folder each
    mixed = train_sweep(
        [small("topk"), small("jumprelu")],
        acts,
        **FAST,
        checkpoint_every=40,
        checkpoint_dir=str(tmp_path / "sweep"),
    )
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["sae_0", "sae_1"]
    assert len(mixed) == 2 and all(not r.interrupted for r in mixed)
    with pytest.raises(ValueError, match="at least one SAE"):
        train_sweep([], acts, **FAST)
