"""Naive learners: independent gradient ascent on one's own exact return.

Each player treats the co-player as fixed and climbs ``d J_self / d phi_self``, either both at
once (simultaneous) or one after the other (alternating). Everything is a pure, jitted function
of the initial logits; leading axes of the inputs are batch axes (vmapped).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ismarl.games import Game, resolve
from ismarl.learning._batch import over_batch
from ismarl.learning.configs import NaiveConfig
from ismarl.learning.objectives import Objective, as_logits, logits_of, other_payoff, own_payoff, per_round, policy
from ismarl.strategies import as_strategy


class Trajectory(NamedTuple):
    """Recorded learning run: policies as probabilities and normalized per-round payoffs, at
    ``steps // record_every + 1`` points (the first is the initial condition)."""

    x: jnp.ndarray  # (..., n_points, 5) X's strategy sigma(logits)
    y: jnp.ndarray  # (..., n_points, 5) Y's strategy (from Y's own side)
    payoff_x: jnp.ndarray  # (..., n_points)
    payoff_y: jnp.ndarray  # (..., n_points)
    final_logits_x: jnp.ndarray  # (..., 5)
    final_logits_y: jnp.ndarray  # (..., 5)


def naive_gradient(logits_me, logits_other, game: Game, objective: Objective):
    """``d J_me / d phi_me`` holding the co-player fixed (the naive learner's direction)."""
    return jax.grad(own_payoff)(logits_me, logits_other, game, objective)


def co_player_gradient(logits_me, logits_other, game: Game, objective: Objective):
    """The co-player's naive direction ``d J_other / d phi_other`` (with me as X)."""
    return jax.grad(other_payoff, argnums=1)(logits_me, logits_other, game, objective)


def random_logits(key: jax.Array, shape: tuple[int, ...] = (), std: float = 1.0) -> jnp.ndarray:
    """Initial policies: logits i.i.d. N(0, std^2), output shape ``shape + (5,)``."""
    return std * jax.random.normal(key, tuple(shape) + (5,))


def _record(x, y, game, objective):
    px, py = per_round(x, y, game, objective)
    return policy(x), policy(y), px, py


def _run(step, x, y, config: NaiveConfig, game: Game):
    n_points = config.steps // config.record_every

    def inner(carry, _):
        return step(*carry), None

    def outer(carry, _):
        carry, _ = jax.lax.scan(inner, carry, None, length=config.record_every)
        return carry, _record(*carry, game, config.objective)

    (xf, yf), rec = jax.lax.scan(outer, (x, y), None, length=n_points)
    first = _record(x, y, game, config.objective)
    rec = [jnp.concatenate([f[None], r], 0) for f, r in zip(first, rec)]
    return Trajectory(*rec, xf, yf)


@functools.partial(jax.jit, static_argnames=("config", "game"))
def _naive_pair(x, y, config: NaiveConfig, game: Game):
    obj, lr = config.objective, config.lr

    def step(x, y):
        gx = naive_gradient(x, y, game, obj)
        if config.alternating:
            x = x + lr * gx
            return x, y + lr * co_player_gradient(x, y, game, obj)
        return x + lr * gx, y + lr * co_player_gradient(x, y, game, obj)

    return _run(step, x, y, config, game)


@functools.partial(jax.jit, static_argnames=("config", "game"))
def _naive_fixed(x, q_logits, config: NaiveConfig, game: Game):
    obj, lr = config.objective, config.lr

    def step(x, y):
        return x + lr * naive_gradient(x, y, game, obj), y

    return _run(step, x, q_logits, config, game)


def naive_vs_naive(logits_x, logits_y, config: NaiveConfig | None = None, game: Game | None = None) -> Trajectory:
    """Two naive learners from the given initial logits (any leading batch axes, broadcast)."""
    config = config or NaiveConfig()
    game = resolve(game)
    x = as_logits(logits_x, "logits_x")
    y = as_logits(logits_y, "logits_y")
    return over_batch(lambda a, b: _naive_pair(a, b, config, game), x, y)


def naive_vs_fixed(logits_x, strategy_y, config: NaiveConfig | None = None, game: Game | None = None,
                   eps: float = 1e-6) -> Trajectory:
    """A naive learner X against a fixed memory-1 strategy ``strategy_y`` (probabilities, from Y's
    own side; pure entries are clipped to ``eps`` / ``1 - eps``, which changes payoffs by O(eps))."""
    config = config or NaiveConfig()
    game = resolve(game)
    q = logits_of(as_strategy(strategy_y, "strategy_y"), eps)
    x = as_logits(logits_x, "logits_x")
    return over_batch(lambda a, b: _naive_fixed(a, b, config, game), x, q)


def naive_pairs(key: jax.Array, config: NaiveConfig | None = None, game: Game | None = None) -> Trajectory:
    """``config.n_runs`` independent pairs of naive learners from random N(0, init_std^2) logits."""
    config = config or NaiveConfig()
    kx, ky = jax.random.split(key)
    x = random_logits(kx, (config.n_runs,), config.init_std)
    y = random_logits(ky, (config.n_runs,), config.init_std)
    return naive_vs_naive(x, y, config, game)
