"""SteeringPanel: signed sliders for chosen latents; unsteered and steered text side by side, same seed.

Moving a slider regenerates through the kernel. The browser keeps one request in flight and, if the
slider moved meanwhile, sends only the latest value when the answer arrives: fast slider moves never
build a backlog. ``to_html`` precomputes a grid of strengths per latent so the offline page still steers.

The unsteered completion depends only on the prompt and the sampling settings, so it is cached: a slider
move generates the steered text alone. At most ``MAX_SLIDERS`` latents get sliders at once (``latents``);
the others passed (``available``) are chosen with the widget's picker, so 1,000 latents do not make a page
of 1,000 sliders, nor an offline export of 1,000 grids.
"""

from __future__ import annotations

import traitlets

from .. import features
from ._base import SaeWidget, static_text

GRID = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)
MAX_SLIDERS = 12


class SteeringPanel(SaeWidget):
    _esm = static_text("common.js", "steering_panel.js")
    _css = static_text("base.css", "steering_panel.css")
    _html_private = ("_grid",)

    prompt = traitlets.Unicode("Once upon a time").tag(sync=True)
    latents = traitlets.List(traitlets.Int()).tag(sync=True)
    """The latents that have sliders (at most ``MAX_SLIDERS``; settable from Python and the picker)."""
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    available = traitlets.List(traitlets.Int()).tag(sync=True)
    """Every latent passed: the picker chooses the slidered ones among these."""
    available_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    max_sliders = traitlets.Int(MAX_SLIDERS, read_only=True).tag(sync=True)
    strengths = traitlets.List(traitlets.Float()).tag(sync=True)
    """One per latent, in units of that latent's typical max activation (its 99.9th percentile)."""
    mode = traitlets.Enum(("add", "clamp"), default_value="add").tag(sync=True)
    temperature = traitlets.Float(0.8).tag(sync=True)
    max_new_tokens = traitlets.Int(32).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    unsteered = traitlets.Unicode("").tag(sync=True)
    steered = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    generations = traitlets.Int(0).tag(sync=True)
    """How many steered generations have run (the browser waits for it to change)."""
    _grid = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        model,
        sae,
        hook: str,
        latents: list[int],
        *,
        units=None,
        activations=None,
        labels: list[str] | None = None,
        **kwargs,
    ):
        # Checked here, not at the first slider move: a float id would be truncated, -1 would wrap around.
        latents = [int(i) for i in features.latent_ids(latents, int(sae.W_dec.shape[0]))]
        if not latents:
            raise ValueError("SteeringPanel needs at least one latent id")
        features.check_sae_hook(sae, hook, "SteeringPanel")
        from ..models import why_no_logits

        no_logits = why_no_logits(model)
        if no_logits is not None:  # an encoder's "generation" would sample from a random head: refuse
            raise ValueError(
                f"SteeringPanel generates text, which needs a causal language model: {no_logits}. Look at "
                "an encoder's latents with FeatureActivations (and its reconstruction with evaluate) instead."
            )
        if not (hasattr(model, "hooks") and hasattr(model, "cfg") and hasattr(model, "tokenizer")):
            raise ValueError(
                f"SteeringPanel steers a model from sw.load_model (TransformerLens hook names, hooks on every "
                f"generation step, its own tokenizer); this is a {type(model).__name__}. Load the same checkpoint "
                "with sw.load_model(<its folder or hub name>) and use a blocks.{L}.hook_* name."
            )
        if activations is not None and units is None:
            from ..steering import typical_max

            units = typical_max(sae, activations, latents=latents)
        self._model, self._sae, self._hook, self._units = model, sae, hook, units
        self._unsteered_cache: dict[tuple, str] = {}  # (prompt, seed, temperature, max_new_tokens) -> text
        self._realigning = False
        labels = list(labels or [f"latent {i}" for i in latents])
        if len(labels) != len(latents):
            raise ValueError(f"{len(labels)} labels for {len(latents)} latents")
        shown = latents[:MAX_SLIDERS]
        super().__init__(
            available=latents,
            available_labels=labels,
            latents=shown,
            labels=labels[: len(shown)],
            strengths=[0.0] * len(shown),
            **kwargs,
        )
        self.regenerate()
        self.observe(
            lambda change: self._realigning or self.regenerate(),
            names=["prompt", "strengths", "mode", "temperature", "max_new_tokens", "seed"],
        )

    @traitlets.validate("latents")
    def _check_shown(self, proposal):
        value = [int(i) for i in proposal["value"]]
        if self.available:
            missing = [i for i in value if i not in self.available]
            if missing:
                raise traitlets.TraitError(
                    f"latents {missing} are not among the {len(self.available)} available"
                )
        if len(value) > MAX_SLIDERS:
            raise traitlets.TraitError(f"at most {MAX_SLIDERS} latents get sliders at once; got {len(value)}")
        if len(set(value)) != len(value):
            raise traitlets.TraitError("a latent can have only one slider")
        return value

    @traitlets.observe("latents")
    def _on_shown(self, change):
        """Other latents chosen: their labels follow, a kept latent keeps its strength, a new one starts at 0."""
        if not self.available_labels or not change["old"] or len(change["old"]) != len(self.strengths):
            return  # the constructor setting the first value
        old = dict(zip(change["old"], self.strengths))
        name = dict(zip(self.available, self.available_labels))
        self._realigning = True
        try:
            with self.hold_sync():
                self.labels = [name[i] for i in change["new"]]
                self.strengths = [old.get(i, 0.0) for i in change["new"]]
        finally:
            self._realigning = False
        self.regenerate()

    def _texts(self, strengths: list[float], unsteered: bool = True) -> tuple[str, str]:
        """(unsteered, steered) texts, in one batch with one seed; ``unsteered=False``: ("", steered) only
        (all strengths 0: the unsteered text itself)."""
        from ..steering import compare

        active = {i: s for i, s in zip(self.latents, strengths) if s}
        c = compare(
            self._model,
            self.prompt,
            sae=self._sae,
            hook=self._hook,
            strengths=active,
            mode=self.mode,
            units=self._units,
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            seed=self.seed,
            unsteered=unsteered,
        )
        return c.unsteered, c.steered

    def _steered(self, strengths: list[float]) -> str:
        return self._texts(strengths, unsteered=False)[1]

    def regenerate(self) -> None:
        """Run the model with the current settings (the latest values win; called on every change)."""
        if len(self.strengths) != len(self.latents):
            raise ValueError(f"{len(self.strengths)} strengths for {len(self.latents)} latents")
        self.busy = True
        try:
            strengths = list(self.strengths)
            key = (self.prompt, self.seed, self.temperature, self.max_new_tokens)
            if key in self._unsteered_cache:  # a slider move: only the steered text is new
                unsteered = self._unsteered_cache[key]
                steered = self._steered(strengths) if any(strengths) else unsteered
            elif any(strengths):
                unsteered, steered = self._texts(strengths)  # both in one batch
            else:
                unsteered = steered = self._steered(strengths)
            self._unsteered_cache[key] = unsteered
            if len(self._unsteered_cache) > 64:  # a long session of prompts: keep the newest
                self._unsteered_cache.pop(next(iter(self._unsteered_cache)))
            self.unsteered, self.steered = unsteered, steered
        finally:
            self.generations += 1
            self.busy = False

    def precompute_grid(self, grid: tuple[float, ...] = GRID, progress: bool = False) -> dict:
        """Steered text for each slidered latent (``latents``, at most ``MAX_SLIDERS``; not every one
        ``available``) alone at each strength in ``grid``, for the offline page. The unsteered text is
        generated once and stands for every strength 0. ``progress``: a tqdm bar over the generations."""
        from tqdm.auto import tqdm

        n = len(self.latents)
        unsteered = self._steered([0.0] * n)
        out = {"values": list(grid), "texts": []}
        bar = tqdm(
            total=n * sum(1 for g in grid if g), disable=not progress, unit="gen", desc="steering grid"
        )
        with bar:
            for j in range(n):
                row = []
                for g in grid:
                    strengths = [0.0] * n
                    strengths[j] = g
                    row.append(self._steered(strengths) if g else unsteered)
                    bar.update(1 if g else 0)
                out["texts"].append(row)
        out["unsteered"] = unsteered
        out["prompt"], out["mode"] = self.prompt, self.mode
        out["n_available"] = len(self.available)
        return out

    def to_html(self, path, title: str | None = None, grid: tuple[float, ...] = GRID, progress: bool = True):
        """The offline page: the grid of the slidered latents only (the page says how many of ``available``)."""
        self._grid = self.precompute_grid(grid, progress=progress)
        return super().to_html(path, title)

    def _summary(self) -> str:
        active = ", ".join(f"{label} {s:+g}" for label, s in zip(self.labels, self.strengths) if s) or "none"
        return (
            f"SteeringPanel({self.mode}; prompt {self.prompt!r}; steering: {active})\n"
            f"  unsteered: {self.unsteered}\n  steered:   {self.steered}"
        )
