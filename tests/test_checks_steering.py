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


# ---- the slider task: the first strength at which the steered text shows the concept ----

from saewidgets.checks import steering as sc  # noqa: E402


@pytest.fixture
def fake_generation(monkeypatch):
    """Steered text as a function of the strength: sea words from 1.2 on, nothing at 1.3, then again from 1.4;
    the seed matters (another seed never shows the sea). Stands in for the model; records every call."""
    calls = []

    def steered(alpha, model, sae, hook, latent, units, prompt, **sampling):
        calls.append((round(alpha, 6), sampling))
        if sampling["seed"] != 0:
            return " the cat sat on the mat."
        if 1.2 - 1e-9 <= alpha < 1.3 - 1e-9 or alpha >= 1.4 - 1e-9:
            return " the waves rolled onto the Shore."
        return " the cat sat on the mat."

    monkeypatch.setattr(sc, "_steered_text", steered)
    return calls


ARGS = dict(model=None, sae=None, hook="h", latent=3, units=None, words={"waves", "shore"}, prompt="Once")


@pytest.mark.parametrize("alpha", [1.2, 1.4, 1.5])  # the first step, and up to ONSET_TOLERANCE above it
def test_steering_onset_accepts_the_first_strength(fake_generation, capsys, alpha):
    checks.check_steering_onset(alpha, **ARGS, concept="sea")
    out = capsys.readouterr().out
    assert "✓" in out and "first slider step is 1.2" in out and "shore, waves" in out
    assert all(s == dict(seed=0, temperature=0.8, max_new_tokens=40, mode="add") for _, s in fake_generation)


def test_steering_onset_reference_scans_the_slider_steps(fake_generation):
    assert checks.steering_onset_reference(**ARGS, seed=0) == 1.2
    assert [a for a, _ in fake_generation] == [round(0.1 * n, 6) for n in range(13)]
    assert checks.steering_onset_reference(**ARGS, seed=1) is None


@pytest.mark.parametrize(
    "alpha, hint",
    [
        (1.0, "no sea word yet"),
        (1.3, "no sea word yet"),  # between two onsets: this very text has none
        (3.0, "already shows at α = 1.2"),
        (-2.0, "pushes away"),
        (float("nan"), "pushes away"),
        (6.0, "off its scale"),
        ("1.2", "as a number"),
        (None, "as a number"),
    ],
)
def test_steering_onset_check_names_the_mistake(fake_generation, alpha, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_steering_onset(alpha, **ARGS, concept="sea")


def test_steering_onset_uses_the_panels_seed(fake_generation):
    with pytest.raises(checks.ExerciseError, match="no sea word yet"):
        checks.check_steering_onset(1.2, **ARGS, seed=1, concept="sea")


def test_steering_onset_refuses_a_prompt_that_already_shows_the_concept(monkeypatch):
    monkeypatch.setattr(sc, "_steered_text", lambda *a, **k: " the sea")
    with pytest.raises(ValueError, match="already holds a sea word"):
        checks.check_steering_onset(0.5, **{**ARGS, "words": {"sea"}}, concept="sea")


def test_steered_text_is_the_panels_steered_text(model, sea_sae):
    """The check generates exactly what the SteeringPanel shows for one latent (same seed), minus the prompt."""
    from saewidgets.widgets.steering_panel import SteeringPanel

    hook = "blocks.3.hook_resid_post"
    panel = SteeringPanel(model, sea_sae, hook, [0], labels=["sea"], max_new_tokens=12, seed=1)
    panel.strengths = [4.0]
    kw = dict(seed=1, temperature=panel.temperature, max_new_tokens=12, mode="add")
    mine = sc._steered_text(4.0, model, sea_sae, hook, 0, None, panel.prompt, **kw)
    assert panel.steered == panel.prompt + mine and mine.strip()


def test_learner_notebook_slider_task_is_a_stub():
    nb = nbformat.read(str(NOTEBOOKS / "08_steering.ipynb"), as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "check_steering_onset(" in c.source)
    panel = type("Panel", (), dict(seed=0, temperature=0.8, max_new_tokens=40, mode="add", prompt="Once"))
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, {"checks": checks, "panel": panel})
