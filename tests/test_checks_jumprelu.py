"""Notebook 05's exercise checks: the Heaviside and JumpReLU autograd functions are compared on values, the
gradient to z and the gradient to theta; the JumpReLU SAE built from them (encoder and L0 penalty) and its
training against the library's; every typical mistake gets its hint; the learner stubs fail."""

import math
from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import checks
from saewidgets.config import SAEConfig
from saewidgets.sae import JumpReLUSAE
from saewidgets.ste import Heaviside, JumpReLUFn, rectangle

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_jumprelu.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_heaviside(checks.heaviside_reference)
    checks.check_jumprelu(checks.jumprelu_reference)
    assert capsys.readouterr().out.count("✓") == 2


def make_fn(
    *,
    jump=False,
    strict=True,
    value=None,
    z_grad="none",
    scale="auto",
    sign=-1,
    inv_eps=True,
    half=True,
    scaled_arg=True,
    reduce="sum",
    chain=True,
    as_bool=False,
    fixed_eps=None,
    kernel="rectangle",
):
    """A Heaviside (jump=False) or JumpReLU (jump=True) autograd Function with one deliberate mistake."""

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, theta, eps):
            ctx.save_for_backward(z, theta)
            ctx.eps = eps
            H = z > theta if strict else z >= theta
            if as_bool:
                return H
            if value is not None:
                return value(z, theta)
            return z * H.to(z.dtype) if jump else H.to(z.dtype)

        @staticmethod
        def backward(ctx, grad):
            z, theta = ctx.saved_tensors
            eps = ctx.eps if fixed_eps is None else fixed_eps  # a hard-coded bandwidth ignores ctx.eps
            u = (z - theta) / eps if scaled_arg else z - theta
            K = rectangle(u) if half else ((u > -1) & (u < 1)).to(z.dtype)
            if kernel == "gaussian":
                K = torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
            elif kernel == "gaussian_unnormalised":
                K = torch.exp(-0.5 * u**2)
            s = {"auto": theta if jump else 1.0, "one": 1.0, "z": z}[scale]
            g = sign * s * K * (grad if chain else 1.0) / (eps if inv_eps else 1.0)
            g = {
                "sum": g.sum(0),
                "mean": g.mean(0),
                "all": g.sum().expand_as(theta),
                "none": g,
                "rows": g.sum(-1),
            }[reduce]
            H = (z > theta).to(grad.dtype)
            gz = {
                "none": None,
                "ste": grad,
                "right": H * grad,
                "zero": torch.zeros_like(z),
                "nochain": H,
                "relu": (z > 0).to(grad.dtype) * grad,
                "times_z": z * H * grad,
            }[z_grad]
            return gz, g, None

    return Fn


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(strict=False), "strict"),
        (dict(as_bool=True), "bool"),
        (dict(value=lambda z, t: (z < t).float()), "Flipped"),
        (dict(value=lambda z, t: z * (z > t)), "That is JumpReLU"),
        (dict(value=lambda z, t: (z > t).float()[:3]), "shape"),
        (dict(value=lambda z, t: (z > t + 0.1).float()), "forward values differ"),
        (dict(z_grad="ste"), "No gradient to z"),
        (dict(inv_eps=False), "Divide by the bandwidth"),
        (dict(sign=1), "Wrong sign"),
        (dict(half=False), "width 1"),
        (dict(scaled_arg=False), "Scale the kernel's argument"),
        (dict(reduce="mean"), "don't average"),
        (dict(reduce="all"), "dim 0"),
        (dict(reduce="rows"), "sum over the batch"),
        (dict(chain=False), "incoming gradient"),
        (dict(sign=-2), "theta's gradient differs"),
        (dict(fixed_eps=0.05), "ctx.eps"),
        (dict(fixed_eps=0.001), "ctx.eps"),
        (dict(kernel="gaussian"), "Gaussian kernel"),
        (dict(kernel="gaussian_unnormalised"), "Gaussian kernel"),
    ],
)
def test_heaviside_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_heaviside(make_fn(**kw))


def test_heaviside_check_wants_a_gradient_for_theta_and_the_class():
    class NoBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, theta, eps):
            return (z > theta).to(z.dtype)

        @staticmethod
        def backward(ctx, grad):
            return None, None, None

    with pytest.raises(checks.ExerciseError, match="theta got no gradient"):
        checks.check_heaviside(NoBackward)
    with pytest.raises(checks.ExerciseError, match="Pass the class itself"):
        checks.check_heaviside(lambda z, t, e: (z > t).float())


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(value=lambda z, t: torch.relu(z)), "not up to 0"),
        (dict(value=lambda z, t: (z > t).float()), "Multiply by z"),
        (dict(strict=False), "strict"),
        (dict(value=lambda z, t: torch.relu(z - t)), "shifted ReLU"),
        (dict(z_grad="none"), "ordinary gradient"),
        (dict(z_grad="zero"), "ordinary gradient"),
        (dict(z_grad="ste"), "only where z > theta"),
        (dict(z_grad="nochain"), "incoming gradient"),
        (dict(z_grad="relu"), "not z > 0"),
        (dict(z_grad="times_z"), "don't multiply by z"),
        (dict(z_grad="right", scale="one"), "theta/eps, not 1/eps"),
        (dict(z_grad="right", scale="z"), "not z"),
        (dict(z_grad="right", inv_eps=False), "Divide by the bandwidth"),
        (dict(z_grad="right", sign=1), "Wrong sign"),
        (dict(z_grad="right", half=False), "width 1"),
        (dict(z_grad="right", reduce="mean"), "don't average"),
        (dict(z_grad="right", chain=False), "incoming gradient"),
        (dict(z_grad="right", reduce="rows"), "sum over the batch"),
        (dict(z_grad="right", fixed_eps=0.05), "ctx.eps"),
        (dict(z_grad="right", kernel="gaussian"), "Gaussian kernel"),
    ],
)
def test_jumprelu_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_jumprelu(make_fn(jump=True, **kw))


def test_a_gradient_left_unsummed_is_fine_autograd_sums_it(capsys):
    """Returning theta's per-token gradient [batch, d_sae] is correct: autograd reduces it to theta's shape."""
    checks.check_heaviside(make_fn(reduce="none"))
    checks.check_jumprelu(make_fn(jump=True, z_grad="right", reduce="none"))
    assert capsys.readouterr().out.count("✓") == 2


def test_the_bandwidth_hint_needs_a_bandwidth_that_matters():
    """A backward that ignores ctx.eps is told so; one that reads it but is wrong otherwise is not."""
    with pytest.raises(checks.ExerciseError) as e:
        checks.check_heaviside(make_fn(sign=-2))
    assert "ctx.eps" not in str(e.value)


@pytest.mark.parametrize("name", ["class Heaviside", "class JumpReLU", "class MyJumpReLUSAE"])
def test_learner_notebook_stub_fails_its_check(name):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if name in c.source and "checks.check_" in c.source)
    namespace = {"torch": torch, "checks": checks, "rectangle": rectangle, "JumpReLUSAE": JumpReLUSAE}
    namespace |= {"Heaviside": Heaviside, "JumpReLU": JumpReLUFn}
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, namespace)


# -- Exercise 3: the SAE's encoder and L0 penalty ------------------------------------------------------------


def make_sae(*, pre="right", acts="right", l0="right", log_theta=False, jump=JumpReLUFn, step=Heaviside):
    """A JumpReLUSAE subclass with one deliberate mistake in _encode or _sparsity_loss."""

    class Mine(JumpReLUSAE):
        def __init__(self, cfg, seed=0):
            super().__init__(cfg, seed)
            if log_theta:  # the paper's parameterisation (App. J)
                theta = self._parameters.pop("threshold")
                self.log_threshold = torch.nn.Parameter(theta.detach().log())

        def theta(self):
            if log_theta == "forgot_exp":
                return self.log_threshold
            return self.log_threshold.exp() if log_theta else self.threshold

        def _encode(self, x):
            eps = self.cfg.jumprelu_bandwidth
            p = {
                "right": (x - self.b_dec) @ self.W_enc + self.b_enc,
                "no_b_dec": x @ self.W_enc + self.b_enc,
                "no_b_enc": (x - self.b_dec) @ self.W_enc,
            }[pre]
            if acts == "paper_log":
                return jump.apply(p, self.log_threshold.exp(), eps), p
            a = {
                "right": lambda: jump.apply(p, self.theta(), eps),
                "swapped": lambda: jump.apply(self.theta(), p, eps),
                "on_x": lambda: jump.apply(x, self.theta(), eps),
                "relu": lambda: torch.relu(p),
                "plain": lambda: p * (p > self.theta()),
                "exp": lambda: jump.apply(p, self.theta().exp(), eps),
                "step": lambda: step.apply(p, self.theta(), eps),
            }[acts]()
            return a, p

        def _sparsity_loss(self, out):
            c, eps, theta = self.cfg.l0_coefficient, self.cfg.jumprelu_bandwidth, self.theta()
            return {
                "right": lambda: c * step.apply(out.pre_acts, theta, eps).sum(-1).mean(),
                "plain": lambda: c * (out.pre_acts > theta).float().sum(-1).mean(),
                "acts_positive": lambda: c * (out.acts > 0).float().sum(-1).mean(),
                "on_acts": lambda: c * step.apply(out.acts, theta, eps).sum(-1).mean(),
                "fixed_eps": lambda: c * step.apply(out.pre_acts, theta, 0.05).sum(-1).mean(),
                "no_coefficient": lambda: step.apply(out.pre_acts, theta, eps).sum(-1).mean(),
                "batch_sum": lambda: c * step.apply(out.pre_acts, theta, eps).sum(),
                "l1": lambda: c * out.acts.sum(-1).mean(),
            }[l0]()

    return Mine


def test_sae_check_passes_the_reference_the_library_functions_and_log_theta(capsys):
    """Any correct answer passes: the library class, your own functions or the library's, and the paper's
    log-theta parameterisation (whose gradient then reaches log_threshold)."""
    checks.check_jumprelu_sae(checks.jumprelu_sae_reference)
    checks.check_jumprelu_sae(make_sae())
    checks.check_jumprelu_sae(make_sae(log_theta=True))
    assert capsys.readouterr().out.count("✓") == 3


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(pre="no_b_dec"), "Subtract b_dec"),
        (dict(pre="no_b_enc"), "encoder bias"),
        (dict(acts="swapped"), "swapped"),
        (dict(acts="on_x"), "wrong tensor"),
        (dict(acts="relu"), "threshold is missing"),
        (dict(acts="exp"), "don't exponentiate"),
        (dict(acts="step"), "step H alone"),
        (dict(acts="paper_log"), "no log_threshold"),
        (dict(log_theta="forgot_exp"), r"exp\(log_threshold\)"),
        (dict(acts="plain"), "reconstruction error gives threshold no gradient"),
        (dict(l0="plain"), "L0 penalty gives threshold no gradient"),
        (dict(l0="acts_positive"), "L0 penalty gives threshold no gradient"),
        (dict(l0="plain", log_theta=True), "L0 penalty gives log_threshold no gradient"),
        (dict(l0="on_acts"), "not to the JumpReLU output"),
        (dict(l0="fixed_eps"), "jumprelu_bandwidth"),
        (dict(l0="no_coefficient"), "coefficient"),
        (dict(l0="batch_sum"), "Average over the batch"),
        (dict(l0="l1"), "L1 penalty"),
    ],
)
def test_sae_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_jumprelu_sae(make_sae(**kw))


def test_sae_check_wants_a_jumprelu_sae_class():
    with pytest.raises(checks.ExerciseError, match="subclass of saewidgets.sae.JumpReLUSAE"):
        checks.check_jumprelu_sae(JumpReLUSAE(SAEConfig("jumprelu", d_in=4, d_sae=8)))


# -- the trained SAE against the library's --------------------------------------------------------------------


def _trained_pair(seed=0):
    """Two identical 'trained' JumpReLU SAEs (thresholds up from 0.1) and activations [n, d_in] for them."""
    cfg = SAEConfig("jumprelu", d_in=16, d_sae=32, jumprelu_init_threshold=0.1, jumprelu_bandwidth=0.05)
    lib = JumpReLUSAE(cfg, seed)
    with torch.no_grad():
        lib.W_enc.mul_(20.0)  # pre-activations of order 1, so about a third of the latents fire
        lib.threshold.fill_(0.6)
    yours = JumpReLUSAE(cfg, seed)
    yours.load_state_dict(lib.state_dict())
    g = torch.Generator().manual_seed(1)
    return yours, lib, torch.randn(2000, cfg.d_in, generator=g)  # [n, d_in]


def test_training_check_passes_a_match_and_returns_the_numbers(capsys):
    yours, lib, acts = _trained_pair()
    out = checks.check_jumprelu_training(yours, lib, acts)
    assert out["mmcs"] > 0.999 and out["l0"][0] == pytest.approx(out["l0"][1]) and out["l0"][0] > 0
    assert "✓" in capsys.readouterr().out


def test_training_check_catches_frozen_thresholds_a_different_l0_and_a_different_dictionary():
    yours, lib, acts = _trained_pair()
    with torch.no_grad():
        yours.threshold.fill_(0.1)  # never moved: the L0 penalty did not reach theta
    with pytest.raises(checks.ExerciseError, match="barely moved"):
        checks.check_jumprelu_training(yours, lib, acts)
    yours, lib, acts = _trained_pair()
    with torch.no_grad():
        yours.threshold.fill_(1.2)  # fires far less often than the library's
    with pytest.raises(checks.ExerciseError, match="l0"):
        checks.check_jumprelu_training(yours, lib, acts)
    yours, lib, acts = _trained_pair()
    with torch.no_grad():
        yours.W_dec.copy_(JumpReLUSAE(yours.cfg, seed=5).W_dec)  # another dictionary
        yours.W_enc.copy_(lib.W_enc)
    with pytest.raises(checks.ExerciseError, match="MMCS|fvu"):
        checks.check_jumprelu_training(yours, lib, acts)
