"""saewidgets.sae and saewidgets.config: one interface for five architectures, exact math on hand-set
weights, straight-through-estimator gradients against their formulas, and config validation."""

import json
import math

import pytest
import torch
from torch import nn

from saewidgets.config import ARCHITECTURES, SAEConfig
from saewidgets.io import to_jumprelu
from saewidgets.matryoshka import MatryoshkaSAE
from saewidgets.sae import (
    MIN_THRESHOLD,
    BatchTopKSAE,
    GatedSAE,
    JumpReLUSAE,
    LossOutput,
    ReLUSAE,
    SAEOutput,
    TopKSAE,
    build_sae,
)
from saewidgets.ste import Heaviside, JumpReLUFn
from saewidgets.training import init_b_dec_

D_IN, D_SAE = 8, 32
CLASSES = {
    "relu": ReLUSAE,
    "gated": GatedSAE,
    "topk": TopKSAE,
    "batchtopk": BatchTopKSAE,
    "jumprelu": JumpReLUSAE,
    "matryoshka": MatryoshkaSAE,
}
BASE_KEYS = {"W_enc", "W_dec", "b_enc", "b_dec"}
STATE_KEYS = {
    "relu": BASE_KEYS,
    "gated": {"W_enc", "W_dec", "b_dec", "b_gate", "r_mag", "b_mag"},
    "topk": BASE_KEYS,
    "batchtopk": BASE_KEYS | {"threshold"},
    "jumprelu": BASE_KEYS | {"threshold"},
    "matryoshka": BASE_KEYS | {"threshold"},
}


def _num(t):
    """A scalar tensor's value as a Python number (without the autograd warning float() gives)."""
    return t.item()


def make_cfg(arch, d_in=D_IN, d_sae=D_SAE, **kw):
    kw.setdefault("k", min(4, d_sae))
    return SAEConfig(architecture=arch, d_in=d_in, d_sae=d_sae, **kw)


class LogThetaJumpReLU(JumpReLUSAE):
    """Notebook 05's JumpReLU that trains log(theta), as the paper's pseudo-code (App. J) does."""

    def __init__(self, cfg, seed=0):
        super().__init__(cfg, seed)
        self.log_threshold = nn.Parameter(self._parameters.pop("threshold").detach().log())  # [d_sae]

    threshold = property(lambda self: self.log_threshold.exp())  # [d_sae]


def handset(arch, cls=None, **kw):
    """A 2x2 SAE with W_enc = W_dec = identity and every other parameter 0: acts = sigma(x)."""
    cfg = make_cfg(arch, d_in=2, d_sae=2, **kw)
    sae = cls(cfg) if cls else build_sae(cfg)
    with torch.no_grad():
        for p in sae.parameters():
            p.zero_()
        sae.W_enc.copy_(torch.eye(2))
        sae.W_dec.copy_(torch.eye(2))
    return sae


# ---- one interface, every architecture ------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_interface(arch):
    torch.manual_seed(0)
    sae = build_sae(make_cfg(arch, pre_act_loss_coefficient=1e-3))
    assert type(sae) is CLASSES[arch] and sae.cfg.architecture == arch
    x = torch.randn(16, D_IN)
    out = sae(x)
    assert isinstance(out, SAEOutput)
    assert out.recon.shape == (16, D_IN) and out.acts.shape == out.pre_acts.shape == (16, D_SAE)
    assert torch.equal(sae.encode(x), out.acts)
    torch.testing.assert_close(sae.decode(out.acts), out.recon)

    dead = torch.zeros(D_SAE, dtype=torch.bool)
    dead[::2] = True
    losses = sae.loss(x, dead_mask=dead, out=out)
    assert isinstance(losses, LossOutput)
    assert all(t.shape == () and torch.isfinite(t) for t in losses)
    torch.testing.assert_close(losses.total, losses.mse + losses.sparsity + losses.aux)
    losses.total.backward()
    for name, p in sae.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert set(sae.state_dict()) == STATE_KEYS[arch]

    assert _num(sae.loss(x, sparsity_scale=0.0).sparsity) == 0.0
    no_dead = sae.loss(x)  # without a dead mask only gated (and matryoshka's inner prefixes) have an aux term
    assert (_num(no_dead.aux) > 0) == (arch in ("gated", "matryoshka"))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_init_dtype_and_tied_encoder(arch):
    sae = build_sae(make_cfg(arch, dtype="float64"))
    assert all(p.dtype == torch.float64 for p in sae.parameters())
    torch.testing.assert_close(sae.W_enc, sae.W_dec.T)  # W_enc = W_dec.T at init (Gao et al.)
    torch.testing.assert_close(sae.decoder_norms(), torch.full((D_SAE,), 0.1, dtype=torch.float64))
    assert not sae.b_dec.any()


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_any_leading_shape_equals_the_flattened_batch(arch):
    # [batch, pos, d_in] activations (a model's hook output) work like the [batch * pos, d_in] rows they hold
    sae = build_sae(make_cfg(arch, jumprelu_init_threshold=0.05))
    x = torch.randn(2, 3, D_IN, generator=torch.Generator().manual_seed(0))
    flat = x.reshape(6, D_IN)
    torch.testing.assert_close(sae.encode(x), sae.encode(flat).reshape(2, 3, D_SAE))
    out, ref = sae(x), sae(flat)
    for name, d in zip(SAEOutput._fields, (D_IN, D_SAE, D_SAE)):
        assert getattr(out, name).shape == (2, 3, d), name
        torch.testing.assert_close(getattr(out, name), getattr(ref, name).reshape(2, 3, d), msg=name)
    dead = torch.arange(D_SAE) % 2 == 0
    for a, b in zip(sae.loss(x, dead_mask=dead), sae.loss(flat, dead_mask=dead)):
        assert a.shape == () and torch.isfinite(a)
        torch.testing.assert_close(a, b)
    sae.loss(x, dead_mask=dead).total.backward()
    assert all(p.grad is not None for p in sae.parameters())


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_build_is_seeded_and_leaves_the_global_rng_alone(arch):
    cfg = make_cfg(arch)
    before = torch.get_rng_state()
    a, b, c = build_sae(cfg), build_sae(cfg, seed=0), build_sae(cfg, seed=1)
    d = CLASSES[arch](cfg, seed=1)
    assert torch.equal(torch.get_rng_state(), before)  # building draws from its own generator
    for name, t in a.state_dict().items():
        assert torch.equal(t, b.state_dict()[name])
        assert torch.equal(c.state_dict()[name], d.state_dict()[name])
    assert not torch.equal(a.W_dec, c.W_dec)


def test_constructor_checks_architecture():
    with pytest.raises(ValueError, match="build_sae"):
        ReLUSAE(make_cfg("topk"))


# ---- exact encodings on hand-set weights ----------------------------------------------------------------
def test_relu_exact():
    sae = handset("relu", l1_coefficient=0.5)
    out = sae(torch.tensor([[2.0, -1.0]]))
    assert out.acts.tolist() == [[2.0, 0.0]] and out.recon.tolist() == [[2.0, 0.0]]
    losses = sae.loss(torch.tensor([[2.0, -1.0]]))
    assert _num(losses.mse) == 1.0 and _num(losses.sparsity) == 1.0 and _num(losses.aux) == 0.0
    with torch.no_grad():
        sae.b_dec.copy_(torch.tensor([1.0, 1.0]))  # x is centred on b_dec before encoding
    out = sae(torch.tensor([[2.0, -1.0]]))
    assert out.pre_acts.tolist() == [[1.0, -2.0]] and out.recon.tolist() == [[2.0, 1.0]]


def test_topk_exact():
    out = handset("topk", k=1)(torch.tensor([[1.0, 3.0], [-1.0, -2.0]]))
    assert out.acts.tolist() == [[0.0, 3.0], [0.0, 0.0]]  # the max is kept, then ReLU'd (Gao et al.)


def test_topk_auxk_exact():
    sae = handset("topk", k=1, auxk_k=1)
    with torch.no_grad():
        sae.W_dec[1, 1] = 0.5
    # latent 0 fires on both tokens: residual e = [[0, 1], [0, .5]]; dead latent 1 reads x_1 and writes
    # [0, .5]: e_hat = [[0, .5], [0, .25]]. ||e_hat - e||^2 = .3125, ||e - mean(e)||^2 = .125 (the residual's
    # variance), ||x - mean(x)||^2 / batch = .3125 (x's variance per token, the unit of our mse).
    x = torch.tensor([[3.0, 1.0], [2.0, 0.5]])
    assert _num(sae.loss(x).aux) == 0.0
    dead = torch.tensor([False, True])
    aux = sae.loss(x, dead_mask=dead).aux
    assert math.isclose(_num(aux), (1 / 32) * (0.3125 / 0.125) * 0.3125, rel_tol=1e-6)  # Gao et al. App. A.2
    aux.backward()
    assert not sae.W_dec.grad[0].any() and sae.W_dec.grad[1].any()  # only the dead latent learns from AuxK


def test_auxk_is_normalised_by_the_residuals_variance():
    # A residual c times smaller that the dead latents predict just as well (e and e_hat both scaled by c, x
    # fixed) gets the same aux loss: its pull on dead latents does not fade as the reconstruction improves, as
    # an unnormalised ||e_hat - e||^2 would (by FVU, ~10x: Gao et al.'s aux MSE is normalised, App. A.2).
    torch.manual_seed(0)
    sae = build_sae(make_cfg("topk", auxk_k=6))
    dead = torch.arange(D_SAE) % 2 == 0
    x = torch.randn(64, D_IN)
    out = sae(x)
    e = x - out.recon.detach()  # [batch, d_in]
    aux = {}
    for c in (1.0, 0.1):
        with torch.no_grad():
            sae.W_dec[dead] *= c
        aux[c] = _num(sae._aux_loss(x, out._replace(recon=x - c * e), dead))
        with torch.no_grad():
            sae.W_dec[dead] /= c
    assert aux[1.0] > 0 and math.isclose(aux[0.1], aux[1.0], rel_tol=1e-4), aux
    # and it is in the mse's units (mse + aux = x's variance x the paper's loss): x and the SAE scaled by 3 ->
    # both x 9
    base = sae.loss(x, dead_mask=dead)
    with torch.no_grad():
        sae.W_dec.mul_(3.0)
        sae.W_enc.div_(3.0)
    scaled = sae.loss(3.0 * x, dead_mask=dead)
    for name in ("mse", "aux"):
        assert math.isclose(_num(getattr(scaled, name)), 9 * _num(getattr(base, name)), rel_tol=1e-4), name


def test_batchtopk_exact_and_threshold():
    sae = handset("batchtopk", k=1, batchtopk_threshold_lr=0.5)
    out = sae(torch.tensor([[3.0, 2.0], [1.0, 0.5]]))  # k * batch = 2 largest of the whole batch
    assert out.acts.tolist() == [[3.0, 2.0], [0.0, 0.0]]
    assert _num(sae.threshold) == 2.0  # the first estimate: the smallest kept activation
    sae(torch.tensor([[4.0, 0.0], [0.0, 3.0]]))
    assert _num(sae.threshold) == 2.5  # EMA: 2 + 0.5 * (3 - 2)
    sae.eval()
    out = sae(torch.tensor([[2.75, 1.5], [0.5, 3.0]]))  # inference: a global threshold, per token
    assert out.acts.tolist() == [[2.75, 0.0], [0.0, 3.0]]
    assert _num(sae.threshold) == 2.5


@pytest.mark.parametrize("theta_param", ["direct", "log"])
def test_jumprelu_exact(theta_param):
    cls = LogThetaJumpReLU if theta_param == "log" else None
    sae = handset("jumprelu", cls, l0_coefficient=0.5, pre_act_loss_coefficient=0.1)
    with torch.no_grad():
        if theta_param == "log":
            sae.log_threshold.copy_(torch.tensor([1.5, 0.5]).log())
        else:
            sae.threshold.copy_(torch.tensor([1.5, 0.5]))
    x = torch.tensor([[1.0, 1.0]])
    assert sae.encode(x).tolist() == [[0.0, 1.0]]
    assert sae.encode(torch.tensor([[2.0, 0.4]])).tolist() == [[2.0, 0.0]]
    losses = sae.loss(x, dead_mask=torch.tensor([True, False]))
    assert _num(losses.mse) == 1.0 and math.isclose(_num(losses.sparsity), 0.5)  # L0 = 1
    assert math.isclose(_num(losses.aux), 0.1 * 0.5, rel_tol=1e-6)  # relu(theta - z) = 0.5 on the dead latent


def test_jumprelu_sparsity_variants_exact():
    for mode, expected in [("tanh", 0.5 * math.tanh(4.0)), ("target_l0", 0.5 * (1 / 2 - 1) ** 2)]:
        sae = handset("jumprelu", jumprelu_sparsity=mode, target_l0=2.0, l0_coefficient=0.5)
        with torch.no_grad():
            sae.threshold.copy_(torch.tensor([1.5, 0.5]))
        assert math.isclose(_num(sae.loss(torch.tensor([[1.0, 1.0]])).sparsity), expected, rel_tol=1e-6), mode


def test_gated_exact():
    sae = handset("gated", l1_coefficient=0.5)
    with torch.no_grad():
        sae.b_gate.copy_(torch.tensor([0.0, -5.0]))
        sae.r_mag.copy_(torch.tensor([math.log(2.0), 0.0]))
        sae.b_mag.copy_(torch.tensor([1.0, 0.0]))
    x = torch.tensor([[1.0, 1.0]])
    out = sae(x)  # gate [1, -4] -> only latent 0 open; magnitude 2 * 1 + 1 = 3
    assert out.pre_acts.tolist() == [[1.0, -4.0]]
    torch.testing.assert_close(out.acts, torch.tensor([[3.0, 0.0]]))
    losses = sae.loss(x)
    torch.testing.assert_close(losses.mse, torch.tensor(5.0))  # (3 - 1)^2 + (0 - 1)^2
    torch.testing.assert_close(losses.sparsity, torch.tensor(0.5))  # 0.5 * relu(gate) . ||W_dec||
    torch.testing.assert_close(losses.aux, torch.tensor(1.0))  # gate path recon [1, 0] vs x


def test_gated_aux_loss_uses_a_frozen_decoder():
    torch.manual_seed(0)
    sae = build_sae(make_cfg("gated"))
    sae.loss(torch.randn(8, D_IN)).aux.backward()
    assert sae.W_dec.grad is None and sae.b_dec.grad is not None  # b_dec only via centring x, not the decoder
    assert sae.W_enc.grad.abs().sum() > 0 and sae.b_gate.grad.abs().sum() > 0


def test_gated_sparsity_penalty_cannot_shrink_the_decoder():
    # The decoder norms weight the gate's L1 as constants: with their gradient the penalty shrank the decoder
    # (the magnitude path undoes the scale through exp(r_mag)) and with it itself, leaving L0 ~450 of 1024 at
    # any l1.
    torch.manual_seed(0)
    sae = build_sae(SAEConfig("gated", d_in=8, d_sae=16, l1_coefficient=1.0))
    sae.loss(torch.randn(32, 8)).sparsity.backward()
    assert sae.W_dec.grad is None or float(sae.W_dec.grad.abs().sum()) == 0
    assert float(sae.W_enc.grad.abs().sum()) > 0 and float(sae.b_gate.grad.abs().sum()) > 0


# ---- straight-through estimators --------------------------------------------------------------------
EPS = 0.01
THETA = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
OFFSETS = torch.tensor(
    [[-0.3, 0.1, 0.45], [0.2, -0.7, 3.0], [-0.49, 0.0, -2.0], [0.3, 0.35, 0.05]], dtype=torch.float64
)  # (z - theta) / eps: inside and outside the window |.| < 1/2
UPSTREAM = torch.tensor(
    [[1.0, -2.0, 0.5], [0.7, 1.3, -1.1], [2.0, 0.4, 0.9], [-0.6, 1.5, 1.2]], dtype=torch.float64
)


def _ste_inputs():
    theta = THETA.clone().requires_grad_()
    z = (THETA + OFFSETS * EPS).requires_grad_()  # [batch=4, d_sae=3]
    return z, theta


def _finite_diff(f, theta, h=1e-6):
    """d f_i / d theta_i by central differences, f: [d_sae] -> [d_sae] with column i depending on theta_i."""
    return (f(theta + h) - f(theta - h)) / (2 * h)


def _smoothed_step(z, theta):
    """H(z - theta) convolved in theta with a width-eps rectangle: clamp((z - theta)/eps + 1/2, 0, 1)."""
    return ((z - theta) / EPS + 0.5).clamp(0, 1)


def test_heaviside_gradients():
    z, theta = _ste_inputs()
    (Heaviside.apply(z, theta, EPS) * UPSTREAM).sum().backward()
    inside = (OFFSETS.abs() < 0.5).double()
    torch.testing.assert_close(theta.grad, (-(1 / EPS) * inside * UPSTREAM).sum(0))  # -(1/eps) K(.)
    smoothed_fd = _finite_diff(lambda t: (_smoothed_step(z.detach(), t) * UPSTREAM).sum(0), THETA)
    torch.testing.assert_close(theta.grad, smoothed_fd)
    assert z.grad is None  # no gradient to z through the step


def test_jumprelu_fn_gradients():
    z, theta = _ste_inputs()
    out = JumpReLUFn.apply(z, theta, EPS)
    assert torch.equal(out, z.detach() * (OFFSETS > 0))
    (out * UPSTREAM).sum().backward()
    inside = (OFFSETS.abs() < 0.5).double()
    torch.testing.assert_close(theta.grad, (-(THETA / EPS) * inside * UPSTREAM).sum(0))  # -(theta/eps) K(.)
    torch.testing.assert_close(z.grad, (OFFSETS > 0).double() * UPSTREAM)  # ordinary JumpReLU gradient
    # The smoothed function z * H_eps(z - theta) has theta-derivative -(z/eps) K: the paper's estimator puts
    # theta where z is, so the two differ by exactly sum (z - theta)/eps * K * g -- at most eps / (2 theta)
    # relatively.
    zd = z.detach()
    smoothed_fd = _finite_diff(lambda t: (zd * _smoothed_step(zd, t) * UPSTREAM).sum(0), THETA)
    torch.testing.assert_close(theta.grad - smoothed_fd, (OFFSETS * inside * UPSTREAM).sum(0))
    assert ((theta.grad - smoothed_fd).abs() <= 0.5 * (inside * UPSTREAM.abs()).sum(0)).all()


def test_jumprelu_sae_threshold_gradient_comes_from_the_window():
    sae = handset("jumprelu", jumprelu_bandwidth=2.0, l0_coefficient=1.0)  # wide window to land in it
    with torch.no_grad():
        sae.threshold.copy_(torch.tensor([1.5, 3.0]))
    sae.loss(torch.tensor([[1.0, 1.0]])).sparsity.backward()
    # latent 0: (1 - 1.5)/2 = -0.25 inside -> -1/eps = -0.5; latent 1: (1 - 3)/2 = -1 outside -> 0
    assert sae.threshold.grad.tolist() == [-0.5, 0.0]
    assert sae.W_enc.grad is None and sae.b_enc.grad is None  # the L0 term trains theta only


def _theta_moved_by_adam(theta_param):
    cls = LogThetaJumpReLU if theta_param == "log" else JumpReLUSAE
    sae = cls(make_cfg("jumprelu", d_in=4, d_sae=4))  # theta = eps = 1e-3
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(4))  # b_enc = b_dec = 0 at init, so pre-acts = x
    x = torch.rand(4096, 4, generator=torch.Generator().manual_seed(0)) * 0.2  # pre-acts dense on [0, 0.2]
    param = sae.log_threshold if theta_param == "log" else sae.threshold
    opt = torch.optim.Adam([param], lr=1e-3)
    start = sae.threshold.detach().clone()
    for _ in range(100):
        opt.zero_grad()
        sae.loss(x).sparsity.backward()  # the L0 penalty pushes theta up
        opt.step()
    return _num((sae.threshold.detach() - start).mean())


@pytest.fixture
def one_thread():
    """200 steps on tiny tensors: a thread pool only adds overhead (seconds on a busy 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_log_theta_barely_moves_under_adam(one_thread):
    # Adam steps each parameter by ~lr: direct theta gains ~100 * 1e-3 = 0.1; log theta gains ~0.1 in log
    # space, i.e. theta goes 1e-3 -> 1e-3 * e^0.1, only ~1e-4 (SAELens PR #718).
    direct, log = _theta_moved_by_adam("direct"), _theta_moved_by_adam("log")
    assert 0.05 < direct < 0.12
    assert 0 < log < 1.2e-4
    assert direct > 400 * log


def test_after_step_keeps_theta_positive():
    sae = build_sae(make_cfg("jumprelu"))
    with torch.no_grad():
        sae.threshold[:3] = -1.0
    sae.after_step()
    assert _num(sae.threshold.min()) == pytest.approx(MIN_THRESHOLD)


# ---- BatchTopK -> JumpReLU export, decoder constraint, b_dec init ----------------------------------------
def test_batchtopk_exports_to_identical_jumprelu():
    torch.manual_seed(0)
    sae = build_sae(make_cfg("batchtopk", k=4))
    with pytest.raises(ValueError, match="threshold"):
        to_jumprelu(sae)
    with torch.no_grad():
        sae.b_enc.normal_(0, 0.05)
        for _ in range(10):
            sae(torch.randn(64, D_IN))  # training-mode passes estimate the threshold
    sae.eval()
    jump = to_jumprelu(sae)
    assert isinstance(jump, JumpReLUSAE) and not jump.training
    assert jump.threshold.shape == (D_SAE,) and jump.cfg.architecture == "jumprelu"
    x = torch.randn(256, D_IN)
    a, b = sae(x), jump(x)
    assert 0 < int((a.acts > 0).sum()) < a.acts.numel()
    for name in SAEOutput._fields:
        assert torch.equal(getattr(a, name), getattr(b, name)), name


def test_decoder_stays_unit_norm_with_gradient_projection():
    torch.manual_seed(0)
    sae = build_sae(make_cfg("relu", normalize_decoder=True))
    ones = torch.ones(D_SAE)
    torch.testing.assert_close(sae.decoder_norms(), ones)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    x = torch.randn(64, D_IN)
    for _ in range(3):
        opt.zero_grad()
        sae.loss(x).total.backward()
        sae.before_step()
        along = (sae.W_dec.grad * sae.W_dec.detach()).sum(1)  # [d_sae] gradient component along each row
        assert along.abs().max() < 1e-6 * sae.W_dec.grad.norm(dim=1).max() * 10  # zero up to float32 rounding
        opt.step()
        # Adam's per-coordinate scaling leaves the sphere
        assert (sae.decoder_norms().detach() - 1).abs().max() > 1e-5
        sae.after_step()
        torch.testing.assert_close(sae.decoder_norms(), ones)


def test_init_b_dec_geometric_median_and_mean():
    sae = build_sae(make_cfg("relu", d_in=2))
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    init_b_dec_(sae, x, n_iter=0)
    torch.testing.assert_close(sae.b_dec, torch.tensor([11 / 3, 0.0]))
    init_b_dec_(sae, x, n_iter=200)
    # the median, not the mean
    torch.testing.assert_close(sae.b_dec, torch.tensor([1.0, 0.0]), atol=1e-3, rtol=0)


# ---- config --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, field",
    [
        ({"d_sae": 0}, "d_sae"),
        ({"d_sae": 2.5}, "d_sae"),
        ({"d_in": -1}, "d_in"),
        ({"architecture": "topk", "k": 0}, "k"),
        ({"architecture": "batchtopk", "k": D_SAE + 1}, "k"),
        ({"l1_coefficient": -1.0}, "l1_coefficient"),
        ({"l0_coefficient": -0.1}, "l0_coefficient"),
        ({"auxk_coefficient": -1.0}, "auxk_coefficient"),
        ({"pre_act_loss_coefficient": -1e-6}, "pre_act_loss_coefficient"),
        ({"jumprelu_bandwidth": 0.0}, "jumprelu_bandwidth"),
        ({"jumprelu_bandwidth": -0.001}, "jumprelu_bandwidth"),
        ({"jumprelu_init_threshold": 0.0}, "jumprelu_init_threshold"),
        ({"jumprelu_sparsity": "l1"}, "jumprelu_sparsity"),
        ({"architecture": "jumprelu", "jumprelu_sparsity": "target_l0"}, "target_l0"),
        ({"auxk_k": 0}, "auxk_k"),
        ({"batchtopk_threshold_lr": 0.0}, "batchtopk_threshold_lr"),
        ({"normalize_decoder": "yes"}, "normalize_decoder"),
        ({"dtype": "float8"}, "dtype"),
    ],
)
def test_bad_config_values_name_the_field(kw, field):
    args = {"architecture": "relu", "d_in": D_IN, "d_sae": D_SAE, **kw}
    with pytest.raises(ValueError, match=rf"SAEConfig\.{field}\b"):
        SAEConfig(**args)


def test_unknown_architecture_lists_valid_ones():
    with pytest.raises(ValueError, match="SAEConfig.architecture") as info:
        SAEConfig(architecture="vanilla", d_in=4, d_sae=8)
    assert all(arch in str(info.value) for arch in ARCHITECTURES)


def test_k_is_only_checked_for_topk_architectures():
    assert SAEConfig(architecture="relu", d_in=4, d_sae=8).k > 8  # the default k is unused here


def test_config_round_trip_and_unknown_keys():
    cfg = make_cfg("jumprelu", jumprelu_sparsity="target_l0", target_l0=20.0, dtype="float64")
    assert SAEConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown keys.*'l1_coeff'"):
        SAEConfig.from_dict({**cfg.to_dict(), "l1_coeff": 1.0})
    with pytest.raises(ValueError, match="missing required keys.*'d_sae'"):
        SAEConfig.from_dict({"architecture": "relu", "d_in": 4})


def test_sparsity_knob():
    assert make_cfg("relu").sparsity_knob == "l1_coefficient"
    assert make_cfg("gated").sparsity_knob == "l1_coefficient"
    assert make_cfg("topk").sparsity_knob == make_cfg("batchtopk").sparsity_knob == "k"
    assert make_cfg("jumprelu").sparsity_knob == "l0_coefficient"
    assert make_cfg("jumprelu", jumprelu_sparsity="target_l0", target_l0=5.0).sparsity_knob == "target_l0"
