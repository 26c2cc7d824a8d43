"""The sequence-model network of every learner: one GRU over the observation history.

:class:`SequencePolicy` declares the paper's A2C network: each round's observation (one-hot of
Start/CC/CD/DC/DD) goes through a linear 32-d embedding into a GRU (128 units by default), whose
Swish-activated output feeds a 2-way policy head and a value head. An optional opponent-ID vector
``z`` (10 numbers, :func:`ismarl.strategies.log_probs`; zeros for a learner) is embedded by its own
linear layer and fed as one extra GRU step before the first round.

The forward pass is written once, as pure functions of the parameter dict (:func:`gru_cell`,
:func:`heads`, :func:`sequence_outputs`). Because an observation takes only five values, the GRU's
input-side gate pre-activations are a (5, 3H) table computed once per parameter set
(:func:`input_table`); each round then costs one row of that table plus the recurrent matmul
``h @ W_h``. Over a recorded sequence (:func:`sequence_outputs`) the row is picked by a one-hot
product inside the scan: on XLA's CPU backend, gathering it from a per-round slice of the
scanned inputs made each round several times slower (``bench/bench_a2c.py``).
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from ismarl.conventions import N_OBSERVATIONS, STRATEGY_LENGTH

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
    """The network's parameters (names, shapes and initializers), declared once for Flax.

    The forward pass is the pure functions below (:func:`gru_cell`, :func:`heads`,
    :func:`sequence_outputs`); :meth:`__call__` only creates every parameter, so that
    ``SequencePolicy(...).init(key)`` gives the parameter dict they read."""

    hidden: int = 128
    embed: int = 32
    use_z: bool = False

    @nn.compact
    def __call__(self):
        h = self.hidden
        # a linear layer on a one-hot observation is an embedding lookup
        table = nn.Embed(N_OBSERVATIONS, self.embed, embedding_init=nn.initializers.normal(1.0), name="obs_embed")
        gates_in = nn.Dense(3 * h, name="input_gates")  # (r, u, n) gates from the input, with bias
        gates_in(table.embedding)
        if self.use_z:
            gates_in(nn.Dense(self.embed, name="z_embed")(jnp.zeros((1, Z_DIM))))
        nn.Dense(3 * h, use_bias=False, kernel_init=nn.initializers.orthogonal(), name="hidden_gates")(jnp.zeros((1, h)))
        self.param("hidden_bias_n", nn.initializers.zeros, (h,))
        f = jnp.zeros((1, h))
        nn.Dense(2, kernel_init=nn.initializers.orthogonal(0.01), name="policy_head")(f)
        nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0), name="value_head")(f)


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
    return {"params": dict(config.module().init(key)["params"])}


def sequence_outputs(config: NetworkConfig, params, obs, z=None, scan_unroll: int = 1):
    """Logits (T, N, 2) and values (T, N) of a network over observation indices ``obs`` (T, N).

    The scan runs over one-hot observations (T, N, 5); each round's input side is their product
    with :func:`input_table` (its rows exactly), then the recurrent matmul and the gates. Its body
    is rematerialized (``jax.checkpoint``): the backward pass keeps only each round's state and
    recomputes the gates, which on XLA's CPU backend is faster than reading them back.
    """
    table = input_table(params)
    h0 = initial_state(config, params, z, obs.shape[1])

    @jax.checkpoint  # the gradient recomputes each round's gates from its state: faster on CPU
    def body(h, one_hot):
        h = gru_cell(params, one_hot @ table, h)
        return h, h

    _, hs = jax.lax.scan(body, h0, jax.nn.one_hot(obs, N_OBSERVATIONS, dtype=table.dtype), unroll=scan_unroll)
    return heads(params, hs)
