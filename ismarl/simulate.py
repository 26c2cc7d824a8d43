"""Monte Carlo play of memory-1 strategy pairs, batched over episodes.

The inner loop is kept integer-cheap: all randomness is drawn up front as 24-bit integers, each
strategy becomes per-episode integer thresholds (``round(p * 2**24)``), and a player cooperates
when its random integer falls below the threshold of the state it sees. The state is carried as
the two previous actions (booleans), so choosing a threshold is a pair of elementwise selects
rather than a gather. Probabilities are thus resolved to 2**-24 (finer than a float32 uniform),
and 0 and 1 stay exact: ALLC always cooperates, ALLD never does.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ismarl._validate import check_positive_int, check_probabilities
from ismarl.conventions import STRATEGY_LENGTH, SWAP_PERSPECTIVE
from ismarl.games import Game, check_game, to_bimatrix_array

#: Random bits per decision; probabilities are resolved to 2**-RANDOM_BITS.
RANDOM_BITS = 24


def _thresholds(p, n_episodes: int) -> jnp.ndarray:
    """Integer thresholds ``round(p * 2**24)`` laid out (5, n_episodes): C iff bits < threshold."""
    p = jnp.clip(jnp.broadcast_to(p, (n_episodes, STRATEGY_LENGTH)).T, 0.0, 1.0)  # round-off past 0 or 1
    return jnp.round(p * float(2**RANDOM_BITS)).astype(jnp.uint32)


def _by_state(x_defects, y_defects, values):
    """``values[k]`` for X's state k in (CC, CD, DC, DD) given last round's actions (elementwise)."""
    return jnp.where(
        x_defects,
        jnp.where(y_defects, values[3], values[2]),
        jnp.where(y_defects, values[1], values[0]),
    )


@functools.partial(jax.jit, static_argnames=("horizon", "n_episodes"))
def _play(p, q, payoffs, key, horizon: int, n_episodes: int):
    tp = _thresholds(p, n_episodes)
    # Y's thresholds re-indexed to X's state order (Y's CD is X's DC), so one select serves both.
    tq = _thresholds(q, n_episodes)[SWAP_PERSPECTIVE]
    bits = jax.random.bits(key, (horizon, 2, n_episodes), jnp.uint32) >> (32 - RANDOM_BITS)

    # Round 0: both players see Start. Actions are booleans, True = D.
    first = (bits[0, 0] >= tp[0], bits[0, 1] >= tq[0])

    def step(last, bits_t):
        x_defects, y_defects = last
        now = (bits_t[0] >= _by_state(x_defects, y_defects, tp[1:]), bits_t[1] >= _by_state(x_defects, y_defects, tq[1:]))
        return now, now

    _, (ax, ay) = jax.lax.scan(step, first, bits[1:])
    ax = jnp.concatenate([first[0][None], ax])  # (T, n), time-major
    ay = jnp.concatenate([first[1][None], ay])
    rx = _by_state(ax, ay, payoffs[..., 0].reshape(4))
    ry = _by_state(ax, ay, payoffs[..., 1].reshape(4))
    actions = jnp.stack([ax, ay], axis=-1).astype(jnp.int32).swapaxes(0, 1)  # (n, T, 2)
    rewards = jnp.stack([rx, ry], axis=-1).swapaxes(0, 1)
    return actions, rewards


def play(p, q, game: Game, horizon: int, n_episodes: int, key: jax.Array):
    """Play ``n_episodes`` episodes of ``horizon`` rounds of X (``p``) against Y (``q``).

    ``p`` and ``q`` are strategies of shape (5,) or (n_episodes, 5) (one per episode).
    Returns ``(actions, rewards)``, each of shape (n_episodes, horizon, 2), where
    ``[..., 0]`` is X and ``[..., 1]`` is Y; actions are 0 = C and 1 = D.
    """
    horizon = check_positive_int(horizon, "horizon")
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    for x, name in ((p, "p"), (q, "q")):
        check_probabilities(x, name, last_dim=STRATEGY_LENGTH)
        shape = jnp.shape(x)
        if len(shape) > 2 or (len(shape) == 2 and shape[0] not in (1, n_episodes)):
            raise ValueError(f"{name} must have shape (5,) or ({n_episodes}, 5), got {shape}")
    dtype = jnp.result_type(float)
    payoffs = jnp.asarray(to_bimatrix_array(check_game(game)), dtype)
    return _play(jnp.asarray(p, dtype), jnp.asarray(q, dtype), payoffs, key, horizon, n_episodes)
