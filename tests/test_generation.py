"""generation.py: the one generation path. Cached == uncached, token for token; batched rows == single rows;
a broken KV cache is caught and not used; the text it makes is sane (it is the model's own kind of story)."""

import re
import warnings

import pytest
import torch

import saewidgets as sw
from saewidgets.generation import kv_cache_works, sample
from saewidgets.steering import compare, generate, steering_hook

LAST = "blocks.3.hook_resid_post"
PROMPT = "Once upon a time"
# The bundled model's greedy story (docs/storyteller.md); transformers 5.24's broken cache gave
# "Once upon a time, Jack built a little cottage that in Finn shared a daisy been plan ..."
KNOWN_STORY = (
    "Once upon a time, there was a girl called Mia, whose best friend was Tom. Mia and Tom waited for "
    "the taxi at the viaduct."
)


def test_the_bundled_models_kv_cache_is_checked_and_used(model):
    """With the locked versions the cache must work: if a dependency breaks it, this fails (and `make
    test-latest` with it) instead of generation quietly getting slower or, as before, wrong."""
    assert kv_cache_works(model, model.to_tokens(PROMPT))


@pytest.mark.parametrize("temperature", [0.0, 0.9])
@pytest.mark.parametrize("steer", [None, "add", "clamp"])
def test_cached_and_uncached_generation_are_token_identical(model, sea_sae, temperature, steer):
    tokens = model.to_tokens(PROMPT).expand(3, -1)  # [3, pos]
    hooks = [] if steer is None else [(LAST, steering_hook(sea_sae, {0: 4.0}, mode=steer))]
    kw = dict(max_new_tokens=32, temperature=temperature, seeds=[0, 1, 2], fwd_hooks=hooks, stop_at_eos=False)
    cached = sample(model, tokens, kv_cache="on", **kw)
    plain = sample(model, tokens, kv_cache="off", **kw)
    assert cached.shape == plain.shape == (3, tokens.shape[1] + 32)
    assert torch.equal(cached, plain), [model.to_string(r) for r in torch.cat([cached, plain])]


def test_the_greedy_story_is_the_known_one(model):
    story = sw.generate(model, PROMPT, max_new_tokens=100)
    assert story.startswith(KNOWN_STORY), story
    assert story == sw.generate(model, PROMPT, max_new_tokens=100, kv_cache="off")


def test_a_row_depends_only_on_its_seed_not_on_its_batch(model, sea_sae):
    alone = generate(model, PROMPT, max_new_tokens=24, temperature=0.8, seed=7)
    steered_alone = generate(
        model, PROMPT, sae=sea_sae, hook=LAST, strengths={0: 6.0}, max_new_tokens=24, temperature=0.8, seed=7
    )
    pair = compare(
        model, PROMPT, sae=sea_sae, hook=LAST, strengths={0: 6.0}, max_new_tokens=24, temperature=0.8, seed=7
    )
    assert pair == (alone, steered_alone) and pair.unsteered != pair.steered
    several = sw.generate(model, [PROMPT] * 3, max_new_tokens=24, temperature=0.8, seed=7)
    assert several[0] == alone and len(set(several)) == 3  # row i uses seed + i


def test_prompts_of_different_lengths(model):
    texts = sw.generate(model, ["Once", "The dragon flew over the hill and"], max_new_tokens=8)
    assert texts == [
        sw.generate(model, "Once", max_new_tokens=8),
        sw.generate(model, "The dragon flew over the hill and", seed=1, max_new_tokens=8),
    ]


def test_samples_read_like_the_models_own_text(model):
    """The sanity check that would have caught the broken cache: the model's cross-entropy on its own
    temperature-1 samples is low (about 0.8 nats here; word salad from the broken cache gave 11.3)."""
    tokens = sample(
        model,
        model.to_tokens(PROMPT).expand(4, -1),
        max_new_tokens=48,
        temperature=1.0,
        seeds=[0, 1, 2, 3],
        stop_at_eos=False,
    )
    with torch.no_grad():
        ce = model(tokens, return_type="loss").item()
    assert ce < 2.0, (ce, [model.to_string(t) for t in tokens])


class _IgnoresItsCache:
    """The failure transformers 5.24 brought: a cached step sees only its own token. Everything else is the model."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, tokens, **kw):
        if kw.get("past_key_values") is not None:
            kw["past_key_values"] = None
        return self._model(tokens, **kw)


def test_a_broken_cache_is_caught_once_and_not_used(model):
    broken = _IgnoresItsCache(model)
    with pytest.warns(UserWarning, match="KV cache of this model disagrees"):
        text = sw.generate(broken, PROMPT, max_new_tokens=30)
    assert text == sw.generate(model, PROMPT, max_new_tokens=30)  # the right text all the same
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # remembered: no second check, no second warning
        assert not kv_cache_works(broken, model.to_tokens(PROMPT))
        sw.generate(broken, PROMPT, max_new_tokens=4)
    with pytest.raises(ValueError, match="kv_cache='on'"):
        sample(broken, model.to_tokens(PROMPT), kv_cache="on")


def test_eos_ends_a_row_and_bad_arguments(model):
    eos = model.tokenizer.eos_token_id
    out = sample(model, model.to_tokens(PROMPT), max_new_tokens=400, temperature=0.0)
    if out.shape[1] < model.to_tokens(PROMPT).shape[1] + 400:  # stopped early: the last token is EOS
        assert out[0, -1] == eos
    for bad, match in [
        (dict(max_new_tokens=0), "max_new_tokens"),
        (dict(temperature=-1), "temperature"),
        (dict(kv_cache="yes"), "kv_cache"),
        (dict(seeds=[1, 2]), "seeds"),
    ]:
        with pytest.raises(ValueError, match=match):
            sample(model, model.to_tokens(PROMPT), **bad)
    assert re.match(r"^Once upon a time\b", sw.generate(model, PROMPT, max_new_tokens=1))
