"""The sparse TopK path equals plain autograd through torch.topk and a dense decoder."""

import pytest
import torch

from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae


def dense_reference(sae, x):
    x_c = x - sae.b_dec
    pre = x_c @ sae.W_enc + sae.b_enc  # [batch, d_sae]
    vals, idx = pre.topk(sae.cfg.k, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
    return acts @ sae.W_dec + sae.b_dec, acts


@pytest.mark.parametrize("dead", [False, True])
def test_sparse_topk_values_and_gradients_match_dense_autograd(dead):
    torch.manual_seed(0)
    sae = build_sae(SAEConfig("topk", d_in=24, d_sae=96, k=5, auxk_k=8))
    with torch.no_grad():
        sae.b_dec.normal_()
        sae.b_enc.normal_(std=0.1)
    x = torch.randn(40, 24)
    probe = torch.randn(40, 96)  # a functional of the acts, so their gradient path is checked too
    dead_mask = (torch.arange(96) % 3 == 0) if dead else None

    def grads(loss):
        sae.zero_grad()
        loss.backward()
        return {n: p.grad.clone() for n, p in sae.named_parameters()}

    out = sae(x)
    sparse = grads(sae.loss(x, dead_mask=dead_mask, out=out).total + (out.acts * probe).sum())
    recon, acts = dense_reference(sae, x)
    aux = sae._aux_loss(x, type(out)(recon, acts, None), dead_mask) if dead else 0.0
    dense = grads((recon - x).pow(2).sum(-1).mean() + aux + (acts * probe).sum())
    assert torch.allclose(out.recon, recon, atol=1e-5) and torch.equal(out.acts, acts.detach())
    for name in sparse:
        assert torch.allclose(sparse[name], dense[name], atol=1e-5, rtol=1e-4), name
    assert (sparse["W_dec"].abs().sum(1) > 0).sum() <= 40 * 5 + (96 if dead else 0)


def test_unselected_latents_get_exactly_zero_gradient():
    torch.manual_seed(1)
    sae = build_sae(SAEConfig("topk", d_in=8, d_sae=64, k=2))
    x = torch.randn(3, 8)
    out = sae(x)
    out.recon.pow(2).sum().backward()
    chosen = (out.acts > 0).any(0)
    assert (sae.W_dec.grad[~chosen] == 0).all() and (sae.W_enc.grad[:, ~chosen] == 0).all()
    assert (sae.b_enc.grad[~chosen] == 0).all() and sae.W_dec.grad[chosen].abs().sum() > 0


def test_bf16_autocast_runs_through_the_sparse_path():
    sae = build_sae(SAEConfig("topk", d_in=16, d_sae=64, k=4))
    x = torch.randn(32, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = sae.loss(x).total
    loss.backward()
    assert all(torch.isfinite(p.grad).all() and p.grad.dtype == torch.float32 for p in sae.parameters())


def test_sparse_gradient_matrix_is_truly_coalesced():
    # It is built with is_coalesced=True (no sort in torch.sparse.mm), so its indices must be sorted and
    # unique; top-k returns them in value order, which only some kernels tolerate.
    from saewidgets._kernels import _coo

    pre = torch.randn(5, 20, generator=torch.Generator().manual_seed(0))
    vals, idx = pre.topk(4, dim=-1)  # [5, 4] each, latents in value order
    assert not (idx.diff(dim=-1) > 0).all()  # the input is unsorted, so the test means something
    G = _coo(vals, idx, 20)
    torch.sparse_coo_tensor(G._indices(), G._values(), G.shape, is_coalesced=True, check_invariants=True)
    rows = torch.arange(5).repeat_interleave(4)
    ref = torch.sparse_coo_tensor(
        torch.stack([rows, idx.reshape(-1)]), vals.reshape(-1), (5, 20), check_invariants=True
    ).coalesce()
    assert torch.equal(G._indices(), ref.indices()) and torch.equal(G._values(), ref.values())
    dense = torch.randn(20, 3)
    torch.testing.assert_close(torch.sparse.mm(G, dense), ref.to_dense() @ dense)
    torch.testing.assert_close(torch.sparse.mm(G.t(), dense[:5]), ref.to_dense().t() @ dense[:5])
