"""bf16 autocast (the CUDA default): every architecture trains under it with float32 parameters and lands near
float32 training, and JumpReLU's threshold gradient survives it (its STE window is narrower than bf16's spacing)."""

import pytest
import torch

from saewidgets.activation_set import ActivationSet
from saewidgets.config import ARCHITECTURES, SAEConfig
from saewidgets.io import to_jumprelu
from saewidgets.sae import build_sae
from saewidgets.toy import toy_superposition
from saewidgets.training import train

D_IN, D_SAE = 16, 64
CASES = [(arch, {}) for arch in ARCHITECTURES] + [("relu", {"normalize_decoder": True})]
IDS = [arch for arch in ARCHITECTURES] + ["relu-unit-decoder"]
# relu: an L1 that learns within 40 steps; jumprelu: theta starts at 0.5 (many latents start dead, so the
# pre-activation loss runs) with a window wide enough to move it in a few steps
EXTRA = {
    "relu": dict(l1_coefficient=1.0),
    "topk": dict(k=4),
    "batchtopk": dict(k=4),
    "matryoshka": dict(k=4),
    "jumprelu": dict(jumprelu_bandwidth=0.05, jumprelu_init_threshold=0.5, pre_act_loss_coefficient=1e-3),
}
# a latent that did not fire in the last batch counts as dead: AuxK and the pre-activation loss run under bf16 too
FAST = dict(batch_size=256, lr=3e-3, log_every=1, progress=False, device="cpu", dead_window_tokens=256)


@pytest.fixture(scope="module")
def data():
    x = toy_superposition(4096, 48, D_IN, p_active=0.05, seed=0).x  # [4096, d_in]
    zeros = torch.zeros(len(x), dtype=torch.long)
    scale = D_IN**0.5 / float(
        x.norm(dim=1).mean()
    )  # E||x|| = sqrt(d_in), as harvest sets it: the defaults apply
    return ActivationSet(x, zeros, zeros, zeros, hook="toy", model_name="toy", norm_scale=scale)


def _sae(arch, **kw):
    return build_sae(SAEConfig(arch, d_in=D_IN, d_sae=D_SAE, **(EXTRA.get(arch, {}) | kw)), seed=0)


def _fvu(sae, x):
    with torch.no_grad():
        return float((sae(x).recon - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())


@pytest.mark.parametrize("arch, kw", CASES, ids=IDS)
def test_every_architecture_trains_under_bf16_autocast(arch, kw, data):
    result = train(_sae(arch, **kw), data, n_tokens=8 * 256, autocast="bf16", **FAST)
    assert not result.interrupted and len(result.history) == 8
    for row in result.history:
        assert all(
            torch.isfinite(torch.tensor(row[key])) for key in ("loss", "mse", "sparsity", "aux", "fvu")
        ), row
    if arch != "relu" and arch != "gated":  # AuxK / the pre-activation loss ran under bf16 too
        assert any(row["dead_fraction"] > 0 and row["aux"] > 0 for row in result.history)
    state = result.sae.state_dict()  # parameters and buffers (BatchTopK's threshold)
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in state.values()), {
        k: t.dtype for k, t in state.items()
    }
    if arch in ("batchtopk", "matryoshka"):
        assert float(result.sae.threshold) > 0  # the EMA estimate ran under bf16


# |FVU(bf16) - FVU(fp32)| after 40 steps, measured on this data (torch 2.13, CPU): relu 8e-6, relu-unit-decoder
# 1.1e-4, gated 9e-5, topk 3.3e-4, batchtopk 2.4e-4, jumprelu 5e-6, matryoshka 4.7e-4, at FVUs of 0.31-0.69
# (from ~1), although the weights differ by 1-18 % of their largest entry: bf16 noise moves the SAE, not how well it reconstructs.
PARITY_TOL = 0.01


@pytest.mark.parametrize("arch, kw", CASES, ids=IDS)
def test_bf16_training_lands_near_float32(arch, kw, data):
    fvu = {}
    for mode in ("off", "bf16"):
        sae = train(_sae(arch, **kw), data, n_tokens=40 * 256, autocast=mode, **FAST).sae
        fvu[mode] = _fvu(sae, data.acts)
    assert fvu["off"] < 0.9  # it learned something, so the comparison means something
    assert abs(fvu["bf16"] - fvu["off"]) < PARITY_TOL, fvu


# ---- JumpReLU: the rectangle kernel must see float32 pre-activations ----------------------------------------
def _jumprelu_near_theta():
    """A 4x4 identity JumpReLU (pre-acts = x) with theta ~ 0.5 placed off bf16's grid (spacing 2^-8 there), and
    pre-activations within eps = 0.001 of theta: rounded to bf16 they would all land outside the window."""
    sae = build_sae(SAEConfig("jumprelu", d_in=4, d_sae=4, l0_coefficient=1.0))
    theta = torch.tensor([0.5017, 0.4970, 0.5211, 0.5408])
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(4))
        sae.W_dec.copy_(torch.eye(4))
        sae.threshold.copy_(theta)
    offsets = torch.tensor([[-0.4, 0.3, 0.2, -0.1], [0.3, -0.2, -0.45, 0.4], [0.1, 0.45, -0.3, 0.2]]) * 1e-3
    return sae, theta + offsets  # x [3, 4]


@pytest.mark.parametrize("term", ["jumprelu", "l0"])
def test_jumprelu_theta_gradient_survives_bf16_autocast(term):
    grads = {}
    for bf16 in (False, True):
        sae, x = _jumprelu_near_theta()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = sae(x)
            # JumpReLUFn's theta-derivative (through the acts) or the Heaviside L0 term's
            loss = out.acts.sum() if term == "jumprelu" else sae.loss(x, out=out).sparsity
        loss.backward()
        grads[bf16] = sae.threshold.grad
    assert grads[False].abs().min() > 0  # every latent has pre-activations inside its window
    torch.testing.assert_close(grads[True], grads[False], rtol=1e-6, atol=0)


def test_batchtopk_and_its_jumprelu_export_agree_under_bf16():
    sae = build_sae(SAEConfig("batchtopk", d_in=D_IN, d_sae=D_SAE, k=4))
    x = torch.randn(256, D_IN, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        sae(x)  # a training-mode pass estimates the threshold
    sae.eval()
    jump = to_jumprelu(sae)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        a, b = sae(x), jump(x)
    assert torch.equal(a.acts, b.acts) and torch.equal(a.pre_acts, b.pre_acts)
    assert a.pre_acts.dtype == torch.float32  # the threshold is compared with float32 pre-activations
