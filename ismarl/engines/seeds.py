"""The random streams of a training run (each seed's initialization key and run key), and how an
engine runs independent replicas (seeds, learners) side by side (:func:`map_replicas`)."""

from __future__ import annotations

from typing import Callable

import jax


def seed_keys(seed: int):
    """``(init_key, run_key)`` of a seed; iteration ``i`` uses ``fold_in(run_key, i)``, so the random
    stream depends only on (seed, iteration) and a resumed run repeats an uninterrupted one."""
    init_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
    return init_key, run_key


def map_replicas(fn: Callable) -> Callable:
    """``fn`` applied to each slice of the leading axis of all its arguments (seeds, learners),
    results stacked: one ``vmap``-ed program on an accelerator, and on the CPU ``lax.map`` (one
    replica after another). Same values either way up to float rounding; on the CPU one at a time
    is faster (``bench/bench_a2c.py``: each replica's working set stays in cache, and XLA's CPU
    backend runs batched small matmuls slowly), and a run spreads its seeds over the host's cores
    as devices instead (:mod:`ismarl.runs.sharding`). The backend is read when ``fn`` is traced."""

    def mapped(*args):
        if jax.default_backend() == "cpu":
            return jax.lax.map(lambda a: fn(*a), args)
        return jax.vmap(fn)(*args)

    return mapped
