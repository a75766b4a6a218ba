"""Notebook 02's splice-hook check: it passes on the reference and on the library's own splice, and names each
typical mistake."""

import pytest
import torch

from saewidgets import checks, load_model, metrics
from saewidgets.checks import splice


def test_check_passes_on_the_reference(capsys):
    checks.check_splice_hook(checks.splice_hook_reference)
    assert capsys.readouterr().out.count("✓") == 1


def _right(x, hook, sae, scale):  # a learner's correct answer, written differently from the reference
    out = x.clone()
    body = x[:, 1:].float() * scale  # [batch, pos - 1, d_in]
    out[:, 1:] = (sae.decode(sae.encode(body)) / scale).to(x.dtype)
    return out


def test_check_passes_on_another_correct_answer(capsys):
    checks.check_splice_hook(_right)
    assert "✓" in capsys.readouterr().out


def test_reference_is_what_evaluate_splices(monkeypatch):
    """At scale 1 the reference is metrics._downstream's own splice (BOS kept, the rest reconstructed)."""
    model = load_model("storyteller", device="cpu")
    sae = splice._sae(d_in=model.cfg.d_model, d_sae=32)
    seen = {}
    run = model.run_with_hooks

    def spy_run(tokens, fwd_hooks):  # records what the library's hooks see and return
        ((name, fn),) = fwd_hooks

        def spy(x, hook):
            out = fn(x, hook)
            seen.setdefault(fn.__name__, (x.clone(), out.clone()))
            return out

        return run(tokens, fwd_hooks=[(name, spy)])

    monkeypatch.setattr(model, "run_with_hooks", spy_run)
    texts = ["Once upon a time there was a dragon.", "Tom was sad."]
    metrics._downstream(sae, model, texts, "blocks.1.hook_resid_post", 8)
    x, theirs = seen["splice"]  # [2, pos, d_in] each
    with torch.no_grad():
        assert torch.allclose(splice.splice_hook_reference(x, None, sae, 1.0), theirs, atol=1e-6)
        assert not torch.allclose(x[:, 1:], theirs[:, 1:])  # the SAE did change the activation


def _recon(x, sae, scale=2.5):
    return sae(x * scale).recon / scale


def _in_place_none(x, hook, sae, scale):
    x[:, 1:] = _recon(x[:, 1:], sae, scale)


def _last_only(x, hook, sae, scale):
    out = x.clone()
    out[:, -1] = _recon(x[:, -1], sae, scale)
    return out


def _expanded_matmul(x, hook, sae, scale):  # right in float32; bf16 @ float32 raises
    pre = (x[:, 1:] * scale) @ sae.W_enc - sae.b_dec @ sae.W_enc + sae.b_enc  # [batch, pos - 1, d_sae]
    return torch.cat([x[:, :1], sae.decode(torch.relu(pre)) / scale], 1)


def _keep_float32(x, hook, sae, scale):
    return torch.cat([x[:, :1].float(), _recon(x[:, 1:].float(), sae, scale)], 1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, hook, sae, s: x, "unchanged"),
        (lambda x, hook, sae, s: None, "returned None. TransformerLens then keeps the original"),
        (_in_place_none, "in place and returned None"),
        (lambda x, hook, sae, s: _recon(x, sae, s), "BOS"),
        (_last_only, "not only the last one"),
        (lambda x, hook, sae, s: torch.cat([x[:, :1], sae(x[:, 1:]).recon], 1), "multiply x by scale"),
        (lambda x, hook, sae, s: torch.cat([x[:, :1], sae(x[:, 1:] * s).recon], 1), "back to the raw scale"),
        (lambda x, hook, sae, s: torch.cat([x[:, :1], sae(x[:, 1:] / s).recon * s], 1), "other way round"),
        (lambda x, hook, sae, s: sae(x[:, 1:] * s), "not the whole SAEOutput"),
        (lambda x, hook, sae, s: sae(x * s).acts, "latents"),
        (
            lambda x, hook, sae, s: torch.cat([x[:, :1], sae(x[:, 1:] * s).acts @ sae.W_dec / s], 1),
            "decoder bias",
        ),
        (_expanded_matmul, "fails on a bfloat16"),
        (_keep_float32, "returned torch.float32"),
        (lambda x, hook, sae, s: x * 0, "values differ"),
    ],
)
def test_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_splice_hook(wrong)
