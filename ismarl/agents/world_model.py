"""The sequence model of Predictive Policy Improvement (PPI): one GRU over an episode's tokens,
with observation, reward and action heads (SPEC §4). Only the model, its loss, its fitting and a
diagnostic of its in-context inference; the improved policy and the phases come later.

An episode, seen from the learner's side (side 0 of :func:`ismarl.sim.simulate.play`), is the token
sequence ``τ = (o_0, r_0, a_0, o_1, r_1, a_1, …, o_T, r_T)`` (3T + 2 tokens): ``o_t`` the learner's
observation before round ``t`` (Start for ``t = 0``, else its first-person outcome of round
``t - 1``), ``r_t`` its reward of round ``t - 1`` (``r_0 = 0``) and ``a_t`` its action in round ``t``.

Each token is embedded into the GRU's input-side gate pre-activations: observations and actions by
lookup tables (a linear ``embed``-sized embedding of the one-hot, then the shared input-gate
layer), the reward by the same two linear maps applied to the scalar. The GRU steps once per token
(:func:`ismarl.agents.network.gru_cell`, the package's one GRU). Before each token is consumed, the
Swish of the GRU state is read by the head of that token's kind, so the observation head predicts
``o_t`` from the history and ``a_{t-1}``, the reward head ``r_t`` from that and ``o_t``, and the
action head ``a_t`` from that and ``r_t``. The first observation prediction is read from the zero
state (it learns to say Start).

With ``use_z`` (the opponent-ID ablation) the model also receives the co-player's identity ``z``
(:data:`ismarl.agents.network.Z_DIM` numbers: a tabular agent's log-probabilities, zeros for a
learner) as one GRU step before the first token, exactly as the A2C network does
(:func:`ismarl.agents.network.initial_state`). A dataset then stores each game's ``z`` beside its
outcome codes (:func:`pack_z`).

:func:`coplayer_cooperation` turns the observation head into a prediction of the co-player's next
move, and :func:`inference_gap` compares it with the exact Bayes-optimal one of
:mod:`ismarl.inference` through the same :func:`ismarl.inference.log_loss`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ismarl._validate import check_int, check_positive_int, check_real, is_concrete
from ismarl.agents.network import Z_DIM, gru_cell, initial_state
from ismarl.conventions import CC, COOPERATE, DEFECT, N_OBSERVATIONS, START, observation_index
from ismarl.inference import coplayer_predictions, log_loss

__all__ = [
    "WorldModelConfig", "WorldModel", "Tokens", "Predictions", "LossParts", "TOKEN_KINDS", "Z_BYTES",
    "episode_tokens", "token_actions", "outcome_codes", "codes_tokens", "pack_codes", "unpack_codes",
    "pack_z", "unpack_z", "check_tokens", "check_model", "check_z",
    "input_rows", "step_token", "head_outputs", "model_outputs", "loss", "traced_loss",
    "coplayer_probability", "coplayer_cooperation", "traced_coplayer_cooperation",
    "InferenceLosses", "traced_inference_losses", "inference_gap", "make_optimizer", "fit_step", "fit",
]

N_ACTIONS = 2
TOKEN_KINDS = ("obs", "reward", "action")  # the three kinds of token, in their order within a round


@dataclasses.dataclass(frozen=True)
class WorldModelConfig:
    """Sizes of the sequence model (SPEC §4: the paper's GRU-128 / embedding 32; §11 used GRU-32)."""

    hidden: int = 32
    embed: int = 32
    use_z: bool = False  # an opponent-ID input (the ablation), as the A2C network's

    def __post_init__(self):
        check_positive_int(self.hidden, "WorldModelConfig.hidden")
        check_positive_int(self.embed, "WorldModelConfig.embed")
        if not isinstance(self.use_z, bool):
            raise TypeError(f"WorldModelConfig.use_z must be a bool, got {self.use_z!r}")

    def module(self) -> "WorldModel":
        return WorldModel(hidden=self.hidden, embed=self.embed, use_z=self.use_z)

    def init(self, key: jax.Array):
        """Fresh parameters ``{"params": {...}}`` for a model of these sizes."""
        return {"params": dict(self.module().init(key)["params"])}


class WorldModel(nn.Module):
    """The model's parameters (names, shapes and initializers), declared once for Flax.

    The forward pass is the pure functions of this module (:func:`model_outputs`); :meth:`__call__`
    only creates every parameter. The recurrent part uses the names that
    :func:`ismarl.agents.network.gru_cell` reads (``hidden_gates``, ``hidden_bias_n``)."""

    hidden: int = 32
    embed: int = 32
    use_z: bool = False

    @nn.compact
    def __call__(self):
        h = self.hidden
        obs = nn.Embed(N_OBSERVATIONS, self.embed, embedding_init=nn.initializers.normal(1.0), name="obs_embed")
        act = nn.Embed(N_ACTIONS, self.embed, embedding_init=nn.initializers.normal(1.0), name="action_embed")
        rew = nn.Dense(self.embed, name="reward_embed")  # a linear map of the scalar reward
        gates_in = nn.Dense(3 * h, name="input_gates")  # (r, u, n) gates from any token, with bias
        gates_in(obs.embedding)
        gates_in(act.embedding)
        gates_in(rew(jnp.zeros((1, 1))))
        if self.use_z:
            gates_in(nn.Dense(self.embed, name="z_embed")(jnp.zeros((1, Z_DIM))))
        nn.Dense(3 * h, use_bias=False, kernel_init=nn.initializers.orthogonal(), name="hidden_gates")(jnp.zeros((1, h)))
        self.param("hidden_bias_n", nn.initializers.zeros, (h,))
        f = jnp.zeros((1, h))
        nn.Dense(N_OBSERVATIONS, name="obs_head")(f)
        nn.Dense(1, name="reward_head")(f)
        nn.Dense(N_ACTIONS, name="action_head")(f)


class Tokens(NamedTuple):
    """One batch of episodes as tokens: ``obs`` (N, T+1) ints (o_0 = Start), ``rewards`` (N, T+1)
    floats (r_0 = 0), ``actions`` (N, T) ints (the learner's a_t, 0 = C, 1 = D)."""

    obs: jnp.ndarray
    rewards: jnp.ndarray
    actions: jnp.ndarray


class Predictions(NamedTuple):
    """The heads' outputs read before each token: ``obs_logits`` (N, T+1, 5) before each o_t,
    ``reward_mean`` (N, T+1) before each r_t, ``action_logits`` (N, T, 2) before each a_t."""

    obs_logits: jnp.ndarray
    reward_mean: jnp.ndarray
    action_logits: jnp.ndarray


class LossParts(NamedTuple):
    """The three loss terms, each averaged over tokens and episodes (SPEC §4, weights 1)."""

    obs_ce: jnp.ndarray
    reward_se: jnp.ndarray
    action_ce: jnp.ndarray


# -- input checks ---------------------------------------------------------------------------------
def _check_integer_dtype(x, name: str):
    dtype = np.dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {dtype}")


def _check_float_dtype(x, name: str):
    dtype = np.dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {dtype}")


def _check_episodes(actions, rewards):
    a_shape, r_shape = np.shape(actions), np.shape(rewards)
    if len(a_shape) != 3 or a_shape[-1] != 2 or a_shape[1] < 1:
        raise ValueError(
            f"actions must have shape (N, T, 2) with T >= 1, as simulate.play returns them "
            f"([..., 0] the learner's moves), got shape {a_shape}"
        )
    if r_shape != a_shape:
        raise ValueError(f"rewards must have the shape of actions {a_shape}, got shape {r_shape}")
    _check_integer_dtype(actions, "actions")
    _check_float_dtype(rewards, "rewards")
    if is_concrete(actions):
        arr = np.asarray(actions)
        bad = arr[(arr != 0) & (arr != 1)]
        if bad.size:
            raise ValueError(f"actions must hold only 0 (C) and 1 (D), got {np.unique(bad)[:5].tolist()}")
    if is_concrete(rewards) and not np.all(np.isfinite(np.asarray(rewards))):
        raise ValueError("rewards contains NaN or infinite values")


def check_tokens(tokens) -> Tokens:
    """``tokens`` as a :class:`Tokens` of JAX arrays, or a clear error on a wrong shape, dtype or value.

    Value checks (o_0 = Start, later observations CC..DD whose own action is a_{t-1}, r_0 = 0,
    finite rewards) run on concrete arrays only, so the function is safe inside ``jit``.
    """
    if not isinstance(tokens, Tokens):
        raise TypeError(f"tokens must be a Tokens (from episode_tokens), got {type(tokens).__name__}")
    o_shape, r_shape, a_shape = (np.shape(x) for x in tokens)
    if len(a_shape) != 2 or a_shape[1] < 1:
        raise ValueError(f"tokens.actions must have shape (N, T) with T >= 1, got shape {a_shape}")
    n, t = a_shape
    if o_shape != (n, t + 1):
        raise ValueError(f"tokens.obs must have shape {(n, t + 1)} (one more than tokens.actions {a_shape}), got shape {o_shape}")
    if r_shape != (n, t + 1):
        raise ValueError(f"tokens.rewards must have shape {(n, t + 1)} (one more than tokens.actions {a_shape}), got shape {r_shape}")
    _check_integer_dtype(tokens.obs, "tokens.obs")
    _check_integer_dtype(tokens.actions, "tokens.actions")
    _check_float_dtype(tokens.rewards, "tokens.rewards")
    if all(is_concrete(x) for x in tokens):
        obs, rew, act = (np.asarray(x) for x in tokens)
        if np.any((act != 0) & (act != 1)):
            raise ValueError(f"tokens.actions must hold only 0 (C) and 1 (D), got {np.unique(act)[:5].tolist()}")
        if np.any(obs[:, 0] != START):
            raise ValueError(f"tokens.obs[:, 0] must be Start ({START}), got {np.unique(obs[:, 0])[:5].tolist()}")
        later = obs[:, 1:]
        if np.any((later < CC) | (later >= N_OBSERVATIONS)):
            raise ValueError(
                f"tokens.obs[:, 1:] must be outcomes CC..DD ({CC}..{N_OBSERVATIONS - 1}), got "
                f"{np.unique(later[(later < CC) | (later >= N_OBSERVATIONS)])[:5].tolist()}"
            )
        if np.any((later - 1) // 2 != act):
            raise ValueError("tokens.obs[:, t+1] must hold the learner's own action tokens.actions[:, t] "
                             "(observation 1 + 2*own + other)")
        if not np.all(np.isfinite(rew)):
            raise ValueError("tokens.rewards contains NaN or infinite values")
        if np.any(rew[:, 0] != 0):
            raise ValueError(f"tokens.rewards[:, 0] must be 0 (no reward before round 1), got {np.unique(rew[:, 0])[:5].tolist()}")
    return Tokens(jnp.asarray(tokens.obs, jnp.int32), jnp.asarray(tokens.rewards, jnp.result_type(float)),
                  jnp.asarray(tokens.actions, jnp.int32))


def check_model(config, params):
    """A clear error unless ``config`` is a :class:`WorldModelConfig` and ``params`` a parameter
    dict of its sizes (from :meth:`WorldModelConfig.init` or :func:`fit`)."""
    if not isinstance(config, WorldModelConfig):
        raise TypeError(f"config must be a WorldModelConfig, got {type(config).__name__}")
    try:
        kernel_shape = np.shape(params["params"]["hidden_gates"]["kernel"])
        params["params"]["obs_head"]
    except (KeyError, TypeError):
        raise ValueError("params must be a world-model parameter dict from WorldModelConfig.init") from None
    h = config.hidden
    if kernel_shape != (h, 3 * h):
        raise ValueError(f"params do not match config.hidden = {h}: hidden_gates kernel has shape {kernel_shape}, "
                         f"expected {(h, 3 * h)}")
    if ("z_embed" in params["params"]) != config.use_z:
        raise ValueError(f"params do not match config.use_z = {config.use_z}: they "
                         f"{'have an' if 'z_embed' in params['params'] else 'have no'} opponent-ID embedding (z_embed)")


def check_z(config, z, n: int):
    """``z`` as a (n, Z_DIM) float array (None stays None), or a clear error: a wrong shape,
    non-finite values, or a ``z`` given to a model without the opponent-ID input."""
    if z is None:
        return None
    if not config.use_z:
        raise ValueError("z was given, but the model has no opponent-ID input (config.use_z is false)")
    if np.shape(z) != (n, Z_DIM):
        raise ValueError(f"z must have shape {(n, Z_DIM)} (one opponent-ID vector per episode), got shape {np.shape(z)}")
    _check_float_dtype(z, "z")
    if is_concrete(z) and not np.all(np.isfinite(np.asarray(z))):
        raise ValueError("z contains NaN or infinite values")
    return jnp.asarray(z, jnp.float32)


# -- data -----------------------------------------------------------------------------------------
def episode_tokens(actions, rewards) -> Tokens:
    """Tokens of episodes ``(actions, rewards)``, each (N, T, 2) as :func:`ismarl.sim.simulate.play`
    returns them, from the learner's side (side 0): o_0 = Start, o_t = the learner's first-person
    outcome of round t-1, r_0 = 0, r_t its reward of round t-1, a_t its action in round t."""
    _check_episodes(actions, rewards)
    actions = jnp.asarray(actions, jnp.int32)
    rewards = jnp.asarray(rewards, jnp.result_type(float))
    n = actions.shape[0]
    obs = jnp.concatenate([jnp.full((n, 1), START, jnp.int32),
                           observation_index(actions[..., 0], actions[..., 1])], axis=1)
    rew = jnp.concatenate([jnp.zeros((n, 1), rewards.dtype), rewards[..., 0]], axis=1)
    return Tokens(obs, rew, actions[..., 0])


def outcome_codes(actions) -> jnp.ndarray:
    """Episodes (N, T, 2) of both players' actions (``[..., 0]`` the learner's) as one small
    integer per round, ``2 * own + other`` in 0..3 (uint8): the compact form a PPI dataset is
    stored in; :func:`codes_tokens` turns it back into tokens."""
    actions = jnp.asarray(actions)
    return (2 * actions[..., 0] + actions[..., 1]).astype(jnp.uint8)


CODES_PER_BYTE = 4  # an outcome code takes 2 bits


def pack_codes(codes) -> jnp.ndarray:
    """Outcome codes (..., T) packed four to a byte (..., ceil(T / 4)) uint8 (round ``4j + i`` in
    bits ``2i, 2i+1`` of byte ``j``; padding rounds are 0): a dataset's stored form."""
    codes = jnp.asarray(codes, jnp.uint8)
    t = codes.shape[-1]
    pad = -t % CODES_PER_BYTE
    codes = jnp.pad(codes, [(0, 0)] * (codes.ndim - 1) + [(0, pad)])
    groups = codes.reshape(codes.shape[:-1] + (-1, CODES_PER_BYTE))
    shifts = jnp.arange(CODES_PER_BYTE, dtype=jnp.uint8) * 2
    return (groups << shifts).sum(axis=-1, dtype=jnp.uint8)  # disjoint bits: the sum is the bitwise or


def unpack_codes(packed, horizon: int) -> jnp.ndarray:
    """The outcome codes (..., horizon) of :func:`pack_codes` output. Pure and traceable."""
    packed = jnp.asarray(packed, jnp.uint8)
    shifts = jnp.arange(CODES_PER_BYTE, dtype=jnp.uint8) * 2
    codes = (packed[..., None] >> shifts) & 3
    return codes.reshape(packed.shape[:-1] + (-1,))[..., :horizon]


Z_BYTES = 4 * Z_DIM  # a stored opponent-ID vector: its float32 values, byte for byte


def pack_z(z) -> jnp.ndarray:
    """Opponent-ID vectors (..., Z_DIM) as bytes (..., Z_BYTES) uint8, exactly (their float32 bit
    patterns): stored after a game's packed codes when a model has ``use_z``."""
    z = jnp.asarray(z, jnp.float32)
    return jax.lax.bitcast_convert_type(z, jnp.uint8).reshape(z.shape[:-1] + (Z_BYTES,))


def unpack_z(packed) -> jnp.ndarray:
    """The vectors (..., Z_DIM) float32 of :func:`pack_z` output. Pure and traceable."""
    packed = jnp.asarray(packed, jnp.uint8)
    return jax.lax.bitcast_convert_type(packed.reshape(packed.shape[:-1] + (Z_DIM, 4)), jnp.float32)


def codes_tokens(codes, payoffs) -> Tokens:
    """The learner's tokens of episodes stored as :func:`outcome_codes` (N, T), with rewards from
    its payoff table ``payoffs`` (2, 2) ``[own, other]``: the same tokens as
    :func:`episode_tokens` of the episodes. Pure and traceable (no checks)."""
    codes = jnp.asarray(codes, jnp.int32)
    own, other = codes // 2, codes % 2
    n = codes.shape[0]
    table = jnp.asarray(payoffs)
    obs = jnp.concatenate([jnp.full((n, 1), START, jnp.int32), observation_index(own, other)], axis=1)
    rew = jnp.concatenate([jnp.zeros((n, 1), table.dtype), table[own, other]], axis=1)
    return Tokens(obs, rew, own)


def token_actions(tokens: Tokens) -> jnp.ndarray:
    """Both players' actions (N, T, 2) read back from ``tokens`` ([..., 1] the co-player's move of
    round t, the second half of o_{t+1}), in the layout of :func:`ismarl.sim.simulate.play`."""
    tokens = check_tokens(tokens)
    other = (tokens.obs[:, 1:] - CC) % 2
    return jnp.stack([tokens.actions, other], axis=-1)


# -- forward pass (pure functions of the parameter dict) -------------------------------------------
def input_rows(params):
    """Input-side gate pre-activations: obs table (5, 3H), action table (2, 3H), and the reward's
    slope and offset (3H,) each (the reward's gx is ``r * slope + offset``)."""
    p = params["params"]
    k, b = p["input_gates"]["kernel"], p["input_gates"]["bias"]
    obs_table = p["obs_embed"]["embedding"] @ k + b
    act_table = p["action_embed"]["embedding"] @ k + b
    slope = p["reward_embed"]["kernel"][0] @ k
    offset = p["reward_embed"]["bias"] @ k + b
    return obs_table, act_table, slope, offset


def _heads(params, h_obs, h_rew, h_act):
    p = params["params"]

    def dense(name, x):
        return jax.nn.swish(x) @ p[name]["kernel"] + p[name]["bias"]

    return dense("obs_head", h_obs), dense("reward_head", h_rew)[..., 0], dense("action_head", h_act)


def _token_inputs(rows, kind: str, value):
    """The GRU's input-side pre-activations (..., 3H) of tokens of one ``kind`` with ``value`` (...)."""
    obs_table, act_table, slope, offset = rows
    if kind == "obs":
        return obs_table[value]
    if kind == "reward":
        return jnp.asarray(value)[..., None] * slope + offset
    if kind == "action":
        return act_table[value]
    raise ValueError(f"kind must be one of {TOKEN_KINDS}, got {kind!r}")


def step_token(params, h, kind: str, value, rows=None):
    """The GRU state after consuming one token of ``kind`` (``"obs"``, ``"reward"`` or
    ``"action"``) with ``value`` (...) from state ``h`` (..., H): an observation index, a reward or
    an action. Pure and traceable (no checks on the values); ``rows`` may pass precomputed
    input-side rows (``input_rows(params)``) to save recomputing them inside a loop."""
    return gru_cell(params, _token_inputs(input_rows(params) if rows is None else rows, kind, value), h)


def head_outputs(params, h):
    """``(obs_logits (..., 5), reward_mean (...), action_logits (..., 2))`` read from GRU states
    ``h`` (..., H), as :func:`model_outputs` reads them before each token (which head applies
    depends on the kind of the next token)."""
    return _heads(params, h, h, h)


@functools.partial(jax.jit, static_argnames=("config",))
def _outputs(config: WorldModelConfig, params, tokens: Tokens, z=None) -> Predictions:
    obs, rew, act = tokens
    n, t1 = obs.shape
    obs_table, act_table, slope, offset = input_rows(params)
    table = jnp.concatenate([obs_table, act_table, slope[None], offset[None]])  # (9, 3H)
    # Each token as a row of 9 features whose product with ``table`` is its input side (exactly
    # :func:`_token_inputs`): one-hot observation (5), one-hot action (2), then reward and 1.
    dtype = table.dtype
    f_obs = jnp.pad(jax.nn.one_hot(obs.T, N_OBSERVATIONS, dtype=dtype), ((0, 0), (0, 0), (0, 4)))  # (T+1, N, 9)
    f_rew = jnp.pad(jnp.stack([rew.T.astype(dtype), jnp.ones_like(rew.T, dtype)], axis=-1), ((0, 0), (0, 0), (7, 0)))
    f_act = jnp.pad(jax.nn.one_hot(act.T, 2, dtype=dtype), ((0, 1), (0, 0), (5, 2)))  # a placeholder after r_T, dropped
    features = jnp.stack([f_obs, f_rew, f_act], axis=1).reshape(3 * t1, n, -1)[:-1]  # (3T+2, N, 9)

    @jax.checkpoint  # the gradient recomputes each token's gates from its state: faster on CPU
    def body(h, f):
        # the product inside the scan: on XLA's CPU backend, scanning over precomputed (N, 3H)
        # input rows instead made the forward pass about 3x and a fit step 1.3x slower
        return gru_cell(params, f @ table, h), h  # emit the state *before* the token

    h0 = initial_state(config, params, z, n).astype(dtype)  # zeros, or one step on z
    _, hs = jax.lax.scan(body, h0, features)  # (3T+2, N, H)
    hs = jnp.concatenate([hs, jnp.zeros_like(hs[:1])]).reshape(t1, 3, n, -1)
    obs_logits, reward_mean, action_logits = _heads(params, hs[:, 0], hs[:, 1], hs[:-1, 2])
    return Predictions(obs_logits.swapaxes(0, 1), reward_mean.T, action_logits.swapaxes(0, 1))


def model_outputs(config: WorldModelConfig, params, tokens: Tokens, z=None) -> Predictions:
    """The heads read before every token of ``tokens`` (one ``lax.scan`` over the 3T + 2 tokens);
    ``z`` (N, Z_DIM): each episode's opponent-ID input, for a model with ``use_z`` (None: zeros)."""
    check_model(config, params)
    tokens = check_tokens(tokens)
    return _outputs(config, params, tokens, check_z(config, z, tokens.actions.shape[0]))


def traced_loss(config, params, tokens, z=None):
    """:func:`loss` without its input checks, for use inside ``jit`` (an engine's fitting step)."""
    pred = _outputs(config, params, tokens, z)
    obs_ce = optax.softmax_cross_entropy_with_integer_labels(pred.obs_logits, tokens.obs).mean()
    reward_se = jnp.square(tokens.rewards - pred.reward_mean).mean()
    action_ce = optax.softmax_cross_entropy_with_integer_labels(pred.action_logits, tokens.actions).mean()
    parts = LossParts(obs_ce, reward_se, action_ce)
    return obs_ce + reward_se + action_ce, parts


def loss(config: WorldModelConfig, params, tokens: Tokens, z=None):
    """``(total, LossParts)``: cross-entropy of each o_t, squared error of each r_t (a Gaussian of
    fixed variance) and cross-entropy of each a_t, each averaged over its tokens and the episodes;
    the total is their sum (SPEC §4: the λ weights are not given, so 1). ``z``: as in
    :func:`model_outputs`."""
    check_model(config, params)
    tokens = check_tokens(tokens)
    return traced_loss(config, params, tokens, check_z(config, z, tokens.actions.shape[0]))


def coplayer_probability(obs_logits, own_action):
    """P(co-player plays C) from observation-head logits (..., 5) read after the learner's own
    action ``own_action`` (...): the head's distribution restricted to the two outcomes consistent
    with that action, renormalized."""
    l_c = jnp.take_along_axis(obs_logits, observation_index(own_action, COOPERATE)[..., None], axis=-1)[..., 0]
    l_d = jnp.take_along_axis(obs_logits, observation_index(own_action, DEFECT)[..., None], axis=-1)[..., 0]
    return jax.nn.sigmoid(l_c - l_d)


@functools.partial(jax.jit, static_argnames=("config",))
def traced_coplayer_cooperation(config, params, tokens, z=None):
    """:func:`coplayer_cooperation` without its input checks, for use inside ``jit``."""
    logits = _outputs(config, params, tokens, z).obs_logits[:, 1:]  # before o_{t+1}, after a_t: (N, T, 5)
    return coplayer_probability(logits, tokens.actions)


def coplayer_cooperation(config: WorldModelConfig, params, tokens: Tokens, z=None) -> jnp.ndarray:
    """The model's P(co-player plays C in round t | the history before round t, own a_t), (N, T).

    Read from the observation head before o_{t+1}, restricted to the two outcomes consistent with
    the learner's own a_t and renormalized. ``z``: as in :func:`model_outputs`."""
    check_model(config, params)
    tokens = check_tokens(tokens)
    return traced_coplayer_cooperation(config, params, tokens, check_z(config, z, tokens.actions.shape[0]))


class InferenceLosses(NamedTuple):
    """The model's and the Bayes-optimal co-player predictions on games, round by round (N, T):
    P(co-player plays C), the log-loss (nats) of each on the co-player's actual move, and both
    players' actions (N, T, 2)."""

    p_model: jnp.ndarray
    p_bayes: jnp.ndarray
    model: jnp.ndarray
    bayes: jnp.ndarray
    actions: jnp.ndarray


def traced_inference_losses(config: WorldModelConfig, params, tokens: Tokens, z=None) -> InferenceLosses:
    """:class:`InferenceLosses` of the model ``params`` on ``tokens`` against the exact
    Bayes-optimal prediction for the U(0, 1)^5 pool (:func:`ismarl.inference.coplayer_predictions`),
    both scored by :func:`ismarl.inference.log_loss`; traceable (no input checks: see
    :func:`inference_gap`). The one place the model is compared with the Bayes-optimal predictor."""
    actions = jnp.stack([tokens.actions, (tokens.obs[:, 1:] - CC) % 2], axis=-1)
    p_model = traced_coplayer_cooperation(config, params, tokens, z)
    p_bayes = coplayer_predictions(actions)
    return InferenceLosses(p_model, p_bayes, log_loss(p_model, actions), log_loss(p_bayes, actions), actions)


def inference_gap(config: WorldModelConfig, params, tokens: Tokens, z=None) -> float:
    """Mean per-round log-loss (nats) of :func:`coplayer_cooperation` on the co-player's actual
    moves minus that of the exact Bayes-optimal prediction for the U(0, 1)^5 pool
    (:func:`traced_inference_losses`).

    0 is the best any model can do on average over that pool (a finite sample can give slightly
    less); on other co-players the gap can be negative, as the Bayes side assumes the uniform pool.
    """
    check_model(config, params)
    tokens = check_tokens(tokens)
    losses = traced_inference_losses(config, params, tokens, check_z(config, z, tokens.actions.shape[0]))
    return float(losses.model.mean() - losses.bayes.mean())


# -- fitting --------------------------------------------------------------------------------------
def make_optimizer(lr: float = 1e-3, weight_decay: float = 1e-2) -> optax.GradientTransformation:
    """AdamW (β1 0.9, β2 0.98, weight decay 1e-2) after a global-norm clip of 1 (SPEC §4; the
    paper's lr is 1e-4, §11 used 1e-3)."""
    if is_concrete(lr):  # a traced rate (chosen inside jit) is the caller's to check
        lr = check_real(lr, "lr", 0.0, low_open=True)
    weight_decay = check_real(weight_decay, "weight_decay", 0.0)
    return optax.chain(optax.clip_by_global_norm(1.0),
                       optax.adamw(lr, b1=0.9, b2=0.98, weight_decay=weight_decay))


def fit_step(config: WorldModelConfig, optimizer: optax.GradientTransformation):
    """A jitted pure ``step(params, opt_state, tokens) -> (params, opt_state, LossParts)``: one
    gradient step of :func:`loss` on a batch. The step does not check its inputs (see
    :func:`check_tokens`)."""
    if not isinstance(config, WorldModelConfig):
        raise TypeError(f"config must be a WorldModelConfig, got {type(config).__name__}")

    @jax.jit
    def step(params, opt_state, tokens):
        grads, parts = jax.grad(lambda q: traced_loss(config, q, tokens), has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, parts

    return step


@functools.partial(jax.jit, static_argnames=("batch",))
def _minibatch(tokens, key, batch: int):
    idx = jax.random.choice(key, tokens.actions.shape[0], (batch,), replace=False)
    return jax.tree_util.tree_map(lambda x: x[idx], tokens)


def fit(config: WorldModelConfig, params, tokens: Tokens, steps: int, batch: int, key: jax.Array,
        lr: float = 1e-3):
    """``steps`` AdamW steps (:func:`make_optimizer`, fresh state) on minibatches of ``batch``
    episodes drawn without replacement from ``tokens`` with ``key``. Returns ``(params, losses)``,
    ``losses`` a list of :class:`LossParts` of floats, one per step."""
    check_model(config, params)
    tokens = check_tokens(tokens)
    steps = check_int(steps, "steps", minimum=0)
    batch = check_positive_int(batch, "batch")
    n = tokens.actions.shape[0]
    if batch > n:
        raise ValueError(f"batch must be at most the number of episodes {n}, got {batch}")
    optimizer = make_optimizer(lr)
    step = fit_step(config, optimizer)
    opt_state = optimizer.init(params)
    history = []
    for sub in jax.random.split(key, steps) if steps else []:
        params, opt_state, parts = step(params, opt_state, _minibatch(tokens, sub, batch))
        history.append(parts)
    return params, [LossParts(*(float(x) for x in parts)) for parts in history]
