"""One jitted rollout for any pair of players (tabular, named, frozen network or learner).

:func:`play_match` plays N parallel episodes of the iterated game between two
:class:`ismarl.agents.players.Player` sides; every round is :func:`ismarl.sim.core.transition`.
All the randomness is drawn up front as uniforms ``u`` of shape (T, 2, N) and a side defects when
``u >= p_cooperate``.

The N episodes are independent, so on several devices they can be split among them:
:func:`shard_episodes` marks the episode axis for the axis ``"episodes"`` of the mesh a run is
placed on (:mod:`ismarl.runs.sharding`) and does nothing without one. The random stream does not
depend on the split (JAX's partitionable Threefry), so results equal one device's up to rounding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from jax.sharding import PartitionSpec

from ismarl.agents.players import Player, player_act, player_start
from ismarl.conventions import START
from ismarl.sim.core import EnvParams, transition


EPISODE_AXIS = "episodes"


def shard_episodes(x, axis: int = -1):
    """``x`` with its episode axis ``axis`` split over the mesh axis ``"episodes"`` of the current
    (abstract) mesh; unchanged when there is no such mesh axis (one device, or seeds only)."""
    mesh = jax.sharding.get_abstract_mesh()
    if mesh.empty or EPISODE_AXIS not in mesh.axis_names or mesh.shape[EPISODE_AXIS] == 1:
        return x
    spec = [None] * x.ndim
    spec[axis] = EPISODE_AXIS
    return jax.lax.with_sharding_constraint(x, PartitionSpec(*spec))


@struct.dataclass
class Trajectory:
    """Both sides of N episodes of T rounds; leading axis 2 = (side A, side B), each first person.

    ``obs[s, t]`` is what side s saw before acting in round t (``obs[:, 0] = Start``);
    ``actions`` (0 = C, 1 = D), ``rewards`` (original scale) and ``p_coop`` (the policy's
    probability of C) all have shape (2, T, N).
    """

    obs: jnp.ndarray
    actions: jnp.ndarray
    rewards: jnp.ndarray
    p_coop: jnp.ndarray


def play_match(key, side_a: Player, side_b: Player, n: int, params: EnvParams) -> Trajectory:
    """Play ``n`` episodes of ``params.horizon`` rounds of the game in ``params``."""
    u = shard_episodes(jax.random.uniform(key, (params.horizon, 2, n)))
    cache_a, carry_a = player_start(side_a, n)
    cache_b, carry_b = player_start(side_b, n)
    start = jnp.full((n,), START, jnp.int32)

    def step(state, u_t):
        carry_a, carry_b, oa, ob = state
        carry_a, pa = player_act(side_a, cache_a, carry_a, oa)
        carry_b, pb = player_act(side_b, cache_b, carry_b, ob)
        aa = (u_t[0] >= pa).astype(jnp.int32)
        ab = (u_t[1] >= pb).astype(jnp.int32)
        out = transition(params, aa, ab)
        record = (jnp.stack([oa, ob]), jnp.stack([aa, ab]), jnp.stack([out.reward_x, out.reward_y]), jnp.stack([pa, pb]))
        return (carry_a, carry_b, out.obs_x, out.obs_y), record

    _, (obs, actions, rewards, p_coop) = jax.lax.scan(step, (carry_a, carry_b, start, start), u)
    swap = lambda x: shard_episodes(jnp.swapaxes(x, 0, 1))  # (T, 2, n) -> (2, T, n)
    return Trajectory(obs=swap(obs), actions=swap(actions), rewards=swap(rewards), p_coop=swap(p_coop))
