"""Helpers for the teaching notebooks: one size switch, so CI runs every notebook small.

``SAEW_SIZE=small`` (set by the test suite) shrinks data and training; unset or ``full`` gives the
sizes the notebooks are written for. Use ``size(small=..., full=...)`` in a notebook's parameter cell.
"""

from __future__ import annotations

import os


def is_small() -> bool:
    value = os.environ.get("SAEW_SIZE", "full").lower()
    if value not in ("small", "full"):
        raise ValueError(f"SAEW_SIZE must be 'small' or 'full', got {value!r}")
    return value == "small"


def size(*, small, full):
    """``small`` under SAEW_SIZE=small (CI), else ``full``."""
    return small if is_small() else full
