"""SteeringPanel: signed sliders for chosen latents; unsteered and steered text side by side, same seed.

Moving a slider regenerates through the kernel. The browser keeps one request in flight and, if the
slider moved meanwhile, sends only the latest value when the answer arrives: fast slider moves never
build a backlog. ``to_html`` precomputes a grid of strengths per latent so the offline page still steers.
"""

from __future__ import annotations

import traitlets

from .. import features
from ._base import SaeWidget, static_text

GRID = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)


class SteeringPanel(SaeWidget):
    _esm = static_text("common.js", "steering_panel.js")
    _css = static_text("base.css", "steering_panel.css")
    _html_private = ("_grid",)

    prompt = traitlets.Unicode("Once upon a time").tag(sync=True)
    latents = traitlets.List(traitlets.Int()).tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
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
        labels = labels or [f"latent {i}" for i in latents]
        if len(labels) != len(latents):
            raise ValueError(f"{len(labels)} labels for {len(latents)} latents")
        super().__init__(latents=latents, labels=labels, strengths=[0.0] * len(latents), **kwargs)
        self.regenerate()
        self.observe(
            lambda change: self.regenerate(),
            names=["prompt", "strengths", "mode", "temperature", "max_new_tokens", "seed"],
        )

    def _texts(self, strengths: list[float]) -> tuple[str, str]:
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
        )
        return c.unsteered, c.steered

    def regenerate(self) -> None:
        """Run the model with the current settings (the latest values win; called on every change)."""
        if len(self.strengths) != len(self.latents):
            raise ValueError(f"{len(self.strengths)} strengths for {len(self.latents)} latents")
        self.busy = True
        try:
            self.unsteered, self.steered = self._texts(list(self.strengths))
        finally:
            self.generations += 1
            self.busy = False

    def _steered(self, strengths: list[float]) -> str:
        """The steered half of ``_texts`` alone (all strengths 0: the unsteered text, same seed)."""
        from ..steering import generate

        active = {i: s for i, s in zip(self.latents, strengths) if s}
        return generate(
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
        )

    def precompute_grid(self, grid: tuple[float, ...] = GRID) -> dict:
        """Steered text for each latent alone at each strength in ``grid`` (for the offline page). The
        unsteered text is generated once and stands for every strength 0."""
        unsteered = self._steered([0.0] * len(self.latents))
        out = {"values": list(grid), "texts": []}
        for j in range(len(self.latents)):
            row = []
            for g in grid:
                strengths = [0.0] * len(self.latents)
                strengths[j] = g
                row.append(self._steered(strengths) if g else unsteered)
            out["texts"].append(row)
        out["unsteered"] = unsteered
        out["prompt"], out["mode"] = self.prompt, self.mode
        return out

    def to_html(self, path, title: str | None = None, grid: tuple[float, ...] = GRID):
        self._grid = self.precompute_grid(grid)
        return super().to_html(path, title)

    def _summary(self) -> str:
        active = ", ".join(f"{label} {s:+g}" for label, s in zip(self.labels, self.strengths) if s) or "none"
        return (
            f"SteeringPanel({self.mode}; prompt {self.prompt!r}; steering: {active})\n"
            f"  unsteered: {self.unsteered}\n  steered:   {self.steered}"
        )
