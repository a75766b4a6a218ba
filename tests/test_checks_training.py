"""Notebook 02's exercise checks: each passes on its reference, agrees with the library, and names typical mistakes."""

from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from saewidgets import checks
from saewidgets.checks import training as T
from saewidgets.metrics import evaluate
from saewidgets.sae import SAEOutput

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_relu_sae.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_relu_sae(checks.ReLUSAEReference)
    checks.check_sae_loss(checks.sae_loss_reference)
    checks.check_train_step(checks.train_step_reference)
    checks.check_l0(checks.l0_reference)
    checks.check_fvu(checks.fvu_reference)
    assert capsys.readouterr().out.count("✓") == 5


def test_references_agree_with_the_library():
    sae = T._library_sae(seed=7, d_in=6, d_sae=12)
    x = torch.randn(200, 6, generator=torch.Generator().manual_seed(0)) * 3 + 1
    ref = checks.ReLUSAEReference(6, 12)
    ref.load_state_dict(sae.state_dict())
    with torch.no_grad():
        out, mine = sae(x), ref(x)
        assert torch.allclose(out.recon, mine.recon, atol=1e-5) and torch.allclose(
            out.acts, mine.acts, atol=1e-5
        )
        m = evaluate(sae, x)
        assert checks.l0_reference(out.acts).item() == pytest.approx(m["l0"], rel=1e-6)
        assert checks.fvu_reference(x, out.recon).item() == pytest.approx(m["fvu"], rel=1e-5)
        total = sae.loss(x, out=out).total
        assert checks.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, 5.0).item() == pytest.approx(
            total.item(), rel=1e-5
        )


def test_the_reference_init_matches_the_library_recipe():
    torch.manual_seed(0)
    sae = checks.ReLUSAEReference(16, 64)
    assert torch.allclose(sae.W_dec.norm(dim=1), torch.full((64,), 0.1))
    assert torch.equal(sae.W_enc, sae.W_dec.T) and not sae.b_enc.any() and not sae.b_dec.any()


def _fwd_without_biases(self, x):
    pre_acts = x @ self.W_enc  # the issue-18 answer: no b_dec, no b_enc, and acts follow from it
    acts = torch.relu(pre_acts)
    return SAEOutput(self.decode(acts), acts, pre_acts)


def _variant(**methods):
    return type("Wrong", (checks.ReLUSAEReference,), methods)


def _fwd(self, x):
    acts = self.encode(x)
    return SAEOutput(self.decode(acts), acts, (x - self.b_dec) @ self.W_enc + self.b_enc)


class _Transposed(nn.Module):
    def __init__(self, d_in, d_sae):
        super().__init__()
        self.W_enc, self.W_dec = (
            nn.Parameter(torch.zeros(d_sae, d_in)),
            nn.Parameter(torch.zeros(d_sae, d_in)),
        )
        self.b_enc, self.b_dec = nn.Parameter(torch.zeros(d_sae)), nn.Parameter(torch.zeros(d_in))


class _Missing(nn.Module):
    def __init__(self, d_in, d_sae):
        super().__init__()
        self.W_enc = nn.Parameter(torch.zeros(d_in, d_sae))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_variant(encode=lambda s, x: torch.relu(x @ s.W_enc + s.b_enc)), "subtract b_dec"),
        (_variant(encode=lambda s, x: (x - s.b_dec) @ s.W_enc + s.b_enc), "apply the ReLU"),
        (_variant(encode=lambda s, x: torch.relu((x - s.b_dec) @ s.W_enc)), "encoder bias"),
        (
            _variant(encode=lambda s, x: torch.relu((x - s.b_dec) @ s.W_enc + s.b_enc) @ s.W_dec + s.b_dec),
            "Got shape",
        ),
        (_variant(decode=lambda s, a: a @ s.W_dec), "add the decoder bias"),
        (_variant(decode=lambda s, a: a @ s.W_dec - s.b_dec), "encode subtracts it"),
        (_variant(decode=lambda s, a: a @ s.W_enc.T + s.b_dec), "not W_enc.T"),
        (_variant(decode=lambda s, a: a @ s.W_dec * 2 + s.b_dec), "differs from acts @ W_dec"),
        (_variant(forward=lambda s, x: (s.decode(s.encode(x)), s.encode(x))), "SAEOutput"),
        (
            _variant(forward=lambda s, x: SAEOutput(s.encode(x), s.decode(s.encode(x)), None)),
            "reconstruction first",
        ),
        (_variant(forward=lambda s, x: SAEOutput(s.decode(s.encode(x)), s.encode(x), s.encode(x))), "before"),
        (
            _variant(forward=lambda s, x: SAEOutput(s.decode(s.encode(x)) * 0.5, s.encode(x), None)),
            "out.recon",
        ),
        # pre_acts must be checked by value (issue 18): the library's b_dec and b_enc are non-zero in the check
        (
            _variant(forward=lambda s, x: SAEOutput(s.decode(s.encode(x)), s.encode(x), x @ s.W_enc)),
            "lack both biases",
        ),
        (
            _variant(
                forward=lambda s, x: SAEOutput(s.decode(s.encode(x)), s.encode(x), x @ s.W_enc + s.b_enc)
            ),
            "lack the decoder bias",
        ),
        (
            _variant(
                forward=lambda s, x: SAEOutput(s.decode(s.encode(x)), s.encode(x), (x - s.b_dec) @ s.W_enc)
            ),
            "lack the encoder bias",
        ),
        (
            _variant(forward=lambda s, x: SAEOutput(s.decode(s.encode(x)), s.encode(x), None)),
            "pre-activations",
        ),
        (_variant(forward=_fwd_without_biases), "lack both biases"),
        (_Transposed, "W_enc has shape"),
        (_Missing, "no parameter 'W_dec'"),
        (object, "subclass torch.nn.Module"),
    ],
)
def test_relu_sae_check_names_the_mistake(wrong, hint):
    if wrong is object:
        wrong = lambda d_in, d_sae: object()  # noqa: E731
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_relu_sae(wrong)


def test_forward_variant_of_the_reference_still_passes(capsys):
    checks.check_relu_sae(_variant(forward=_fwd))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, r, a, W, c: (r - x).pow(2).mean() + c * (a * W.norm(dim=1)).sum(-1).mean(), "F.mse_loss"),
        (lambda x, r, a, W, c: (r - x).pow(2).sum() + c * (a * W.norm(dim=1)).sum(), "batch size"),
        (lambda x, r, a, W, c: (r - x).pow(2).sum(-1).mean() + c * a.sum(-1).mean(), "decoder row"),
        (
            lambda x, r, a, W, c: (r - x).pow(2).sum(-1).mean() + (a * W.norm(dim=1)).sum(-1).mean(),
            "l1_coefficient",
        ),
        (
            lambda x, r, a, W, c: (r - x).norm(dim=-1).mean() + c * (a * W.norm(dim=1)).sum(-1).mean(),
            "Square",
        ),
        (lambda x, r, a, W, c: (r - x).pow(2).sum(-1).mean(), "Add the sparsity penalty"),
        (
            lambda x, r, a, W, c: (r - x).pow(2).sum(-1).mean() + c * (a * W.pow(2).sum(1)).sum(-1).mean(),
            "square",
        ),
        (lambda x, r, a, W, c: (r - x).pow(2).sum(-1), "one number"),
        (lambda x, r, a, W, c: torch.tensor(1.0), "Expected"),
    ],
)
def test_sae_loss_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_sae_loss(wrong)


def _no_step(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    opt.zero_grad()
    loss.backward()
    return loss.item()


def _returns_nothing(sae, opt, x, l1):
    T.train_step_reference(sae, opt, x, l1)


def _wrong_loss(sae, opt, x, l1):
    out = sae(x)
    loss = (out.recon - x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def _step_before_backward(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    opt.zero_grad()
    opt.step()
    loss.backward()
    return loss.item()


def _step_without_zero_grad_before_backward(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    opt.step()
    loss.backward()
    return loss.item()


def _zero_grad_between_backward_and_step(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()


def _sae_zero_grad_between_backward_and_step(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    loss.backward()
    sae.zero_grad(set_to_none=False)  # zeros instead of None: the step still moves nothing
    opt.step()
    return loss.item()


def _returns_loss_tensor(sae, opt, x, l1):
    out = sae(x)
    loss = T.sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss  # notebook 02's loop then fails in plt.plot


def _returns_detached_tensor(sae, opt, x, l1):
    return _returns_loss_tensor(sae, opt, x, l1).detach()


def _returns_twice(sae, opt, x, l1):
    return 2 * T.train_step_reference(sae, opt, x, l1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_no_step, "did not change"),
        (T._no_zero_grad, "opt.zero_grad"),
        (_step_before_backward, r"backward\(\) and then opt.step"),
        (_step_without_zero_grad_before_backward, "before opt.step"),
        (_wrong_loss, "differ from the reference"),
        (_returns_nothing, "Return the loss"),
        (T._loss_after_step, "before"),
        (_returns_twice, "return loss.item"),
        (_zero_grad_between_backward_and_step, r"zero_grad\(\) must come before backward\(\)"),
        (_sae_zero_grad_between_backward_and_step, r"erased the gradients before opt.step\(\)"),
        (_returns_loss_tensor, r"Return loss.item\(\) \(a Python float\)"),
        (_returns_detached_tensor, r"Return loss.item\(\) \(a Python float\)"),
    ],
)
def test_train_step_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_train_step(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a: a.sum(-1).mean(), "L1 norm"),
        (lambda a: (a > 0).float().mean(), "fraction of d_sae"),
        (lambda a: (a > 0).float().sum(), "Average over the tokens"),
        (lambda a: (a > 0).float().sum(0).mean(), "then average"),
        (lambda a: (a > 0).float().sum(-1), "one number"),
        (lambda a: 3.0, "Expected"),
    ],
)
def test_l0_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_l0(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, h: (x - h).pow(2).sum() / x.pow(2).sum(), "around 0"),
        (lambda x, h: (x - h).pow(2).sum() / (x - x.mean()).pow(2).sum(), r"x\.mean\(\)"),
        (lambda x, h: 1 - T.fvu_reference(x, h), "explained variance"),
        (lambda x, h: ((x - h).pow(2).sum(-1) / (x - x.mean(0)).pow(2).sum(-1)).mean(), "two sums"),
        (lambda x, h: ((x - h).pow(2).sum(-1) / x.pow(2).sum(-1)).mean(), "normalised MSE"),
        (lambda x, h: (x - h).pow(2).mean() / x.var(0).mean(), "n - 1"),
        (lambda x, h: (x - h).pow(2).sum() / (x - h.mean(0)).pow(2).sum(), "x_hat's"),
        (lambda x, h: (x - h).pow(2).sum(0) / (x - x.mean(0)).pow(2).sum(0), "one number"),
        (lambda x, h: 0.5, "Expected FVU"),
    ],
)
def test_fvu_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_fvu(wrong)


def test_learner_notebook_stub_fails_its_check():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if "class MyReLUSAE" in c.source)
    namespace = {"torch": torch, "nn": nn, "checks": checks, "SAEOutput": SAEOutput}
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, namespace)  # the learner's cell as shipped: the check runs the stub
