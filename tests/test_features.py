"""features.py against hand-checkable cases, and the FeatureActivations widget's trait state."""

import numpy as np
import pytest
import torch

from saewidgets import SAEConfig, build_sae
from saewidgets import features as F
from saewidgets.activation_set import ActivationSet
from saewidgets.example_windows import quantile_examples, top_examples

WORDS = ["the", " cat", " sat", " on", " mat", "."]  # token id i is WORDS[i]


def identity_sae(d: int = 4):
    """ReLU SAE with W_enc = W_dec = I and zero biases: latent i = relu(x_i)."""
    sae = build_sae(SAEConfig("relu", d_in=d, d_sae=d))
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(d))
        sae.W_dec.copy_(torch.eye(d))
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae


def toy_set(docs: list[list[int]], fire: dict[int, float] | None = None, d: int = 4):
    """An ActivationSet over token-id documents where latent 0 fires on " cat" (id 1) with a value that grows
    along the corpus, latent 1 on "." (id 5) at 2.0, and latent 2 is slightly negative (never fires)."""
    ids = [t for doc in docs for t in doc]
    doc_ids = [i for i, doc in enumerate(docs) for _ in doc]
    pos = [p + 1 for doc in docs for p in range(len(doc))]
    x = torch.zeros(len(ids), d)
    for r, t in enumerate(ids):
        if t == 1:
            x[r, 0] = 1.0 + r / 10
        if t == 5:
            x[r, 1] = 2.0
        x[r, 2] = -0.5
    return ActivationSet(
        x,
        torch.tensor(ids),
        torch.tensor(doc_ids),
        torch.tensor(pos),
        hook="toy",
        model_name="toy",
        norm_scale=1.0,
        texts=None,
    )


DOCS = [[0, 1, 2, 3, 0, 4, 5], [0, 1, 2, 5], [1, 1, 0, 4, 5, 0, 1, 2, 3, 4, 5]]


def test_latent_activations_and_scan_match_direct_encode():
    sae, acts = identity_sae(), toy_set(DOCS)
    direct = torch.relu(acts.acts).numpy()
    np.testing.assert_allclose(F.encode(sae, acts), direct)
    np.testing.assert_allclose(F.latent_activations(sae, acts, [1, 0]), direct[:, [1, 0]])
    s = F.scan(sae, acts, top_per_token=2, batch_size=5)  # batches cross document boundaries
    np.testing.assert_allclose(s["max"], direct.max(0))
    np.testing.assert_array_equal(s["count"], (direct > 0).sum(0))
    cat = np.flatnonzero(acts.token_ids.numpy() == 1)
    assert (s["top_ids"][cat, 0] == 0).all() and (s["top_ids"][cat, 1] == -1).all()
    the = np.flatnonzero(acts.token_ids.numpy() == 0)
    assert (s["top_ids"][the] == -1).all() and (s["top_vals"][the] == 0).all()
    ids, mx = F.top_latents(s["max"], 5)
    assert list(ids) == [0, 1] and mx[0] == pytest.approx(direct[:, 0].max())  # latents 2, 3 never fire


def test_top_examples_sorted_within_documents_and_max_matches():
    sae, acts = identity_sae(), toy_set(DOCS)
    col = F.latent_activations(sae, acts, [0])[:, 0]
    doc = acts.doc_ids.numpy()
    ex = top_examples(col, doc, k=10, window=(2, 1))
    vals = col[ex[:, 2]]
    assert (np.diff(vals) <= 0).all() and vals[0] == pytest.approx(float(torch.relu(acts.acts[:, 0]).max()))
    for start, stop, center in ex:
        assert start <= center < stop and doc[start] == doc[stop - 1] == doc[center]
        assert center - start <= 2 and stop - center - 1 <= 1
    # the two adjacent " cat" tokens at the start of document 2 are one passage: only one is an example
    both = np.flatnonzero((doc == 2) & (acts.token_ids.numpy() == 1))[:2]
    assert sum(c in both for c in ex[:, 2]) == 1


def test_quantile_examples_fall_in_their_bands():
    rng = np.random.default_rng(0)
    col = np.where(rng.random(400) < 0.5, rng.exponential(1.0, 400), 0).astype(np.float32)
    doc = np.repeat(np.arange(20), 20)
    bands, edges = quantile_examples(col, doc, n_bands=4, per_band=3, window=(3, 3))
    assert bands.shape == (4, 3, 3) and edges[0] == col[col > 0].min() and edges[-1] == col.max()
    for b in range(4):
        v = col[bands[b, :, 2]]
        assert ((v >= edges[b]) & (v <= edges[b + 1])).all() and (np.diff(v) <= 0).all()


def test_histogram_stats_and_dead_latent():
    col = np.array([0, 0, 1.0, 2.0, 0, 3.0, 0.5, 0], np.float32)
    edges, counts = F.activation_histogram(col, bins=6)
    assert counts.sum() == 4 and edges[0] == 0 and edges[-1] == 3.0 and len(edges) == 7
    st = F.latent_stats(col)
    assert st["density"] == 0.5 and st["max"] == 3.0 and st["mean"] == pytest.approx(6.5 / 8)
    assert st["mean_nonzero"] == pytest.approx(6.5 / 4) and st["n_nonzero"] == 4
    edges, counts = F.activation_histogram(np.zeros(5), bins=3)
    assert counts.sum() == 0 and quantile_examples(np.zeros(5), np.zeros(5))[0].max() == -1


def test_logit_effects_equal_the_matrix_product():
    sae = identity_sae(4)
    torch.manual_seed(0)
    with torch.no_grad():
        sae.W_dec.copy_(torch.randn(4, 4))
    W_U = torch.randn(4, 30)
    le = F.logit_effects(sae, W_U, 2, k=5)
    effect = (sae.W_dec[2] @ W_U).detach().numpy()
    np.testing.assert_allclose(le["promoted"], np.sort(effect)[::-1][:5], rtol=1e-6)
    np.testing.assert_allclose(le["suppressed"], np.sort(effect)[:5], rtol=1e-6)
    np.testing.assert_allclose(effect[le["promoted_ids"]], le["promoted"], rtol=1e-6)


def test_latent_panels_sparse_columns_roundtrip():
    sae, acts = identity_sae(), toy_set(DOCS)
    p = F.latent_panels(sae, acts, [0, 1, 2], W_U=torch.eye(4)[:, :3], k_top=3, n_bands=2, per_band=2, bins=5)
    direct = torch.relu(acts.acts).numpy()
    o = p["act_offsets"]
    for j, lat in enumerate([0, 1, 2]):
        col = np.zeros(len(acts), np.float32)
        col[p["act_rows"][o[j] : o[j + 1]]] = p["act_values"][o[j] : o[j + 1]]
        np.testing.assert_allclose(col, direct[:, lat])
        assert p["hist_counts"][j].sum() == (direct[:, lat] > 0).sum()
    assert p["examples"].shape == (3, 3 + 2 * 2, 3) and (p["examples"][2] == -1).all()
    assert p["logit_ids"][0, 0, 0] == 0 and p["logit_vals"][0, 0, 0] == 1.0


# ------------------------------------------------------------------------------------------- the widget


def toy_widget(latent=None, n_latents=2):
    from saewidgets.widgets.feature_activations import FeatureActivations

    sae, acts = identity_sae(), toy_set(DOCS)
    tokens = [WORDS[i] for i in acts.token_ids.tolist()]
    return (
        FeatureActivations.from_activations(
            sae,
            acts,
            tokens,
            W_U=torch.randn(4, 6, generator=torch.Generator().manual_seed(0)),
            decode=lambda i: WORDS[i],
            latent=latent,
            n_latents=n_latents,
            k_top=3,
            n_bands=2,
            per_band=2,
        ),
        sae,
        acts,
    )


def test_widget_state_is_binary_and_summarised():
    w, sae, acts = toy_widget()
    assert w.latent == 0 and w.candidates == [0, 1]
    state = w.get_state()
    for name in ("_tok", "_act_values", "_examples", "_top_ids", "_stats", "_logit_ids"):
        assert isinstance(state[name]["data"], memoryview | bytes), name
        assert not isinstance(state[name]["data"], list)
    assert state["_stats"]["dtype"] == "float32" and state["_tok"]["dtype"] == "int32"
    assert [w._vocab[i] for i in w._tok] == [WORDS[i] for i in acts.token_ids.tolist()]
    np.testing.assert_allclose(w.column(0), torch.relu(acts.acts[:, 0]).numpy())
    assert w._summary().startswith(
        "FeatureActivations(latent 0: density 0.227, max 2.70; 3 documents, 22 tokens"
    )
    assert w._png()[:8] == b"\x89PNG\r\n\x1a\n"
    html_state = w._state_for_html()
    assert html_state["_act_values"]["b64"] and html_state["latent"] == 0


def test_widget_latent_change_recomputes():
    w, sae, acts = toy_widget(n_latents=1)
    assert w.candidates == [0]
    w.latent = 2  # never fires: computed and appended all the same
    w.latent = 1
    assert w.candidates == [0, 2, 1]
    np.testing.assert_allclose(w.column(1), torch.relu(acts.acts[:, 1]).numpy())
    assert w._stats.shape == (3, 5) and w._stats[1, 0] == 0 and w._stats[2, 1] == 2.0
    assert w._examples.shape[0] == 3 and w._logit_ids.shape == (3, 2, 6)
    assert w._act_offsets[-1] == len(w._act_rows) == len(w._act_values)
    promoted = [w._vocab[i] for i in w._logit_ids[2, 0]]
    effect = (sae.W_dec[1] @ w._ctx["W_U"]).detach().numpy()
    assert promoted[0] == WORDS[int(np.argmax(effect))]
    with pytest.raises(Exception, match="latent must be in"):
        w.latent = 99


def test_from_sae_on_the_storyteller_model_with_a_prompt(model, corpus):
    from saewidgets import harvest, train
    from saewidgets.widgets.feature_activations import FeatureActivations

    hook = "blocks.1.hook_resid_post"
    acts = harvest(model, corpus, hook)
    sae = build_sae(SAEConfig("topk", d_in=128, d_sae=256, k=8))
    sae = train(sae, acts, n_tokens=30_000, batch_size=512, progress=False).sae
    w = FeatureActivations.from_sae(sae, model, [d.text for d in corpus[:4]], hook, latent=7, n_latents=8)
    assert w.latent == 7 and w.candidates[0] == 7 and len(w.candidates) <= 9
    n = len(w._tok)
    assert n == len(w._doc) and w._vocab[w._tok[0]] == model.to_str_tokens(corpus[0].text)[1]  # BOS excluded
    direct = sae.encode(harvest(model, [d.text for d in corpus[:4]], hook).acts).detach().numpy()
    j = w.candidates[1]
    np.testing.assert_allclose(w.column(j), direct[:, j], atol=1e-5)
    assert w._stats[1, 1] == pytest.approx(direct[:, j].max(), rel=1e-5)
    tip_ids = w._top_ids[np.argmax(direct[:, j])]
    assert j in tip_ids  # the hover list at the latent's max token names it
    w._on_msg(w, {"type": "prompt", "text": "Tom said hello to the dragon."}, [])  # what the Run button sends
    assert w.prompt == "Tom said hello to the dragon."
    m = len(w._prompt_tokens)
    assert m > 3 and w._prompt_acts.shape == (len(w.candidates), m) and w._prompt_top_ids.shape == (m, 5)
    out = F.prompt_features(sae, model, hook, "Tom said hello to the dragon.", latents=[j])
    np.testing.assert_allclose(w._prompt_acts[1], out["acts"][0], atol=1e-5)
    assert out["tokens"] == model.to_str_tokens("Tom said hello to the dragon.")[1:]
    new = next(i for i in range(256) if i not in w.candidates)
    w.latent = new  # a latent picked later also gets its prompt activations
    np.testing.assert_allclose(
        w._prompt_acts[-1], F.prompt_features(sae, model, hook, w.prompt, latents=[new])["acts"][0], atol=1e-5
    )


# ------------------------------------------------------------------------------------------- latent ids, hooks


def test_latent_ids_are_integers_in_range():
    sae, acts = identity_sae(), toy_set(DOCS)
    with pytest.raises(TypeError, match=r"latent ids are integers in \[0, 4\), got 3.7 \(float\)"):
        F.latent_activations(sae, acts, [3.7])  # used to become latent 3
    with pytest.raises(
        ValueError,
        match=r"latent -1 is out of range: this SAE has 4 latents, ids 0 to 3 "
        r"\(negative ids do not count from the end\)",
    ):
        F.latent_activations(sae, acts, [0, -1])  # used to wrap to latent 3
    with pytest.raises(ValueError, match="latent 4 is out of range"):
        F.latent_activations(sae, acts, np.array([1, 4]))
    with pytest.raises(TypeError, match="bool"):
        F.latent_activations(sae, acts, [True])
    with pytest.raises(TypeError, match=r"list of latent ids.*\[2\]"):
        F.latent_activations(sae, acts, 2)
    want = F.latent_activations(sae, acts, [1, 0])
    for ids in (
        [np.int64(1), np.int32(0)],
        np.array([1, 0], np.uint8),
        torch.tensor([1, 0]),
        range(1, -1, -1),
    ):
        np.testing.assert_array_equal(F.latent_activations(sae, acts, ids), want)
    with pytest.raises(ValueError, match="out of range"):
        F.latent_panels(sae, acts, [-1])
    with pytest.raises(TypeError, match="integers"):
        F.logit_effects(sae, torch.eye(4), 2.0)
    with pytest.raises(ValueError, match="latent -2 is out of range"):
        F.logit_effects(sae, torch.eye(4), -2)
    with pytest.raises(TypeError, match="integers"):
        F.candidate_latents(np.ones(4), 3.7, 2)


def test_widget_latent_must_be_an_integer_in_range():
    with pytest.raises(TypeError, match="got 1.5"):
        toy_widget(latent=1.5)  # used to show latent 1
    with pytest.raises(ValueError, match="latent -1 is out of range"):
        toy_widget(latent=-1)
    assert toy_widget(latent=np.int64(1))[0].latent == 1


def test_from_sae_warns_when_the_hook_is_not_the_saes(model):
    from saewidgets.widgets.feature_activations import FeatureActivations

    sae = build_sae(SAEConfig("relu", d_in=128, d_sae=16))
    sae.hook_name = "blocks.1.hook_resid_post"  # as load_sae records it
    texts = ["Tom saw a cat."]
    with pytest.warns(
        UserWarning,
        match=r"FeatureActivations: this SAE was trained on activations at "
        r"'blocks.1.hook_resid_post' .* used at 'blocks.0.hook_resid_post'",
    ):
        FeatureActivations.from_sae(sae, model, texts, "blocks.0.hook_resid_post", n_latents=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = FeatureActivations.from_sae(sae, model, texts, n_latents=2)  # no hook given: the SAE's own
        assert w._ctx["hook"] == "blocks.1.hook_resid_post"
        FeatureActivations.from_sae(
            sae, model, texts, "blocks.2.hook_resid_pre", n_latents=2
        )  # the same tensor
