"""Notebooks run small and offline under pytest (nbval); their kernels inherit this environment."""

import os

os.environ.setdefault("SAEW_SIZE", "small")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_collection_modifyitems(config, items):
    # The `notebooks` marker (pyproject.toml) for nbval's cells, also when only this folder is collected
    # (tests/conftest.py, which marks them in a full run, is not loaded then).
    for item in items:
        if item.path.suffix == ".ipynb" and not item.get_closest_marker("notebooks"):
            item.add_marker("notebooks")
