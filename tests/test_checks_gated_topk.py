"""Notebook 04's exercise checks: they pass on the reference, name each typical mistake, and the learner
notebook's stubs fail them."""

from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import SAEConfig, build_sae, checks
from saewidgets.checks import gated_topk

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_gated_topk.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_topk_activation(checks.topk_activation_reference)
    checks.check_gated_encode(checks.gated_encode_reference)
    checks.check_auxk_loss(checks.auxk_loss_reference)
    checks.check_gated_loss(checks.gated_loss_reference)
    assert capsys.readouterr().out.count("✓") == 4


def test_topk_reference_is_the_library_encoder():
    sae = gated_topk._topk_sae(seed=5, d_sae=32, k=7)
    x = torch.randn(20, 6)
    with torch.no_grad():
        out = sae(x)
        assert torch.equal(checks.topk_activation_reference(out.pre_acts, 7), sae.encode(x))


def _scatter(pre, idx, vals):
    return torch.zeros_like(pre).scatter(-1, idx, vals)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda p, k: _scatter(p, *p.topk(k, dim=-1)[::-1]), "Apply the ReLU"),
        (lambda p, k: p.topk(k, dim=-1).values.relu(), "k values only"),
        (
            lambda p, k: (_scatter(p, p.topk(k).indices, p.topk(k).values.relu()) > 0).float(),
            "not a 0/1 mask",
        ),
        (lambda p, k: _scatter(p, *p.topk(k, dim=-1, largest=False)[::-1]).relu(), "largest"),
        (
            lambda p, k: _scatter(p, p.abs().topk(k).indices, p.gather(-1, p.abs().topk(k).indices).relu()),
            "absolute",
        ),
        (lambda p, k: p.relu() * (p >= p.flatten().topk(k * p.shape[0]).values[-1]), "BatchTopK"),
        (
            lambda p, k: torch.zeros_like(p).scatter(
                0, p.topk(k, dim=0).indices, p.topk(k, dim=0).values.relu()
            ),
            "not over the batch",
        ),
        (lambda p, k: p.relu(), "at most k non-zeros"),
        (lambda p, k: p[:, :k], "shape"),
        (lambda p, k: _scatter(p, p.topk(k).indices, p.topk(k).values.relu()) * 2, "values differ"),
    ],
)
def test_topk_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_topk_activation(wrong)


def _gated(
    x,
    W,
    bg,
    r,
    bm,
    bd,
    *,
    center=True,
    scale="exp",
    mag_bias="mag",
    relu=True,
    gate_on="gate",
    size_from="mag",
):
    xc = x - bd if center else x
    Wm = W * r.exp() if scale == "exp" else W * r if scale == "lin" else W
    pi_gate = xc @ W + bg
    pi_mag = xc @ Wm + (bm if mag_bias == "mag" else bg)
    gate = ((pi_gate if gate_on == "gate" else pi_mag) > 0).float()
    mag = pi_gate.relu() if size_from == "gate" else pi_mag.relu() if relu else pi_mag
    return gate * mag


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(center=False), "Subtract b_dec"),
        (dict(scale="lin"), "log"),
        (dict(scale="none"), "Rescale the magnitude"),
        (dict(mag_bias="gate"), "b_mag"),
        (dict(relu=False), "ReLU the magnitude"),
        (dict(size_from="gate"), "only decides"),
        (dict(gate_on="mag"), "not where pi_mag"),
    ],
)
def test_gated_check_names_the_mistake(kw, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_encode(lambda *a: _gated(*a, **kw))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, W, bg, r, bm, bd: ((x - bd) @ W + bg > 0).float(), "not the gate"),
        (lambda x, W, bg, r, bm, bd: ((x - bd) @ W + bg).relu(), "only decides"),
        (lambda x, W, bg, r, bm, bd: _gated(x, W, bg, r, bm, bd)[:, :3], "shape"),
        (lambda x, W, bg, r, bm, bd: _gated(x, W, bg, r, bm, bd) + 1, "differ from GatedSAE"),
    ],
)
def test_gated_check_names_other_mistakes(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_encode(wrong)


def _gloss(
    x,
    out,
    W,
    b,
    c,
    *,
    l1_on="gate",
    norms="detached",
    aux=True,
    aux_from="gate",
    aux_W="detached",
    aux_b="detached",
    aux_bias=True,
    coef_on="l1",
    mse="token",
):
    """The Gated loss with one mistake switched on by a keyword (the defaults give the right answer)."""
    gate = out.pre_acts.relu()  # [batch, d_sae]
    l1_acts = {"gate": gate, "acts": out.acts, "pre": out.pre_acts}[l1_on]
    n = {"detached": W.norm(dim=1).detach(), "live": W.norm(dim=1), "none": 1.0}[norms]
    sq = (out.recon - x).pow(2)
    loss = sq.sum(-1).mean() if mse == "token" else sq.mean()
    loss = loss + (c if coef_on in ("l1", "both") else 1.0) * (l1_acts * n).sum(-1).mean()
    if aux:
        a = {"gate": gate, "acts": out.acts, "pre": out.pre_acts, "gate_detached": gate.detach()}[aux_from]
        Wa = W.detach() if aux_W == "detached" else W
        ba = (b.detach() if aux_b == "detached" else b) if aux_bias else 0.0
        loss = loss + (c if coef_on == "both" else 1.0) * (a @ Wa + ba - x).pow(2).sum(-1).mean()
    return loss


def test_gated_loss_reference_is_the_library_loss():
    for seed in range(3):
        sae = build_sae(SAEConfig("gated", d_in=8, d_sae=24, l1_coefficient=0.4), seed=seed)
        with torch.no_grad():
            sae.W_dec.mul_(torch.rand(24, 1) + 0.5)  # rows of different norms
        x = 3 * torch.randn(16, 8) + 1
        want = sae.loss(x).total
        want_grads = torch.autograd.grad(want, list(sae.parameters()))
        got = checks.gated_loss_reference(x, sae(x), sae.W_dec, sae.b_dec, 0.4)
        got_grads = torch.autograd.grad(got, list(sae.parameters()))
        assert torch.allclose(got, want, rtol=1e-5)
        assert all(torch.allclose(g, w, rtol=1e-4, atol=1e-6) for g, w in zip(got_grads, want_grads))


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(), None),
        (dict(aux_W="live", aux_b="live"), "Freeze the decoder in the auxiliary term"),
        (dict(aux_W="live"), "Freeze the decoder in the auxiliary term"),
        (dict(aux_W="live", aux_b="live", norms="live"), "norms in the L1 term as constants too"),
        (dict(aux_b="live"), "Detach b_dec in the auxiliary term"),
        (dict(norms="live"), "Treat the decoder norms in the L1 term as constants"),
        (dict(aux_from="gate_detached"), "Detach only the decoder"),
        (dict(l1_on="acts"), "not on the activations out.acts"),
        (dict(l1_on="acts", aux=False), "auxiliary term is missing too"),
        (dict(aux=False), "Add the auxiliary term"),
        (dict(norms="none"), "decoder row norm"),
        (dict(l1_on="pre"), "a closed gate"),
        (dict(aux_from="pre"), "in the auxiliary reconstruction too"),
        (dict(aux_from="acts"), "not out.acts"),
        (dict(aux_bias=False), "with the bias as well"),
        (dict(coef_on="none"), "Multiply the L1 term by l1_coefficient"),
        (dict(coef_on="both"), "no coefficient"),
        (dict(mse="element"), "Sum the reconstruction error over d_in"),
    ],
)
def test_gated_loss_check_names_the_mistake(kw, hint):
    if hint is None:  # the keywords' defaults are the right answer
        return checks.check_gated_loss(lambda *a: _gloss(*a, **kw))
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_loss(lambda *a: _gloss(*a, **kw))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, out, W, b, c: _gloss(x, out, W, b, c).expand(3), "one number"),
        (lambda x, out, W, b, c: _gloss(x, out, W, b, c).item(), "one number"),  # a float: no graph
        (lambda x, out, W, b, c: _gloss(x, out, W, b, c) + 1, "Expected"),
        (lambda x, out, W, b, c: _gloss(x, out, W, b, c) + 0 * out.recon.sum() * W.sum(), None),
        (
            lambda x, out, W, b, c: _gloss(x, out, W, b, c) + (W.sum() - W.detach().sum()) * 3,
            "gradients differ",
        ),
    ],
)
def test_gated_loss_check_other_answers(wrong, hint):
    if hint is None:
        return checks.check_gated_loss(wrong)
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_gated_loss(wrong)


def _auxk(
    x,
    pre,
    res,
    W_dec,
    dead,
    k,
    c,
    *,
    only_dead=True,
    relu=True,
    coef=True,
    bias=None,
    target=None,
    detach=True,
    sq="all",
    norm_e=True,
    center_e=True,
    var_x="token",
    center_x=True,
    guard="scale",
):
    """The AuxK loss with one mistake switched on by a keyword (the defaults give the right answer)."""
    if only_dead:
        idx = dead.nonzero().squeeze(1)
        p, W = pre[:, idx], W_dec[idx]
    else:
        p, W = pre, W_dec
    v, i = p.topk(k, dim=-1)
    a = torch.zeros_like(p).scatter(-1, i, v.relu() if relu else v)
    e = res.detach() if detach else res
    err = (a @ W + (0 if bias is None else bias) - (e if target is None else target)).pow(2)
    num = {"all": err.sum(), "token": err.sum(-1).mean(), "mean": err.mean()}[sq]
    var_e = ((e - e.mean(0)) if center_e else e).pow(2).sum() if norm_e else torch.tensor(1.0)
    xc = (x - x.mean(0)) if center_x else x
    vx = {
        "token": xc.pow(2).sum(-1).mean(),
        "sum": xc.pow(2).sum(),
        "mean": xc.pow(2).mean(),
        None: torch.tensor(1.0),
    }[var_x]
    if guard == "scale":
        loss = torch.where(var_e > 0, vx / var_e, 0.0) * num
    elif guard == "quotient":  # the where around the quotient: right value, nan gradient at var_e = 0
        loss = torch.where(var_e > 0, num / var_e, 0.0) * vx
    else:
        loss = num / var_e * vx
    return c * loss if coef else loss


def test_auxk_reference_is_the_library_loss():
    # The reference the check trusts equals sae.py's AuxK, value and gradients, for TopK and BatchTopK on random
    # data (several batches, dead masks, k_aux, one token) -- the normalised loss of Gao et al. 2024, App. A.2.
    for arch in ("topk", "batchtopk"):
        for seed, batch, n_dead, k_aux in [
            (0, 32, 5, 3),
            (1, 7, 12, 4),
            (2, 64, 2, 3),
            (3, 1, 6, 2),
            (4, 16, 1, 1),
        ]:
            torch.manual_seed(seed)
            sae = build_sae(SAEConfig(arch, d_in=8, d_sae=24, k=4, auxk_k=k_aux, auxk_coefficient=0.3))
            x = 3 * torch.randn(batch, 8) + 1
            dead = torch.zeros(24, dtype=torch.bool)
            dead[torch.randperm(24)[:n_dead]] = True
            out = sae(x)
            want = sae.loss(x, dead_mask=dead, out=out).aux
            want_grads = torch.autograd.grad(want, list(sae.parameters()), allow_unused=True)
            # the pre-activations with their graph (TopK's fused kernel returns them without one)
            pre = sae._center(x) @ sae.W_enc + sae.b_enc  # [batch, d_sae]
            assert torch.allclose(pre, out.pre_acts, atol=1e-5)
            got = gated_topk.auxk_loss_reference(x, pre, x - out.recon, sae.W_dec, dead, k_aux, 0.3)
            got_grads = torch.autograd.grad(got, list(sae.parameters()), allow_unused=True)
            assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), (arch, seed, got.item(), want.item())
            assert (float(want.detach()) > 0) == (batch > 1), (
                arch,
                seed,
            )  # one token: the residual has no variance
            for g, w in zip(got_grads, want_grads):
                g, w = (t if t is not None else torch.zeros(()) for t in (g, w))
                assert torch.isfinite(g).all() and torch.allclose(g, w, rtol=1e-4, atol=1e-6), (arch, seed)


@pytest.mark.parametrize(
    "kw, hint",
    [
        (dict(only_dead=False), r"among the \*dead\* latents only"),
        (dict(relu=False), "ReLU the chosen dead pre-activations"),
        (dict(coef=False), "Multiply by the coefficient"),
        (dict(detach=False), "Detach the residual"),
        (
            dict(norm_e=False, var_x=None, sq="token"),
            "Normalise the error by the residual's variance",
        ),  # before the fix
        (dict(var_x=None), "Multiply the normalised error by x's variance"),
        (dict(center_e=False), r"residual's variance is around its batch mean"),
        (dict(center_x=False), r"not \|\|x\|\|\^2"),
        (dict(var_x="sum"), "don't sum over it"),
        (dict(var_x="mean"), r"not \.mean\(\)"),
        (dict(sq="token"), "Sum the squared error over the same tokens"),
        (dict(sq="mean"), "Sum the squared error over the same elements"),
        (dict(guard="none"), "no variance"),
        (dict(guard="quotient"), "gradient is nan"),
    ],
)
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


@pytest.mark.parametrize("fn_name", ["topk_activation", "gated_encode", "gated_loss", "auxk_loss"])
def test_learner_notebook_stub_fails_its_check(fn_name):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if f"def {fn_name}" in c.source)
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(
            cell, {"torch": torch, "checks": checks}
        )  # the learner's cell as shipped: the check runs the stub
