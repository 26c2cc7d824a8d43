"""A functional iterated-matrix-game environment in the gymnax style.

``env.reset(key, params) -> (obs, state)`` and
``env.step(key, state, actions, params) -> (obs, state, rewards, done, info)``, where
``obs`` is one-hot of shape (2, 5) (row 0: player X's first-person view, row 1: Y's),
``actions`` is an int array (2,) with 0 = C and 1 = D, and ``rewards`` has shape (2,).
Both functions are pure, so they ``jit`` and ``vmap`` over episodes and over ``EnvParams``
(e.g. many games at once). There is no auto-reset: ``done`` is True on the step that ends
round ``horizon``; call ``reset`` for a new episode.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from ismarl._validate import check_positive_int
from ismarl.conventions import N_OBSERVATIONS, START, observation_index
from ismarl.games import Game, check_game, ipd, to_bimatrix_array


@struct.dataclass
class EnvParams:
    """``payoffs[x_action, y_action] = (reward_X, reward_Y)``, shape (..., 2, 2, 2)."""

    payoffs: jnp.ndarray


@struct.dataclass
class EnvState:
    t: jnp.ndarray  # rounds played so far
    obs_index: jnp.ndarray  # (2,) first-person observation index of each player


def make_params(game: Game | None = None) -> EnvParams:
    """Environment parameters for a game (default: the paper's IPD)."""
    g = check_game(game if game is not None else ipd())
    return EnvParams(payoffs=jnp.asarray(to_bimatrix_array(g), dtype=jnp.result_type(float)))


def one_hot_observations(obs_index) -> jnp.ndarray:
    return jax.nn.one_hot(obs_index, N_OBSERVATIONS, dtype=jnp.result_type(float))


class IteratedMatrixGame:
    """Iterated 2x2 game with a fixed horizon (the paper: 100 rounds, no early end)."""

    def __init__(self, horizon: int = 100):
        self.horizon = check_positive_int(horizon, "horizon")

    def default_params(self) -> EnvParams:
        return make_params(ipd())

    def reset(self, key: jax.Array, params: EnvParams):
        del key, params  # the start is deterministic
        state = EnvState(t=jnp.zeros((), jnp.int32), obs_index=jnp.full((2,), START, jnp.int32))
        return one_hot_observations(state.obs_index), state

    def step(self, key: jax.Array, state: EnvState, actions, params: EnvParams):
        del key  # transitions are deterministic given the actions
        a = jnp.asarray(actions, jnp.int32)
        rewards = params.payoffs[a[0], a[1]]
        obs_index = jnp.stack([observation_index(a[0], a[1]), observation_index(a[1], a[0])])
        t = state.t + 1
        new_state = EnvState(t=t, obs_index=obs_index)
        done = t >= self.horizon
        return one_hot_observations(obs_index), new_state, rewards, done, {"t": t}
