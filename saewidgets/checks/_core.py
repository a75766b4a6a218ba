"""What every exercise check shares: the error type, a tolerance test, and the success message."""

from __future__ import annotations

import numpy as np
import torch


class ExerciseError(AssertionError):
    """A learner's answer disagrees with the reference; the message says how."""


def close(a, b, tol: float = 1e-5) -> bool:
    """``a`` is a tensor with ``b``'s shape and values (within ``tol``, absolute and relative)."""
    return (
        isinstance(a, torch.Tensor)
        and a.shape == b.shape
        and torch.allclose(a.float(), b.float(), atol=tol, rtol=tol)
    )


def passed(name: str) -> None:
    print(f"✓ {name} matches the reference implementation.")


def first_match(got, hints, tol: float = 1e-5) -> str | None:
    """The hint of the first typical wrong answer ``got`` equals, or None: ``hints`` is [(wrong, hint)]."""
    for wrong, hint in hints:
        if close(got, wrong, tol):
            return hint
    return None


def scalar(got, name: str, advice: str = "Reduce over every dimension.") -> torch.Tensor:
    """The learner's answer as a 0-d float tensor, or an ExerciseError when it is not one number.

    A Python number, a one-element tensor and a numpy scalar (np.float32(...), a 0-d array) all count: the
    checks compare values, so ``loss.item()`` and ``loss`` are equally right where one number is asked for."""
    if isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, (bool, np.bool_)):
        return torch.tensor(float(got))
    if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1:
        return torch.tensor(float(got.reshape(())))
    if isinstance(got, torch.Tensor) and got.numel() == 1 and got.ndim <= 1:
        return got.detach().reshape(())
    shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
    raise ExerciseError(f"{name} should return one number (a float or a 0-d tensor); got {shape}. {advice}")
