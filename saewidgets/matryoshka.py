"""Matryoshka SAE (Bussmann, Nabeshima, Karvonen, Nanda 2025, arXiv 2503.17547): BatchTopK, nested.

The dictionary's first m_1 latents must reconstruct x on their own, so must its first m_2 > m_1, and so on
up to the whole dictionary (``SAEConfig.matryoshka_widths``, the prefix sizes m_1 < ... < m_n = d_sae). The
encoder is BatchTopK's, over the whole dictionary; the loss sums one reconstruction error per prefix (§3):

    L(x) = sum_m ||x - (f(x)[:, :m] @ W_dec[:m] + b_dec)||^2 + alpha * AuxK

A latent in an early prefix is then paid for reconstructing x without any later latent, so general features
settle early and are not absorbed into the specific ones that come later (the paper's Fig. 1 and §5).

SAELens (``sae_lens/saes/matryoshka_batchtopk_sae.py``, architecture "matryoshka_batchtopk") does the
same: its ``training_forward_pass`` adds ``inner_mse_loss_{width}`` for every width but the last to
BatchTopK's loss (whose own MSE is the outer doll's), unweighted, with AuxK on the full reconstruction's
residual; it warns and appends d_sae when ``matryoshka_widths`` does not end there, and saves the trained SAE
as a JumpReLU whose threshold is the BatchTopK threshold. Here a last width other than d_sae is an error
(SAEConfig), and ``save_sae`` writes the same JumpReLU layout, with our config beside it.

Importing this module registers the class with ``sae.build_sae`` (sae.py cannot import it: the layers only
point down); ``saewidgets.build_sae``, ``load_sae`` and the sweeps import it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .sae import SAE, SAE_CLASSES, BatchTopKSAE, SAEOutput, build_sae

__all__ = ["MatryoshkaSAE", "build_sae", "prefix_fvu"]


class MatryoshkaSAE(BatchTopKSAE):
    """BatchTopK (encoding, inference threshold, AuxK: all inherited) trained with one reconstruction loss per
    nested prefix of the dictionary. ``forward`` / ``decode`` use the whole dictionary; ``decode_prefix`` and
    ``prefix_mse`` use the first m latents only. ``loss(x).mse`` is the whole dictionary's error (as for
    every architecture, so logs compare); ``loss(x).aux`` holds the inner prefixes' errors plus AuxK."""

    architecture = "matryoshka"

    def decode_prefix(self, acts: Tensor, width: int) -> Tensor:
        """acts [..., d_sae] -> recon [..., d_in] from the first ``width`` latents alone (one inner doll)."""
        return acts[..., :width] @ self.W_dec[:width] + self.b_dec  # [..., d_in]

    def prefix_mse(self, x: Tensor, out: SAEOutput | None = None) -> dict[int, Tensor]:
        """{m: ||x - recon_m||^2 summed over d_in, averaged over tokens} for every prefix size m in
        ``cfg.matryoshka_prefixes`` (the last is the whole dictionary: ``loss(x).mse``)."""
        out = self(x) if out is None else out
        x, acts = x.reshape(-1, x.shape[-1]), out.acts.reshape(-1, out.acts.shape[-1])  # [tokens, *]
        # Group by group: recon_m = recon_{m'} + acts[:, m':m] @ W_dec[m':m] for the previous prefix m', so
        # all the prefixes together cost one decoder GEMM, not one per prefix.
        recon, start, mse = self.b_dec.expand_as(x), 0, {}  # recon [tokens, d_in]
        for width in self.cfg.matryoshka_prefixes:
            recon = recon + acts[:, start:width] @ self.W_dec[start:width]  # [tokens, d_in]
            mse[width], start = (recon - x).pow(2).sum(-1).mean(), width
        return mse

    def _aux_loss(self, x, out, dead_mask):
        # The paper's loss (§3) and SAELens sum the prefixes' errors unweighted. The outer one is already
        # ``mse`` (out.recon), so the inner ones join AuxK in aux: total = mse + sparsity + aux still holds.
        inner = sum(list(self.prefix_mse(x, out).values())[:-1], out.acts.new_zeros(()))
        return inner + super()._aux_loss(x, out, dead_mask)


SAE_CLASSES[MatryoshkaSAE.architecture] = MatryoshkaSAE


@torch.no_grad()
def prefix_fvu(sae: SAE, x: Tensor, width: int) -> float:
    """Fraction of variance unexplained when only latents 0..width-1 decode x [tokens, d_in], in the SAE's
    current mode (eval: the inference threshold). Any SAE with the dense ``W_dec`` layout, e.g. a BatchTopK
    one to compare with."""
    recon = sae.encode(x)[..., :width] @ sae.W_dec[:width] + sae.b_dec  # [tokens, d_in]
    return float((recon - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())
