"""Sparse autoencoders behind one interface: ReLU, Gated, TopK, BatchTopK and JumpReLU.

Every SAE follows the skeleton SAELens, dictionary_learning and sparsify converged on, and the architectures
differ only in sigma and in the terms added to the reconstruction error:

    pre = (x - b_dec) @ W_enc + b_enc  # [batch, d_sae];  acts = sigma(pre)  # [batch, d_sae]
    recon = acts @ W_dec + b_dec       # [batch, d_in]

One training step, the same for every architecture (``sae(x)`` -> SAEOutput, ``sae.loss`` -> LossOutput):

    out = sae(x); losses = sae.loss(x, sparsity_scale=warmup, dead_mask=dead, out=out)
    losses.total.backward(); sae.before_step(); opt.step(); sae.after_step(); opt.zero_grad()

The fast paths (the encoder's backward without a sixth GEMM, TopK's sparse kernels) are in ``_kernels.py``;
JumpReLU's straight-through estimators (Heaviside, JumpReLUFn) in ``ste.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ._kernels import affine, centered_affine, sparse_decode, topk_encode, without_autocast
from .config import SAEConfig
from .ste import Heaviside, JumpReLUFn

MIN_THRESHOLD = 1e-6  # JumpReLU theta is clamped to at least this after each step (it must stay > 0)


class SAEOutput(NamedTuple):
    """What ``sae(x)`` returns."""

    recon: Tensor  #: [batch, d_in] reconstruction x_hat = acts @ W_dec + b_dec.
    acts: Tensor  #: [batch, d_sae] latent activations, mostly exact zeros.
    pre_acts: Tensor  #: [batch, d_sae] encoder pre-activations before the nonlinearity (gated: pi_gate).


class LossOutput(NamedTuple):
    """What ``sae.loss(x)`` returns: scalar tensors, with total = mse + sparsity + aux."""

    total: Tensor  #: The loss to backpropagate.
    mse: Tensor  #: ||x - x_hat||^2 summed over d_in and averaged over the batch (the SAELens convention).
    sparsity: Tensor  #: Weighted L1 / L0 / tanh / target-L0 penalty times ``sparsity_scale``; 0 for TopK.
    aux: Tensor  #: Weighted aux loss (gated: frozen-decoder recon; topk: AuxK; jumprelu: pre-act loss); or 0.


class SAE(nn.Module):
    """Base class. Subclasses set ``architecture`` and implement ``_encode`` (and their loss terms)."""

    architecture = ""
    _has_b_enc = True  # gated has b_gate / b_mag instead

    def __init__(self, cfg: SAEConfig, seed: int = 0):
        super().__init__()
        if cfg.architecture != self.architecture:
            raise ValueError(
                f"{type(self).__name__} needs architecture={self.architecture!r}, got "
                f"{cfg.architecture!r}; build_sae(cfg) picks the right class"
            )
        self.cfg = cfg
        dtype = getattr(torch, cfg.dtype)
        # Decoder rows: random directions of norm 0.1 (Anthropic April 2024 update, "decoder_init_norm" in
        # SAELens), or norm 1 when the decoder is held at unit norm. W_enc = W_dec.T (Gao et al. 2024 §2.4):
        # each latent starts by reading the direction it writes, which leaves few latents dead. Drawn from a
        # generator of its own: the same seed gives the same SAE, and the global RNG is left as it was.
        gen = torch.Generator().manual_seed(seed)
        W_dec = torch.randn(cfg.d_sae, cfg.d_in, dtype=dtype, generator=gen)  # [d_sae, d_in]
        W_dec *= (1.0 if cfg.normalize_decoder else 0.1) / W_dec.norm(dim=1, keepdim=True)
        self.W_enc = nn.Parameter(W_dec.T.contiguous())  # [d_in, d_sae], a contiguous copy
        self.W_dec = nn.Parameter(W_dec)  # [d_sae, d_in]
        if self._has_b_enc:
            self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))  # [d_sae]
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in, dtype=dtype))  # [d_in]

    def encode(self, x: Tensor) -> Tensor:
        """[batch, d_in] -> acts [batch, d_sae]; any leading shape ([b, pos, d_in] -> [b, pos, d_sae])."""
        return self._encode(x)[0]

    def decode(self, acts: Tensor) -> Tensor:
        """acts [batch, d_sae] -> recon [batch, d_in]."""
        return affine(acts, self.W_dec, self.b_dec)  # acts @ W_dec + b_dec

    def forward(self, x: Tensor) -> SAEOutput:
        acts, pre = self._encode(x)  # [batch, d_sae] each
        return SAEOutput(self.decode(acts), acts, pre)

    def loss(
        self,
        x: Tensor,
        sparsity_scale: float = 1.0,
        dead_mask: Tensor | None = None,
        out: SAEOutput | None = None,
    ) -> LossOutput:
        """Loss terms for a batch x [batch, d_in]. ``sparsity_scale`` multiplies the sparsity term (warm-up
        from 0 to 1). ``dead_mask`` [d_sae] bool, latents that have not fired for a long while, feeds AuxK
        (topk, batchtopk) and the pre-activation loss (jumprelu); None: those terms are 0. ``out``:
        ``self(x)`` if already computed (saves a second forward pass)."""
        out = self(x) if out is None else out
        if x.dim() != 2:  # [..., d_in] -> [tokens, d_in]: every term is a mean over tokens
            x, out = x.reshape(-1, x.shape[-1]), SAEOutput(*(t.reshape(-1, t.shape[-1]) for t in out))
        mse = (out.recon - x).pow(2).sum(-1).mean()
        sparsity = sparsity_scale * self._sparsity_loss(out)
        aux = self._aux_loss(x, out, dead_mask)
        return LossOutput(mse + sparsity + aux, mse, sparsity, aux)

    def _encode(self, x: Tensor) -> tuple[Tensor, Tensor]:  # -> (acts, pre_acts), each [batch, d_sae]
        raise NotImplementedError

    def _sparsity_loss(self, out: SAEOutput) -> Tensor:
        return out.acts.new_zeros(())

    def _aux_loss(self, x: Tensor, out: SAEOutput, dead_mask: Tensor | None) -> Tensor:
        return out.acts.new_zeros(())

    def _center(self, x: Tensor) -> Tensor:  # on the bias the decoder adds back (Towards Monosemanticity)
        return x - self.b_dec if self.cfg.apply_b_dec_to_input else x

    def _pre(self, x: Tensor) -> Tensor:  # [batch, d_sae] = _center(x) @ W_enc + b_enc
        return centered_affine(x, self.b_dec, self.W_enc, self.b_enc, self.cfg.apply_b_dec_to_input)

    def _pre_float32(self, x: Tensor) -> Tensor:
        # For pre-activations compared with a threshold: outside autocast, in the parameters' dtype. bf16
        # keeps 8 bits, a spacing of 2^-9..2^-8 near theta = 0.5 that swamps JumpReLU's STE window (0.001).
        return without_autocast(self._pre, x.to(self.W_enc.dtype))  # [batch, d_sae]

    def decoder_norms(self) -> Tensor:
        return self.W_dec.norm(dim=1)  # [d_sae]

    @torch.no_grad()
    def before_step(self) -> None:
        """Call between ``backward()`` and ``opt.step()``. A unit-norm decoder: remove from W_dec.grad the
        part parallel to each row. Only a first-order fix (Adam rescales the step per coordinate), so
        after_step renormalises too: skipping that is the bug 1L-Sparse-Autoencoder notes."""
        if self.cfg.normalize_decoder and self.W_dec.grad is not None:
            unit = self.W_dec / self.W_dec.norm(dim=1, keepdim=True)  # [d_sae, d_in]
            self.W_dec.grad -= (self.W_dec.grad * unit).sum(1, keepdim=True) * unit

    @torch.no_grad()
    def after_step(self) -> None:
        """Call after ``opt.step()``: re-impose constraints (unit-norm decoder, positive JumpReLU theta)."""
        if self.cfg.normalize_decoder:
            self.W_dec /= self.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8)


class ReLUSAE(SAE):
    """acts = ReLU((x - b_dec) W_enc + b_enc), L1 penalty (Towards Monosemanticity; Anthropic April 2024)."""

    architecture = "relu"

    def _encode(self, x):
        pre = self._pre(x)  # [batch, d_sae]
        return torch.relu(pre), pre

    def _sparsity_loss(self, out):
        # L1 weighted by decoder row norms (Anthropic April 2024 update): otherwise the SAE dodges the penalty
        # by shrinking acts and growing W_dec rows. With a unit-norm decoder the weights are 1 (the 2023 L1).
        # sum_i ||W_dec_i|| * mean_batch(acts_i), summed over the batch first (no [batch, d_sae] product).
        return self.cfg.l1_coefficient * (out.acts.sum(0) @ self.decoder_norms()) / out.acts.shape[0]


class GatedSAE(SAE):
    """Gated SAE (Rajamanoharan et al. 2024a, arXiv 2404.16014, §3). A gate decides *which* latents fire, a
    magnitude path decides *how much*. Only the gate is L1-penalised, so magnitudes are not shrunk. The paths
    share W_enc; the magnitude path rescales each column by exp(r_mag) (the paper's weight sharing)."""

    architecture = "gated"
    _has_b_enc = False

    def __init__(self, cfg: SAEConfig, seed: int = 0):
        super().__init__(cfg, seed)
        dtype = self.W_enc.dtype
        self.b_gate = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))  # [d_sae]
        self.r_mag = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))  # [d_sae] log-scale; 0: W_mag = W_enc
        self.b_mag = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))  # [d_sae]

    def _encode(self, x):
        center, W_mag = self.cfg.apply_b_dec_to_input, self.W_enc * self.r_mag.exp()  # W_mag [d_in, d_sae]
        pi_gate = centered_affine(x, self.b_dec, self.W_enc, self.b_gate, center)  # [batch, d_sae]
        pi_mag = centered_affine(x, self.b_dec, W_mag, self.b_mag, center)  # [batch, d_sae]
        return (pi_gate > 0).to(pi_mag.dtype) * torch.relu(pi_mag), pi_gate

    def _sparsity_loss(self, out):
        # L1 on ReLU(pi_gate), weighted by the decoder row norms as constants (the paper, §3, keeps the
        # decoder at unit norm: the same loss). Detached, because the magnitude path undoes any decoder scale
        # for free through exp(r_mag): a gradient into the norms shrinks the decoder and the penalty with it,
        # and the gates stay open (L0 ~450 of 1024 at any l1; docs/sae.md, "Recipes").
        gate = torch.relu(out.pre_acts)  # [batch, d_sae]
        return self.cfg.l1_coefficient * (gate.sum(0) @ self.decoder_norms().detach()) / gate.shape[0]

    def _aux_loss(self, x, out, dead_mask):
        # The step 1[pi_gate > 0] passes no gradient, so the gate learns to pick latents from this term:
        # rebuild x from ReLU(pi_gate) through a frozen (detached) decoder (§3; in their ablation it helps).
        recon_gate = torch.relu(out.pre_acts) @ self.W_dec.detach() + self.b_dec.detach()  # [batch, d_in]
        return (recon_gate - x).pow(2).sum(-1).mean()


def auxk_loss(sae: SAE, x: Tensor, out: SAEOutput, dead_mask: Tensor | None) -> Tensor:
    """AuxK (Gao et al. App. A.2), the aux term of TopK and BatchTopK: the top-k_aux *dead* latents
    reconstruct the residual e = x - x_hat (detached), which gives dead latents a gradient again."""
    # The paper's loss (and openai/sparse_autoencoder's train.py) is nmse(x_hat, x) + alpha nmse(e_hat, e),
    # alpha = 1/32, each error over its target's variance. Our mse is per token, unnormalised (SAELens), so
    # this is alpha nmse(e_hat, e) times x's variance per token: mse + aux = var(x) * (the paper's loss). Left
    # unnormalised, the pull on dead latents would fade with the residual: 1/FVU (~10x) weaker than theirs.
    cfg = sae.cfg
    if dead_mask is None or cfg.auxk_coefficient == 0 or not bool(dead_mask.any()):
        return out.acts.new_zeros(())
    dead = dead_mask.nonzero().squeeze(1)  # [n_dead]
    k_aux = min(cfg.auxk_k or max(1, cfg.d_in // 2), len(dead))
    # Only the dead latents' columns: the cost scales with how many are dead, not with d_sae.
    pre_dead = sae._center(x) @ sae.W_enc[:, dead] + sae.b_enc[dead]  # [batch, n_dead]
    vals, idx = pre_dead.topk(k_aux, dim=-1)  # [batch, k_aux]
    acts_aux = torch.zeros_like(pre_dead).scatter(-1, idx, torch.relu(vals))  # [batch, n_dead]
    err = (x - out.recon).detach()  # [batch, d_in]
    var_x, var_err = ((t - t.mean(0)).pow(2).sum() for t in (x.detach(), err))  # [] each
    scale = torch.where(var_err > 0, var_x / var_err, 0.0) / len(x)  # []; a residual with no variance: 0
    return cfg.auxk_coefficient * scale * (acts_aux @ sae.W_dec[dead] - err).pow(2).sum()


class TopKSAE(SAE):
    """TopK SAE (Gao et al. 2024, arXiv 2406.04093, §2.3): keep each token's k largest pre-activations, then
    ReLU. L0 <= k by construction, so no sparsity penalty and no shrinkage; AuxK revives dead latents."""

    architecture = "topk"
    _aux_loss = auxk_loss  # shared with BatchTopK

    def _encode(self, x):
        return self._topk(x)[2:]

    def forward(self, x: Tensor) -> SAEOutput:
        vals, idx, acts, pre = self._topk(x)
        return SAEOutput(sparse_decode(vals, idx, self.W_dec) + self.b_dec, acts, pre)  # k rows of W_dec

    def _topk(self, x):  # -> vals, idx [batch, k]; acts, pre [batch, d_sae]
        # Only the encoder GEMM is dense; decoder and backward touch the k chosen latents (_kernels.py).
        cfg = self.cfg
        vals, idx, pre = topk_encode(x, self.b_dec, self.W_enc, self.b_enc, cfg.k, cfg.apply_b_dec_to_input)
        return vals, idx, torch.zeros_like(pre).scatter_(-1, idx, vals), pre  # in place: no 2nd copy


class BatchTopKSAE(SAE):
    """BatchTopK (Bussmann et al. 2024, arXiv 2412.06410): in training keep the k * batch largest activations
    of the whole batch, so L0 averages k but adapts per token. Inference must not depend on the batch, so it
    uses one global threshold (an EMA of the smallest kept activation): a JumpReLU with one theta for all."""

    architecture = "batchtopk"
    _aux_loss = auxk_loss  # TopK's AuxK; the forward is SAE's dense one (the choice spans the whole batch)

    def __init__(self, cfg: SAEConfig, seed: int = 0):
        super().__init__(cfg, seed)
        self.register_buffer("threshold", torch.zeros((), dtype=self.W_enc.dtype))  # []; 0: not estimated yet

    def _encode(self, x):
        if not self.training and bool(self.threshold > 0):  # inference (until estimated: the batch rule)
            pre = self._pre_float32(x)  # [batch, d_sae], compared with theta as JumpReLU does (to_jumprelu)
            return torch.relu(pre) * (pre > self.threshold), pre
        pre = self._pre(x)  # [batch, d_sae]
        flat = torch.relu(pre).flatten()  # [batch * d_sae]
        vals, idx = flat.topk(self.cfg.k * (flat.numel() // self.cfg.d_sae))  # [batch * k]
        kept = vals.detach()[vals > 0]  # [n_kept] the positive selected activations
        if self.training:  # EMA (SAELens topk_threshold_lr); the first estimate as is
            low = kept.min().float() if kept.numel() else torch.full((), float("inf"), device=pre.device)
            if torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1:
                torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)  # same on all ranks
            if bool(torch.isfinite(low)):
                rate = self.cfg.batchtopk_threshold_lr if bool(self.threshold > 0) else 1.0
                self.threshold.lerp_(low.to(self.threshold.dtype), rate)  # bf16 under autocast
        return torch.zeros_like(flat).scatter(0, idx, vals).view_as(pre), pre


class JumpReLUSAE(SAE):
    """JumpReLU SAE (Rajamanoharan et al. 2024b, arXiv 2407.14435, §3): acts = z * 1[z > theta] with a
    learned per-latent threshold theta, and a penalty on L0 itself, trained through the step with
    straight-through estimators (§4). Gemma Scope's architecture."""

    architecture = "jumprelu"

    def __init__(self, cfg: SAEConfig, seed: int = 0):
        super().__init__(cfg, seed)
        # theta itself, not log(theta) as in the paper's pseudo-code (App. J): Adam moves a parameter by ~lr
        # per step, so log(theta) would move theta by ~lr * theta and small thresholds freeze (SAELens PR
        # #718; references/sae_anchors.md §1.3). Notebook 05 trains log(theta) to show it.
        theta = torch.full((cfg.d_sae,), cfg.jumprelu_init_threshold, dtype=self.W_enc.dtype)  # [d_sae]
        self.threshold = nn.Parameter(theta)  # [d_sae]

    def _encode(self, x):
        pre = self._pre_float32(x)  # [batch, d_sae]: bf16 would leave no pre-activation in theta's window
        return JumpReLUFn.apply(pre, self.threshold, self.cfg.jumprelu_bandwidth), pre

    def _sparsity_loss(self, out):
        cfg = self.cfg
        if cfg.jumprelu_sparsity == "tanh":  # Anthropic, Jan 2025: smooth, saturating stand-in for L0
            scaled = cfg.jumprelu_tanh_scale * out.acts * self.decoder_norms()  # [batch, d_sae]
            return cfg.l0_coefficient * torch.tanh(scaled).sum(-1).mean()
        # L0 = sum_i H(z_i - theta_i), averaged over the batch; its gradient reaches theta only (§3-4).
        l0 = Heaviside.apply(out.pre_acts, self.threshold, cfg.jumprelu_bandwidth).sum(-1).mean()
        if cfg.jumprelu_sparsity == "target_l0":  # L0 to a set value (Gemma Scope 2; dictionary_learning)
            return cfg.l0_coefficient * (l0 / cfg.target_l0 - 1) ** 2
        return cfg.l0_coefficient * l0

    def _aux_loss(self, x, out, dead_mask):
        # Anthropic's pre-activation loss (Jan 2025): push dead latents' pre-activations up towards theta.
        c = self.cfg.pre_act_loss_coefficient
        if dead_mask is None or c == 0:
            return out.acts.new_zeros(())
        gap = torch.relu(self.threshold - out.pre_acts) * dead_mask * self.decoder_norms()  # [batch, d_sae]
        return c * gap.sum(-1).mean()

    @torch.no_grad()
    def after_step(self) -> None:
        super().after_step()
        self.threshold.clamp_(min=MIN_THRESHOLD)


SAE_CLASSES: dict[str, type[SAE]] = {
    c.architecture: c for c in (ReLUSAE, GatedSAE, TopKSAE, BatchTopKSAE, JumpReLUSAE)
}


def build_sae(cfg: SAEConfig, seed: int = 0) -> SAE:
    """A freshly initialised SAE of the class ``cfg.architecture`` names, drawn from ``seed``. Classes in
    modules above this one (matryoshka.py) join ``SAE_CLASSES`` when imported (saewidgets.build_sae does)."""
    if cfg.architecture not in SAE_CLASSES:
        raise ValueError(
            f"no SAE class registered for {cfg.architecture!r}: import saewidgets.{cfg.architecture}"
        )
    return SAE_CLASSES[cfg.architecture](cfg, seed)
