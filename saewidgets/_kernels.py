"""The fast paths under ``sae.py``'s math: the plain expressions' values and gradients, for less work.

``sae.py`` calls each in one line (as sparsify's ``sparse_coder.py`` calls its fused encoder), so that file
reads as the maths and this one holds what makes a training step fast. Measured by
``bench/sae_training_throughput.py`` at d_in 256, d_sae 4096, batch 4096 (docs/sae.md, "Benchmarks"):

- ``centered_affine``: the encoder's pre = (x - b_dec) W_enc + b_enc, with a backward that runs five of the
  six GEMMs of a step (b_dec's gradient from a column sum). A dense step reaches 0.97-1.02 of the matmul
  bound with it, 0.81-0.86 without.
- ``affine``: the decoder's acts W_dec + b_dec, with the bias folded into the GEMM (addmm). A separate add is
  one more pass over a [batch, d_sae] tensor, about 5 % of a step at d_sae 4096.
- ``topk_encode`` / ``sparse_decode``: a TopK SAE touches only k of its d_sae latents per token, so should its
  step. Only the forward encoder GEMM stays dense (every pre-activation is needed to choose the top k); the
  decoder, and the backward into W_enc, b_enc, W_dec and the input, read the k selected latents per token:
  O(batch * k * d_in) instead of O(batch * d_sae * d_in) (Gao et al. 2024 §5.3's sparse kernels; sparsify's).
  TopK k = 32 trains 2.0-2.2x as fast as dense ReLU.
- ``without_autocast`` / ``at_least_float32``: float32 where bf16 is too coarse (JumpReLU's threshold window).

In ``sae.py`` itself the ReLU L1 term is ``acts.sum(0) @ norms``: summing over the batch first, neither the
forward nor the backward (sum's gradient is a broadcast view) forms a [batch, d_sae] product.

tests/test_affine.py and tests/test_kernels.py check values and gradients against plain autograd.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


# ---- dtypes -------------------------------------------------------------------------------------------
def without_autocast(fn: Callable[..., Tensor], x: Tensor, *args) -> Tensor:
    """``fn(x, *args)`` with autocast off on x's device: its ops run in their inputs' dtype (float32
    parameters, float32 results): for values compared with a threshold (JumpReLU); bf16 is too coarse."""
    if not torch.is_autocast_enabled(x.device.type):
        return fn(x, *args)
    with torch.autocast(x.device.type, enabled=False):
        return fn(x, *args)


def at_least_float32(*tensors: Tensor) -> tuple[Tensor, ...]:
    """bf16 / fp16 tensors as float32; float32 and float64 as they are."""
    return tuple(t if t.dtype in (torch.float32, torch.float64) else t.float() for t in tensors)


# ---- the dense encoder and decoder --------------------------------------------------------------------
class CenteredAffine(torch.autograd.Function):
    """(x [batch, d_in], b_dec [d_in], W [d_in, d_sae], b [d_sae], center) -> [batch, d_sae],
    (x - b_dec if center else x) W + b.

    Plain autograd computes the gradient of the centred input, G W^T ([batch, d_sae] x [d_sae, d_in]), and
    then sums it over the batch for b_dec: one of the six GEMMs of a training step, a sixth of its FLOPs. The
    input x is data and needs no gradient, so only that sum is wanted, and it equals -colsum(G) W^T: a [d_sae]
    vector times W^T, which costs a pass over G that the b gradient makes anyway. TopKEncode does the same."""

    @staticmethod
    def forward(ctx, x: Tensor, b_dec: Tensor, W: Tensor, b: Tensor, center: bool) -> Tensor:
        x_c = x - b_dec if center else x  # [batch, d_in]
        pre = torch.addmm(b, x_c, W)  # [batch, d_sae]; the bias rides in the GEMM. Under autocast: bf16
        ctx.center = center
        ctx.set_materialize_grads(False)  # no gradient reached pre (e.g. JumpReLU's L0 term alone): none out
        ctx.save_for_backward(x_c.to(pre.dtype), W)  # x_c in the GEMM's dtype, for dW's GEMM in that dtype
        return pre

    @staticmethod
    def backward(ctx, grad: Tensor | None):  # grad [batch, d_sae]
        if grad is None:
            return None, None, None, None, None
        x_c, W = ctx.saved_tensors
        need_x, need_b_dec, need_W, need_b, _ = ctx.needs_input_grad
        g_x = g_b_dec = g_W = g_b = None
        # Sums accumulate in the parameters' dtype (float32 under bf16 autocast); the GEMMs run in grad's.
        col = grad.sum(0, dtype=W.dtype) if (need_b or need_b_dec) else None  # [d_sae]
        if need_W:
            g_W = (x_c.t() @ grad).to(W.dtype)  # [d_in, d_sae]
        if need_b:
            g_b = col
        if need_x:  # only when x itself requires grad (e.g. attribution through the SAE): the full GEMM
            g_x = grad @ W.t().to(grad.dtype)  # [batch, d_in]
        if need_b_dec and ctx.center:
            g_b_dec = -(g_x.sum(0, dtype=W.dtype) if g_x is not None else W @ col)  # [d_in]
        return g_x, g_b_dec, g_W, g_b, None


def centered_affine(x: Tensor, b_dec: Tensor, W: Tensor, b: Tensor, center: bool = True) -> Tensor:
    """pre = (x - b_dec) W + b for x of any leading shape (2-D through the custom backward)."""
    if x.dim() == 2:
        return CenteredAffine.apply(x, b_dec, W, b, center)
    return ((x - b_dec) if center else x) @ W + b


def affine(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """x @ W + b, with the bias folded into the GEMM (addmm) for 2-D inputs."""
    return torch.addmm(b, x, W) if x.dim() == 2 else x @ W + b


# ---- TopK: the k chosen latents only ------------------------------------------------------------------
def topk_encode(x: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, k: int, center: bool):
    """x [..., d_in] -> vals [..., k] = ReLU(top-k of pre), idx [..., k], pre [..., d_sae] (TopKEncode).
    The kernels take [tokens, d_in]: any leading shape is flattened and restored here."""
    lead = x.shape[:-1]
    vals, idx, pre = TopKEncode.apply(x.reshape(-1, x.shape[-1]), b_dec, W_enc, b_enc, k, center)
    return vals.view(*lead, k), idx.view(*lead, k), pre.view(*lead, W_enc.shape[1])


def sparse_decode(vals: Tensor, idx: Tensor, W_dec: Tensor) -> Tensor:
    """vals, idx [..., k], W_dec [d_sae, d_in] -> sum_j vals[..., j] W_dec[idx[..., j]]: [..., d_in]."""
    k = idx.shape[-1]
    recon = SparseDecode.apply(vals.reshape(-1, k), idx.reshape(-1, k), W_dec)  # [tokens, d_in]
    return recon.view(*idx.shape[:-1], W_dec.shape[1])


def _coo(vals: Tensor, idx: Tensor, d_sae: int) -> Tensor:
    """[batch, k] values at [batch, k] latent indices -> a sparse [batch, d_sae] matrix, coalesced.

    top-k returns each row's latents in value order; sorting them (batch * k log k, cheap next to the GEMMs)
    makes the is_coalesced=True claim true (rows ascending, latents ascending and unique within a row), so no
    sparse kernel, on any device, sees unsorted indices it was told are sorted, and none has to coalesce."""
    batch, k = idx.shape
    idx, order = idx.sort(dim=-1)  # [batch, k] each
    vals = vals.gather(-1, order)  # [batch, k]
    rows = torch.arange(batch, device=idx.device).repeat_interleave(k)  # [batch * k]
    return torch.sparse_coo_tensor(
        torch.stack([rows, idx.reshape(-1)]),
        vals.reshape(-1),
        (batch, d_sae),
        is_coalesced=True,
        check_invariants=False,
    )


def _gathered_dots(g: Tensor, W: Tensor, idx: Tensor, chunk: int = 128) -> Tensor:
    """out[b, j] = <g[b], W[idx[b, j]]>: g [batch, d_in], W [d_sae, d_in], idx [batch, k] -> [batch, k].

    batch * k * d_in multiply-adds instead of a dense [batch, d_sae] GEMM and a gather. The selected rows are
    gathered a chunk of tokens at a time, so each [chunk, k, d_in] block is still in cache when the batched
    matmul reads it; gathering the whole [batch, k, d_in] at once is memory-bound and no faster than the dense
    GEMM (at the shapes of bench/: dense 68 ms, whole gather ~70 ms, chunks of 64-256 tokens 20-30 ms)."""
    out = torch.empty(idx.shape, dtype=g.dtype, device=g.device)  # [batch, k]
    for start in range(0, len(idx), chunk):
        rows = W[idx[start : start + chunk]]  # [chunk, k, d_in]
        torch.bmm(rows, g[start : start + chunk, :, None], out=out[start : start + chunk, :, None])
    return out


class TopKEncode(torch.autograd.Function):
    """(x, b_dec, W_enc, b_enc, k, center) -> vals [batch, k] = ReLU(top-k of pre), idx [batch, k],
    pre [batch, d_sae], with pre = (x - b_dec if center else x) @ W_enc + b_enc.

    pre and idx carry no gradient; the backward scatters grad(vals) only into the selected latents. The
    input x is data (no gradient, usually), so b_dec's gradient is computed from G's column sums,
    -colsum(G) @ W_enc^T, without ever forming the [batch, d_in] gradient of x."""

    @staticmethod
    def forward(ctx, x: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, k: int, center: bool):
        x_c = x - b_dec if center else x  # [batch, d_in]
        pre = torch.addmm(b_enc, x_c, W_enc)  # [batch, d_sae]
        vals, idx = pre.topk(k, dim=-1)  # [batch, k]
        vals = vals.clamp_min(0)
        ctx.save_for_backward(x_c, W_enc, vals, idx)
        ctx.center = center
        ctx.mark_non_differentiable(idx, pre)
        ctx.set_materialize_grads(False)  # else backward gets a zero-filled [batch, d_sae] gradient for pre
        return vals, idx, pre

    @staticmethod
    def backward(ctx, g_vals: Tensor | None, _g_idx, _g_pre):  # g_vals [batch, k]
        if g_vals is None:  # nothing downstream used vals
            return None, None, None, None, None, None
        x_c, W_enc, vals, idx = ctx.saved_tensors
        need_x, need_b_dec, need_w, need_b = ctx.needs_input_grad[:4]
        g = (g_vals * (vals > 0)).float()  # [batch, k]; ReLU after the top-k
        G = _coo(g, idx, W_enc.shape[1])  # [batch, d_sae], k non-zeros per row
        col = torch.zeros(W_enc.shape[1], device=g.device).index_add_(0, idx.reshape(-1), g.reshape(-1))
        # col [d_sae]: the column sums of G
        grad_x = torch.sparse.mm(G, W_enc.t().float()).to(x_c.dtype) if need_x else None  # [batch, d_in]
        grad_b_dec = -(col @ W_enc.t().float()).to(W_enc.dtype) if need_b_dec and ctx.center else None
        grad_W = torch.sparse.mm(G.t(), x_c.float()).t().contiguous().to(W_enc.dtype) if need_w else None
        grad_b = col.to(W_enc.dtype) if need_b else None  # [d_sae]
        return grad_x, grad_b_dec, grad_W, grad_b, None, None


class SparseDecode(torch.autograd.Function):
    """(vals, idx [batch, k], W_dec [d_sae, d_in]) -> sum_j vals[:, j] W_dec[idx[:, j]]: [batch, d_in]."""

    @staticmethod
    def forward(ctx, vals: Tensor, idx: Tensor, W_dec: Tensor):
        ctx.save_for_backward(vals, idx, W_dec)
        weights = vals.to(W_dec.dtype)  # [batch, k]
        return F.embedding_bag(idx, W_dec, per_sample_weights=weights, mode="sum")  # [batch, d_in]

    @staticmethod
    def backward(ctx, g: Tensor):  # g [batch, d_in]
        vals, idx, W_dec = ctx.saved_tensors
        grad_vals = grad_W = None
        if ctx.needs_input_grad[0]:  # <g_b, W_dec[idx_bj]> for the k selected latents only
            grad_vals = _gathered_dots(g.float(), W_dec.float(), idx).to(vals.dtype)  # [batch, k]
        if ctx.needs_input_grad[2]:  # W_dec rows of unselected latents get exactly zero
            grad_W = torch.sparse.mm(_coo(vals.float(), idx, W_dec.shape[0]).t(), g.float()).to(W_dec.dtype)
        return grad_vals, None, grad_W
