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
run of ``S`` seeds uses ``s x e`` of them, ``s`` dividing ``S`` (every group holds the same number
of seeds): as many devices as possible, and among equal counts the most seed groups (they do not
communicate). E.g. 8 seeds on 4 GPUs: 4 x 1; one seed on 4 GPUs: 1 x 4; 5 seeds on 4: 1 x 4;
2 seeds on 8: 2 x 4. Same seeds, same results as one device up to float rounding (tested on
4 host devices: ``XLA_FLAGS=--xla_force_host_platform_device_count=4``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable, NamedTuple

import jax
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

    def describe(self) -> str:
        if self.mesh is None:
            return f"{self.n_seeds} seed(s) on 1 device ({jax.devices()[0].platform})"
        platform = self.mesh.devices.flat[0].platform
        text = (f"{self.n_seeds} seed(s) on {self.n_devices} {platform} devices: "
                f"{self.seed_devices} seed group(s) of {self.n_seeds // self.seed_devices} seed(s)")
        if self.episode_devices > 1:
            text += f", each group's episodes split over {self.episode_devices} devices"
        return text


def _check_counts(n_seeds, n_devices) -> None:
    if not isinstance(n_seeds, (int, np.integer)) or isinstance(n_seeds, bool) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}")
    if n_devices < 1:
        raise ValueError("devices: give at least one device")


def devices_for(n_seeds: int, n_devices: int) -> int:
    """How many of ``n_devices`` devices hold seeds when seeds alone are split: the largest count
    that divides the seeds, so that every device holds the same number."""
    _check_counts(n_seeds, n_devices)
    return max(k for k in range(1, n_devices + 1) if n_seeds % k == 0)


def split_devices(n_seeds: int, n_devices: int) -> tuple[int, int]:
    """``(seed groups, devices per group)`` for ``n_seeds`` seeds on ``n_devices`` devices: the
    most devices used, then the most seed groups (groups divide the seeds evenly)."""
    _check_counts(n_seeds, n_devices)
    options = [(s * (n_devices // s), s) for s in range(1, n_devices + 1) if n_seeds % s == 0]
    _, s = max(options)
    return s, n_devices // s


def plan(n_seeds: int, devices=None) -> Placement:
    """The placement of ``n_seeds`` seeds on ``devices`` (default: all visible devices)."""
    devices = list(jax.devices() if devices is None else devices)
    s, e = split_devices(n_seeds, len(devices))
    if s * e == 1:
        return Placement(int(n_seeds), 1, 1, None)
    mesh = Mesh(np.asarray(devices[:s * e]).reshape(s, e), (SEED_AXIS, EPISODE_AXIS))
    return Placement(int(n_seeds), s, e, mesh)


def place(tree, placement: Placement):
    """``tree`` (leaves with a leading seed axis) put on the devices of ``placement``: split by
    seed group, copied within a group."""
    if placement.mesh is None:
        return tree
    sharding = NamedSharding(placement.mesh, PartitionSpec(SEED_AXIS))

    def put(x):
        if np.ndim(x) == 0 or np.shape(x)[0] != placement.n_seeds:
            raise ValueError(f"every leaf needs a leading seed axis of {placement.n_seeds}, got shape {np.shape(x)}")
        return jax.device_put(x, sharding)

    return jax.tree_util.tree_map(put, tree)


def over_devices(fn: Callable, placement: Placement) -> Callable:
    """``fn(*args) -> outputs`` (every argument and output leaf with a leading seed axis, e.g. an
    engine's chunk) run with each seed group on its own slice of the seeds (manual over
    ``seeds``) and the episodes of its matches split over the group (automatic over
    ``episodes``)."""
    if placement.mesh is None:
        return fn
    spec = PartitionSpec(SEED_AXIS)
    return jax.jit(jax.shard_map(fn, mesh=placement.mesh, in_specs=spec, out_specs=spec, axis_names={SEED_AXIS},
                                 check_vma=False))


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
