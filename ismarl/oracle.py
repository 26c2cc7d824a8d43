"""The best achievable play against a known memory-1 co-player over a finite horizon.

Against a memory-1 co-player ``q`` the game is a Markov decision process whose state is the last
joint outcome, so backward induction over the ``T`` rounds gives the exact best response and its
value. This is the yardstick for in-context learners: their per-round reward against a co-player
is reported as a fraction of :func:`best_response_value`.
"""

from __future__ import annotations

import numpy as np

from ismarl._validate import check_positive_int, check_probabilities
from ismarl.conventions import STRATEGY_LENGTH, SWAP_PERSPECTIVE
from ismarl.games import Game, resolve, to_bimatrix_array


def best_response(q, horizon: int = 100, game: Game | None = None):
    """Finite-horizon dynamic programming against memory-1 co-players ``q`` (..., 5).

    Returns ``(value, cooperate)``: ``value`` (...) is the best total reward divided by
    ``horizon`` (per-round average, original scale) and ``cooperate`` (..., horizon, 5) is a
    bool array, True where the optimal action in round ``t`` after observation ``o`` (first
    person, :mod:`ismarl.conventions`) is C. Ties go to D.
    """
    horizon = check_positive_int(horizon, "horizon")
    q = np.asarray(check_probabilities(q, "q", last_dim=STRATEGY_LENGTH), dtype=np.float64)
    payoff = to_bimatrix_array(resolve(game))[..., 0]  # (a, b) -> own reward
    q_seen = q[..., SWAP_PERSPECTIVE]  # co-player's P(C) indexed by *our* observation
    pb = np.stack([q_seen, 1.0 - q_seen], axis=-1)  # (..., 5 obs, 2 co-player actions)
    nxt = np.array([[1, 2], [3, 4]])  # observation after (own a, other b) = 1 + 2a + b
    v = np.zeros(q.shape[:-1] + (5,))
    cooperate = np.zeros(q.shape[:-1] + (horizon, 5), dtype=bool)
    for t in range(horizon - 1, -1, -1):
        # Q[..., o, a] = sum_b P(b | o) * (payoff[a, b] + V_{t+1}[next(a, b)])
        cont = payoff[None, :, :] + v[..., None, nxt]  # (..., 1, 2 a, 2 b)
        Q = np.einsum("...ob,...ab->...oa", pb, cont[..., 0, :, :])
        cooperate[..., t, :] = Q[..., 0] > Q[..., 1] + 1e-12
        v = Q.max(axis=-1)
    return v[..., 0] / horizon, cooperate


def best_response_value(q, horizon: int = 100, game: Game | None = None) -> np.ndarray:
    """Per-round value of the best response to ``q`` (..., 5); see :func:`best_response`."""
    return best_response(q, horizon, game)[0]


def best_response_cooperation(q, horizon: int = 100, game: Game | None = None, cooperate=None) -> np.ndarray:
    """Expected fraction of the ``horizon`` rounds in which the best response to ``q`` (..., 5)
    plays C (exact: the distribution over observations is carried forward under the DP policy
    of :func:`best_response`; pass that policy as ``cooperate`` if it is already computed). The
    yardstick for a learner's cooperation rate against tabular co-players: against U(0, 1)^5
    agents it is about 0.08 at T = 100."""
    if cooperate is None:
        _, cooperate = best_response(q, horizon, game)
    q_seen = np.asarray(q, np.float64)[..., SWAP_PERSPECTIVE]
    dist = np.zeros(q_seen.shape)
    dist[..., 0] = 1.0
    coop = np.zeros(q_seen.shape[:-1])
    for t in range(cooperate.shape[-2]):
        c = cooperate[..., t, :].astype(np.float64)  # P(own C | o): 0 or 1
        coop += np.sum(dist * c, axis=-1)
        new = np.zeros_like(dist)
        for a, pa in ((0, c), (1, 1.0 - c)):
            for b, pb in ((0, q_seen), (1, 1.0 - q_seen)):
                new[..., 1 + 2 * a + b] += np.sum(dist * pa * pb, axis=-1)
        dist = new
    return coop / cooperate.shape[-2]


def fixed_strategy_value(p, q, horizon: int = 100, game: Game | None = None) -> np.ndarray:
    """Exact per-round reward of memory-1 ``p`` against ``q`` over ``horizon`` rounds (numpy, float64)."""
    horizon = check_positive_int(horizon, "horizon")
    p = np.asarray(check_probabilities(p, "p", last_dim=STRATEGY_LENGTH), np.float64)
    q = np.asarray(check_probabilities(q, "q", last_dim=STRATEGY_LENGTH), np.float64)
    p, q = np.broadcast_arrays(p, q)
    payoff = to_bimatrix_array(resolve(game))[..., 0]
    qs = q[..., SWAP_PERSPECTIVE]
    dist = np.zeros(p.shape[:-1] + (5,))
    dist[..., 0] = 1.0
    total = np.zeros(p.shape[:-1])
    for _ in range(horizon):
        new = np.zeros_like(dist)
        for o in range(5):
            for a, pa in ((0, p[..., o]), (1, 1 - p[..., o])):
                for b, pb in ((0, qs[..., o]), (1, 1 - qs[..., o])):
                    w = dist[..., o] * pa * pb
                    total += w * payoff[a, b]
                    new[..., 1 + 2 * a + b] += w
        dist = new
    return total / horizon
