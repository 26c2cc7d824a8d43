"""The random streams of a training run: each seed's initialization key and run key."""

from __future__ import annotations

import jax


def seed_keys(seed: int):
    """``(init_key, run_key)`` of a seed; iteration ``i`` uses ``fold_in(run_key, i)``, so the random
    stream depends only on (seed, iteration) and a resumed run repeats an uninterrupted one."""
    init_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
    return init_key, run_key
