"""The encoder's affine map, pre = (x - b_dec) W_enc + b_enc, with a backward that skips a GEMM.

Plain autograd computes the gradient of the centred input, G W_enc^T ([batch, d_sae] x [d_sae, d_in]), and
then sums it over the batch for b_dec: one of the six GEMMs of a training step, a sixth of its FLOPs. The
input x is data and needs no gradient, so only that sum is wanted, and it equals -colsum(G) W_enc^T: a
[d_sae] vector times W_enc^T, which costs a pass over G that the b_enc gradient makes anyway. The TopK
kernels (kernels.py) do the same; tests/test_affine.py checks the gradients against plain autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor


class CenteredAffine(torch.autograd.Function):
    """(x [batch, d_in], b_dec [d_in], W [d_in, d_sae], b [d_sae], center) -> (x - b_dec if center else x) W + b."""

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
