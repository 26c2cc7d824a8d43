"""Training over several devices with JAX's own sharding: every seed of a run is independent, so
the seed axis (the leading axis of an engine's states, run keys, frozen parameters and metrics)
is split over a one-axis :class:`jax.sharding.Mesh` and each device advances its own seeds with
:func:`jax.shard_map` (no communication between devices).

One device (a laptop, CI, one GPU) runs the engine's chunk unchanged. With ``D`` visible devices
a run of ``S`` seeds uses the largest ``d <= D`` that divides ``S`` (e.g. 8 seeds on 4 GPUs:
2 per device; 5 seeds on 4 GPUs: 1 device, reported by :func:`plan`). Same seeds, same results
as one device, up to float rounding (tested on 4 host devices:
``XLA_FLAGS=--xla_force_host_platform_device_count=4``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

SEED_AXIS = "seeds"


class SeedSharding(NamedTuple):
    """How a run's seeds are placed: ``n_devices`` devices (a divisor of the seed count), ``mesh``
    over them (None on one device)."""

    n_seeds: int
    n_devices: int
    mesh: Mesh | None

    def describe(self) -> str:
        if self.mesh is None:
            return f"{self.n_seeds} seed(s) on 1 device ({jax.devices()[0].platform})"
        return (f"{self.n_seeds} seeds on {self.n_devices} {self.mesh.devices.flat[0].platform} devices "
                f"({self.n_seeds // self.n_devices} per device)")


def devices_for(n_seeds: int, n_devices: int) -> int:
    """How many of ``n_devices`` devices ``n_seeds`` seeds use: the largest count that divides
    the seeds, so that every device holds the same number."""
    if not isinstance(n_seeds, (int, np.integer)) or isinstance(n_seeds, bool) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}")
    if n_devices < 1:
        raise ValueError("devices: give at least one device")
    return max(k for k in range(1, n_devices + 1) if n_seeds % k == 0)


def plan(n_seeds: int, devices=None) -> SeedSharding:
    """The placement of ``n_seeds`` seeds on ``devices`` (default: all visible devices)."""
    devices = list(jax.devices() if devices is None else devices)
    d = devices_for(n_seeds, len(devices))
    if d == 1:
        return SeedSharding(int(n_seeds), 1, None)
    return SeedSharding(int(n_seeds), d, Mesh(np.asarray(devices[:d]), (SEED_AXIS,)))


def place(tree, placement: SeedSharding):
    """``tree`` (leaves with a leading seed axis) put on the devices of ``placement``."""
    if placement.mesh is None:
        return tree
    sharding = NamedSharding(placement.mesh, PartitionSpec(SEED_AXIS))

    def put(x):
        if np.ndim(x) == 0 or np.shape(x)[0] != placement.n_seeds:
            raise ValueError(f"every leaf needs a leading seed axis of {placement.n_seeds}, got shape {np.shape(x)}")
        return jax.device_put(x, sharding)

    return jax.tree_util.tree_map(put, tree)


def over_seeds(fn: Callable, placement: SeedSharding) -> Callable:
    """``fn(*args) -> outputs`` (every argument and output leaf with a leading seed axis, e.g. an
    engine's chunk) run with each device on its own slice of the seeds."""
    if placement.mesh is None:
        return fn
    spec = PartitionSpec(SEED_AXIS)
    return jax.jit(jax.shard_map(fn, mesh=placement.mesh, in_specs=spec, out_specs=spec, check_vma=False))
