"""The learning-aware (shaping) agent of Meulemans et al. (2025, COALA-PG §4), on exact payoffs.

The aware agent X plays a naive learner Y for ``M + 1`` rounds of learning: Y starts from random
logits and after each round takes a naive gradient step ``phi_Y <- phi_Y + eta dJ_Y/dphi_Y``. X
maximizes its average return over those rounds, differentiating through Y's updates, averaged over a
batch of fresh naive learners. Against another aware agent it uses the partial gradient
``dJ_X/dphi_X`` (the co-player held fixed). A mixed group combines the two with weight ``p_naive``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ismarl.games import Game, resolve
from ismarl.learning.configs import MixedGroupConfig, ShapingConfig
from ismarl.learning.naive import co_player_gradient, naive_gradient, random_logits
from ismarl.learning.objectives import as_logits, own_payoff, per_round, policy


def unroll_naive(logits_meta, logits_naive, config: ShapingConfig, game: Game):
    """The naive learner's logits over ``M + 1`` rounds of learning, shape (M+1, 5)."""

    def step(y, _):
        y_next = y + config.naive_lr * co_player_gradient(logits_meta, y, game, config.objective)
        return y_next, y

    y_last, ys = jax.lax.scan(step, logits_naive, None, length=config.naive_steps)
    return jnp.concatenate([ys, y_last[None]], 0)


def shaping_objective(logits_meta, naive_inits, config: ShapingConfig, game: Game):
    """``mean_b (1/(M+1)) sum_m J_X(phi_X, phi_Y_m^b)`` for a batch ``naive_inits`` (B, 5)."""

    def one(y0):
        ys = unroll_naive(logits_meta, y0, config, game)
        return jnp.mean(own_payoff(logits_meta, ys, game, config.objective))

    return jnp.mean(jax.vmap(one)(naive_inits))


def shaping_gradient(logits_meta, naive_inits, config: ShapingConfig, game: Game):
    """Total derivative of :func:`shaping_objective` (through the unrolled naive updates)."""
    return jax.grad(shaping_objective)(logits_meta, naive_inits, config, game)


def partial_gradient(logits_meta, logits_other_meta, config: ShapingConfig, game: Game):
    """Against another aware agent: ``dJ_X/dphi_X`` with the co-player held fixed."""
    return naive_gradient(logits_meta, jax.lax.stop_gradient(logits_other_meta), game, config.objective)


def make_optimizer(config: ShapingConfig) -> optax.GradientTransformation:
    """The meta optimizer (minimizes, so updates are fed the negated ascent direction)."""
    return {"adam": optax.adam, "adamw": optax.adamw, "sgd": optax.sgd}[config.optimizer](config.meta_lr)


def initial_meta_logits(key, config: ShapingConfig, shape=()):
    """Random N(0, s^2) logits, or COALA's near-pure defection (every entry at ``defect_prob``)."""
    if config.meta_init == "defect":
        d = config.defect_prob
        return jnp.full(tuple(shape) + (5,), float(np.log(d) - np.log1p(-d)))
    return random_logits(key, shape, config.meta_init_std)


class NaiveEvaluation(NamedTuple):
    """A fixed aware policy against fresh naive learners: per-round payoffs after each naive step."""

    meta: jnp.ndarray  # (..., M+1) mean over the naive batch
    naive: jnp.ndarray  # (..., M+1)
    naive_final_strategy: jnp.ndarray  # (..., B, 5) the naive learners after M steps


def evaluate_against_naive(logits_meta, key, config: ShapingConfig, game: Game | None = None, batch: int = 64):
    """Play a fixed aware policy (any leading axes) against ``batch`` fresh naive learners."""
    game = resolve(game)
    logits_meta = as_logits(logits_meta, "logits_meta")
    y0 = random_logits(key, (batch,), config.naive_init_std)
    out = _evaluate(logits_meta.reshape(-1, 5), y0, config, game)
    return NaiveEvaluation(*(a.reshape(logits_meta.shape[:-1] + a.shape[1:]) for a in out))


@functools.partial(jax.jit, static_argnames=("config", "game"))
def _evaluate(metas, y0, config, game):
    def one(x):
        ys = jax.vmap(lambda y: unroll_naive(x, y, config, game))(y0)  # (B, M+1, 5)
        px, py = per_round(x, ys, game, config.objective)
        return NaiveEvaluation(px.mean(0), py.mean(0), policy(ys[:, -1]))

    return jax.vmap(one)(metas)


class ShapingRun(NamedTuple):
    """Training record of aware agents (leading axis: seeds)."""

    strategy: jnp.ndarray  # (..., n_points, 5) the aware policy sigma(phi_X)
    meta_payoff: jnp.ndarray  # (..., n_points) per-round, vs the step's naive batch, after M steps
    naive_payoff: jnp.ndarray  # (..., n_points)
    final_logits: jnp.ndarray  # (..., 5)


@functools.partial(jax.jit, static_argnames=("config", "game"))
def _train_shaping(key, init, config: ShapingConfig, game: Game):
    opt = make_optimizer(config)
    n_points = config.meta_steps // config.record_every

    def metrics(x, y0):
        ys = jax.vmap(lambda y: unroll_naive(x, y, config, game)[-1])(y0)
        px, py = per_round(x, ys, game, config.objective)
        return policy(x), px.mean(), py.mean()

    def inner(carry, key):
        x, state = carry
        y0 = random_logits(key, (config.naive_batch,), config.naive_init_std)
        g = shaping_gradient(x, y0, config, game)
        upd, state = opt.update(-g, state, x)
        return (optax.apply_updates(x, upd), state), None

    def outer(carry, key):
        keys = jax.random.split(key, config.record_every + 1)
        carry, _ = jax.lax.scan(inner, carry, keys[:-1])
        y0 = random_logits(keys[-1], (config.naive_batch,), config.naive_init_std)
        return carry, metrics(carry[0], y0)

    k0, k1 = jax.random.split(key)
    (xf, _), rec = jax.lax.scan(outer, (init, opt.init(init)), jax.random.split(k1, n_points))
    first = metrics(init, random_logits(k0, (config.naive_batch,), config.naive_init_std))
    rec = [jnp.concatenate([f[None], r], 0) for f, r in zip(first, rec)]
    return ShapingRun(*rec, xf)


def train_shaping(key: jax.Array, config: ShapingConfig | None = None, game: Game | None = None,
                  init_logits=None) -> ShapingRun:
    """Train ``config.n_seeds`` aware agents (vmapped over seeds) against naive learners.

    ``init_logits`` (n_seeds, 5) overrides ``config.meta_init``.
    """
    config = config or ShapingConfig()
    game = resolve(game)
    k_init, k_train = jax.random.split(key)
    keys = jax.random.split(k_train, config.n_seeds)
    if init_logits is None:
        init = initial_meta_logits(k_init, config, (config.n_seeds,))
    else:
        init = jnp.broadcast_to(as_logits(init_logits, "init_logits"), (config.n_seeds, 5))
    return jax.vmap(lambda k, x: _train_shaping(k, x, config, game))(keys, init)


# -- mixed groups ------------------------------------------------------------------------------
class GroupRun(NamedTuple):
    """Training record of a group of aware agents (leading axis: seeds)."""

    strategy: jnp.ndarray  # (..., n_points, n_meta, 5)
    aware_payoff: jnp.ndarray  # (..., n_points) mean per-round payoff of aware vs aware pairs
    final_logits: jnp.ndarray  # (..., n_meta, 5)


def _pair_payoffs(xs, game, objective):
    """Mean per-round payoff over ordered pairs i != j of a group's policies (n, 5)."""
    n = xs.shape[0]
    px, _ = per_round(xs[:, None], xs[None, :], game, objective)
    return (px.sum() - jnp.trace(px)) / (n * (n - 1))


@functools.partial(jax.jit, static_argnames=("config", "game"))
def _train_group(key, init, config: MixedGroupConfig, game: Game):
    sc, p, n = config.shaping, config.p_naive, config.n_meta
    opt = make_optimizer(sc)
    n_points = config.steps // config.record_every
    others = jnp.array([[j for j in range(n) if j != i] for i in range(n)])  # (n, n-1)

    def aware_grads(xs):
        """g[i] = mean over j != i of the partial gradient of agent i against agent j."""
        g = jax.vmap(lambda xi: jax.vmap(lambda xj: partial_gradient(xi, xj, sc, game))(xs))(xs)  # (n, n, 5)
        return jax.vmap(lambda gi, oi: gi[oi])(g, others)  # (n, n-1, 5)

    def naive_grads(xs, key):
        y0 = random_logits(key, (n, sc.naive_batch), sc.naive_init_std)
        return jax.vmap(lambda x, y: shaping_gradient(x, y, sc, game))(xs, y0)

    def inner(carry, key):
        xs, state = carry
        k_naive, k_coin, k_pick = jax.random.split(key, 3)
        if config.mixture == "expected":
            g = 0.0
            if p > 0:
                g = g + p * naive_grads(xs, k_naive)
            if p < 1:
                g = g + (1 - p) * aware_grads(xs).mean(1)
        else:
            ga = aware_grads(xs)
            pick = jax.random.randint(k_pick, (n,), 0, n - 1)
            ga = jnp.take_along_axis(ga, pick[:, None, None], axis=1)[:, 0]
            if p > 0:
                coin = jax.random.bernoulli(k_coin, p, (n,))
                g = jnp.where(coin[:, None], naive_grads(xs, k_naive), ga)
            else:
                g = ga
        upd, state = opt.update(-g, state, xs)
        return (optax.apply_updates(xs, upd), state), None

    def outer(carry, key):
        carry, _ = jax.lax.scan(inner, carry, jax.random.split(key, config.record_every))
        return carry, (policy(carry[0]), _pair_payoffs(carry[0], game, sc.objective))

    (xf, _), rec = jax.lax.scan(outer, (init, opt.init(init)), jax.random.split(key, n_points))
    first = (policy(init), _pair_payoffs(init, game, sc.objective))
    rec = [jnp.concatenate([f[None], r], 0) for f, r in zip(first, rec)]
    return GroupRun(*rec, xf)


def train_mixed_group(key: jax.Array, config: MixedGroupConfig | None = None, game: Game | None = None,
                      init_logits=None) -> GroupRun:
    """Train ``config.n_seeds`` groups of ``n_meta`` aware agents (vmapped over seeds).

    Initial logits come from ``config.shaping.meta_init`` unless ``init_logits`` (n_seeds, n_meta, 5)
    is given (e.g. previously trained extorters).
    """
    config = config or MixedGroupConfig()
    game = resolve(game)
    k_init, k_train = jax.random.split(key)
    shape = (config.n_seeds, config.n_meta)
    if init_logits is None:
        init = initial_meta_logits(k_init, config.shaping, shape)
    else:
        init = jnp.broadcast_to(as_logits(init_logits, "init_logits"), shape + (5,))
    keys = jax.random.split(k_train, config.n_seeds)
    return jax.vmap(lambda k, x: _train_group(k, x, config, game))(keys, init)
