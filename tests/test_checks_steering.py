"""The steering exercise check (notebook 08): passes on the reference, names each typical mistake."""

from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import checks
from saewidgets.steering import steering_hook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _unit(d):
    return d / d.norm()


def _body(resid):
    mask = torch.ones_like(resid)
    mask[:, :1] = 0.0 if resid.shape[1] > 1 else 1.0
    return mask


def test_check_passes_on_the_reference_and_on_an_in_place_hook(capsys):
    def in_place(resid, direction, strength):  # the way many people write a hook
        start = 1 if resid.shape[1] > 1 else 0
        resid[:, start:] += strength * direction / direction.norm()
        return resid

    checks.check_steer(checks.steer_reference)
    checks.check_steer(in_place)
    assert capsys.readouterr().out.count("✓") == 2


def test_the_reference_is_the_librarys_add_mode_with_a_unit_decoder_row():
    """steer(resid, W_dec[i], alpha * m_i * ||W_dec[i]||) is steering_hook's add mode for latent i."""
    g = torch.Generator().manual_seed(3)
    W_dec = torch.randn(6, 8, generator=g) * 3  # [d_sae, d]: rows of any norm, as a trained SAE has

    class Rows:
        def __init__(self, W):
            self.W_dec = W

    resid = torch.randn(2, 7, 8, generator=g)
    units = torch.rand(6, generator=g) + 0.5
    want = steering_hook(Rows(W_dec), {4: -1.5}, mode="add", units=units)(resid)
    got = checks.steer_reference(resid, W_dec[4], -1.5 * units[4] * W_dec[4].norm())
    torch.testing.assert_close(got, want)
    assert torch.equal(got[:, 0], resid[:, 0])  # BOS untouched


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, d, s: r + s * d * _body(r), "Normalise the direction"),
        (lambda r, d, s: r + s * _unit(d), "Leave position 0 alone"),
        (lambda r, d, s: torch.cat([r[:, :-1], r[:, -1:] + s * _unit(d)], 1), "not only the last one"),
        (lambda r, d, s: r * s * _unit(d), "don't multiply"),
        (lambda r, d, s: r * s, "don't scale the residual"),
        (lambda r, d, s: r - s * _unit(d) * _body(r), "Wrong sign"),
        (lambda r, d, s: r + s * d / d.norm() ** 2 * _body(r), "not by its squared norm"),
        (lambda r, d, s: r + _unit(d) * _body(r), "by `strength`"),
        (lambda r, d, s: (r + s * _unit(d))[:, 1:], "input's shape"),
        (lambda r, d, s: (r + s * _unit(d)).reshape(-1, r.shape[-1]), "input's shape"),
        (lambda r, d, s: None, "Return the steered"),
        (
            lambda r, d, s: torch.cat([r[:, :1], r[:, 1:] + s * _unit(d)], 1),
            "KV cache",
        ),  # skips the only position
        (lambda r, d, s: r + 0.5 * s * _unit(d) * _body(r), "values differ"),
    ],
)
def test_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_steer(wrong)


def test_learner_notebook_stub_fails_its_check():
    nb = nbformat.read(str(NOTEBOOKS / "08_steering.ipynb"), as_version=4)
    cell = next(c.source for c in nb.cells if "def steer(" in c.source)
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(
            cell, {"torch": torch, "checks": checks}
        )  # the learner's cell as shipped: the check runs the stub
