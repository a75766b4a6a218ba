"""anywidget components. Thin: traits + a plain ES module in saewidgets/static; logic lives in Python.

Imported lazily so ``import saewidgets.widgets`` costs nothing until a widget is used.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ClusterBrowser": "cluster_browser",
    "DiffBars": "diff_bars",
    "FeatureActivations": "feature_activations",
    "FrontierPlot": "frontier_plot",
    "NPMIScatter": "npmi_scatter",
    "RetrievalBox": "retrieval_box",
    "SteeringPanel": "steering_panel",
    "TrainingMonitor": "training_monitor",
    "link_latent": "_links",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'saewidgets.widgets' has no attribute {name!r}")
