"""The exact Bayes-optimal prediction of a memory-1 co-player's next move from one episode's history.

A co-player drawn with entries i.i.d. Beta(a, a) (a = 1 is the U(0, 1)^5 pool) has a conjugate
posterior entry by entry, so the best possible prediction of its next move is a ratio of counts.
This is the yardstick for a sequence model's in-context inference: the model's co-player head is
compared with :func:`bayes_log_loss` through the same :func:`log_loss`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_finite_number, check_probabilities, is_concrete
from ismarl.conventions import COOPERATE, N_OBSERVATIONS, START, observation_index

__all__ = [
    "coplayer_observations", "coplayer_posterior", "coplayer_predictions", "log_loss", "bayes_log_loss",
]


def _check_actions(actions, name: str = "actions"):
    """``actions`` (..., T, 2) of 0 = C and 1 = D, [..., 0] the learner's, [..., 1] the co-player's."""
    shape = np.shape(actions)
    if len(shape) < 2 or shape[-1] != 2 or shape[-2] < 1:
        raise ValueError(
            f"{name} must have shape (..., T, 2) with T >= 1 ([..., 0] the learner's moves, "
            f"[..., 1] the co-player's, as simulate.play returns them), got shape {shape}"
        )
    dtype = np.dtype(actions.dtype if hasattr(actions, "dtype") else np.asarray(actions).dtype)
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.bool_)):
        raise TypeError(
            f"{name} must be an integer array of 0 = C and 1 = D, got dtype {dtype}; "
            f"cast it with .astype(int) if it holds whole numbers"
        )
    if is_concrete(actions):
        arr = np.asarray(actions)
        bad = arr[(arr != 0) & (arr != 1)]
        if bad.size:
            raise ValueError(
                f"{name} must hold only 0 (C) and 1 (D), got {np.unique(bad)[:5].tolist()}"
            )
    return jnp.asarray(actions).astype(jnp.int32)


def _check_prior(prior_a):
    """``prior_a`` as given when it is a finite positive number (tracers pass unchecked)."""
    if not is_concrete(prior_a):
        return prior_a
    a = check_finite_number(prior_a, "prior_a")
    if not a > 0:
        raise ValueError(
            f"prior_a must be a positive Beta(a, a) shape (1.0 for the U(0, 1)^5 pool), got {prior_a!r}"
        )
    return a


def coplayer_observations(actions) -> jnp.ndarray:
    """The co-player's own first-person observation before each round, (..., T) ints.

    Round 1 is Start; round ``t > 1`` is :func:`~ismarl.conventions.observation_index` of round
    ``t - 1`` with the co-player's own action first (so the learner's CD is the co-player's DC).
    """
    actions = _check_actions(actions)
    own, other = actions[..., :-1, 1], actions[..., :-1, 0]
    start = jnp.full(actions.shape[:-2] + (1,), START, jnp.int32)
    return jnp.concatenate([start, observation_index(own, other)], axis=-1)


@jax.jit
def _posterior(actions, prior_a):
    obs = coplayer_observations(actions)  # (..., T)
    seen = jax.nn.one_hot(obs, N_OBSERVATIONS, dtype=jnp.result_type(float))  # (..., T, 5)
    coop = (actions[..., 1] == COOPERATE).astype(seen.dtype)[..., None]
    c_events, d_events = seen * coop, seen * (1.0 - coop)
    # Counts strictly before round t: inclusive cumulative sums minus round t's own event.
    c = jnp.cumsum(c_events, axis=-2) - c_events
    d = jnp.cumsum(d_events, axis=-2) - d_events
    return prior_a + c, prior_a + d, obs


def coplayer_posterior(actions, prior_a=1.0):
    """The Beta posterior of the co-player's strategy entries before each round.

    ``actions`` (..., T, 2): [..., 0] the learner's moves, [..., 1] the co-player's (0 = C,
    1 = D). Returns ``(alpha, beta)``, each (..., T, 5): before round ``t`` the co-player's entry
    for its own observation ``s`` ([p0, pCC, pCD, pDC, pDD], :mod:`ismarl.conventions`) is
    Beta(alpha[..., t, s], beta[..., t, s]) = Beta(a + c_s, a + d_s), where c_s and d_s count the
    earlier rounds in which it cooperated / defected right after seeing ``s``.
    """
    actions = _check_actions(actions)
    a = _check_prior(prior_a)
    alpha, beta, _ = _posterior(actions, a)
    return alpha, beta


def coplayer_predictions(actions, prior_a=1.0) -> jnp.ndarray:
    """P(co-player plays C in round t | the episode before round t), (..., T).

    The Bayes-optimal prediction for a co-player whose five entries are i.i.d. Beta(a, a)
    (``prior_a`` = a; 1.0 is the U(0, 1)^5 pool): ``(a + c_s) / (2a + c_s + d_s)`` for the
    observation ``s`` it sees in round ``t`` (see :func:`coplayer_posterior`). Round 1 (Start,
    seen once) is always 1/2. Batched over leading axes and jit-able.
    """
    actions = _check_actions(actions)
    a = _check_prior(prior_a)
    alpha, beta, obs = _posterior(actions, a)
    mean = alpha / (alpha + beta)
    return jnp.take_along_axis(mean, obs[..., None], axis=-1)[..., 0]


def log_loss(p_coop, actions) -> jnp.ndarray:
    """Per-round negative log-likelihood of the co-player's moves under predictions ``p_coop``.

    ``p_coop`` (..., T) is any predictor's P(co-player plays C in round t) and ``actions``
    (..., T, 2) the episode; returns (..., T) ``-log p`` where it cooperated and ``-log(1 - p)``
    where it defected (infinite where a prediction of 0 or 1 is wrong). Natural log, nats.
    """
    actions = _check_actions(actions)
    check_probabilities(p_coop, "p_coop")
    if np.shape(p_coop) != actions.shape[:-1]:
        raise ValueError(
            f"p_coop must have shape {actions.shape[:-1]} (one prediction per round of actions "
            f"{actions.shape}), got shape {np.shape(p_coop)}"
        )
    p = jnp.clip(jnp.asarray(p_coop, jnp.result_type(float)), 0.0, 1.0)
    return -jnp.log(jnp.where(actions[..., 1] == COOPERATE, p, 1.0 - p))


def bayes_log_loss(actions, prior_a=1.0) -> jnp.ndarray:
    """Per-round log-loss (..., T) of :func:`coplayer_predictions` on the co-player's actual moves:
    the Bayes-optimal cross-entropy against a Beta(a, a) co-player (log 2 in round 1)."""
    return log_loss(coplayer_predictions(actions, prior_a), actions)
