"""What every exercise check shares: the error type, a tolerance test, and the success message."""

from __future__ import annotations

import torch


class ExerciseError(AssertionError):
    """A learner's answer disagrees with the reference; the message says how."""


def close(a, b, tol: float = 1e-5) -> bool:
    """``a`` is a tensor with ``b``'s shape and values (within ``tol``, absolute and relative)."""
    return (isinstance(a, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a.float(), b.float(), atol=tol, rtol=tol))


def passed(name: str) -> None:
    print(f"✓ {name} matches the reference implementation.")


def first_match(got, hints, tol: float = 1e-5) -> str | None:
    """The hint of the first typical wrong answer ``got`` equals, or None: ``hints`` is [(wrong, hint)]."""
    for wrong, hint in hints:
        if close(got, wrong, tol):
            return hint
    return None
