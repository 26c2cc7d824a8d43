"""Small summaries of learning runs: outcome classes and the flow field in a 2-D policy slice."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ismarl.games import Game, resolve
from ismarl.learning.objectives import Objective, logits_of, own_payoff

OUTCOMES = ("mutual defection", "mutual cooperation", "X exploits Y", "Y exploits X", "other")


def classify_outcomes(payoff_x, payoff_y, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Outcome index (see ``OUTCOMES``) of final per-round payoffs: both below ``low`` is mutual
    defection, both above ``high`` mutual cooperation, one above ``high`` and the other below
    ``low``... is exploitation when one player's payoff exceeds the other's by more than 0.5."""
    x, y = np.asarray(payoff_x), np.asarray(payoff_y)
    out = np.full(np.broadcast_shapes(x.shape, y.shape), 4)
    out[(x - y) > 0.5] = 2
    out[(y - x) > 0.5] = 3
    out[(x > high) & (y > high)] = 1
    out[(x < low) & (y < low)] = 0
    return out


def outcome_fractions(payoff_x, payoff_y, **kw) -> dict[str, float]:
    """Fraction of runs in each outcome class."""
    c = classify_outcomes(payoff_x, payoff_y, **kw)
    return {name: float(np.mean(c == i)) for i, name in enumerate(OUTCOMES)}


def reactive_strategy(p, q, p0=None):
    """The reactive memory-1 strategy: cooperate with ``p`` after the co-player's C and ``q`` after
    its D; the opening move is ``p0`` (default ``p``)."""
    p0 = p if p0 is None else p0
    return jnp.stack([p0, p, q, p, q], axis=-1)


@functools.partial(jax.jit, static_argnames=("game", "objective"))
def _reactive_flow(p, q, game, objective):
    def own(pq_me, pq_other):
        x = logits_of(reactive_strategy(*pq_me))
        y = logits_of(reactive_strategy(*pq_other))
        return own_payoff(x, y, game, objective)

    def one(p, q):
        pq = jnp.stack([p, q])
        return jax.grad(own)(pq, pq)

    return jax.vmap(one)(p.ravel(), q.ravel()).reshape(p.shape + (2,))


def reactive_flow(p, q, objective: Objective | None = None, game: Game | None = None) -> np.ndarray:
    """Naive-learning direction in the symmetric reactive slice: both players use the reactive
    strategy ``(p, q)``; returns ``d J_self / d (p, q)`` (own strategy only), shape ``p.shape + (2,)``.

    This is the direction a naive learner climbs in probability space when it is restricted to
    reactive strategies and its co-player currently plays the same one.
    """
    objective = objective or Objective(discount=0.99)
    game = resolve(game)
    p, q = np.broadcast_arrays(np.asarray(p, float), np.asarray(q, float))
    if np.any((p <= 0) | (p >= 1) | (q <= 0) | (q >= 1)):
        raise ValueError("reactive_flow needs p and q strictly inside (0, 1)")
    return np.asarray(_reactive_flow(jnp.asarray(p), jnp.asarray(q), game, objective))


def reactive_trajectories(p0, q0, lr: float, steps: int, objective: Objective | None = None,
                          game: Game | None = None, record_every: int = 10) -> np.ndarray:
    """Symmetric naive learning inside the reactive slice, in logit coordinates of (p, q).

    Both players start at the same reactive strategy and update simultaneously (so they stay
    equal). Returns the path in probability space, shape ``(n, steps // record_every + 1, 2)``.
    """
    objective = objective or Objective(discount=0.99)
    game = resolve(game)
    start = logits_of(jnp.stack([jnp.asarray(p0, float).ravel(), jnp.asarray(q0, float).ravel()], -1))
    return np.asarray(_reactive_paths(start, float(lr), int(steps), int(record_every), game, objective))


@functools.partial(jax.jit, static_argnames=("steps", "record_every", "game", "objective"))
def _reactive_paths(start, lr, steps, record_every, game, objective):
    def own(z_me, z_other):
        x = logits_of(reactive_strategy(*jax.nn.sigmoid(z_me)), eps=1e-7)
        y = logits_of(reactive_strategy(*jax.nn.sigmoid(z_other)), eps=1e-7)
        return own_payoff(x, y, game, objective)

    def step(z, _):
        return z + lr * jax.grad(own)(z, jax.lax.stop_gradient(z)), None

    def outer(z, _):
        z, _ = jax.lax.scan(step, z, None, length=record_every)
        return z, jax.nn.sigmoid(z)

    def one(z0):
        _, path = jax.lax.scan(outer, z0, None, length=steps // record_every)
        return jnp.concatenate([jax.nn.sigmoid(z0)[None], path], 0)

    return jax.vmap(one)(start)
