"""Configuration dataclasses, validated on construction and saved next to the weights as ``cfg.json``.

``SAEConfig`` describes one sparse autoencoder: its architecture, its size and the knobs of its
loss. Every field has a default that works on the embedded ``storyteller`` model (inputs
normalised so that E||x|| = sqrt(d_in), see ``activation_set.ActivationSet.norm_scale``) except the
three that have no sensible default: ``architecture``, ``d_in`` and ``d_sae``.
Fields that an architecture does not use are kept (so that ``cfg.json`` round-trips) and ignored.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

ARCHITECTURES = ("relu", "gated", "topk", "batchtopk", "jumprelu", "matryoshka")
JUMPRELU_SPARSITY = ("l0", "tanh", "target_l0")
DTYPES = ("float32", "float64", "bfloat16", "float16")


@dataclass
class SAEConfig:
    """One sparse autoencoder. ``SAEConfig(architecture="topk", d_in=64, d_sae=512, k=16)``."""

    architecture: str
    """One of "relu", "gated", "topk", "batchtopk", "jumprelu", "matryoshka" (BatchTopK with nested
    dictionaries, ``matryoshka.py``)."""
    d_in: int
    """Width of the activations the SAE reads (the model's d_model at the hook)."""
    d_sae: int
    """Number of latents (dictionary size), usually 4-32 x d_in."""

    k: int = 32
    """topk / batchtopk / matryoshka: latents kept per token (batchtopk and matryoshka: on average over the
    batch). 0 < k <= d_sae."""
    l1_coefficient: float = 2.0
    """relu / gated: weight of the decoder-norm-weighted L1 penalty, for sqrt(d_in)-normalised inputs. 2 is
    where ReLU's frontier bends (bench/recipes.py, docs/sae.md "Recipes": L0 ~23 at FVU 0.16 on synthetic data,
    L0 16 at FVU 0.12 on the storyteller model); above ~2 ReLU pays in shrinkage, not in L0."""
    l0_coefficient: float = 0.01
    """jumprelu: weight of the sparsity penalty (L0, tanh or target-L0 form). SAELens issue #719 found the
    useful range is about 1e-3..1e-1; above ~1 the L0 stops responding."""

    jumprelu_bandwidth: float = 0.001
    """jumprelu: STE kernel width epsilon. 0.001 is the paper's value (arXiv 2407.14435, App. I) for inputs
    scaled to E||x|| = 1; with sqrt(d_in)-normalised inputs thresholds sit far from pre-activations this
    close, so L0 moves slowly (SAELens issue #494 suggests a wider bandwidth if L0 does not drop)."""
    jumprelu_init_threshold: float = 0.001
    """jumprelu: initial threshold theta for every latent (paper, App. I). Must be > 0."""
    jumprelu_sparsity: str = "l0"
    """jumprelu: "l0" = sum of Heaviside steps (GDM, arXiv 2407.14435 §3); "tanh" = sum of
    tanh(c * acts * ||W_dec||) (Anthropic, Jan 2025); "target_l0" = (L0 / target_l0 - 1)^2
    (Gemma Scope 2 style, pulls L0 to a set value)."""
    jumprelu_tanh_scale: float = 4.0
    """jumprelu with "tanh" sparsity: the scale c inside tanh (Anthropic / SAELens default 4)."""
    target_l0: float | None = None
    """jumprelu with "target_l0" sparsity: the L0 to pull towards (required there, > 0)."""
    pre_act_loss_coefficient: float = 0.0
    """jumprelu: weight of Anthropic's pre-activation loss on dead latents, sum relu(theta - z) ||W_dec||;
    0 turns it off (Anthropic used 3e-6)."""

    auxk_k: int | None = None
    """topk / batchtopk: dead latents used by the AuxK loss; None = d_in // 2 (the usual reading of
    Gao et al. 2024, App. A.2/B.1, as in dictionary_learning and sparsify)."""
    auxk_coefficient: float = 1 / 32
    """topk / batchtopk: weight alpha of the AuxK loss (Gao et al. 2024, App. A.2: 1/32)."""
    batchtopk_threshold_lr: float = 0.01
    """batchtopk / matryoshka: rate of the exponential moving average that estimates the inference threshold
    (SAELens ``topk_threshold_lr``). 0 < value <= 1."""

    matryoshka_widths: tuple[int, ...] | None = None
    """matryoshka: the nested dictionary sizes m_1 < m_2 < ... < m_n = d_sae; latents 0..m_i-1 alone must
    reconstruct x (Bussmann et al. 2025, arXiv 2503.17547, §3). SAELens's name (``matryoshka_widths``). None:
    doubling up to d_sae, (d_sae // 8, d_sae // 4, d_sae // 2, d_sae) (``SAEConfig.matryoshka_prefixes``)."""

    normalize_decoder: bool = False
    """Keep decoder rows at unit norm (Towards Monosemanticity): init at norm 1, project the parallel part
    out of the decoder gradient before each step and renormalise after it (``SAE.before_step`` /
    ``SAE.after_step``). False (default): rows start at norm 0.1 and the sparsity penalty is weighted by
    the row norms instead (Anthropic, April 2024 update). Honoured by every architecture."""
    apply_b_dec_to_input: bool = True
    """Subtract b_dec from x before encoding (SAELens default). Gemma Scope SAEs were trained without it."""
    dtype: str = "float32"
    """Parameter dtype: "float32", "float64", "bfloat16" or "float16"."""
    input_scale: float | None = None
    """The input normalisation this SAE was trained with, kept so that training can continue in the same space.
    None: never trained here (e.g. fresh from ``build_sae``): ``train`` uses the weights as they are, as a start in
    its normalised space. A number s: the SAE reads raw x and was trained on x * s (``train`` folded s into the
    weights, see ``training.fold_input_scale_``); training it again unfolds s, trains on x * s and folds s back.
    ``load_sae`` restores it from cfg.json; a file that does not record it (another library's, or one saved
    before this field existed) loads with 1.0: the SAE reads raw x as saved, and training continues on raw x."""

    def __post_init__(self) -> None:
        _plain_numbers(self)
        _choice("architecture", self.architecture, ARCHITECTURES)
        _positive_int("d_in", self.d_in)
        _positive_int("d_sae", self.d_sae)
        if self.architecture in ("topk", "batchtopk", "matryoshka"):
            _positive_int("k", self.k)
            if self.k > self.d_sae:
                raise ValueError(
                    f"SAEConfig.k must be in 1..d_sae={self.d_sae} for {self.architecture}; got {self.k}"
                )
        for name in ("l1_coefficient", "l0_coefficient", "pre_act_loss_coefficient", "auxk_coefficient"):
            _finite(name, getattr(self, name), "SAEConfig", ">= 0")
        for name in ("jumprelu_bandwidth", "jumprelu_init_threshold", "jumprelu_tanh_scale"):
            _finite(name, getattr(self, name), "SAEConfig", "> 0")
        _choice("jumprelu_sparsity", self.jumprelu_sparsity, JUMPRELU_SPARSITY)
        for name in ("target_l0", "input_scale"):
            if getattr(self, name) is not None:
                _finite(name, getattr(self, name), "SAEConfig", "> 0", " or None")
        if (
            self.architecture == "jumprelu"
            and self.jumprelu_sparsity == "target_l0"
            and self.target_l0 is None
        ):
            raise ValueError('SAEConfig.target_l0 must be set (> 0) when jumprelu_sparsity="target_l0"')
        if self.auxk_k is not None:
            _positive_int("auxk_k", self.auxk_k)
        if not (
            isinstance(self.batchtopk_threshold_lr, (int, float)) and 0 < self.batchtopk_threshold_lr <= 1
        ):
            raise ValueError(
                f"SAEConfig.batchtopk_threshold_lr must be in (0, 1]; got {self.batchtopk_threshold_lr!r}"
            )
        for name in ("normalize_decoder", "apply_b_dec_to_input"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"SAEConfig.{name} must be True or False; got {getattr(self, name)!r}")
        _choice("dtype", self.dtype, DTYPES)
        if self.matryoshka_widths is not None:
            self.matryoshka_widths = _widths(self.matryoshka_widths, self.d_sae)

    @property
    def matryoshka_prefixes(self) -> tuple[int, ...]:
        """matryoshka: the prefix sizes in use: ``matryoshka_widths``, or else doubling up to d_sae."""
        if self.matryoshka_widths is not None:
            return self.matryoshka_widths
        return tuple(
            sorted({m for m in (self.d_sae // 8, self.d_sae // 4, self.d_sae // 2) if m > 0} | {self.d_sae})
        )

    @property
    def sparsity_knob(self) -> str:
        """The field a sparsity sweep should vary for this architecture (e.g. "k" or "l1_coefficient")."""
        if self.architecture in ("topk", "batchtopk", "matryoshka"):
            return "k"
        if self.architecture == "jumprelu":
            return "target_l0" if self.jumprelu_sparsity == "target_l0" else "l0_coefficient"
        return "l1_coefficient"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field (what ``cfg.json`` holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SAEConfig:
        """Inverse of ``to_dict``. Unknown keys are an error, not silently dropped."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"SAEConfig.from_dict: unknown keys {unknown}; valid keys are {sorted(names)}")
        missing = sorted(
            f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in d
        )
        if missing:
            raise ValueError(f"SAEConfig.from_dict: missing required keys {missing}")
        return cls(**d)


def _choice(name: str, value: Any, allowed: tuple[str, ...], owner: str = "SAEConfig") -> None:
    if value not in allowed:
        raise ValueError(f"{owner}.{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _widths(value: Any, d_sae: int) -> tuple[int, ...]:
    """matryoshka_widths as a tuple of ints (cfg.json gives a list), strictly increasing, ending at d_sae."""
    ok = isinstance(value, (list, tuple)) and len(value) > 0
    items = (
        tuple(int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v for v in value)
        if ok
        else ()
    )
    if not (ok and all(type(v) is int and v > 0 for v in items)):
        raise ValueError(
            f"SAEConfig.matryoshka_widths must be a non-empty list of integers > 0, or None; got {value!r}"
        )
    if any(a >= b for a, b in zip(items, items[1:])) or items[-1] != d_sae:
        raise ValueError(
            f"SAEConfig.matryoshka_widths must be strictly increasing and end at d_sae={d_sae} (the whole "
            f"dictionary is the outer doll); got {list(items)}"
        )
    return items


def _plain_numbers(cfg: Any) -> None:
    """numpy scalars (np.int64 from a sweep's np.arange, np.float32, ...) become int / float, so that they pass the
    checks below and cfg.json stays plain JSON. Bools are left alone (they are checked as bools)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, bool) or type(value) in (int, float):
            continue
        if isinstance(value, numbers.Integral):
            setattr(cfg, f.name, int(value))
        elif isinstance(value, numbers.Real):
            setattr(cfg, f.name, float(value))


def _finite(name: str, value: Any, owner: str, bound: str, alternative: str = "") -> None:
    """A real number, not inf or NaN (either would turn every weight into NaN at the first step), with
    ``bound`` ">= 0" or "> 0"."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not (ok and (value >= 0 if bound == ">= 0" else value > 0)):
        raise ValueError(f"{owner}.{name} must be a finite number {bound}{alternative}; got {value!r}")


def _positive_int(name: str, value: Any, owner: str = "SAEConfig") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}.{name} must be an integer > 0; got {value!r}")


def _fraction(name: str, value: Any, owner: str) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1):
        raise ValueError(f"{owner}.{name} must be a number in [0, 1]; got {value!r}")


AUTOCAST = ("auto", "off", "bf16")


@dataclass
class TrainConfig:
    """How to train one SAE (or a sweep). ``TrainConfig(n_tokens=2_000_000, lr=3e-3)``.

    Defaults train a 16x SAE on the storyteller model's residual stream in a couple of CPU minutes.
    Schedules follow the SAELens tutorial recipe: LR warm-up, constant, linear decay over the last
    ``lr_decay_fraction``; the sparsity coefficient ramps from 0 over ``sparsity_warmup_fraction``.
    """

    n_tokens: int = 2_000_000
    """Training tokens in all (steps = n_tokens // batch_size). Activations are reused in epochs if fewer."""
    batch_size: int = 4096
    """Tokens per optimiser step (the global batch when training on several processes)."""
    lr: float = 3e-3
    """Adam learning rate (inputs normalised to E||x|| = sqrt(d_in)). Adam moves each parameter by about lr per
    step whatever its gradient, and on normalised inputs biases and thresholds must travel O(1): at 4e-4 a
    500-step run moves them 0.2 and ReLU was still shedding L0 at the end. 3e-3 is the largest rate that kept
    dead latents <= 5 % in bench/recipes.py (docs/sae.md, "Recipes")."""
    adam_betas: tuple[float, float] = (0.9, 0.999)
    lr_warmup_fraction: float = 0.02
    """Fraction of the steps over which the LR rises linearly from 0 (avoids early dead latents)."""
    lr_decay_fraction: float = 0.2
    """Final fraction of the steps over which the LR decays linearly to 0 (SAELens tutorial: 20 %)."""
    sparsity_warmup_fraction: float = 0.05
    """Fraction of the steps over which the sparsity coefficient rises from 0 to its value (SAELens
    l1_warm_up_steps; the JumpReLU paper warms its L0 coefficient up too, App. I)."""
    threshold_lr_scale: float = 1.0
    """jumprelu: the thresholds' LR is lr times this. Adam moves theta by about lr per step, so short runs
    need > 1 to reach low L0 (the demo uses 10); 1 is the papers' setting."""
    grad_clip: float = 1.0
    """Max global gradient norm (0 = off)."""
    normalize: bool = True
    """Train on x * norm_scale (E||x|| = sqrt(d_in)) and fold the scale into the weights afterwards,
    so the returned SAE reads raw activations and coefficients transfer between models. The scale is
    recorded as ``SAEConfig.input_scale``; an SAE that has one keeps training at that scale, whatever this says."""
    init_b_dec: bool = True
    """Start b_dec at the geometric median of the first batch (Towards Monosemanticity). Fresh SAEs only
    (``SAEConfig.input_scale`` None): one trained before keeps its b_dec."""
    dead_window_tokens: int = 500_000
    """A latent is dead once it has not fired for this many tokens (feeds AuxK, the pre-activation
    loss, resampling and the logged dead fraction)."""
    resample_every: int = 0
    """relu only: every this many steps re-initialise dead latents towards badly reconstructed inputs
    (Towards Monosemanticity, 2023). 0 = off."""
    seed: int = 0
    """Seeds the batch order and any resampling; training draws nothing from torch's global RNG, so on a CPU two
    runs with one seed from identically built SAEs give identical weights (``build_sae(cfg, seed=...)`` /
    ``torch.manual_seed`` makes the build identical)."""
    log_every: int = 10
    """Record a history row (and call the callback) every this many steps."""
    checkpoint_every: int = 0
    """Save a resumable checkpoint to ``checkpoint_dir`` every this many steps (0 = off)."""
    checkpoint_dir: str | None = None
    device: str | None = None
    """None: cuda > mps > cpu."""
    autocast: str = "auto"
    """"auto": bf16 autocast on CUDA, none on CPU; "bf16": also on CPU (AVX512-BF16); "off"."""

    def __post_init__(self):
        _plain_numbers(self)
        for name in ("n_tokens", "batch_size", "log_every", "dead_window_tokens"):
            _positive_int(name, getattr(self, name), "TrainConfig")
        for name in ("resample_every", "checkpoint_every", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"TrainConfig.{name} must be an integer >= 0; got {value!r}")
        if self.n_tokens < self.batch_size:
            raise ValueError(
                f"TrainConfig.n_tokens ({self.n_tokens}) must be at least one batch ({self.batch_size})"
            )
        _finite("lr", self.lr, "TrainConfig", "> 0")
        _finite("threshold_lr_scale", self.threshold_lr_scale, "TrainConfig", "> 0")
        _finite("grad_clip", self.grad_clip, "TrainConfig", ">= 0", " (0 = off)")
        self.adam_betas = tuple(self.adam_betas)
        if len(self.adam_betas) != 2 or not all(
            isinstance(b, numbers.Real) and 0 <= b < 1 for b in self.adam_betas
        ):
            raise ValueError(f"TrainConfig.adam_betas must be two numbers in [0, 1); got {self.adam_betas!r}")
        self.adam_betas = tuple(float(b) for b in self.adam_betas)
        for name in ("lr_warmup_fraction", "lr_decay_fraction", "sparsity_warmup_fraction"):
            _fraction(name, getattr(self, name), "TrainConfig")
        if self.lr_warmup_fraction + self.lr_decay_fraction > 1:
            raise ValueError("TrainConfig.lr_warmup_fraction + lr_decay_fraction must be <= 1")
        if self.checkpoint_every and not self.checkpoint_dir:
            raise ValueError("TrainConfig.checkpoint_every needs checkpoint_dir (a folder to save into)")
        _choice("autocast", self.autocast, AUTOCAST, "TrainConfig")

    @property
    def steps(self) -> int:
        return self.n_tokens // self.batch_size

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d
