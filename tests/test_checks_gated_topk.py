"""Notebook 04's exercise checks: they pass on the reference, name each typical mistake, and the learner
notebook's stubs fail them."""

from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import checks
from saewidgets.checks import gated_topk

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_gated_topk.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_topk_activation(checks.topk_activation_reference)
    checks.check_gated_encode(checks.gated_encode_reference)
    checks.check_auxk_loss(checks.auxk_loss_reference)
    assert capsys.readouterr().out.count("✓") == 3


def test_topk_reference_is_the_library_encoder():
    sae = gated_topk._topk_sae(seed=5, d_sae=32, k=7)
    x = torch.randn(20, 6)
    with torch.no_grad():
        out = sae(x)
        assert torch.equal(checks.topk_activation_reference(out.pre_acts, 7), sae.encode(x))


def _scatter(pre, idx, vals):
    return torch.zeros_like(pre).scatter(-1, idx, vals)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, k: _scatter(p, *p.topk(k, dim=-1)[::-1]), "Apply the ReLU"),
    (lambda p, k: p.topk(k, dim=-1).values.relu(), "k values only"),
    (lambda p, k: (_scatter(p, p.topk(k).indices, p.topk(k).values.relu()) > 0).float(), "not a 0/1 mask"),
    (lambda p, k: _scatter(p, *p.topk(k, dim=-1, largest=False)[::-1]).relu(), "largest"),
    (lambda p, k: _scatter(p, p.abs().topk(k).indices, p.gather(-1, p.abs().topk(k).indices).relu()), "absolute"),
    (lambda p, k: p.relu() * (p >= p.flatten().topk(k * p.shape[0]).values[-1]), "BatchTopK"),
    (lambda p, k: torch.zeros_like(p).scatter(0, p.topk(k, dim=0).indices, p.topk(k, dim=0).values.relu()),
     "not over the batch"),
    (lambda p, k: p.relu(), "at most k non-zeros"),
    (lambda p, k: p[:, :k], "shape"),
    (lambda p, k: _scatter(p, p.topk(k).indices, p.topk(k).values.relu()) * 2, "values differ"),
])
def test_topk_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_topk_activation(wrong)


def _gated(x, W, bg, r, bm, bd, *, center=True, scale="exp", mag_bias="mag", relu=True, gate_on="gate",
           size_from="mag"):
    xc = x - bd if center else x
    Wm = W * r.exp() if scale == "exp" else W * r if scale == "lin" else W
    pi_gate = xc @ W + bg
    pi_mag = xc @ Wm + (bm if mag_bias == "mag" else bg)
    gate = ((pi_gate if gate_on == "gate" else pi_mag) > 0).float()
    mag = pi_gate.relu() if size_from == "gate" else pi_mag.relu() if relu else pi_mag
    return gate * mag


@pytest.mark.parametrize("kw, hint", [
    (dict(center=False), "Subtract b_dec"),
    (dict(scale="lin"), "log"),
    (dict(scale="none"), "Rescale the magnitude"),
    (dict(mag_bias="gate"), "b_mag"),
    (dict(relu=False), "ReLU the magnitude"),
    (dict(size_from="gate"), "only decides"),
    (dict(gate_on="mag"), "not where pi_mag"),
])
def test_gated_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_encode(lambda *a: _gated(*a, **kw))


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, W, bg, r, bm, bd: ((x - bd) @ W + bg > 0).float(), "not the gate"),
    (lambda x, W, bg, r, bm, bd: ((x - bd) @ W + bg).relu(), "only decides"),
    (lambda x, W, bg, r, bm, bd: _gated(x, W, bg, r, bm, bd)[:, :3], "shape"),
    (lambda x, W, bg, r, bm, bd: _gated(x, W, bg, r, bm, bd) + 1, "differ from GatedSAE"),
])
def test_gated_check_names_other_mistakes(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_encode(wrong)


def _auxk(pre, res, W_dec, dead, k, c, *, only_dead=True, relu=True, coef=True, reduce="mean", bias=None,
          target=None, detach=True):
    if only_dead:
        idx = dead.nonzero().squeeze(1)
        p, W = pre[:, idx], W_dec[idx]
    else:
        p, W = pre, W_dec
    v, i = p.topk(k, dim=-1)
    a = torch.zeros_like(p).scatter(-1, i, v.relu() if relu else v)
    r = res.detach() if detach else res
    err = (a @ W + (0 if bias is None else bias) - (r if target is None else target)).pow(2)
    loss = err.sum(-1).mean() if reduce == "mean" else err.sum() if reduce == "sum" else err.mean()
    return c * loss if coef else loss


@pytest.mark.parametrize("kw, hint", [
    (dict(only_dead=False), "dead"),
    (dict(relu=False), "ReLU"),
    (dict(coef=False), "coefficient"),
    (dict(reduce="sum"), "Average over the batch"),
    (dict(reduce="all"), "Sum the squared error over d_in"),
    (dict(detach=False), "Detach the residual"),
])
def test_auxk_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_auxk_loss(lambda *a: _auxk(*a, **kw))


def test_auxk_check_names_bias_and_target_mistakes():
    sae = gated_topk._topk_sae(seed=2, d_sae=16, k=3, auxk_k=3, auxk_coefficient=0.25)
    b_dec, x = sae.b_dec.detach(), gated_topk._x(2)
    with pytest.raises(checks.ExerciseError, match="without b_dec"):
        checks.check_auxk_loss(lambda *a: _auxk(*a, bias=b_dec))
    with pytest.raises(checks.ExerciseError, match="not x"):
        checks.check_auxk_loss(lambda *a: _auxk(*a, target=x))
    with pytest.raises(checks.ExerciseError, match="one number"):
        checks.check_auxk_loss(lambda *a: _auxk(*a).expand(3))
    with pytest.raises(checks.ExerciseError, match="Expected"):
        checks.check_auxk_loss(lambda *a: _auxk(*a) + 1)


@pytest.mark.parametrize("fn_name", ["topk_activation", "gated_encode", "auxk_loss"])
def test_learner_notebook_stub_fails_its_check(fn_name):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if f"def {fn_name}" in c.source)
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, {"torch": torch, "checks": checks})  # the learner's cell as shipped: the check runs the stub
