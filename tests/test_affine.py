"""The encoder's affine map (_kernels.py): its shortcut backward gives plain autograd's gradients, in
every SAE that uses it."""

import pytest
import torch

from saewidgets import SAEConfig, build_sae
from saewidgets._kernels import CenteredAffine, centered_affine


def _plain(x, b_dec, W, b, center):
    return ((x - b_dec) if center else x) @ W + b


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("x_grad", [False, True])
def test_gradients_equal_plain_autograd(center, x_grad):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, dtype=torch.float64, generator=gen).requires_grad_(x_grad)
    shapes = ((5,), (5, 4), (4,))  # b_dec [d_in], W [d_in, d_sae], b [d_sae]
    params = [torch.randn(*s, dtype=torch.float64, generator=gen).requires_grad_() for s in shapes]
    weight = torch.randn(7, 4, dtype=torch.float64, generator=gen)  # a loss weighing every output differently
    ours = CenteredAffine.apply(x, *params, center)
    ref = _plain(x, *params, center)
    torch.testing.assert_close(ours, ref)
    inputs = [x, *params] if x_grad else params
    g_ours = torch.autograd.grad((ours * weight).sum(), inputs, allow_unused=True)
    g_ref = torch.autograd.grad((ref * weight).sum(), inputs, allow_unused=True)
    for a, r in zip(g_ours, g_ref):
        if r is None:
            assert a is None or not a.abs().any()
        else:
            torch.testing.assert_close(a, r)
    assert torch.autograd.gradcheck(lambda *t: CenteredAffine.apply(x.detach(), *t, center), params)


def test_other_shapes_fall_back_to_plain_ops():
    x = torch.randn(2, 3, 5)
    b_dec, W, b = torch.randn(5), torch.randn(5, 4), torch.randn(4)
    torch.testing.assert_close(centered_affine(x, b_dec, W, b), (x - b_dec) @ W + b)


@pytest.mark.parametrize("arch", ["relu", "gated", "jumprelu", "batchtopk"])
def test_sae_parameter_gradients_match_a_plain_encoder(arch, monkeypatch):
    torch.manual_seed(0)
    sae = build_sae(SAEConfig(arch, d_in=6, d_sae=16, k=4, jumprelu_init_threshold=0.01, dtype="float64"))
    x = torch.randn(32, 6, dtype=torch.float64)

    def grads():
        sae.zero_grad()
        sae.loss(x).total.backward()
        return {n: p.grad.clone() for n, p in sae.named_parameters() if p.grad is not None}

    ours = grads()
    monkeypatch.setattr("saewidgets.sae.centered_affine", _plain)
    plain = grads()
    assert ours.keys() == plain.keys() and "b_dec" in ours
    for name in ours:
        torch.testing.assert_close(ours[name], plain[name], msg=name)


def test_under_bf16_autocast_the_gradients_are_float32_and_close():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 16, generator=gen)
    params = [torch.randn(*s, generator=gen).requires_grad_() for s in ((16,), (16, 32), (32,))]
    weight = torch.randn(64, 32, generator=gen)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = CenteredAffine.apply(x, *params, True)
        ref = _plain(x, *params, True)
    assert ours.dtype == torch.bfloat16  # the GEMM ran in bf16 (the plain sum promotes back to float32)
    g_ours = torch.autograd.grad((ours.float() * weight).sum(), params)
    g_ref = torch.autograd.grad((ref.float() * weight).sum(), params)
    for a, r in zip(g_ours, g_ref):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, r, rtol=0.02, atol=0.02 * r.abs().max().item())
