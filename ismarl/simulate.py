"""Monte Carlo play of memory-1 strategy pairs, batched over episodes."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ismarl._validate import check_positive_int, check_probabilities
from ismarl.conventions import START, STRATEGY_LENGTH
from ismarl.games import Game, check_game, to_bimatrix_array


@functools.partial(jax.jit, static_argnames=("horizon", "n_episodes"))
def _play(p, q, payoffs, key, horizon: int, n_episodes: int):
    p = jnp.broadcast_to(p, (n_episodes, STRATEGY_LENGTH))
    q = jnp.broadcast_to(q, (n_episodes, STRATEGY_LENGTH))
    u = jax.random.uniform(key, (horizon, 2, n_episodes), dtype=p.dtype)  # all randomness up front
    rows = jnp.arange(n_episodes)

    def step(carry, u_t):
        ox, oy = carry
        ax = (u_t[0] >= p[rows, ox]).astype(jnp.int32)  # 0 = C with probability p[obs]
        ay = (u_t[1] >= q[rows, oy]).astype(jnp.int32)
        return (1 + 2 * ax + ay, 1 + 2 * ay + ax), (ax, ay)

    start = jnp.full((n_episodes,), START, jnp.int32)
    _, (ax, ay) = jax.lax.scan(step, (start, start), u)
    actions = jnp.stack([ax, ay], axis=-1).swapaxes(0, 1)  # (n, T, 2)
    rewards = payoffs[actions[..., 0], actions[..., 1]]  # (n, T, 2)
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
