"""One interface for every kind of player: tabular memory-1 agents and networks alike.

:class:`Player` is one side of a batch of games, whatever kind of agent plays it: a tabular
memory-1 agent (a (N, 5) table of cooperation probabilities: random, named or explicit) or a
network (learner or frozen checkpoint, :mod:`ismarl.agents.network`). :func:`player_start` and
:func:`player_act` give every kind the same signature, so any pairing runs inside one jitted
:func:`ismarl.agents.match.play_match`. A new kind of player is a new ``kind`` here.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ismarl.agents.network import NetworkConfig, gru_cell, heads, initial_state, input_table

TABULAR = "tabular"
NETWORK = "network"


@struct.dataclass
class Player:
    """One side of N parallel games.

    ``kind`` (static) is ``"tabular"`` (``params`` = (N, 5) cooperation probabilities indexed by
    observation) or ``"network"`` (``params`` = one network's parameters shared by all N games,
    ``network`` = its :class:`NetworkConfig`). ``z`` is the (N, 10) opponent-ID input a network
    receives (ignored unless its config has ``use_z``).
    """

    params: Any
    z: Any = None
    kind: str = struct.field(pytree_node=False, default=TABULAR)
    network: NetworkConfig | None = struct.field(pytree_node=False, default=None)


def tabular_player(strategies) -> Player:
    return Player(params=jnp.asarray(strategies), kind=TABULAR)


def network_player(config: NetworkConfig, params, z=None) -> Player:
    return Player(params=params, z=z, kind=NETWORK, network=config)


def player_start(player: Player, n: int):
    """``(cache, carry)`` before round 1: per-parameter precomputation and the recurrent state."""
    if player.kind == TABULAR:
        return None, jnp.zeros((n,), jnp.float32)  # memory-1 agents carry nothing
    return input_table(player.params), initial_state(player.network, player.params, player.z, n)


def player_act(player: Player, cache, carry, obs):
    """Probability of cooperating this round given observation indices ``obs`` (N,).

    Returns ``(carry, p_cooperate (N,))``; a network advances its GRU state.
    """
    if player.kind == TABULAR:
        return carry, jnp.take_along_axis(player.params, obs[:, None], axis=1)[:, 0]
    h = gru_cell(player.params, cache[obs], carry)
    logits, _ = heads(player.params, h)
    return h, jax.nn.softmax(logits, axis=-1)[:, 0]
