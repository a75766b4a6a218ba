"""saewidgets: learn, train and look inside sparse autoencoders, in Jupyter, offline.

The public API is imported lazily so that ``import saewidgets`` stays fast and never touches
torch, transformers or the network until a function that needs them is called.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_corpus": "corpora",
    "load_model": "models",
    "default_device": "_devices",
    "hub_reachable": "_hub",
    "OfflineError": "_hub",
    "harvest": "activations",
    "ActivationSet": "activation_set",
    "CachedActivations": "activation_set",
    "SAEConfig": "config",
    "TrainConfig": "config",
    "build_sae": "matryoshka",  # sae.build_sae, imported from where every architecture is registered
    "train": "training",
    "evaluate": "metrics",
    "generate": "generation",
    "save_sae": "io",
    "load_sae": "io",
    "load_gemma_scope": "io",
    "FeatureActivations": "widgets.feature_activations",
    "FrontierPlot": "widgets.frontier_plot",
    "SteeringPanel": "widgets.steering_panel",
    "TrainingMonitor": "widgets.training_monitor",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'saewidgets' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
