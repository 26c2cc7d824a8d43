"""The one round transition of the iterated game, and the parameters it runs under.

:class:`EnvParams` holds the game (as a bimatrix array) and the horizon, gymnax style, so a batch of
games is a batch of params. :func:`transition` maps both players' actions to their rewards and to
the observation each sees next (first person, :mod:`ismarl.conventions`). Everything that plays
rounds calls it: the teaching environment (:mod:`ismarl.sim.env`), Monte Carlo play of memory-1
strategies (:mod:`ismarl.sim.simulate`) and the rollouts of every training engine
(:func:`ismarl.agents.match.play_match`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from flax import struct

from ismarl._validate import check_positive_int
from ismarl.conventions import observation_index
from ismarl.games import Game, resolve, to_bimatrix_array

#: Rounds per episode in the paper (no early end).
PAPER_HORIZON = 100


@struct.dataclass
class EnvParams:
    """``payoffs[x_action, y_action] = (reward_X, reward_Y)`` (..., 2, 2, 2) and the horizon."""

    payoffs: jnp.ndarray
    horizon: int = struct.field(pytree_node=False, default=PAPER_HORIZON)


def make_params(game: Game | None = None, horizon: int = PAPER_HORIZON, dtype=None) -> EnvParams:
    """Environment parameters for a game (default: the paper's IPD) and a horizon."""
    horizon = check_positive_int(horizon, "horizon")
    dtype = jnp.result_type(float) if dtype is None else dtype
    return EnvParams(payoffs=jnp.asarray(to_bimatrix_array(resolve(game)), dtype=dtype), horizon=horizon)


class Outcome(NamedTuple):
    """What one round gives each side: ``reward_x``/``reward_y`` and the observations
    ``obs_x``/``obs_y`` each sees before the next round (first person)."""

    reward_x: jnp.ndarray
    reward_y: jnp.ndarray
    obs_x: jnp.ndarray
    obs_y: jnp.ndarray


def transition(params: EnvParams, action_x, action_y) -> Outcome:
    """One round: actions (0 = C, 1 = D; integer or boolean arrays of any matching shape) to rewards
    and next observations. Pure and elementwise, so it runs inside ``scan``, ``vmap`` and ``jit``."""
    ax = jnp.asarray(action_x, jnp.int32)
    ay = jnp.asarray(action_y, jnp.int32)
    rewards = params.payoffs[ax, ay]
    return Outcome(reward_x=rewards[..., 0], reward_y=rewards[..., 1],
                   obs_x=observation_index(ax, ay), obs_y=observation_index(ay, ax))
