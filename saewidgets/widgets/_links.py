"""Link the data-centric widgets to a FeatureActivations: pick a latent in one, see it in the other.

DiffBars, NPMIScatter, ClusterBrowser and RetrievalBox each have a ``selected_latent`` trait (None or a
latent id) that a click sets. ``link_latent`` forwards it, one way, to a FeatureActivations'
``latent`` (the trait that chooses the latent it shows):

    bars = DiffBars(result); fa = FeatureActivations.from_sae(sae, model, texts, hook)
    link = link_latent(bars, fa)      # or bars.link(fa)
    link.unlink()

A plain ``traitlets.dlink`` would try to write None (nothing selected) into an Int trait; here None is
skipped, and a latent the target refuses (out of its range) is reported in the target's status line
rather than raised inside the comm handler, where Jupyter would swallow it.
"""

from __future__ import annotations

import traitlets


def check_latent(value, d_sae: int, what: str = "selected_latent"):
    """None or an int latent id in [0, d_sae) (d_sae 0: unknown, any id >= 0); TraitError otherwise."""
    if value is None:
        return None
    if int(value) < 0 or (d_sae and int(value) >= d_sae):
        bound = f"[0, {d_sae})" if d_sae else ">= 0"
        raise traitlets.TraitError(f"{what} must be None or a latent id in {bound}, got {value}")
    return int(value)


class LatentLink:
    """A one-way link ``source.selected_latent -> target.latent``; ``unlink()`` stops it."""

    def __init__(self, source, target, source_trait: str = "selected_latent", target_trait: str = "latent"):
        for obj, name, role in ((source, source_trait, "source"), (target, target_trait, "target")):
            if not (isinstance(obj, traitlets.HasTraits) and obj.has_trait(name)):
                raise TypeError(
                    f"the {role} ({type(obj).__name__}) has no trait {name!r}; link a DiffBars, "
                    "NPMIScatter, ClusterBrowser or RetrievalBox to a FeatureActivations"
                )
        self.source, self.target = source, target
        self.source_trait, self.target_trait = source_trait, target_trait
        source.observe(self._forward, names=source_trait)
        self._forward({"new": getattr(source, source_trait)})  # a latent already selected shows at once

    def _forward(self, change):
        latent = change["new"]
        if latent is None:
            return
        try:
            setattr(self.target, self.target_trait, int(latent))
        except traitlets.TraitError as e:
            if self.target.has_trait("_status"):
                self.target._status = f"Could not show latent {latent}: {e}"
            else:
                raise

    def unlink(self) -> None:
        self.source.unobserve(self._forward, names=self.source_trait)


def link_latent(widget, feature_activations, target_trait: str = "latent") -> LatentLink:
    """Forward ``widget.selected_latent`` to ``feature_activations.latent`` (see the module docstring)."""
    return LatentLink(widget, feature_activations, "selected_latent", target_trait)


class LatentSelection:
    """Mixin for the four data-centric widgets: ``.link(feature_activations)``."""

    def link(self, feature_activations, target_trait: str = "latent") -> LatentLink:
        """Show every latent selected here in ``feature_activations`` (returns the link; ``.unlink()``)."""
        return link_latent(self, feature_activations, target_trait)
