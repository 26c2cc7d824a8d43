"""One interface for every kind of player: tabular memory-1 agents and networks alike.

:class:`Player` is one side of a batch of games, whatever kind of agent plays it: a tabular
memory-1 agent (a (N, 5) table of cooperation probabilities: random, named or explicit), a
network (learner or frozen checkpoint, :mod:`ismarl.agents.network`) or a PPI agent (its sequence
model and improvement step, :mod:`ismarl.agents.ppi_policy`). :func:`player_start` and
:func:`player_act` give every kind the same signature, so any pairing runs inside one jitted
:func:`ismarl.agents.match.play_match`. A new kind of player is a new ``kind`` here.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ismarl.agents.network import NetworkConfig, gru_cell, heads, initial_state, input_table
from ismarl.agents.ppi_policy import PPIAgent, agent_start, agent_step

TABULAR = "tabular"
NETWORK = "network"
PPI = "ppi"


@struct.dataclass
class Player:
    """One side of N parallel games.

    ``kind`` (static) is ``"tabular"`` (``params`` = (N, 5) cooperation probabilities indexed by
    observation), ``"network"`` (``params`` = one network's parameters shared by all N games,
    ``network`` = its :class:`NetworkConfig`) or ``"ppi"`` (``params`` = one sequence model's
    parameters, ``network`` = its :class:`~ismarl.agents.ppi_policy.PPIAgent`, ``key`` the key of
    its rollouts). ``z`` is the (N, 10) opponent-ID input a network or a PPI model receives
    (ignored unless its config has ``use_z``).
    """

    params: Any
    z: Any = None
    key: Any = None
    kind: str = struct.field(pytree_node=False, default=TABULAR)
    network: NetworkConfig | PPIAgent | None = struct.field(pytree_node=False, default=None)


def tabular_player(strategies) -> Player:
    return Player(params=jnp.asarray(strategies), kind=TABULAR)


def network_player(config: NetworkConfig, params, z=None) -> Player:
    return Player(params=params, z=z, kind=NETWORK, network=config)


def ppi_player(agent: PPIAgent, params, key, z=None) -> Player:
    return Player(params=params, z=z, key=key, kind=PPI, network=agent)


def agent_player(agent: NetworkConfig | PPIAgent, params, z=None, key=None) -> Player:
    """The player of a trained agent described by ``agent`` (what an engine deploys): a network
    or a PPI agent (``key`` the key of its rollouts); ``z`` is either's opponent-ID input."""
    if isinstance(agent, PPIAgent):
        if key is None:
            raise ValueError("a PPI player needs a key for its rollouts")
        return ppi_player(agent, params, key, z)
    if isinstance(agent, NetworkConfig):
        return network_player(agent, params, z)
    raise TypeError(f"agent must be a NetworkConfig or a PPIAgent, got {type(agent).__name__}")


def player_start(player: Player, n: int):
    """``(cache, carry)`` before round 1: per-parameter precomputation and the recurrent state."""
    if player.kind == TABULAR:
        return None, jnp.zeros((n,), jnp.float32)  # memory-1 agents carry nothing
    if player.kind == PPI:
        return agent_start(player.network, player.params, player.key, n, player.z)
    return input_table(player.params), initial_state(player.network, player.params, player.z, n)


def player_act(player: Player, cache, carry, obs):
    """Probability of cooperating this round given observation indices ``obs`` (N,).

    Returns ``(carry, p_cooperate (N,))``; a network advances its GRU state.
    """
    if player.kind == TABULAR:
        return carry, jnp.take_along_axis(player.params, obs[:, None], axis=1)[:, 0]
    if player.kind == PPI:
        return agent_step(player.network, player.params, cache, carry, obs)
    h = gru_cell(player.params, cache[obs], carry)
    logits, _ = heads(player.params, h)
    return h, jax.nn.softmax(logits, axis=-1)[:, 0]
