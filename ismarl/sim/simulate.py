"""Monte Carlo play of memory-1 strategy pairs, batched over episodes.

Each round is :func:`ismarl.sim.core.transition`. The inner loop is kept integer-cheap: all
randomness is drawn up front as 24-bit integers, each strategy becomes per-episode integer
thresholds (``round(p * 2**24)``), and a player cooperates when its random integer falls below the
threshold of the observation it sees (a chain of elementwise selects rather than a gather).
Probabilities are thus resolved to 2**-24 (finer than a float32 uniform), and 0 and 1 stay exact:
ALLC always cooperates, ALLD never does.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ismarl._validate import check_positive_int, check_probabilities
from ismarl.conventions import CC, CD, DC, DD, START, STRATEGY_LENGTH
from ismarl.games import Game, check_game
from ismarl.sim.core import EnvParams, make_params, transition

#: Random bits per decision; probabilities are resolved to 2**-RANDOM_BITS.
RANDOM_BITS = 24


def _thresholds(p, n_episodes: int) -> jnp.ndarray:
    """Integer thresholds ``round(p * 2**24)`` laid out (5, n_episodes): C iff bits < threshold."""
    p = jnp.clip(jnp.broadcast_to(p, (n_episodes, STRATEGY_LENGTH)).T, 0.0, 1.0)  # round-off past 0 or 1
    return jnp.round(p * float(2**RANDOM_BITS)).astype(jnp.uint32)


def _after_round(obs, values):
    """``values[obs]`` elementwise for observation indices ``obs`` (n,) of CC, CD, DC or DD and
    ``values`` (5, n): two levels of selects on the observation's two actions, not a gather."""
    own_defected = obs >= DC
    other_defected = (obs == CD) | (obs == DD)
    return jnp.where(own_defected, jnp.where(other_defected, values[DD], values[DC]),
                     jnp.where(other_defected, values[CD], values[CC]))


@functools.partial(jax.jit, static_argnames=("n_episodes",))
def _play(p, q, params: EnvParams, key, n_episodes: int):
    tp = _thresholds(p, n_episodes)
    tq = _thresholds(q, n_episodes)
    bits = jax.random.bits(key, (params.horizon, 2, n_episodes), jnp.uint32) >> (32 - RANDOM_BITS)

    # Round 1: both players see Start. Actions are booleans, True = D.
    first = (bits[0, 0] >= tp[START], bits[0, 1] >= tq[START])

    def step(last, bits_t):
        seen = transition(params, *last)  # only the observations are used here; rewards come after
        now = (bits_t[0] >= _after_round(seen.obs_x, tp), bits_t[1] >= _after_round(seen.obs_y, tq))
        return now, now

    _, (ax, ay) = jax.lax.scan(step, first, bits[1:])
    ax = jnp.concatenate([first[0][None], ax])  # (T, n), time-major
    ay = jnp.concatenate([first[1][None], ay])
    out = transition(params, ax, ay)  # every round's rewards at once
    actions = jnp.stack([ax, ay], axis=-1).astype(jnp.int32).swapaxes(0, 1)  # (n, T, 2)
    rewards = jnp.stack([out.reward_x, out.reward_y], axis=-1).swapaxes(0, 1)
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
    params = make_params(check_game(game), horizon)
    return _play(jnp.asarray(p, dtype), jnp.asarray(q, dtype), params, key, n_episodes)
