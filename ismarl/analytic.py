"""Exact payoffs of memory-1 strategy pairs, from the Markov chain of the iterated game.

Everything here is a pure JAX function, batched over leading axes (broadcasting), and
differentiable, so it serves the learning-dynamics chapters as well as the tests. Three
payoff notions, all per round:

* ``horizon=T``: the average over T rounds, ``(1/T) sum_{t<T} d0 M^t r``;
* ``discount=g``: the normalized discounted value ``(1-g) d0 (I - g M)^-1 r``;
* neither: the long-run (Cesàro) average from the initial distribution, well defined for every
  pair, including reducible chains such as TFT against TFT, and computed in closed form
  (:func:`long_run_distribution`).

``press_dyson_payoffs`` gives the same long-run payoffs from Press & Dyson's determinant form
(valid when the chain has a unique stationary distribution), as an independent cross-check.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_discount, check_positive_int, check_probabilities, is_concrete
from ismarl.conventions import STRATEGY_LENGTH
from ismarl.games import Game, check_game


def payoff_vectors(game: Game, dtype=None) -> tuple[jnp.ndarray, jnp.ndarray]:
    """``(r_X, r_Y)`` over X's states (CC, CD, DC, DD) as JAX arrays."""
    r_x, r_y = check_game(game).payoff_vectors()
    dtype = dtype or jnp.result_type(float)
    return jnp.asarray(r_x, dtype), jnp.asarray(r_y, dtype)


def markov_chain(p, q) -> tuple[jnp.ndarray, jnp.ndarray]:
    """First-round distribution ``d0`` (..., 4) and transition matrix ``M`` (..., 4, 4) over X's
    states (CC, CD, DC, DD) for X playing ``p`` and Y playing ``q`` (each from its own side)."""
    p = jnp.asarray(p)
    q = jnp.asarray(q)
    p, q = jnp.broadcast_arrays(p, q)
    q_tilde = q[..., jnp.array([1, 3, 2, 4])]  # Y's reply in X's state order (CD and DC swap)
    ps, qs = p[..., 1:], q_tilde

    def joint(a, b):
        return jnp.stack([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], axis=-1)

    d0 = joint(p[..., 0], q[..., 0])
    M = joint(ps, qs)  # (..., 4 from-states, 4 to-states)
    return d0, M


def state_distributions(p, q, horizon: int) -> jnp.ndarray:
    """Distribution over X's states in each round ``t = 0..horizon-1``, shape (..., horizon, 4)."""
    horizon = check_positive_int(horizon, "horizon")
    return _state_distributions(_strategy(p, "p"), _strategy(q, "q"), horizon)


# The scans live in module-level jitted kernels: a scan over a fresh closure, called eagerly,
# would be traced and compiled again on every call.
@functools.partial(jax.jit, static_argnames=("horizon",))
def _state_distributions(p, q, horizon: int) -> jnp.ndarray:
    d0, M = markov_chain(p, q)

    def step(d, _):
        return _vecmat(d, M), d

    _, ds = jax.lax.scan(step, d0, None, length=horizon)
    return jnp.moveaxis(ds, 0, -2)


@jax.jit
def _weighted_state_sum(p, q, weights) -> jnp.ndarray:
    """``sum_t weights[t] d0 M^t`` (..., 4), accumulated in the scan so that memory does not grow
    with the horizon (a million pairs over 100 rounds stay a few MB)."""
    d0, M = markov_chain(p, q)

    def step(carry, w):
        d, total = carry
        return (_vecmat(d, M), total + w * d), None

    (_, total), _ = jax.lax.scan(step, (d0, jnp.zeros_like(d0)), weights)
    return total


def _vecmat(d, M):
    """Row vector(s) times matrix: ``out[..., j] = sum_i d[..., i] M[..., i, j]``."""
    return jnp.einsum("...i,...ij->...j", d, M)


def cooperation_rates(p, q, horizon: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Per-round probability that X and that Y cooperate, each of shape (..., horizon)."""
    ds = state_distributions(p, q, horizon)
    return ds[..., 0] + ds[..., 1], ds[..., 0] + ds[..., 2]


def _arborescences() -> tuple[tuple[tuple[tuple[int, int], ...], ...], ...]:
    """The spanning arborescences of the complete directed graph on the four states, by root: each
    is the tuple of its three edges ``(i, k)``, one from every other state, all leading to the root
    (Cayley: ``4**2 = 16`` per root)."""
    trees = []
    for root in range(4):
        others = [i for i in range(4) if i != root]
        rooted = []
        for parents in itertools.product(range(4), repeat=3):
            parent = dict(zip(others, parents))

            def reaches_root(i, parent=parent, root=root):
                for _ in range(4):  # a path to the root has at most three edges
                    if i == root:
                        return True
                    i = parent[i]
                return False

            if all(parent[i] != i and reaches_root(i) for i in others):
                rooted.append(tuple(parent.items()))
        trees.append(tuple(rooted))
    return tuple(trees)


#: The 4 x 16 spanning arborescences of the four states, by root (see long_run_distribution).
_ARBORESCENCES = _arborescences()


def long_run_distribution(p, q) -> jnp.ndarray:
    """Cesàro-limit state distribution ``lim (1/T) sum_t d0 M^t`` (..., 4), for every pair.

    A closed form. Restart the chain from ``d0`` with probability ``e`` each round; the restarted
    chain ``(1 - e) M + e 1 d0`` has a single closed class, and its stationary distribution is the
    Abel mean ``e sum_t (1-e)^t d0 M^t``, which tends to the Cesàro limit as ``e -> 0``. By the
    Markov chain tree theorem that distribution is proportional to

        w_j(x) = sum over spanning arborescences A rooted at j of prod_{(i -> k) in A} (M_ik + x d0_k)

    with ``x = e / (1 - e)``: a cubic in ``x`` with nonnegative coefficients. Its limit ``x -> 0``
    is the lowest-order coefficient vector that is not all zero. Order 0 is the chain's own tree
    sum, nonzero exactly when ``M`` has a single closed class (ergodic, periodic or with transient
    states alike); then the limit is the unique stationary distribution, whatever ``d0`` (Press and
    Dyson's ``D(p, q, 1)`` vanishes exactly when order 0 does). Chains with several closed classes
    (TFT against TFT) need a higher order, which weighs each class by its absorption probability
    from ``d0``. Every term is a product of probabilities, so nothing cancels: structural zeros
    stay exact zeros and float32 keeps its relative accuracy even for nearly reducible chains.
    The whole computation is elementwise over the batch and differentiable.
    """
    return _long_run_distribution(_strategy(p, "p"), _strategy(q, "q"))


@jax.jit
def _long_run_distribution(p, q) -> jnp.ndarray:
    d0, M = markov_chain(p, q)
    by_root = []
    for trees in _ARBORESCENCES:
        w = [0.0] * 4  # coefficients of x^0 .. x^3
        for tree in trees:
            # Each edge i -> k weighs a + b x with a = M_ik, b = d0_k; expand the product of three.
            (a0, b0), (a1, b1), (a2, b2) = ((M[..., i, k], d0[..., k]) for i, k in tree)
            terms = (a0 * a1 * a2,
                     b0 * a1 * a2 + a0 * b1 * a2 + a0 * a1 * b2,
                     a0 * b1 * b2 + b0 * a1 * b2 + b0 * b1 * a2,
                     b0 * b1 * b2)
            w = [acc + term for acc, term in zip(w, terms)]
        by_root.append(jnp.stack(w, axis=-1))
    w = jnp.stack(by_root, axis=-1)  # (..., order of x, root state)
    # The lowest order with a nonzero total; order 3 always has one (the star on a state of d0).
    order = jnp.argmax(jnp.sum(w, axis=-1) > 0, axis=-1)
    w = jnp.take_along_axis(w, order[..., None, None], axis=-2)[..., 0, :]
    return w / jnp.sum(w, axis=-1, keepdims=True)


def expected_payoffs(p, q, game: Game, horizon: int | None = None, discount: float | None = None):
    """Exact per-round payoffs ``(x, y)`` of X playing ``p`` against Y playing ``q``.

    ``p`` and ``q`` are memory-1 strategies ``[..., 5]`` (broadcast against each other).
    ``horizon=T``: average over T rounds. ``discount=g``: normalized discounted value
    ``(1-g) sum_t g^t r_t``. Both: discounted average over T rounds,
    ``sum_{t<T} g^t r_t / sum_{t<T} g^t``. Neither: long-run average (every pair, any chain).
    """
    p = _strategy(p, "p")
    q = _strategy(q, "q")
    r_x, r_y = payoff_vectors(game, jnp.result_type(p, q))
    if horizon is not None:
        horizon = check_positive_int(horizon, "horizon")
        g = 1.0 if discount is None else check_discount(discount)
        weights = g ** np.arange(horizon)
        # Sum first, normalize once: with g = 1 the weights are exact ones, so deterministic pairs
        # give exact averages (normalized float32 weights 1/T would not sum to one).
        d = _weighted_state_sum(p, q, jnp.asarray(weights, dtype=r_x.dtype)) / weights.sum()
    elif discount is not None:
        g = check_discount(discount)
        d0, M = markov_chain(p, q)
        A = jnp.eye(4, dtype=M.dtype) - g * M
        # d = (1-g) d0 (I - gM)^-1  <=>  A^T d^T = (1-g) d0^T
        d = (1 - g) * jnp.linalg.solve(jnp.swapaxes(A, -1, -2), d0[..., None])[..., 0]
    else:
        d = long_run_distribution(p, q)
    return d @ r_x, d @ r_y


def discounted_returns(p, q, game: Game, discount: float):
    """Un-normalized discounted returns ``d0 (I - gM)^-1 r`` (the COALA-PG objective)."""
    g = check_discount(discount)
    x, y = expected_payoffs(p, q, game, discount=g)
    return x / (1 - g), y / (1 - g)


def press_dyson_determinant(p, q, f) -> jnp.ndarray:
    """Press & Dyson's ``D(p, q, f)``: the 4x4 determinant whose ratio gives long-run payoffs."""
    p = jnp.asarray(p)[..., 1:]
    q = jnp.asarray(q)[..., 1:]
    f = jnp.asarray(f)
    p, q = jnp.broadcast_arrays(p, q)
    f = jnp.broadcast_to(f, p.shape[:-1] + (4,)).astype(p.dtype)
    p1, p2, p3, p4 = (p[..., i] for i in range(4))
    q1, q2, q3, q4 = (q[..., i] for i in range(4))
    rows = [
        jnp.stack([-1 + p1 * q1, -1 + p1, -1 + q1, f[..., 0]], -1),
        jnp.stack([p2 * q3, -1 + p2, q3, f[..., 1]], -1),
        jnp.stack([p3 * q2, p3, -1 + q2, f[..., 2]], -1),
        jnp.stack([p4 * q4, p4, q4, f[..., 3]], -1),
    ]
    return jnp.linalg.det(jnp.stack(rows, -2))


def press_dyson_payoffs(p, q, game: Game, tol: float = 1e-9):
    """Long-run payoffs ``s = D(p, q, r) / D(p, q, 1)`` (Press & Dyson 2012).

    Only valid when the chain has a unique stationary distribution; for concrete inputs a
    vanishing ``D(p, q, 1)`` (e.g. TFT against TFT) raises instead of returning NaN.
    """
    p = _strategy(p, "p")
    q = _strategy(q, "q")
    r_x, r_y = payoff_vectors(game, jnp.result_type(p, q))
    den = press_dyson_determinant(p, q, jnp.ones(4, dtype=r_x.dtype))
    if is_concrete(den) and np.any(np.abs(np.asarray(den)) < tol):
        raise ValueError(
            "D(p, q, 1) vanishes: this pair's Markov chain has no unique stationary distribution "
            "(e.g. TFT vs TFT); use expected_payoffs(p, q, game) for the long-run average instead"
        )
    return press_dyson_determinant(p, q, r_x) / den, press_dyson_determinant(p, q, r_y) / den


def _strategy(x, name):
    check_probabilities(x, name, last_dim=STRATEGY_LENGTH)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x
