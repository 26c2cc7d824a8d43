"""Shared helpers: hypothesis profile, random games and strategies, a float64 switch."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ismarl import games

# Modest, reproducible property tests: the whole unit suite has to stay within CI's budget.
settings.register_profile(
    "ismarl",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ismarl")


@contextlib.contextmanager
def float64():
    """Run a block with 64-bit JAX arrays, without flipping the setting for the whole session."""
    with jax.enable_x64(True):
        yield


def random_pd(rng: np.random.Generator) -> games.MatrixGame:
    """A random prisoner's dilemma: T > R > P > S and 2R > T + S."""
    while True:
        S, P, R, T = np.sort(rng.uniform(-3.0, 3.0, size=4))
        if 2 * R > T + S and min(T - R, R - P, P - S) > 0.05:
            return games.MatrixGame(R=R, S=S, T=T, P=P, name="random_pd")


def random_game(rng: np.random.Generator) -> games.BimatrixGame:
    """Any 2x2 game: independent payoffs for both players."""
    return games.BimatrixGame(rng.uniform(-3, 3, (2, 2)), rng.uniform(-3, 3, (2, 2)), name="random")


def ergodic(u, margin: float = 0.01):
    """Map U(0,1) draws into [margin, 1-margin]: every transition possible, so the chain is ergodic."""
    return margin + (1 - 2 * margin) * u


ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def readme_script(run: str = "step4"):
    """``results/RUN/write_readme.py``, the script beside the results it describes, as a module."""
    path = RESULTS / run / "write_readme.py"
    spec = importlib.util.spec_from_file_location(f"write_readme_{run}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rng():
    return np.random.default_rng(20260211)


probability = st.floats(0.0, 1.0, allow_nan=False)
interior_probability = st.floats(0.01, 0.99, allow_nan=False)
strategy_vectors = st.lists(probability, min_size=5, max_size=5).map(np.array)
ergodic_strategies = st.lists(interior_probability, min_size=5, max_size=5).map(np.array)
