"""The improved policy of Predictive Policy Improvement (PPI, SPEC §4):
``π(a | x) ∝ p_φ(a | x) · exp(β · Q̂(x, a))``, with ``Q̂`` from Monte Carlo rollouts inside the
sequence model of :mod:`ismarl.agents.world_model`. Only the decision at one history; the phase
loop (fit, collect with π, refit) belongs to an engine.

A history ``x`` up to the current round ``t`` is the token prefix ``(o_0, r_0, a_0, …, o_t, r_t)``;
:func:`model_state_after` gives the GRU state after it, just before the action token ``a_t``, where
the action head reads the prior ``p_φ(a_t | x)``.

:func:`rollout_q` estimates ``Q̂(x, a)``: append ``a_t = a``, then for each of up to ``horizon``
rounds (cut off at the episode's end, ``rounds_left`` rounds including the current one) draw the
co-player's move from the observation head restricted to the two outcomes consistent with the own
action just taken (as :func:`ismarl.agents.world_model.coplayer_cooperation` reads it), feed that
outcome and its reward, and draw the agent's own next action from the action head ``p_φ``. The
reward is the game's exact payoff for the sampled outcome rather than a sample of the reward head:
in the IPD the reward is a function of the outcome, so sampling it would only add noise. With
``reward="expected"`` each round's reward is its expectation under the co-player head instead,
``Σ_b p(b | x) · payoff(a, b)``, while the rollout still continues from the drawn outcome: the same
expected return (the round's reward is replaced by its conditional expectation given the rollout so
far, a Rao-Blackwellization) with less noise. The returns are summed over the rounds (SPEC's
reading) and also given per round (the sum divided by the number of rounds rolled out; SPEC §11:
the two readings only rescale β by H).

Every random draw is an inverse-CDF comparison with a uniform number, and the two candidate actions'
rollouts share the same uniforms (**common random numbers**, SPEC §11: without them the noise of
``Q̂(C) − Q̂(D)`` swamps the advantage). :func:`rollout_q` with one key and either action gives
exactly the rollouts :func:`improved_policy` uses for that action with the same key.

The rounds are one ``lax.scan``; the rollouts, the two candidate actions and the batch of
histories are leading axes of the same arrays (three GRU steps per round for all of them at once).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_int, check_positive_int, check_real, is_concrete
from ismarl.agents import world_model as wm
from ismarl.agents.network import initial_state
from ismarl.conventions import COOPERATE, DEFECT, START, observation_index
from ismarl.games import BimatrixGame, MatrixGame, to_bimatrix_array

__all__ = ["Q_MODES", "REWARD_MODES", "own_payoffs", "model_state_after", "rollout_q", "improved_policy", "PPIAgent",
           "agent_start", "agent_step"]

Q_MODES = ("sum", "mean")  # summed returns over the rolled-out rounds, or their per-round mean
#: Each rolled-out round's reward: the payoff of the drawn outcome, or its expectation under the
#: model's co-player prediction (Rao-Blackwellized: same mean, less variance).
REWARD_MODES = ("sampled", "expected")


# -- input checks ---------------------------------------------------------------------------------
def own_payoffs(payoffs) -> jnp.ndarray:
    """The learner's payoff table ``(2, 2)`` indexed ``[own action, co-player action]``, from a game
    (:mod:`ismarl.games`; its row player's payoffs) or from such a table itself."""
    if isinstance(payoffs, (MatrixGame, BimatrixGame)):
        table = np.asarray(to_bimatrix_array(payoffs)[..., 0], dtype=float)
    else:
        if np.shape(payoffs) != (2, 2):
            raise ValueError("payoffs must be a game or the learner's (2, 2) payoff table "
                             f"[own action, co-player action], got shape {np.shape(payoffs)}")
        table = payoffs
        if is_concrete(table):
            arr = np.asarray(table)
            if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
                raise ValueError("payoffs must hold finite real numbers")
    return jnp.asarray(table, jnp.result_type(float))


def _check_prefix(tokens) -> wm.Tokens:
    if not isinstance(tokens, wm.Tokens):
        raise TypeError(f"tokens_prefix must be a Tokens (from episode_tokens), got {type(tokens).__name__}")
    a_shape = np.shape(tokens.actions)
    if len(a_shape) != 2:
        raise ValueError(f"tokens_prefix.actions must have shape (B, t) with t >= 0, got shape {a_shape}")
    if a_shape[1] >= 1:
        return wm.check_tokens(tokens)
    n = a_shape[0]  # the first round: only o_0 = Start and r_0 = 0
    for name, x in (("obs", tokens.obs), ("rewards", tokens.rewards)):
        if np.shape(x) != (n, 1):
            raise ValueError(f"tokens_prefix.{name} must have shape {(n, 1)} (one more than tokens_prefix.actions "
                             f"{a_shape}), got shape {np.shape(x)}")
    if is_concrete(tokens.obs) and np.any(np.asarray(tokens.obs) != START):
        raise ValueError(f"tokens_prefix.obs[:, 0] must be Start ({START})")
    if is_concrete(tokens.rewards) and np.any(np.asarray(tokens.rewards) != 0):
        raise ValueError("tokens_prefix.rewards[:, 0] must be 0 (no reward before round 1)")
    return wm.Tokens(jnp.asarray(tokens.obs, jnp.int32), jnp.asarray(tokens.rewards, jnp.result_type(float)),
                     jnp.asarray(tokens.actions, jnp.int32))


def _check_state(config, h) -> jnp.ndarray:
    shape = np.shape(h)
    if len(shape) != 2 or shape[1] != config.hidden:
        raise ValueError(f"h must have shape (B, {config.hidden}) (GRU states from model_state_after), "
                         f"got shape {shape}")
    if is_concrete(h) and not np.all(np.isfinite(np.asarray(h))):
        raise ValueError("h contains NaN or infinite values")
    return jnp.asarray(h, jnp.result_type(float))


def _check_per_history_int(value, name: str, n: int, minimum: int, values: tuple | None = None):
    """A scalar or (B,) integer array as a (B,) int32 array, each entry >= ``minimum`` (or in ``values``)."""
    if np.ndim(value) == 0 and not hasattr(value, "dtype"):
        value = check_int(value, name, minimum=minimum)
    shape = np.shape(value)
    if shape not in ((), (n,)):
        raise ValueError(f"{name} must be a scalar or have shape ({n},) (one per history), got shape {shape}")
    dtype = np.dtype(value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype)
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(f"{name} must be an integer or an integer array, got dtype {dtype}")
    if is_concrete(value):
        arr = np.asarray(value)
        if values is not None and not np.all(np.isin(arr, values)):
            raise ValueError(f"{name} must hold only {' or '.join(map(str, values))}, got {np.unique(arr)[:5].tolist()}")
        if np.any(arr < minimum):
            raise ValueError(f"{name} must be >= {minimum}, got {arr.min()}")
    return jnp.broadcast_to(jnp.asarray(value, jnp.int32), (n,))


def _check_rollout_args(config, params, h, key, horizon, rounds_left, k, payoffs):
    wm.check_model(config, params)
    h = _check_state(config, h)
    horizon = check_positive_int(horizon, "horizon")
    k = check_positive_int(k, "k")
    rounds_left = _check_per_history_int(rounds_left, "rounds_left", h.shape[0], minimum=1)
    if not (isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jnp.integer) and key.shape == (2,)) and not (
            isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ()):
        raise TypeError(f"key must be a single JAX PRNG key (jax.random.PRNGKey or jax.random.key), got {key!r}")
    return h, horizon, k, rounds_left, own_payoffs(payoffs)


# -- the model's state at a history ---------------------------------------------------------------
@jax.jit
def _state_after(params, tokens, h0):
    obs, rew, act = tokens
    rows = wm.input_rows(params)

    def body(h, x):
        o, r, a = x
        h = wm.step_token(params, h, "obs", o, rows)
        h = wm.step_token(params, h, "reward", r, rows)
        return wm.step_token(params, h, "action", a, rows), None

    h, _ = jax.lax.scan(body, h0.astype(rew.dtype), (obs[:, :-1].T, rew[:, :-1].T, act.T))
    h = wm.step_token(params, h, "obs", obs[:, -1], rows)
    return wm.step_token(params, h, "reward", rew[:, -1], rows)


def model_state_after(config: wm.WorldModelConfig, params, tokens_prefix: wm.Tokens, z=None) -> jnp.ndarray:
    """The GRU state (B, H) after a batch of histories up to and including the current round's
    reward token: ``tokens_prefix`` has ``obs`` and ``rewards`` (B, t+1) and ``actions`` (B, t),
    ``t >= 0`` rounds played (``t = 0``: only o_0 = Start and r_0 = 0). The action head read from
    this state is the prior ``p_φ(a_t | x)`` (:func:`ismarl.agents.world_model.head_outputs`), the
    same as :func:`ismarl.agents.world_model.model_outputs` gives before ``a_t`` on a longer episode.
    ``z`` (B, Z_DIM): the histories' opponent-ID inputs, for a model with ``use_z`` (None: zeros)."""
    wm.check_model(config, params)
    tokens = _check_prefix(tokens_prefix)
    n = tokens.obs.shape[0]
    return _state_after(params, tokens, initial_state(config, params, wm.check_z(config, z, n), n))


# -- rollouts -------------------------------------------------------------------------------------
def _check_reward(reward) -> str:
    if reward not in REWARD_MODES:
        raise ValueError(f"reward must be one of {REWARD_MODES}, got {reward!r}")
    return reward


@functools.partial(jax.jit, static_argnames=("reward",))
def _returns(params, h, first_action, uniforms, n_rounds, payoffs, discount=1.0, reward="sampled"):
    """Summed rewards (round ``i`` weighted ``discount**i``) of rollouts from states ``h`` (*L, H)
    taking ``first_action`` (*L) now, with ``uniforms`` (horizon, *L, 2) ([..., 0] the
    co-player's move, [..., 1] the own next action) and ``n_rounds`` (broadcastable to L) rounds
    counted; ``reward`` one of :data:`REWARD_MODES`. Returns (*L,)."""
    rows = wm.input_rows(params)

    def body(carry, x):
        h, a = carry
        i, u = x
        h = wm.step_token(params, h, "action", a, rows)
        obs_logits, _, _ = wm.head_outputs(params, h)
        p_other_c = wm.coplayer_probability(obs_logits, a)  # the restricted, renormalized observation head
        b = jnp.where(u[..., 0] < p_other_c, COOPERATE, DEFECT)
        r = payoffs[a, b]
        counted = r if reward == "sampled" else p_other_c * payoffs[a, COOPERATE] + (1 - p_other_c) * payoffs[a, DEFECT]
        h = wm.step_token(params, h, "obs", observation_index(a, b), rows)
        h = wm.step_token(params, h, "reward", r, rows)
        _, _, action_logits = wm.head_outputs(params, h)
        p_own_c = jax.nn.softmax(action_logits, axis=-1)[..., COOPERATE]
        a_next = jnp.where(u[..., 1] < p_own_c, COOPERATE, DEFECT)
        return (h, a_next), jnp.where(i < n_rounds, counted * discount ** i, 0.0)

    horizon = uniforms.shape[0]
    _, rewards = jax.lax.scan(body, (h, first_action), (jnp.arange(horizon), uniforms))
    return rewards.sum(axis=0)


def _uniforms(key, horizon: int, n: int, k: int):
    """The rollouts' uniforms (horizon, B, k, 2), shared by both candidate actions."""
    return jax.random.uniform(key, (horizon, n, k, 2))


def rollout_q(config: wm.WorldModelConfig, params, h, first_action, key: jax.Array, horizon: int,
              rounds_left, k: int, payoffs, discount: float = 1.0, reward: str = "sampled"):
    """``(q_sum, q_mean)``, each (B,): Monte Carlo estimates of ``Q̂(x, first_action)`` from GRU
    states ``h`` (B, H) (:func:`model_state_after`), averaged over ``k`` rollouts in the model.

    Each rollout plays ``min(horizon, rounds_left)`` rounds, the current one included (SPEC:
    horizon 15; ``rounds_left`` (scalar or (B,)) is ``T - t`` at round ``t`` of a ``T``-round
    episode, so rollouts stop at the episode's end): the first action is ``first_action``
    (0 = C, 1 = D; scalar or (B,)), later ones are drawn from the action head ``p_φ``, the
    co-player's move from the observation head restricted to the outcomes consistent with the own
    action. Rewards are the exact payoffs of the drawn outcomes from ``payoffs`` (a game or the
    learner's (2, 2) table ``[own, other]``), not samples of the reward head: the IPD's reward is
    determined by the outcome; with ``reward="expected"``, each round's expected payoff under the
    co-player head (module docstring). ``q_sum`` sums a rollout's rewards, ``q_mean`` divides that
    by its number of rounds. The same ``key`` gives the same uniforms for either ``first_action`` (common
    random numbers), and the same ones :func:`improved_policy` uses. Round ``i`` of a rollout
    (0 = the current one) is weighted ``discount**i`` (1: the plain sum)."""
    h, horizon, k, rounds_left, table = _check_rollout_args(config, params, h, key, horizon, rounds_left, k, payoffs)
    discount, reward = _check_discount(discount), _check_reward(reward)
    n = h.shape[0]
    first_action = _check_per_history_int(first_action, "first_action", n, minimum=0, values=(COOPERATE, DEFECT))
    n_rounds = jnp.minimum(rounds_left, horizon)[:, None]  # (B, 1)
    u = _uniforms(key, horizon, n, k)
    hs = jnp.broadcast_to(h[:, None, :], (n, k, h.shape[1]))
    a0 = jnp.broadcast_to(first_action[:, None], (n, k))
    total = _returns(params, hs, a0, u, n_rounds, table, discount, reward)  # (B, k)
    return total.mean(axis=-1), (total / n_rounds).mean(axis=-1)


# -- the improved policy --------------------------------------------------------------------------
def _check_discount(discount) -> float:
    return float(check_real(discount, "discount", 0.0, 1.0))


def _improved(params, h, key, beta, n_rounds, table, horizon: int, k: int, q: str, discount=1.0, reward="sampled"):
    n, hidden = h.shape
    u = jnp.broadcast_to(_uniforms(key, horizon, n, k)[:, None], (horizon, 2, n, k, 2))  # CRN
    hs = jnp.broadcast_to(h[None, :, None, :], (2, n, k, hidden))
    a0 = jnp.broadcast_to(jnp.array([COOPERATE, DEFECT])[:, None, None], (2, n, k))
    total = _returns(params, hs, a0, u, n_rounds[None, :, None], table, discount, reward)  # (2, B, k)
    if q == "mean":
        total = total / n_rounds[None, :, None]
    q_hat = total.mean(axis=-1).T  # (B, 2)
    _, _, logits = wm.head_outputs(params, h)
    prior = jax.nn.softmax(logits, axis=-1)
    pi = jax.nn.softmax(logits + beta * q_hat, axis=-1)  # = softmax(log p_prior + β Q̂)
    return prior, q_hat, pi


_improved_jit = jax.jit(_improved, static_argnames=("horizon", "k", "q", "reward"))


def improved_policy(config: wm.WorldModelConfig, params, h, key: jax.Array, beta: float, horizon: int,
                    rounds_left, k: int, payoffs, q: str = "sum", discount: float = 1.0, reward: str = "sampled"):
    """``(p_prior, q_hat, pi)``, each (B, 2) over (C, D): the model's prior ``p_φ(a | x)`` read from
    GRU states ``h`` (B, H) (:func:`model_state_after`), the rollout estimates ``Q̂(x, a)`` of
    :func:`rollout_q` for both actions with common random numbers (``q="sum"``: summed returns,
    ``q="mean"``: per round; rounds weighted ``discount**i``; ``reward`` sampled or expected
    payoffs, :data:`REWARD_MODES`), and the improved policy
    ``π = softmax(log p_prior + β·Q̂)``.

    ``beta`` is a finite inverse temperature ``>= 0``: 0 gives ``π = p_prior`` exactly, a large
    one the greedy action of ``Q̂``. SPEC §4/§11: the paper's β = 0.01 barely moves the prior;
    §11 found summed Q̂ with β >= 1, or per-round Q̂ with β = 100, to reproduce phase 1."""
    h, horizon, k, rounds_left, table = _check_rollout_args(config, params, h, key, horizon, rounds_left, k, payoffs)
    beta = float(check_real(beta, "beta", 0.0))
    if q not in Q_MODES:
        raise ValueError(f"q must be one of {Q_MODES}, got {q!r}")
    discount, reward = _check_discount(discount), _check_reward(reward)
    n_rounds = jnp.minimum(rounds_left, horizon).astype(h.dtype)
    return _improved_jit(params, h, key, jnp.asarray(beta, h.dtype), n_rounds, table, horizon, k, q,
                         jnp.asarray(discount, h.dtype), reward)


# -- PPI as a player, one round at a time ----------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PPIAgent:
    """Everything static about a deployed PPI agent: its model's sizes, the improvement step's
    ``beta``, ``k`` rollouts of ``horizon`` rounds (``q`` summed or per-round returns, rounds
    weighted ``discount**i``; each round's ``reward`` sampled or expected, :data:`REWARD_MODES`), the episode length ``episode_horizon`` (rollouts stop at its end)
    and the learner's payoff table ``payoffs`` ((2, 2) nested tuple ``[own][other]``).
    ``beta = 0`` plays the model's prior ``p_φ`` (no rollouts are run)."""

    world: wm.WorldModelConfig
    beta: float
    k: int
    horizon: int
    q: str
    discount: float
    episode_horizon: int
    payoffs: tuple
    reward: str = "sampled"

    def __post_init__(self):
        if not isinstance(self.world, wm.WorldModelConfig):
            raise TypeError(f"world must be a WorldModelConfig, got {type(self.world).__name__}")
        check_real(self.beta, "beta", 0.0)
        check_positive_int(self.k, "k")
        check_positive_int(self.horizon, "horizon")
        check_positive_int(self.episode_horizon, "episode_horizon")
        if self.q not in Q_MODES:
            raise ValueError(f"q must be one of {Q_MODES}, got {self.q!r}")
        _check_discount(self.discount)
        _check_reward(self.reward)
        object.__setattr__(self, "payoffs", tuple(tuple(float(x) for x in row) for row in np.asarray(own_payoffs(self.payoffs))))


def agent_start(agent: PPIAgent, params, key, n: int, z=None):
    """``(rows, carry)`` before round 1 of ``n`` games: the model's input-side rows and the carry
    ``(h, t, key)`` (GRU state before any token, rounds played, the rollouts' key). ``z`` (n, Z_DIM):
    the co-players' identities, for a model with ``use_z`` (None: zeros, as for a learner)."""
    rows = wm.input_rows(params)
    h = initial_state(agent.world, params, z, n).astype(rows[0].dtype)
    return rows, (h, jnp.zeros((), jnp.int32), key)


def agent_step(agent: PPIAgent, params, rows, carry, obs):
    """One round of play: feed what the agent saw (its last action, read from the observation, then
    the observation ``obs`` (n,) and the reward it implies), and return ``(carry, p_cooperate (n,))``
    of the improved policy π (or of ``p_φ`` when ``agent.beta`` is 0). Pure and traceable."""
    h, t, key = carry
    table = jnp.asarray(agent.payoffs, rows[0].dtype)
    own, other = (obs - 1) // 2, (obs - 1) % 2  # meaningful after round 1 (obs = 1 + 2 own + other)
    h = jnp.where(t > 0, wm.step_token(params, h, "action", jnp.clip(own, 0, 1), rows), h)
    h = wm.step_token(params, h, "obs", obs, rows)
    r = jnp.where(t > 0, table[jnp.clip(own, 0, 1), jnp.clip(other, 0, 1)], 0.0)
    h = wm.step_token(params, h, "reward", r, rows)
    key, sub = jax.random.split(key)
    if agent.beta == 0:
        _, _, logits = wm.head_outputs(params, h)
        pi = jax.nn.softmax(logits, axis=-1)
    else:
        n_rounds = jnp.full(h.shape[:1], jnp.minimum(agent.episode_horizon - t, agent.horizon), h.dtype)
        _, _, pi = _improved(params, h, sub, jnp.asarray(agent.beta, h.dtype), n_rounds, table, agent.horizon,
                             agent.k, agent.q, jnp.asarray(agent.discount, h.dtype), agent.reward)
    return (h, t + 1, key), pi[:, COOPERATE]
