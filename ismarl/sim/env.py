"""A functional iterated-matrix-game environment in the gymnax style, for teaching and for
plugging into other gymnax-style code.

``env.reset(key, params) -> (obs, state)`` and
``env.step(key, state, actions, params) -> (obs, state, rewards, done, info)``, where
``obs`` is one-hot of shape (2, 5) (row 0: player X's first-person view, row 1: Y's),
``actions`` is an int array (2,) with 0 = C and 1 = D, and ``rewards`` has shape (2,).
``params`` (:class:`~ismarl.sim.core.EnvParams`) holds the game and the horizon. Both functions
are pure, so they ``jit`` and ``vmap`` over episodes and over ``EnvParams`` (e.g. many games at
once). A step is :func:`ismarl.sim.core.transition`. There is no auto-reset: ``done`` is True on
the step that ends round ``params.horizon``; call ``reset`` for a new episode.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from ismarl.conventions import N_OBSERVATIONS, START
from ismarl.games import Game
from ismarl.sim.core import PAPER_HORIZON, EnvParams, make_params, transition


@struct.dataclass
class EnvState:
    t: jnp.ndarray  # rounds played so far
    obs_index: jnp.ndarray  # (2,) first-person observation index of each player


def one_hot_observations(obs_index) -> jnp.ndarray:
    return jax.nn.one_hot(obs_index, N_OBSERVATIONS, dtype=jnp.result_type(float))


class IteratedMatrixGame:
    """Iterated 2x2 game with a fixed horizon (the paper: 100 rounds, no early end)."""

    def default_params(self, game: Game | None = None, horizon: int = PAPER_HORIZON) -> EnvParams:
        return make_params(game, horizon)

    def reset(self, key: jax.Array, params: EnvParams):
        del key, params  # the start is deterministic
        state = EnvState(t=jnp.zeros((), jnp.int32), obs_index=jnp.full((2,), START, jnp.int32))
        return one_hot_observations(state.obs_index), state

    def step(self, key: jax.Array, state: EnvState, actions, params: EnvParams):
        del key  # transitions are deterministic given the actions
        a = jnp.asarray(actions, jnp.int32)
        out = transition(params, a[..., 0], a[..., 1])
        obs_index = jnp.stack([out.obs_x, out.obs_y], axis=-1)
        rewards = jnp.stack([out.reward_x, out.reward_y], axis=-1)
        t = state.t + 1
        done = t >= params.horizon
        return one_hot_observations(obs_index), EnvState(t=t, obs_index=obs_index), rewards, done, {"t": t}
