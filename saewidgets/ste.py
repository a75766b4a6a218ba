"""Straight-through estimators for JumpReLU (Rajamanoharan et al. 2024b, arXiv 2407.14435, §4).

The step H(z - theta) has zero derivative almost everywhere, so theta would never learn. The paper keeps the
forward pass exact and replaces only the derivative with respect to theta by a kernel density estimate: the
exact theta-derivative of H smoothed by a rectangle of width eps. ``JumpReLUSAE`` uses ``JumpReLUFn`` for its
activations and ``Heaviside`` for its L0 penalty; notebook 05 has learners write both.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._kernels import at_least_float32

__all__ = ["rectangle", "Heaviside", "JumpReLUFn"]


def rectangle(u: Tensor) -> Tensor:
    """The rectangle kernel K(u) = 1 on (-1/2, 1/2), 0 elsewhere (the JumpReLU paper's choice, §4)."""
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class Heaviside(torch.autograd.Function):
    """H(z - theta) = 1[z > theta]. Backward (arXiv 2407.14435 §4): no gradient to z; pseudo-derivative
    d/dtheta H(z - theta) := -(1/eps) K((z - theta)/eps), a kernel density estimate of the (negative) density
    of z at theta -- the exact theta-derivative of H smoothed by a width-eps rectangle."""

    @staticmethod
    def forward(ctx, z: Tensor, theta: Tensor, eps: float) -> Tensor:  # z [batch, d_sae], theta [d_sae]
        z32, theta32 = at_least_float32(z, theta)  # the window (width eps) is finer than bf16's spacing
        ctx.save_for_backward(z32, theta32)
        ctx.eps = eps
        return (z32 > theta32).to(z.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):  # grad [batch, d_sae]
        z, theta = ctx.saved_tensors
        g_theta = -(1.0 / ctx.eps) * rectangle((z - theta) / ctx.eps) * grad  # [batch, d_sae]
        return None, g_theta.sum_to_size(theta.shape), None


class JumpReLUFn(torch.autograd.Function):
    """JumpReLU_theta(z) = z * H(z - theta). Backward (§4): the ordinary gradient to z, H(z - theta) (no STE
    for z); pseudo-derivative d/dtheta := -(theta/eps) K((z - theta)/eps), the jump of size theta spread
    over a window of width eps."""

    @staticmethod
    def forward(ctx, z: Tensor, theta: Tensor, eps: float) -> Tensor:  # z [batch, d_sae], theta [d_sae]
        z32, theta32 = at_least_float32(z, theta)  # as Heaviside
        ctx.save_for_backward(z32, theta32)
        ctx.eps = eps
        return z * (z32 > theta32).to(z.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):  # grad [batch, d_sae]
        z, theta = ctx.saved_tensors
        g_z = (z > theta).to(grad.dtype) * grad  # [batch, d_sae]
        g_theta = -(theta / ctx.eps) * rectangle((z - theta) / ctx.eps) * grad  # [batch, d_sae]
        return g_z, g_theta.sum_to_size(theta.shape), None
