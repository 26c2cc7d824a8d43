"""Monte Carlo play of memory-1 strategy pairs, batched over episodes.

Each round is :func:`ismarl.sim.core.transition`. The inner loop is kept integer-cheap: all
randomness is drawn up front as 24-bit integers, each strategy becomes per-episode integer
thresholds (``round(p * 2**24)``), and a player cooperates when its random integer falls below the
threshold of the observation it sees (a chain of elementwise selects rather than a gather).
Probabilities are thus resolved to 2**-24 (finer than a float32 uniform), and 0 and 1 stay exact:
ALLC always cooperates, ALLD never does.

The random bits are those of ``jax.random.bits(key, (horizon, 2, n_episodes))`` (the uniforms of
:func:`ismarl.agents.match.play_match` come from the same bits), computed by :func:`random_bits`.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ismarl._validate import check_positive_int, check_probabilities
from ismarl.conventions import CC, CD, DC, DD, START, STRATEGY_LENGTH
from ismarl.games import Game, check_game
from ismarl.sim.core import EnvParams, make_params, transition

#: Random bits per decision; probabilities are resolved to 2**-RANDOM_BITS.
RANDOM_BITS = 24


#: Threefry-2x32 rotations (Salmon et al. 2011), alternating between the two sets every 4 rounds.
_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def random_bits(key: jax.Array, shape: tuple[int, ...]) -> jnp.ndarray:
    """``jax.random.bits(key, shape, jnp.uint32)``, bit for bit, written out as one fused kernel.

    On CPU, JAX lowers its Threefry hash as a loop over the rounds that reads and writes the whole
    array at each pass, which makes the draws most of the cost of a Monte Carlo batch; the same
    20 rounds written out fuse into one elementwise kernel several times faster. This follows JAX's
    default scheme (``jax_threefry_partitionable``): element ``i`` (row-major) hashes the counter
    ``(0, i)`` with the key and returns the XOR of the two output words. Any other key type or
    setting, an array of keys, or more than 2**32 draws, goes to ``jax.random.bits`` itself.
    """
    size = math.prod(shape)
    data = jax.random.key_data(key)
    if (str(jax.random.key_impl(key)) != "threefry2x32" or not jax.config.jax_threefry_partitionable
            or data.shape != (2,) or size >= 2**32):
        return jax.random.bits(key, shape, jnp.uint32)
    k0, k1 = data
    ks = (k0, k1, k0 ^ k1 ^ jnp.uint32(0x1BD11BDA))
    x0 = jnp.zeros(shape, jnp.uint32) + ks[0]
    x1 = jax.lax.iota(jnp.uint32, size).reshape(shape) + ks[1]
    for i in range(5):
        for r in _THREEFRY_ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = x0 ^ ((x1 << jnp.uint32(r)) | (x1 >> jnp.uint32(32 - r)))
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + jnp.uint32(i + 1)
    return x0 ^ x1


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
    bits = random_bits(key, (params.horizon, 2, n_episodes)) >> (32 - RANDOM_BITS)

    # Round 1: both players see Start. Actions are booleans, True = D.
    first = (bits[0, 0] >= tp[START], bits[0, 1] >= tq[START])

    def step(last, bits_t):
        seen = transition(params, *last)  # only the observations are used here; rewards come after
        now = (bits_t[0] >= _after_round(seen.obs_x, tp), bits_t[1] >= _after_round(seen.obs_y, tq))
        return now, now

    _, (ax, ay) = jax.lax.scan(step, first, bits[1:])
    # Time-major (T, n) to episode-major (n, T) as a transpose of its own: fused into what follows,
    # every output element would read its actions across the whole array (several times slower).
    ax, ay = jax.lax.optimization_barrier((
        jnp.concatenate([first[0][None], ax]).T, jnp.concatenate([first[1][None], ay]).T))
    out = transition(params, ax, ay)  # every round's rewards at once
    actions = jnp.stack([ax, ay], axis=-1).astype(jnp.int32)  # (n, T, 2)
    rewards = jnp.stack([out.reward_x, out.reward_y], axis=-1)
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
    params = _env_params(check_game(game), horizon, dtype)
    return _play(jnp.asarray(p, dtype), jnp.asarray(q, dtype), params, key, n_episodes)


@functools.lru_cache(maxsize=64)
def _env_params(game: Game, horizon: int, dtype) -> EnvParams:
    """:func:`make_params`, kept for repeated calls: building the payoff array on the device anew
    each call took a large share of a small batch's time."""
    return make_params(game, horizon, dtype)
