"""saewidgets.matryoshka: the nested loss on hand-set weights, the config's prefix sizes, SAELens's training
layout, and the point of it all: after equal training a Matryoshka SAE's first latents reconstruct alone far
better than a BatchTopK SAE's (the shared interface, round trips and bf16 run in the parametrised tests of
test_sae.py, test_io.py, test_training.py and test_bf16.py)."""

import json

import pytest
import torch
from safetensors.torch import save_file

import saewidgets
from saewidgets.config import SAEConfig
from saewidgets.io import load_sae, save_sae
from saewidgets.matryoshka import MatryoshkaSAE, build_sae, prefix_fvu
from saewidgets.sae import BatchTopKSAE, auxk_loss
from saewidgets.toy import toy_superposition
from saewidgets.training import train


def cfg(**kw):
    return SAEConfig("matryoshka", **({"d_in": 4, "d_sae": 8, "k": 2} | kw))


# ---- config -----------------------------------------------------------------------------------------------
def test_prefixes_default_to_doubling_and_round_trip():
    assert SAEConfig("matryoshka", d_in=8, d_sae=64).matryoshka_prefixes == (8, 16, 32, 64)
    assert SAEConfig("matryoshka", d_in=8, d_sae=4, k=1).matryoshka_prefixes == (1, 2, 4)
    assert SAEConfig("matryoshka", d_in=8, d_sae=1, k=1).matryoshka_prefixes == (1,)
    c = cfg(matryoshka_widths=[2, 8])  # cfg.json gives a list: kept as a tuple, so loaded == saved
    assert c.matryoshka_widths == c.matryoshka_prefixes == (2, 8)
    assert SAEConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.sparsity_knob == "k"


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"matryoshka_widths": (4, 2, 8)}, "strictly increasing"),
        ({"matryoshka_widths": (2, 2, 8)}, "strictly increasing"),
        ({"matryoshka_widths": (2, 4)}, "end at d_sae=8"),
        ({"matryoshka_widths": ()}, "non-empty"),
        ({"matryoshka_widths": (0, 8)}, "integers > 0"),
        ({"matryoshka_widths": (2.5, 8)}, "integers > 0"),
        ({"matryoshka_widths": 8}, "non-empty"),
        ({"k": 9}, "k must be in 1..d_sae=8"),
        ({"k": 0}, "k must be an integer > 0"),
    ],
)
def test_config_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        cfg(**kw)


# ---- the loss on hand-set weights -------------------------------------------------------------------------
def test_loss_sums_one_reconstruction_error_per_prefix():
    torch.manual_seed(0)
    sae = build_sae(cfg(matryoshka_widths=(2, 5, 8)))
    assert type(sae) is MatryoshkaSAE and isinstance(sae, BatchTopKSAE)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn_like(p))
    x = torch.randn(16, 4)
    out = sae(x)
    naive = {
        m: (x - (out.acts[:, :m] @ sae.W_dec[:m] + sae.b_dec)).pow(2).sum(-1).mean() for m in (2, 5, 8)
    }  # the paper's sum_m ||x - f(x)[:m] W_dec[:m] - b_dec||^2, one prefix at a time
    got = sae.prefix_mse(x, out)
    assert list(got) == [2, 5, 8]
    for m in got:
        torch.testing.assert_close(got[m], naive[m])
        torch.testing.assert_close(
            sae.decode_prefix(out.acts, m), out.acts[:, :m] @ sae.W_dec[:m] + sae.b_dec
        )
    dead = torch.tensor([True, False] * 4)
    losses = sae.loss(x, dead_mask=dead, out=out)
    outer = torch.autograd.grad(naive[8] + auxk_loss(sae, x, out, dead), sae.W_dec, retain_graph=True)[0]
    torch.testing.assert_close(losses.mse, naive[8])  # the whole dictionary, as for every architecture
    torch.testing.assert_close(losses.aux, naive[2] + naive[5] + auxk_loss(sae, x, out, dead))
    torch.testing.assert_close(losses.total, naive[2] + naive[5] + naive[8] + auxk_loss(sae, x, out, dead))
    # The inner prefixes' errors reach only their own latents: latent 7 (outer doll only) gets the same
    # decoder gradient as from the outer error alone
    losses.total.backward()
    torch.testing.assert_close(sae.W_dec.grad[5:], outer[5:])
    assert not torch.allclose(sae.W_dec.grad[:2], outer[:2])


def test_one_prefix_is_batchtopk():
    # widths (d_sae,): no inner doll, the same SAE and the same loss as BatchTopK (SAELens warns about this)
    mat = build_sae(cfg(matryoshka_widths=(8,)))
    btk = build_sae(SAEConfig("batchtopk", d_in=4, d_sae=8, k=2))
    x, dead = torch.randn(16, 4), torch.tensor([True, False] * 4)
    for a, b in zip(mat.loss(x, dead_mask=dead), btk.loss(x, dead_mask=dead)):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(mat.threshold, btk.threshold)  # the same EMA ran in both training forwards


def test_build_sae_facade_registers_it():
    assert saewidgets.build_sae is build_sae
    assert type(saewidgets.build_sae(cfg())) is MatryoshkaSAE


# ---- files ------------------------------------------------------------------------------------------------
def _trained_small():
    sae = build_sae(cfg(matryoshka_widths=(2, 4, 8)), seed=1)
    sae.train()
    sae(torch.randn(64, 4, generator=torch.Generator().manual_seed(0)))  # estimates the threshold
    return sae.eval()


def test_saved_as_saelens_jumprelu_and_loaded_back(tmp_path):
    sae = _trained_small()
    save_sae(sae, tmp_path / "m")
    raw = json.loads((tmp_path / "m" / "cfg.json").read_text())
    assert raw["architecture"] == "jumprelu"  # how SAELens saves MatryoshkaBatchTopK for inference
    assert raw["metadata"]["training_architecture"] == "matryoshka_batchtopk"
    assert raw["saewidgets"]["config"]["matryoshka_widths"] == [2, 4, 8]
    loaded = load_sae(tmp_path / "m")
    assert type(loaded) is MatryoshkaSAE and loaded.cfg == sae.cfg
    assert torch.equal(loaded.threshold, sae.threshold) and float(sae.threshold) > 0


def test_reads_a_saelens_training_checkpoint(tmp_path):
    # SAELens's MatryoshkaBatchTopKTrainingSAE.save_model: architecture "matryoshka_batchtopk", k and
    # matryoshka_widths in cfg.json, a float64 topk_threshold, and (its default) rescale_acts_by_decoder_norm
    ref = _trained_small()
    with torch.no_grad():  # unit rows, so the file's decoder rows have exactly the norms below
        ref.W_dec /= ref.W_dec.norm(dim=1, keepdim=True)
    gen = torch.Generator().manual_seed(2)
    norms = (
        torch.rand(8, generator=gen) + 0.5
    )  # [d_sae]; SAELens encodes with pre * norms, decodes acts / norms
    tensors = {
        "W_enc": ref.W_enc.detach() / norms,
        "b_enc": ref.b_enc.detach() / norms,
        "W_dec": ref.W_dec.detach() * norms[:, None],
        "b_dec": ref.b_dec.detach(),
        "topk_threshold": ref.threshold.detach().double(),
    }
    folder = tmp_path / "sl"
    folder.mkdir()
    save_file(tensors, str(folder / "sae_weights.safetensors"))
    raw = {"architecture": "matryoshka_batchtopk", "d_in": 4, "d_sae": 8, "k": 2.0, "dtype": "float32"}
    raw |= {
        "matryoshka_widths": [2, 4],
        "rescale_acts_by_decoder_norm": True,
        "metadata": {"sae_lens_version": "6.18.0"},
    }
    (folder / "cfg.json").write_text(json.dumps(raw))  # widths stop short of d_sae: SAELens appends 8
    sae = load_sae(folder)
    assert type(sae) is MatryoshkaSAE and sae.cfg.matryoshka_widths == (2, 4, 8) and sae.cfg.k == 2
    x = torch.randn(32, 4, generator=gen)
    for m in (2, 4, 8):  # folding the norms into the weights keeps every doll's reconstruction
        torch.testing.assert_close(
            sae.decode_prefix(sae.encode(x), m), ref.decode_prefix(ref.encode(x), m), atol=1e-5, rtol=1e-5
        )


# ---- what the nested loss is for --------------------------------------------------------------------------
def test_early_prefixes_reconstruct_better_than_batchtopk_trained_equally():
    # Measured (torch 2.x, CPU, ~0.3 s per SAE): FVU of the first 8 / 16 / 32 / 64 latents alone, matryoshka
    # 0.456 / 0.219 / 0.088 / 0.073 vs batchtopk 0.795 / 0.586 / 0.227 / 0.062: much better early dolls for a
    # slightly worse whole dictionary (the paper's "minor tradeoff with reconstruction performance").
    x = toy_superposition(20_000, 32, 16, p_active=0.05, seed=0).x  # [20000, 16]
    fvu = {}
    for arch in ("matryoshka", "batchtopk"):
        widths = (8, 16, 32, 64) if arch == "matryoshka" else None
        sae = build_sae(SAEConfig(arch, d_in=16, d_sae=64, k=4, matryoshka_widths=widths), seed=0)
        result = train(sae, x, n_tokens=81_920, batch_size=512, lr=3e-3, progress=False, device="cpu")
        fvu[arch] = [prefix_fvu(result.sae, x, m) for m in (8, 16, 32, 64)]
    mat, btk = fvu["matryoshka"], fvu["batchtopk"]
    assert mat[0] < btk[0] - 0.2 and mat[1] < btk[1] - 0.2 and mat[2] < btk[2], fvu
    assert mat[3] < 0.15, fvu  # and the whole dictionary still reconstructs
