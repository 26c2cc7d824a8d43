"""What every engine reports per iteration, for the run layer to log: named containers, no keys to
parse. ``matches`` are keyed by :func:`ismarl.protocol.match_name`; ``learners`` holds the engine's
per-learner diagnostics (for A2C: entropy, value loss, gradient norm), ``scalars`` its schedules'
values (for A2C: the entropy coefficient)."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp


class MatchMetrics(NamedTuple):
    """Mean reward and cooperation of both sides (learner, co-player) of one match: shape (2,)."""

    reward: jnp.ndarray
    coop: jnp.ndarray


class IterationMetrics(NamedTuple):
    matches: dict[str, MatchMetrics]
    learners: dict[str, jnp.ndarray]  # name -> (n_learners,)
    scalars: dict[str, jnp.ndarray]  # name -> ()
