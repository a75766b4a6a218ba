"""metrics.py: hand-computable reconstruction cases, CE splicing on the bundled model; with toy.py's ground truth
and frontier.py's Pareto fronts (the tests moved with neither)."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from saewidgets.config import SAEConfig
from saewidgets.frontier import interpolate_at, pareto_front
from saewidgets.metrics import evaluate
from saewidgets.sae import build_sae
from saewidgets.toy import hungarian_mcc, mmcs, toy_superposition

HOOK = "blocks.1.hook_resid_post"


def signed_identity_sae(d_in, scale=1.0, dtype="float32"):
    """ReLU SAE with d_sae = 2 d_in, W_enc = [I, -I], W_dec = scale [I; -I]: relu(x) - relu(-x) = x, so
    x_hat = scale * x exactly, and each nonzero coordinate of x fires exactly one latent."""
    sae = build_sae(SAEConfig("relu", d_in=d_in, d_sae=2 * d_in, dtype=dtype))
    eye = torch.eye(d_in, dtype=sae.W_enc.dtype)
    with torch.no_grad():
        sae.W_enc.copy_(torch.cat([eye, -eye], dim=1))  # [d_in, 2 d_in]
        sae.W_dec.copy_(scale * torch.cat([eye, -eye], dim=0))  # [2 d_in, d_in]
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae


def zero_sae(d_in, b_dec=None):
    """An SAE whose reconstruction is the constant b_dec (default 0)."""
    sae = signed_identity_sae(d_in, scale=0.0)
    with torch.no_grad():
        sae.W_enc.zero_()  # and no latent ever fires
    if b_dec is not None:
        with torch.no_grad():
            sae.b_dec.copy_(torch.as_tensor(b_dec))
        sae.cfg.apply_b_dec_to_input = False
    return sae


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(500, 6, generator=g) * torch.tensor([1.0, 2, 3, 0.5, 1, 1]) + 3.0  # mean far from 0


# ------------------------------------------------------------------ reconstruction, hand-computable


def test_perfect_reconstruction(data):
    m = evaluate(signed_identity_sae(6), data)
    assert m["fvu"] == pytest.approx(0, abs=1e-10) and m["explained_variance"] == pytest.approx(1)
    assert m["mse"] == pytest.approx(0, abs=1e-10)
    for key in ("cossim", "l2_ratio", "relative_reconstruction_bias"):
        assert m[key] == pytest.approx(1, abs=1e-6), key
    assert m["l0"] == 6  # one of the +/- pair per nonzero coordinate
    assert m["n_tokens"] == 500 and m["d_sae"] == 12
    json.dumps(m)  # plain Python types only


def test_fvu_is_relative_to_the_mean_not_zero(data):
    x = data.double().numpy()
    total_var = ((x - x.mean(0)) ** 2).sum()
    # Predicting the dataset mean explains nothing: fvu 1 exactly.
    m = evaluate(zero_sae(6, b_dec=data.mean(0)), data)
    assert m["fvu"] == pytest.approx(1, rel=1e-6) and m["explained_variance"] == pytest.approx(0, abs=1e-6)
    # A zero reconstruction is *worse* than the mean when the data are offset (SAELens #665 reported 1 here).
    m = evaluate(zero_sae(6), data)
    assert m["fvu"] == pytest.approx((x**2).sum() / total_var, rel=1e-6)
    assert m["fvu"] > 2
    assert m["mse"] == pytest.approx((x**2).sum(1).mean(), rel=1e-6)
    assert m["cossim"] == 0 and m["l2_ratio"] == 0 and m["l0"] == 0 and m["dead_fraction"] == 1


def test_shrunk_reconstruction(data):
    x = data.double().numpy()
    m = evaluate(signed_identity_sae(6, scale=0.5), data)
    assert m["l2_ratio"] == pytest.approx(0.5, rel=1e-6)
    assert m["relative_reconstruction_bias"] == pytest.approx(0.5, rel=1e-6)  # 0.25 E|x|^2 / 0.5 E|x|^2
    assert m["cossim"] == pytest.approx(1, abs=1e-6)
    assert m["mse"] == pytest.approx(0.25 * (x**2).sum(1).mean(), rel=1e-6)
    assert m["fvu"] == pytest.approx(0.25 * (x**2).sum() / ((x - x.mean(0)) ** 2).sum(), rel=1e-6)


def test_batching_and_token_count_do_not_change_the_numbers(data):
    sae = signed_identity_sae(6, scale=0.7)
    a = evaluate(sae, data, batch_size=4096)
    b = evaluate(sae, data, batch_size=7)  # merged running variance, uneven last batch
    c = evaluate(sae, torch.cat([data, data]))  # SAELens #711: MSE must not scale with the token count
    for key in ("mse", "fvu", "cossim", "l2_ratio", "relative_reconstruction_bias", "l0"):
        assert b[key] == pytest.approx(a[key], rel=1e-9) and c[key] == pytest.approx(a[key], rel=1e-9), key
    assert evaluate(sae, data, n_tokens=100)["mse"] == pytest.approx(evaluate(sae, data[:100])["mse"])


def test_l0_dead_dense_on_a_hand_built_pattern():
    x = torch.zeros(10, 3)
    x[:, 0] = 1.0  # latent 0 fires on every token, latent 3 (its negative twin) never
    x[0, 1] = 1.0  # latent 1 fires on 1/10, latent 4 never
    x[3:5, 2] = -1.0  # latent 5 fires on 2/10, latent 2 never
    m = evaluate(signed_identity_sae(3), x)
    assert m["density"] == pytest.approx([1.0, 0.1, 0.0, 0.0, 0.0, 0.2])
    assert m["l0"] == pytest.approx(1.3)
    assert m["dead_fraction"] == pytest.approx(3 / 6) and m["n_dead"] == 3
    assert m["dense_fraction"] == pytest.approx(2 / 6)  # 1.0 and 0.2 are > 0.1; exactly 0.1 is not
    assert evaluate(signed_identity_sae(3), x, dead_threshold=0.15)["n_dead"] == 4
    assert evaluate(signed_identity_sae(3), x, dense_threshold=0.05)["n_dense"] == 3
    hist = m["log10_density_hist"]
    assert len(hist["edges"]) == len(hist["counts"]) + 1 and sum(hist["counts"]) == 6
    assert hist["counts"][0] == 3 and hist["counts"][-1] == 1  # dead at -10, always-on at 0


def test_histogram_counts_sum_to_d_sae(data):
    sae = build_sae(SAEConfig("relu", d_in=6, d_sae=40))
    m = evaluate(sae, data)
    assert sum(m["log10_density_hist"]["counts"]) == 40 and len(m["density"]) == 40


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs(data):
    sae = signed_identity_sae(8)
    with pytest.raises(ValueError, match=r"d_in=8.*d_in=6"):
        evaluate(sae, data)
    bad = torch.randn(20, 8)
    bad[0, 0], bad[3, 2], bad[5, 7], bad[9, 1] = float("nan"), float("nan"), float("inf"), -float("inf")
    with pytest.raises(ValueError, match="4 NaN/inf"):
        evaluate(sae, bad, batch_size=4)
    with pytest.raises(ValueError, match="empty"):
        evaluate(sae, torch.empty(0, 8))
    with pytest.raises(ValueError, match="2-D"):
        evaluate(sae, torch.randn(8))
    with pytest.raises(ValueError, match="model \\+ texts \\+ hook"):
        evaluate(sae)


# ------------------------------------------------------------------ CE metrics on the bundled model


@pytest.fixture(scope="module")
def ce_setup(model, corpus):
    from saewidgets import harvest

    texts = [d.text for d in corpus][:8]  # one CE batch: three forward passes per evaluate
    acts = harvest(model, texts, HOOK)
    d = acts.d_in
    perfect = evaluate(signed_identity_sae(d), acts, model=model)  # texts and hook come from acts
    zero = evaluate(zero_sae(d), acts, model=model, texts=texts, hook=HOOK)
    return texts, perfect, zero


def test_ce_perfect_sae_changes_nothing(ce_setup):
    _, m, _ = ce_setup
    assert abs(m["delta_ce"]) < 1e-4 and m["kl"] < 1e-6
    assert m["ce_loss_score"] == pytest.approx(1, abs=1e-4)
    assert m["ce_zero_ablation"] > m["ce_clean"] + 0.5 and m["kl_zero_ablation"] > 0.1
    assert m["fvu"] == pytest.approx(0, abs=1e-10)
    json.dumps(m)


def test_ce_zero_sae_scores_zero(ce_setup):
    _, _, m = ce_setup
    assert m["ce_sae"] == pytest.approx(m["ce_zero_ablation"], abs=1e-6)
    assert m["ce_loss_score"] == pytest.approx(0, abs=1e-4) and m["kl_score"] == pytest.approx(0, abs=1e-4)


def test_ce_clean_matches_a_direct_computation(model, ce_setup):
    texts, m, _ = ce_setup
    tok = model.tokenizer
    total, count = 0.0, 0
    with torch.no_grad():
        for text in texts:  # one unpadded document at a time
            ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
            logits = model(ids)[0].double()  # [pos, vocab]
            # predictions made from document tokens (not from BOS) of the next document token
            total += float(F.cross_entropy(logits[1:-1], ids[0, 2:], reduction="sum"))
            count += ids.shape[1] - 2
    assert m["n_ce_tokens"] == count
    assert m["ce_clean"] == pytest.approx(total / count, rel=1e-5)


def test_evaluate_harvests_when_given_only_model_texts_hook(model, ce_setup):
    texts = ce_setup[0][:4]
    sae = signed_identity_sae(model.cfg.d_model, scale=0.5)
    m = evaluate(sae, model=model, texts=texts, hook=HOOK)
    assert m["l2_ratio"] == pytest.approx(0.5, rel=1e-5) and m["ce_sae"] > m["ce_clean"]
    assert 0 < m["ce_loss_score"] < 1
    with pytest.raises(ValueError, match="empty"):
        evaluate(sae, torch.randn(5, model.cfg.d_model), model=model, texts=[], hook=HOOK)
    with pytest.raises(ValueError, match="texts and hook"):
        evaluate(sae, torch.randn(5, model.cfg.d_model), model=model)  # a bare tensor carries neither
    with pytest.raises(ValueError, match="not in this model"):
        evaluate(sae, torch.randn(5, model.cfg.d_model), model=model, texts=texts, hook="blocks.1.nope")


# ------------------------------------------------------------------ ground truth


def test_toy_superposition_shapes_and_sparsity():
    x, acts, dirs = toy_superposition(4000, n_features=20, d=5, p_active=0.1, seed=1)
    assert x.shape == (4000, 5) and acts.shape == (4000, 20) and dirs.shape == (20, 5)
    assert torch.allclose(dirs.norm(dim=1), torch.ones(20))
    assert torch.allclose(x, acts @ dirs)
    assert (acts >= 0).all() and (acts <= 1).all()
    assert (acts > 0).float().mean() == pytest.approx(0.1, abs=0.01)
    assert torch.equal(toy_superposition(50, 20, 5, seed=1).x, toy_superposition(50, 20, 5, seed=1).x)
    assert not torch.equal(toy_superposition(50, 20, 5, seed=1).x, toy_superposition(50, 20, 5, seed=2).x)
    with pytest.raises(ValueError):
        toy_superposition(10, 20, 5, p_active=0)


def test_mmcs():
    dirs = toy_superposition(1, n_features=32, d=64, seed=0).true_dirs
    assert mmcs(dirs, dirs) == pytest.approx(1)
    assert mmcs(torch.cat([3 * dirs, torch.randn(10, 64)]), dirs) == pytest.approx(1)  # scale, extras ignored
    assert mmcs(torch.randn(32, 64, generator=torch.Generator().manual_seed(5)), dirs) < 0.5
    assert mmcs(dirs.numpy(), dirs) == pytest.approx(1)  # numpy works too
    with pytest.raises(ValueError, match="d=3"):
        mmcs(torch.randn(4, 3), dirs)


def test_hungarian_mcc():
    acts = toy_superposition(2000, n_features=10, d=4, p_active=0.2, seed=0).true_acts
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    assert hungarian_mcc(2.0 * acts[:, perm] + 1.0, acts) == pytest.approx(1)  # permuted, rescaled copy
    assert hungarian_mcc(acts[:, :5], acts) == pytest.approx(0.5)  # half the features have no latent
    noise = torch.rand(2000, 10, generator=torch.Generator().manual_seed(3))
    assert abs(hungarian_mcc(noise, acts)) < 0.15
    assert hungarian_mcc(torch.zeros(2000, 10), acts) == 0  # constant latents correlate 0, not NaN
    with pytest.raises(ValueError, match="samples"):
        hungarian_mcc(acts[:10], acts)


# ------------------------------------------------------------------ frontiers


def test_pareto_front():
    pts = [
        {"l0": 3, "fvu": 0.4},
        {"l0": 1, "fvu": 0.5},
        {"l0": 2, "fvu": 0.3},
        {"l0": 0.5, "fvu": 0.9},
        {"l0": 4, "fvu": 0.1},
        {"l0": 4, "fvu": 0.2},
        {"l0": 5, "fvu": math.nan},
    ]
    assert pareto_front(pts) == [3, 1, 2, 4]  # 0 is dominated by 2, 5 by 4; NaN left out
    assert pareto_front(pts, x_key="fvu", y_key="l0") == [4, 2, 1, 3]
    assert pareto_front([]) == []


def test_interpolate_at():
    pts = [{"l0": 100, "fvu": 0.2}, {"l0": 10, "fvu": 0.4}, {"l0": 10, "fvu": 0.6}]  # duplicate x averaged
    assert interpolate_at(pts, "l0", "fvu", 10) == pytest.approx(0.5)
    assert interpolate_at(pts, "l0", "fvu", math.sqrt(1000)) == pytest.approx(0.35)  # halfway in log x
    assert interpolate_at(pts, "l0", "fvu", 100) == pytest.approx(0.2)
    assert math.isnan(interpolate_at(pts, "l0", "fvu", 5)) and math.isnan(
        interpolate_at(pts, "l0", "fvu", 200)
    )
    with pytest.raises(ValueError):
        interpolate_at(pts, "l0", "fvu", 0)
    assert np.isfinite(interpolate_at([{"l0": 3, "fvu": 1.0}], "l0", "fvu", 3))


def test_cached_activations_give_the_same_numbers(model, ce_setup, tmp_path):
    from saewidgets import harvest

    texts = ce_setup[0][:4]
    sae = signed_identity_sae(model.cfg.d_model, scale=0.5)
    in_memory = evaluate(sae, harvest(model, texts, HOOK))
    cached = evaluate(
        sae, harvest(model, texts, HOOK, cache_dir=tmp_path / "cache", shard_tokens=50), batch_size=64
    )
    for key in ("n_tokens", "mse", "fvu", "l0", "l2_ratio", "relative_reconstruction_bias"):
        assert cached[key] == pytest.approx(in_memory[key], rel=1e-9), key
