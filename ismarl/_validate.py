"""Input checks shared by the package: clear errors on concrete inputs, no-ops under tracing."""

from __future__ import annotations

import numbers

import jax
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` holds values we can inspect (not a JAX tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def check_finite_number(value, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.generic, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    arr = np.asarray(value)
    if arr.shape != ():
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    if not np.isfinite(arr):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(arr)


def check_probabilities(x, name: str, last_dim: int | None = None, atol: float = 1e-6):
    """Check that ``x`` is an array of probabilities (finite, within [0, 1]).

    ``last_dim`` additionally checks the trailing axis length (5 for memory-1 strategies).
    Value checks are skipped for tracers, so the function is safe inside ``jit``.
    Returns ``x`` unchanged.
    """
    shape = np.shape(x)
    if last_dim is not None and (len(shape) == 0 or shape[-1] != last_dim):
        raise ValueError(
            f"{name} must have a trailing axis of length {last_dim} "
            f"([p0, pCC, pCD, pDC, pDD]), got shape {shape}"
        )
    if is_concrete(x):
        arr = np.asarray(x)
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if np.any(arr < -atol) or np.any(arr > 1 + atol):
            raise ValueError(
                f"{name} must hold probabilities in [0, 1], got values in "
                f"[{arr.min():.6g}, {arr.max():.6g}]"
            )
    return x


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_discount(value, name: str = "discount") -> float:
    g = check_finite_number(value, name)
    if not 0.0 < g < 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {g}")
    return g


def check_int(value, name: str, minimum: int | None = 0) -> int:
    """Return ``value`` as an int, or raise if it is not an integer (bools are not) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_real(value, name: str, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, optional: bool = False):
    """``value`` if it is a finite real number (not a bool) within the bounds; ``None`` passes with ``optional``."""
    if value is None and optional:
        return None
    x = check_finite_number(value, name)
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value!r}")
    return value
