"""Notebook 05's exercise checks: the Heaviside and JumpReLU autograd functions are compared on values, the
gradient to z and the gradient to theta; every typical mistake gets its hint; the learner stubs fail."""

from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import checks
from saewidgets.ste import rectangle

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
            eps = ctx.eps
            u = (z - theta) / eps if scaled_arg else z - theta
            K = rectangle(u) if half else ((u > -1) & (u < 1)).to(z.dtype)
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
        (dict(reduce="rows"), "summed over the batch"),
        (dict(chain=False), "incoming gradient"),
        (dict(sign=-2), "theta's gradient differs"),
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
        (dict(z_grad="right", reduce="rows"), "summed over the batch"),
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


@pytest.mark.parametrize("name", ["class Heaviside", "class JumpReLU"])
def test_learner_notebook_stub_fails_its_check(name):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if name in c.source and "checks.check_" in c.source)
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, {"torch": torch, "checks": checks, "rectangle": rectangle})
