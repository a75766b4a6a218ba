"""Checks for notebook 05, Exercise 3: the learner's JumpReLU SAE, built from their own Heaviside and JumpReLU.

``check_jumprelu_sae`` compares the learner's ``JumpReLUSAE`` subclass (``_encode`` and ``_sparsity_loss``)
with the library's on the same weights, including the gradients each loss term sends to theta (the
straight-through estimators of Rajamanoharan et al. 2024b, §4); ``check_jumprelu_training`` compares the two
after the same training (L0, FVU, MMCS).
"""

from __future__ import annotations

import torch

from ..config import SAEConfig
from ..sae import JumpReLUSAE
from ..ste import Heaviside
from ._core import ExerciseError, close, first_match, passed

__all__ = ["check_jumprelu_sae", "check_jumprelu_training", "jumprelu_sae_reference"]

jumprelu_sae_reference = JumpReLUSAE
"""The library's JumpReLU SAE: ``_encode`` through JumpReLUFn, ``_sparsity_loss`` through Heaviside."""

SAE_EPS = 0.4  # the check's bandwidth: wide, so the kernel's window holds many tokens
_PARAMS = ("threshold", "W_enc", "b_enc", "b_dec")  # what the two loss terms' gradients are compared on


def _sae_pair(cls, seed: int = 0):
    """The library's JumpReLUSAE and an instance of ``cls`` with the same weights, biases and thresholds
    spread in (0.2, 1.2), plus a batch x [batch, d_in] whose pre-activations straddle the thresholds."""
    if not (isinstance(cls, type) and issubclass(cls, JumpReLUSAE)):
        raise ExerciseError(
            f"Pass your class itself, a subclass of saewidgets.sae.JumpReLUSAE, not {type(cls).__name__}: "
            "the check builds it as YourClass(cfg) and trains through its _encode and _sparsity_loss."
        )
    cfg = SAEConfig(
        "jumprelu",
        d_in=8,
        d_sae=12,
        jumprelu_bandwidth=SAE_EPS,
        jumprelu_init_threshold=0.5,
        l0_coefficient=0.3,
    )
    g = torch.Generator().manual_seed(seed)
    ref = JumpReLUSAE(cfg, seed)
    with torch.no_grad():
        ref.W_enc.copy_(torch.randn(cfg.d_in, cfg.d_sae, generator=g) / cfg.d_in**0.5)  # [d_in, d_sae]
        ref.b_enc.copy_(0.7 + 0.3 * torch.randn(cfg.d_sae, generator=g))  # [d_sae]: pre centred near theta
        ref.b_dec.copy_(0.5 * torch.randn(cfg.d_in, generator=g))  # [d_in]: nonzero, so forgetting it shows
        ref.threshold.copy_(0.2 + torch.rand(cfg.d_sae, generator=g))  # [d_sae]
    mine = cls(cfg, seed)
    with torch.no_grad():
        for name, p in mine.named_parameters():
            if name == "log_threshold":  # the paper's parameterisation (App. J): theta = exp(log_threshold)
                p.copy_(ref.threshold.log())
            elif name in dict(ref.named_parameters()):
                p.copy_(dict(ref.named_parameters())[name])
    x = ref.b_dec.detach() + 0.7 * torch.randn(64, cfg.d_in, generator=g)  # [batch, d_in]
    return ref, mine, x


def _forward(mine, x):
    """``mine(x)``, with a hint for the errors a wrong encoder raises."""
    try:
        return mine(x)
    except AttributeError as e:
        if "log_threshold" in str(e):
            raise ExerciseError(
                "This SAE has no log_threshold: JumpReLUSAE trains theta itself, self.threshold [d_sae] "
                "(not its log as in the paper's pseudo-code, App. J -- Trap 1 below shows why). Use "
                "self.threshold directly."
            ) from None
        raise
    except RuntimeError as e:
        if "size of tensor" not in str(e) and "must match" not in str(e):
            raise
        raise ExerciseError(
            f"The threshold is applied to the wrong tensor ({e}). JumpReLU compares each latent's "
            "pre-activation with its own threshold: JumpReLU.apply(pre, self.threshold, eps) with "
            "pre = (x - b_dec) @ W_enc + b_enc [batch, d_sae] and theta [d_sae] -- not x [batch, d_in]."
        ) from None


def _threshold_of(mine) -> tuple[torch.Tensor, str]:
    """The parameter that holds the learner's thresholds, and its name."""
    params = dict(mine.named_parameters())
    for name in ("log_threshold", "threshold"):
        if name in params:
            return params[name], name
    raise ExerciseError("Your SAE has no threshold parameter: keep JumpReLUSAE's self.threshold [d_sae].")


def _grads(loss, params):
    """d loss / d each of ``params``; zeros where the loss does not reach one."""
    if not loss.requires_grad:
        return [torch.zeros_like(p) for p in params]
    gs = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for g, p in zip(gs, params)]


def check_jumprelu_sae(cls) -> None:
    """``cls``: a subclass of ``saewidgets.sae.JumpReLUSAE`` whose ``_encode(x)`` returns (acts, pre) with
    pre = (x - b_dec) W_enc + b_enc and acts = JumpReLU(pre, theta, eps), and whose ``_sparsity_loss(out)``
    is l0_coefficient * mean over the batch of sum_i H(pre_i - theta_i), both through the straight-through
    autograd functions (the learner's or the library's). Compared with the library's JumpReLUSAE on the
    same weights: pre-activations, activations, the penalty, and the gradients of the reconstruction error
    and of the penalty to theta, W_enc, b_enc and b_dec -- theta (or log theta) must get both."""
    ref, mine, x = _sae_pair(cls)
    theta = ref.threshold.detach()  # [d_sae]
    out = _forward(mine, x)
    want = ref(x)
    pre0 = x @ ref.W_enc.detach()  # [batch, d_sae]
    b_enc, b_dec = ref.b_enc.detach(), ref.b_dec.detach()
    if not close(out.pre_acts, want.pre_acts.detach(), tol=1e-4):
        hint = first_match(
            out.pre_acts,
            [
                (pre0 + b_enc, "Subtract b_dec from x first: pre = (x - b_dec) @ W_enc + b_enc."),
                (pre0 - b_dec @ ref.W_enc.detach(), "Add the encoder bias b_enc to the pre-activations."),
                (pre0, "pre = (x - b_dec) @ W_enc + b_enc: both biases are missing."),
            ],
            tol=1e-4,
        )
        raise ExerciseError(
            hint
            or "The pre-activations (the second thing _encode returns) should be (x - b_dec) @ W_enc + b_enc."
        )
    pre = want.pre_acts.detach()  # [batch, d_sae]
    if not close(out.acts, want.acts.detach(), tol=1e-4):
        hint = first_match(
            out.acts,
            [
                (
                    torch.relu(pre),
                    "The threshold is missing: acts = JumpReLU(pre, theta, eps) = pre * 1[pre > theta], not ReLU.",
                ),
                (
                    theta * (theta > pre),
                    "JumpReLU.apply(z, theta, eps) takes the pre-activations first and the threshold second; "
                    "yours has them swapped (the threshold applied to the wrong tensor).",
                ),
                (
                    pre * (pre > theta.exp()),
                    "self.threshold is theta itself, not its log: don't exponentiate it (the library trains theta "
                    "directly; only Trap 1's LogThetaJumpReLU stores log theta).",
                ),
                (
                    pre * (pre > theta.log()),
                    "Your log_threshold is used as if it were the threshold: theta = exp(log_threshold), so "
                    "compare with log_threshold.exp().",
                ),
                (
                    (pre > theta).float(),
                    "That is the step H alone: use your JumpReLU, which returns pre itself where it fires.",
                ),
                (
                    torch.relu(pre - theta),
                    "That is a shifted ReLU: JumpReLU keeps pre itself above theta, not pre - theta.",
                ),
            ],
            tol=1e-4,
        )
        raise ExerciseError(
            hint or "acts should be JumpReLU.apply(pre, self.threshold, self.cfg.jumprelu_bandwidth)."
        )
    losses, want_losses = mine.loss(x), ref.loss(x)
    c = ref.cfg.l0_coefficient
    H = (pre > theta).float()  # [batch, d_sae]
    if not (isinstance(losses.sparsity, torch.Tensor) and losses.sparsity.numel() == 1):
        raise ExerciseError(
            "_sparsity_loss should return one number (a 0-d tensor): sum H over the latents, average over the batch."
        )
    got_s = losses.sparsity.detach().reshape(())
    if not close(got_s, want_losses.sparsity.detach(), tol=1e-4):
        hint = first_match(
            got_s,
            [
                (H.sum(-1).mean(), "Multiply by the coefficient self.cfg.l0_coefficient."),
                (
                    c * H.sum(),
                    "Average over the batch: L0 is a count per token, sum_i H(pre_i - theta_i), then the mean over tokens.",
                ),
                (
                    c * H.mean(),
                    "Sum over the latents (L0 counts the active latents of a token), then average over the batch.",
                ),
                (
                    c * want.acts.detach().sum(-1).mean(),
                    "That is an L1 penalty on the activations: JumpReLU penalises L0, the count sum_i H(pre_i - theta_i), which leaves sizes alone (no shrinkage).",
                ),
                (
                    c * want.acts.detach().abs().sum(-1).mean(),
                    "That is an L1 penalty on the activations: JumpReLU penalises L0, the count sum_i H(pre_i - theta_i).",
                ),
            ],
            tol=1e-4,
        )
        raise ExerciseError(
            hint or "The penalty should be l0_coefficient * Heaviside.apply(pre, theta, eps).sum(-1).mean()."
        )
    p_theta, name = _threshold_of(mine)
    params = [p_theta] + [dict(mine.named_parameters())[k] for k in _PARAMS[1:]]
    want_params = [dict(ref.named_parameters())[n] for n in _PARAMS]
    to_param = theta if name == "log_threshold" else torch.ones_like(theta)  # d theta / d log theta = theta
    for term, what in (("sparsity", "L0 penalty"), ("mse", "reconstruction error")):
        got_g = _grads(getattr(losses, term), params)
        want_g = _grads(getattr(want_losses, term), want_params)
        want_g[0] = want_g[0] * to_param
        if term == "sparsity" and not bool(got_g[0].abs().sum() > 0):
            raise ExerciseError(
                f"The L0 penalty gives {name} no gradient, so the thresholds never learn to rise. A plain step "
                "(pre > theta).float() or (acts > 0) has derivative 0 almost everywhere (autograd records nothing); "
                "use your Heaviside, Heaviside.apply(out.pre_acts, self.threshold, self.cfg.jumprelu_bandwidth), "
                "whose backward is the straight-through pseudo-derivative."
            )
        if term == "mse" and not bool(got_g[0].abs().sum() > 0):
            raise ExerciseError(
                f"The reconstruction error gives {name} no gradient: pre * (pre > theta) computes the right values "
                "but autograd sees no path to theta. Use your JumpReLU autograd function: "
                "JumpReLU.apply(pre, self.threshold, self.cfg.jumprelu_bandwidth)."
            )
        if term == "sparsity" and not close(got_g[0], want_g[0], tol=1e-4):
            acts_grad = _grads(
                c * Heaviside.apply(want.acts, ref.threshold, SAE_EPS).sum(-1).mean(), [ref.threshold]
            )
            wrong_eps = [
                _grads(c * Heaviside.apply(want.pre_acts, ref.threshold, e).sum(-1).mean(), [ref.threshold])[
                    0
                ]
                for e in (0.001, 0.01, 0.05, 0.1)
            ]
            hint = first_match(
                got_g[0],
                [
                    (
                        acts_grad[0] * to_param,
                        "Apply H to the pre-activations, not to the JumpReLU output: below theta the output is 0, "
                        "so the tokens just under the threshold drop out of the kernel's window and theta's "
                        "estimate is biased (dictionary_learning issue #55).",
                    ),
                    *(
                        (
                            g * to_param,
                            "Pass the SAE's own bandwidth, self.cfg.jumprelu_bandwidth, not a fixed number: the "
                            "check builds the SAE with another one.",
                        )
                        for g in wrong_eps
                    ),
                ],
                tol=1e-4,
            )
            raise ExerciseError(hint or f"The L0 penalty's gradient to {name} differs from the library's.")
        for g, w, pname in zip(got_g, want_g, (name, *_PARAMS[1:])):
            if not close(g, w, tol=1e-4):
                raise ExerciseError(
                    f"The {what}'s gradient to {pname} differs from the library's JumpReLUSAE: pass "
                    "self.cfg.jumprelu_bandwidth as eps, and make sure both terms go through the "
                    "straight-through functions (JumpReLU for acts, Heaviside for L0) on pre."
                )
    passed("JumpReLU SAE (activations, L0 penalty, and the gradients reaching theta)")


def check_jumprelu_training(yours, library, activations, *, init_threshold: float | None = None) -> dict:
    """``yours`` and ``library``: two JumpReLU SAEs (or TrainResults) trained the same way, from the same seed
    on the same batches; ``activations``: held-out activations. Your SAE must have moved its thresholds up
    (the STE reached them) and match the library's L0 and FVU within 15 % and its dictionary (MMCS, the mean
    over the library's latents of the best cosine with one of yours) at >= 0.9. Returns the numbers."""
    from ..metrics import evaluate
    from ..toy import mmcs

    yours, library = (getattr(s, "sae", s) for s in (yours, library))
    theta0 = init_threshold if init_threshold is not None else library.cfg.jumprelu_init_threshold
    theta = _threshold_of(yours)
    theta = (theta[0].exp() if theta[1] == "log_threshold" else theta[0]).detach()
    if float(theta.mean()) < 1.5 * theta0:
        raise ExerciseError(
            f"Your thresholds barely moved (mean {float(theta.mean()):.4f}, started at {theta0:g}): the L0 penalty "
            "never reached them. Check that _sparsity_loss uses Heaviside.apply (not a plain step)."
        )
    m_y, m_l = evaluate(yours, activations), evaluate(library, activations)
    out = {
        "l0": (m_y["l0"], m_l["l0"]),
        "fvu": (m_y["fvu"], m_l["fvu"]),
        "mean_theta": (float(theta.mean()), float(library.threshold.detach().mean())),
        "mmcs": mmcs(yours.W_dec, library.W_dec),
    }
    print(f"{'':12} {'yours':>8} {'library':>8}")
    for key in ("l0", "fvu", "mean_theta"):
        print(f"{key:12} {out[key][0]:8.4g} {out[key][1]:8.4g}")
    print(f"MMCS between the two dictionaries: {out['mmcs']:.3f}")
    for key in ("l0", "fvu"):
        y, lib = out[key]
        if abs(y - lib) > 0.15 * abs(lib):
            raise ExerciseError(
                f"Your SAE's {key} ({y:.4g}) is more than 15 % from the library's ({lib:.4g}) after the same "
                "training: rerun check_jumprelu_sae, and train both with the same settings and seed."
            )
    if out["mmcs"] < 0.9:
        raise ExerciseError(
            f"Your dictionary is far from the library's (MMCS {out['mmcs']:.3f} < 0.9) although both started "
            "from the same weights and saw the same batches: something in the forward pass differs."
        )
    passed("Your trained JumpReLU SAE (L0, FVU and dictionary)")
    return out
