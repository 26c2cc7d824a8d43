"""Training over several devices with JAX's own sharding, on a two-axis :class:`jax.sharding.Mesh`
(``seeds`` x ``episodes``).

* **Seeds.** Every seed of a run is independent, so the seed axis (the leading axis of an
  engine's states, run keys, frozen parameters and metrics) is split over the mesh axis
  ``seeds`` and each device group advances its own seeds inside :func:`jax.shard_map`, with no
  communication between groups.
* **Episodes.** Within a group the episodes of every match are split over the mesh axis
  ``episodes`` (:func:`ismarl.agents.match.shard_episodes` marks the axis; XLA's partitioner
  places the rest of the computation and sums gradients over the group). This is how one seed
  with paper-scale batches uses several GPUs.

One device (a laptop, CI, one GPU) runs the engine's chunk unchanged. With ``D`` visible devices a
run of ``S`` seeds is split into as many seed groups as it can use (at most ``min(S, D)``), each
group holding ``ceil(S / groups)`` seeds, and among group counts giving that load the fewest; when
the groups do not divide the seeds, the last seed is repeated to fill them inside the compiled
call and the copies are dropped from its results. The devices left, ``D // groups`` per group,
split each group's episodes. E.g. 8 seeds on 4 GPUs: 4 x 1; one seed on 4 GPUs: 1 x 4; 5 seeds on
4: 3 x 1 (2, 2 and 1 + a copy); 2 seeds on 8: 2 x 4. Same seeds, same results as one device up to
float rounding (tested on 4 host devices: ``XLA_FLAGS=--xla_force_host_platform_device_count=4``).

On a CPU each *core* can be a device: ``python -m ismarl`` starts JAX with one host device per
core the process may use (:func:`use_host_cores`), so the seeds of a run train on all cores in
parallel (``bench/bench_a2c.py`` measures the gain on the shipped Step-4 configuration).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ismarl.agents.match import EPISODE_AXIS

SEED_AXIS = "seeds"


class Placement(NamedTuple):
    """How a run is placed: ``seed_devices`` groups of ``episode_devices`` devices each (``mesh``
    over them; None on one device)."""

    n_seeds: int
    seed_devices: int
    episode_devices: int
    mesh: Mesh | None

    @property
    def n_devices(self) -> int:
        return self.seed_devices * self.episode_devices

    @property
    def padded_seeds(self) -> int:
        """Seeds computed: ``n_seeds`` rounded up to a multiple of the seed groups (the last seed
        repeated)."""
        return -(-self.n_seeds // self.seed_devices) * self.seed_devices

    def describe(self) -> str:
        if self.mesh is None:
            return f"{self.n_seeds} seed(s) on 1 device ({jax.devices()[0].platform})"
        platform = self.mesh.devices.flat[0].platform
        text = (f"{self.n_seeds} seed(s) on {self.n_devices} {platform} devices: "
                f"{self.seed_devices} seed group(s) of {self.padded_seeds // self.seed_devices} seed(s)")
        if self.padded_seeds > self.n_seeds:
            text += f" (the last seed repeated {self.padded_seeds - self.n_seeds} time(s) to fill them, its copies dropped)"
        if self.episode_devices > 1:
            text += f", each group's episodes split over {self.episode_devices} devices"
        return text


def _check_counts(n_seeds, n_devices) -> None:
    if not isinstance(n_seeds, (int, np.integer)) or isinstance(n_seeds, bool) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}")
    if n_devices < 1:
        raise ValueError("devices: give at least one device")


def split_devices(n_seeds: int, n_devices: int) -> tuple[int, int]:
    """``(seed groups, devices per group)`` for ``n_seeds`` seeds on ``n_devices`` devices: the
    fewest groups that hold at most ``ceil(n_seeds / min(n_seeds, n_devices))`` seeds each (the
    lightest load any placement gives a group), and the devices left split each group's episodes."""
    _check_counts(n_seeds, n_devices)
    per_group = -(-n_seeds // min(n_seeds, n_devices))
    groups = -(-n_seeds // per_group)
    return groups, n_devices // groups


def plan(n_seeds: int, devices=None) -> Placement:
    """The placement of ``n_seeds`` seeds on ``devices`` (default: all visible devices)."""
    devices = list(jax.devices() if devices is None else devices)
    s, e = split_devices(n_seeds, len(devices))
    if s * e == 1:
        return Placement(int(n_seeds), 1, 1, None)
    mesh = Mesh(np.asarray(devices[:s * e]).reshape(s, e), (SEED_AXIS, EPISODE_AXIS))
    return Placement(int(n_seeds), s, e, mesh)


def _check_seed_axis(tree, n_seeds: int) -> None:
    for x in jax.tree_util.tree_leaves(tree):
        if np.ndim(x) == 0 or np.shape(x)[0] != n_seeds:
            raise ValueError(f"every leaf needs a leading seed axis of {n_seeds}, got shape {np.shape(x)}")


def place(tree, placement: Placement):
    """``tree`` (leaves with a leading seed axis) put on the devices of ``placement``: split by
    seed group, copied within a group. When the groups do not divide the seeds the arrays are
    left where they are (the compiled call of :func:`over_devices` fills and splits them)."""
    if placement.mesh is None:
        return tree
    _check_seed_axis(tree, placement.n_seeds)
    if placement.padded_seeds != placement.n_seeds:
        return tree
    sharding = NamedSharding(placement.mesh, PartitionSpec(SEED_AXIS))
    return jax.tree_util.tree_map(lambda x: jax.device_put(x, sharding), tree)


def _fill(tree, n: int):
    """Leaves' seed axis extended to ``n`` by repeating the last seed."""
    def fill(x):
        extra = n - x.shape[0]
        return x if extra == 0 else jnp.concatenate([x, jnp.repeat(x[-1:], extra, axis=0)])
    return jax.tree_util.tree_map(fill, tree)


def over_devices(fn: Callable, placement: Placement) -> Callable:
    """``fn(*args) -> outputs`` (every argument and output leaf with a leading seed axis, e.g. an
    engine's chunk) run with each seed group on its own slice of the seeds (manual over
    ``seeds``) and the episodes of its matches split over the group (automatic over
    ``episodes``); seeds that do not fill the groups are filled with copies of the last one
    inside the call and the copies dropped from its outputs."""
    if placement.mesh is None:
        return fn
    spec = PartitionSpec(SEED_AXIS)
    sharded = jax.shard_map(fn, mesh=placement.mesh, in_specs=spec, out_specs=spec, axis_names={SEED_AXIS},
                            check_vma=False)
    n, padded = placement.n_seeds, placement.padded_seeds
    if padded == n:
        return jax.jit(sharded)

    def filled(*args):
        out = sharded(*_fill(args, padded))
        return jax.tree_util.tree_map(lambda x: x[:n], out)

    return jax.jit(filled)


def host_cores() -> int:
    """The number of CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def use_host_cores(environ=None) -> int:
    """Make JAX, when it starts, show one host CPU device per core (``XLA_FLAGS``), unless the
    flags already set a host device count; returns the count in effect (0: left to JAX). Call it
    before JAX's first computation: a process's device count is fixed then. GPUs and TPUs, when
    present, stay the default devices."""
    environ = os.environ if environ is None else environ
    flags = environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return 0
    n = host_cores()
    if n > 1:
        environ["XLA_FLAGS"] = (flags + " " if flags else "") + f"--xla_force_host_platform_device_count={n}"
    return n


def train_on_host_devices(experiment: str, out, seeds: str = "1", n_devices: int = 4, scale: str = "fast",
                          iterations: int | None = None, timeout: float = 900) -> list[str]:
    """Train ``experiment`` into ``out`` in a fresh Python process that sees ``n_devices`` host CPU
    devices (``XLA_FLAGS=--xla_force_host_platform_device_count``; the device count of a process
    is fixed when JAX starts, so another process is needed). Same command line as
    ``python -m ismarl train``; returns the lines it printed (the placement among them)."""
    if not isinstance(n_devices, int) or isinstance(n_devices, bool) or n_devices < 1:
        raise ValueError(f"n_devices must be a positive integer, got {n_devices!r}")
    cmd = [sys.executable, "-m", "ismarl", "train", experiment, "--scale", scale, "--seeds", str(seeds),
           "--out", str(out), "--no-progress"] + ([] if iterations is None else ["--iterations", str(iterations)])
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": f"--xla_force_host_platform_device_count={n_devices}"}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    lines = (res.stdout + res.stderr).splitlines()
    if res.returncode != 0:
        raise RuntimeError(f"training on {n_devices} host devices failed (exit {res.returncode}):\n" + "\n".join(lines[-20:]))
    return lines
