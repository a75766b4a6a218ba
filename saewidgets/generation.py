"""Text generation that cannot silently break: our own incremental sampling loop over the model's forward.

Why not ``model.generate``? TransformerLens 4.3's ``TransformerBridge.generate(use_past_kv_cache=True)`` returns
word salad with transformers 5.24 (the bridge's attention leaves Hugging Face's ``DynamicCache`` empty, so every
cached step sees only its own token) while the same call is right with 5.23 — and nothing raised. Everything that
generates in this package (the demo and its report, ``steering.generate`` / ``compare``, ``SteeringPanel``, the
notebooks) goes through :func:`sample` instead, which

- runs the model's ordinary forward (the one ``run_with_hooks``, ``harvest`` and the CE metrics use), so hooks —
  steering — apply exactly as they do everywhere else;
- uses the bridge's KV cache only after checking it, once per model, against a full forward
  (:func:`kv_cache_works`); a cache that disagrees is not used, with one warning, and generation falls back to
  recomputing the whole sequence each step (on the bundled model a 32-token pair takes ~0.2 s either way);
- samples each row with its own ``torch.Generator``, so a row's text depends only on its seed, not on what else is
  in the batch: the steered and unsteered rows of a comparison share one forward and one seed.

Cached and uncached generation are token-identical (tests/test_generation.py), steered and unsteered, greedy and
sampled.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Sequence

import torch

KV_CACHE = ("auto", "on", "off")
Hook = tuple[str, Callable]

_cache_verdict: weakref.WeakKeyDictionary = (
    weakref.WeakKeyDictionary()
)  # model -> bool (its KV cache checked)


def sample(
    model,
    tokens: torch.Tensor,
    *,
    max_new_tokens: int = 32,
    temperature: float = 0.0,
    seeds: Sequence[int] | int = 0,
    fwd_hooks: Sequence[Hook] = (),
    kv_cache: str = "auto",
    stop_at_eos: bool = True,
) -> torch.Tensor:
    """Extend ``tokens`` [batch, pos] by up to ``max_new_tokens``; returns [batch, pos + new] token ids.

    ``temperature`` 0 is greedy. ``seeds``: one per row (or one for all); row b samples from its own generator
    seeded ``seeds[b]``. ``fwd_hooks``: (hook name, fn) pairs active on every forward (e.g. steering).
    ``kv_cache``: "auto" uses the model's KV cache when :func:`kv_cache_works`, "off" recomputes the whole
    sequence each step (the reference), "on" insists on the cache (a ValueError if it is broken).
    With ``stop_at_eos``, a row that emits EOS gets EOS from then on, and the loop ends once every row has.
    """
    if tokens.ndim != 2 or tokens.shape[1] == 0:
        raise ValueError(f"tokens must be [batch, pos] with pos >= 1; got shape {tuple(tokens.shape)}")
    if not (isinstance(max_new_tokens, int) and max_new_tokens > 0):
        raise ValueError(f"max_new_tokens must be a positive integer; got {max_new_tokens!r}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy); got {temperature!r}")
    if kv_cache not in KV_CACHE:
        raise ValueError(f"kv_cache must be one of {KV_CACHE}; got {kv_cache!r}")
    check_generator(model)
    batch = tokens.shape[0]
    seeds = [int(seeds)] * batch if isinstance(seeds, int) else [int(s) for s in seeds]
    if len(seeds) != batch:
        raise ValueError(f"seeds has {len(seeds)} entries for {batch} rows")
    device = tokens.device
    # a one-token prompt (BOS alone) runs uncached: a hook cannot tell a lone BOS from a cached new token
    use_cache = kv_cache != "off" and tokens.shape[1] >= 2 and kv_cache_works(model, tokens[:1])
    if kv_cache == "on" and not use_cache:
        raise ValueError(
            "kv_cache='on', but this model's KV cache disagrees with its full forward or could not be "
            "checked on a prompt this short (see kv_cache_works); use kv_cache='auto' or 'off'."
        )
    gens = [torch.Generator(device=device).manual_seed(s) for s in seeds] if temperature > 0 else []
    eos = getattr(getattr(model, "tokenizer", None), "eos_token_id", None) if stop_at_eos else None
    done = torch.zeros(batch, dtype=torch.bool, device=device)  # [batch]
    seq, past = tokens, None
    with torch.no_grad(), model.hooks(fwd_hooks=list(fwd_hooks)):
        for _ in range(max_new_tokens):
            if use_cache:
                step_in = seq if past is None else seq[:, -1:]  # [batch, pos] once, then [batch, 1]
                logits, past = _cached_forward(model, step_in, past)
            else:
                logits = model(seq, return_type="logits")
            nxt = _pick(logits[:, -1].float(), temperature, gens)  # [batch]
            if eos is not None:
                nxt = nxt.masked_fill(done, eos)
                done |= nxt == eos
            seq = torch.cat([seq, nxt[:, None]], dim=1)
            if eos is not None and bool(done.all()):
                break
    return seq


def check_generator(model) -> None:
    """Raise a ValueError naming the fix unless ``model`` can generate here: a causal language model loaded with
    ``load_model`` (TransformerLens hook names on every step, ``model.hooks``, its own tokenizer)."""
    from .models import why_no_logits

    reason = why_no_logits(model)
    if reason is not None:  # an encoder would "generate" from a random head
        raise ValueError(f"Generation needs a causal language model: {reason}.")
    if not (hasattr(model, "hooks") and hasattr(model, "cfg") and hasattr(model, "tokenizer")):
        raise ValueError(
            f"Generation and steering run a model from sw.load_model (TransformerLens hook names, hooks on every "
            f"step, its own tokenizer); this is a {type(model).__name__}. Load the same checkpoint with "
            "sw.load_model(<its folder or hub name>) and use a blocks.{L}.hook_* name."
        )


def _pick(logits: torch.Tensor, temperature: float, gens: list[torch.Generator]) -> torch.Tensor:
    """Next token per row from logits [batch, vocab]: argmax, or a draw from row b's own generator."""
    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)  # [batch, vocab]
    return torch.cat([torch.multinomial(p, 1, generator=g) for p, g in zip(probs, gens)])


def generate(
    model,
    prompt: str | Sequence[str],
    *,
    max_new_tokens: int = 32,
    temperature: float = 0.0,
    seed: int = 0,
    fwd_hooks: Sequence[Hook] = (),
    kv_cache: str = "auto",
    stop_at_eos: bool = True,
) -> str | list[str]:
    """Prompt plus continuation as text (special tokens dropped), greedy at ``temperature`` 0.

    A list of prompts gives a list of texts; prompt i is sampled with seed ``seed + i`` (so ``[p] * 8`` gives
    eight different samples, reproducibly). Prompts of different token lengths run one at a time (no padding,
    so no position or mask conventions to get wrong)."""
    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    check_generator(model)  # before to_tokens: a plain Hugging Face model has none
    rows = [model.to_tokens(p) for p in prompts]  # each [1, pos], BOS first
    kw = dict(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        fwd_hooks=fwd_hooks,
        kv_cache=kv_cache,
        stop_at_eos=stop_at_eos,
    )
    if len({r.shape[1] for r in rows}) == 1:
        out = list(sample(model, torch.cat(rows), seeds=[seed + i for i in range(len(rows))], **kw))
    else:
        out = [sample(model, r, seeds=seed + i, **kw)[0] for i, r in enumerate(rows)]
    texts = [model.tokenizer.decode(t, skip_special_tokens=True) for t in out]
    return texts[0] if isinstance(prompt, str) else texts


def kv_cache_works(model, tokens: torch.Tensor) -> bool:
    """Whether this model's KV cache reproduces its full forward; checked once per model, then remembered.

    Prefill ``tokens`` [1, pos] less its last two tokens, feed those two one at a time through the cache, and
    compare each step's logits with a full forward over ``tokens``. A cache that does not fill (transformers
    5.24 under TransformerLens 4.3) is off by whole nats; a working one agrees to float noise."""
    if model in _cache_verdict:
        return _cache_verdict[model]
    if tokens.shape[1] < 3:
        return False  # too short to check; do not remember, a longer prompt may come
    ok, why = _check_cache(model, tokens[:1])
    _cache_verdict[model] = ok
    if not ok:
        import transformers

        warnings.warn(
            f"The KV cache of this model disagrees with its full forward ({why}; transformers "
            f"{transformers.__version__}), so saewidgets generates without it: correct text, a little "
            "slower. Install the tested versions (constraints.txt) to get the cache back.",
            stacklevel=3,
        )
    return ok


def _check_cache(model, tokens: torch.Tensor) -> tuple[bool, str]:
    with torch.no_grad():
        full = model(tokens, return_type="logits").float()  # [1, pos, vocab]
        try:
            logits, past = _cached_forward(model, tokens[:, :-2], None)
            steps = []
            for step in (tokens[:, -2:-1], tokens[:, -1:]):
                logits, past = _cached_forward(model, step, past)
                steps.append(logits[:, -1].float())
        except (TypeError, ValueError, NotImplementedError, AttributeError) as err:  # no cache entry point
            return False, f"{type(err).__name__}: {err}"
    if past is None:
        return False, "the forward returned no cache"
    cached = torch.stack(steps, dim=1)  # [1, 2, vocab]
    err = float((cached - full[:, -2:]).abs().amax())
    tol = (1e-3 if full.dtype == torch.float32 and _param_dtype(model) == torch.float32 else 5e-2) * max(
        1.0, float(full[:, -2:].abs().amax())
    )
    return err <= tol, f"max |logit difference| {err:.3g} > {tol:.3g}"


def _cached_forward(model, tokens: torch.Tensor, past):
    """The bridge's manual KV-cache entry point: (logits [batch, pos, vocab], the cache after this step)."""
    with (
        warnings.catch_warnings()
    ):  # transformers >= 5.24 renames the argument the bridge passes; not ours to fix
        warnings.filterwarnings("ignore", message=".*past_key_values.*deprecated", category=FutureWarning)
        return model(tokens, return_type="logits_and_cache", use_cache=True, past_key_values=past)


def _param_dtype(model) -> torch.dtype:
    return next(model.parameters()).dtype
