"""Sequence-model agents and the one policy interface every co-player shares.

:class:`SequencePolicy` is the paper's A2C network: each round's observation (one-hot of
Start/CC/CD/DC/DD) goes through a linear 32-d embedding into a GRU (128 units by default), whose
Swish-activated output feeds a 2-way policy head and a value head. An optional opponent-ID vector
``z`` (10 numbers, :func:`ismarl.strategies.log_probs`; zeros for a learner) is embedded by its own
linear layer and fed as one extra GRU step before the first round.

Because an observation takes only five values, the GRU's input-side gate pre-activations are a
(5, 3H) table computed once per parameter set (:meth:`SequencePolicy.input_table`); each round
then costs one gather plus the recurrent matmul ``h @ W_h``.

:class:`Player` is one side of a batch of games, whatever kind of agent plays it: a tabular
memory-1 agent (a (N, 5) table of cooperation probabilities: random, named or explicit) or a
network (learner or frozen checkpoint). ``player_start`` and ``player_act`` give every kind the
same signature, so any pairing runs inside one jitted :func:`ismarl.rollout.play_match`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

from ismarl.conventions import N_OBSERVATIONS, START, STRATEGY_LENGTH

Z_DIM = 2 * STRATEGY_LENGTH  # the opponent-ID vector: log pi(a|o) for 5 observations x 2 actions


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Sizes of :class:`SequencePolicy` (the paper: hidden 128, embedding 32, no z)."""

    hidden: int = 128
    embed: int = 32
    use_z: bool = False

    def module(self) -> "SequencePolicy":
        return SequencePolicy(hidden=self.hidden, embed=self.embed, use_z=self.use_z)


class SequencePolicy(nn.Module):
    """GRU policy/value network over the observation history (one GRU step per round)."""

    hidden: int = 128
    embed: int = 32
    use_z: bool = False

    def setup(self):
        h = self.hidden
        # a linear layer on a one-hot observation is an embedding lookup
        self.obs_embed = nn.Embed(N_OBSERVATIONS, self.embed, embedding_init=nn.initializers.normal(1.0))
        if self.use_z:
            self.z_embed = nn.Dense(self.embed)
        self.input_gates = nn.Dense(3 * h)  # (r, u, n) gates from the input, with bias
        self.hidden_gates = nn.Dense(3 * h, use_bias=False, kernel_init=nn.initializers.orthogonal())
        self.hidden_bias_n = self.param("hidden_bias_n", nn.initializers.zeros, (h,))
        self.policy_head = nn.Dense(2, kernel_init=nn.initializers.orthogonal(0.01))
        self.value_head = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0))

    # -- pieces used by the rollout and the loss -------------------------------------------------
    def input_table(self) -> jnp.ndarray:
        """Input-side gate pre-activations for the five observations, shape (5, 3H)."""
        return self.input_gates(self.obs_embed.embedding)

    def cell(self, gx: jnp.ndarray, h: jnp.ndarray) -> jnp.ndarray:
        """One GRU step from input pre-activations ``gx`` (..., 3H) and state ``h`` (..., H)."""
        gh = self.hidden_gates(h)
        xr, xu, xn = jnp.split(gx, 3, axis=-1)
        hr, hu, hn = jnp.split(gh, 3, axis=-1)
        r = jax.nn.sigmoid(xr + hr)
        u = jax.nn.sigmoid(xu + hu)
        n = jnp.tanh(xn + r * (hn + self.hidden_bias_n))
        return (1.0 - u) * n + u * h

    def heads(self, h: jnp.ndarray):
        """``(logits (..., 2), value (...))`` from GRU states."""
        f = nn.swish(h)
        return self.policy_head(f), self.value_head(f)[..., 0]

    def initial_state(self, z: jnp.ndarray | None, batch: int) -> jnp.ndarray:
        """GRU state before round 1: zeros, then one step on the embedded ``z`` if used."""
        h = jnp.zeros((batch, self.hidden))
        if self.use_z:
            if z is None:
                z = jnp.zeros((batch, Z_DIM))
            h = self.cell(self.input_gates(self.z_embed(z)), h)
        return h

    def __call__(self, obs: jnp.ndarray, z: jnp.ndarray | None = None):
        """Reference forward pass over observation indices ``obs`` (T, N) with a Python loop over
        rounds; returns logits (T, N, 2) and values (T, N). Used to create parameters and as the
        reference for the fast pure functions below, which training and rollouts use."""
        table = self.input_table()
        h = self.initial_state(z, obs.shape[1])
        hs = []
        for t in range(obs.shape[0]):
            h = self.cell(table[obs[t]], h)
            hs.append(h)
        return self.heads(jnp.stack(hs))


# -- fast pure functions on the parameter dict (same math as the module) -------------------------
def input_table(params) -> jnp.ndarray:
    """(5, 3H) input-side gate pre-activations, one row per observation."""
    p = params["params"]
    return p["obs_embed"]["embedding"] @ p["input_gates"]["kernel"] + p["input_gates"]["bias"]


def gru_cell(params, gx, h):
    """One GRU step from input pre-activations ``gx`` (..., 3H) and state ``h`` (..., H)."""
    p = params["params"]
    gh = h @ p["hidden_gates"]["kernel"]
    xr, xu, xn = jnp.split(gx, 3, axis=-1)
    hr, hu, hn = jnp.split(gh, 3, axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    u = jax.nn.sigmoid(xu + hu)
    n = jnp.tanh(xn + r * (hn + p["hidden_bias_n"]))
    return (1.0 - u) * n + u * h


def heads(params, h):
    """``(logits (..., 2), value (...))`` from GRU states (..., H)."""
    p = params["params"]
    f = jax.nn.swish(h)
    logits = f @ p["policy_head"]["kernel"] + p["policy_head"]["bias"]
    value = f @ p["value_head"]["kernel"][:, 0] + p["value_head"]["bias"][0]
    return logits, value


def initial_state(config: NetworkConfig, params, z, n: int):
    """GRU state before round 1 for ``n`` games (one step on the embedded ``z`` if used)."""
    h = jnp.zeros((n, config.hidden))
    if config.use_z:
        p = params["params"]
        if z is None:
            z = jnp.zeros((n, Z_DIM))
        e = z @ p["z_embed"]["kernel"] + p["z_embed"]["bias"]
        h = gru_cell(params, e @ p["input_gates"]["kernel"] + p["input_gates"]["bias"], h)
    return h


def init_params(config: NetworkConfig, key: jax.Array):
    """Fresh parameters for a network of the given sizes."""
    obs = jnp.zeros((1, 1), jnp.int32)
    z = jnp.zeros((1, Z_DIM)) if config.use_z else None
    return {"params": dict(config.module().init(key, obs, z)["params"])}


def sequence_outputs(config: NetworkConfig, params, obs, z=None, scan_unroll: int = 1):
    """Logits (T, N, 2) and values (T, N) of a network over observation indices ``obs`` (T, N).

    The input side of every round is one gather from :func:`input_table` done before the scan;
    the scan body is only the recurrent matmul and the gates.
    """
    gxs = input_table(params)[obs]
    h0 = initial_state(config, params, z, obs.shape[1])

    def body(h, gx):
        h = gru_cell(params, gx, h)
        return h, h

    _, hs = jax.lax.scan(body, h0, gxs, unroll=scan_unroll)
    return heads(params, hs)


# -- the common co-player interface ---------------------------------------------------------------
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


__all__ = [
    "NetworkConfig",
    "SequencePolicy",
    "Player",
    "init_params",
    "sequence_outputs",
    "tabular_player",
    "network_player",
    "player_start",
    "player_act",
    "START",
    "Z_DIM",
]
