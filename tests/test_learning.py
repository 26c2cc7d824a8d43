"""Learning dynamics on exact payoffs: gradients against finite differences, Press–Dyson outcome of a
naive learner against an extortioner, determinism, and clear errors on bad configurations."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl.games import ipd
from ismarl.strategies import zd_extortion
from ismarl.learning import (
    LolaConfig, MixedGroupConfig, NaiveConfig, Objective, ShapingConfig, extortion_report, lola_first_order_gradient,
    lola_gradient, lookahead_objective, naive_vs_fixed, naive_vs_naive, random_logits, shaping_gradient,
    shaping_objective, train_mixed_group, train_shaping,
)

GAME = ipd()


def _fd_grad(f, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    f = jax.jit(f)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (float(f(jnp.asarray(x + e))) - float(f(jnp.asarray(x - e)))) / (2 * h)
    return g


@pytest.mark.parametrize("lookahead", [1, 3])
def test_lola_gradient_matches_finite_differences(lookahead):
    with jax.enable_x64(True):
        obj = Objective(discount=0.95)
        x = jnp.asarray(np.random.default_rng(0).normal(size=5))
        y = jnp.asarray(np.random.default_rng(1).normal(size=5))
        g = lola_gradient(x, y, GAME, obj, lookahead, 2.0)
        fd = _fd_grad(lambda z: lookahead_objective(z, y, GAME, obj, lookahead, 2.0), x)
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-8)


def test_lola_first_order_agrees_for_small_step():
    """Exact look-ahead = grad_X J_X(x, y + D) + shaping term; the shaping term matches Foerster et al.'s
    first-order term eta (grad_Y J_X)^T grad_X grad_Y J_Y up to O(eta^2)."""
    from ismarl.learning import co_player_gradient, naive_gradient

    with jax.enable_x64(True):
        obj = Objective(discount=0.9)
        x = jnp.asarray(np.random.default_rng(2).normal(size=5))
        y = jnp.asarray(np.random.default_rng(3).normal(size=5))
        eta = 1e-3
        shifted = y + eta * co_player_gradient(x, y, GAME, obj)
        exact_term = np.asarray(lola_gradient(x, y, GAME, obj, 1, eta) - naive_gradient(x, shifted, GAME, obj))
        first_term = np.asarray(lola_first_order_gradient(x, y, GAME, obj, eta) - naive_gradient(x, y, GAME, obj))
        np.testing.assert_allclose(exact_term, first_term, rtol=1e-2, atol=1e-9)


def test_shaping_gradient_matches_finite_differences():
    with jax.enable_x64(True):
        cfg = ShapingConfig(naive_steps=5, naive_lr=3.0, objective=Objective(discount=0.9))
        x = jnp.asarray(np.random.default_rng(4).normal(size=5))
        ys = jnp.asarray(np.random.default_rng(5).normal(size=(3, 5)))
        g = shaping_gradient(x, ys, cfg, GAME)
        fd = _fd_grad(lambda z: shaping_objective(z, ys, cfg, GAME), x)
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-8)


def test_naive_learner_is_extorted_at_press_dyson_payoffs():
    starts = random_logits(jax.random.PRNGKey(0), (3,))
    tr = naive_vs_fixed(starts, zd_extortion(GAME, chi=3.0), NaiveConfig(steps=2000, record_every=500))
    np.testing.assert_allclose(np.asarray(tr.payoff_y[:, -1]), 9 / 7, atol=0.01)
    np.testing.assert_allclose(np.asarray(tr.payoff_x[:, -1]), 3 / 7, atol=0.01)
    assert np.all(np.asarray(tr.x[:, -1, 1:3]) > 0.99)  # cooperates after CC and CD (visited states)


def test_naive_pairs_mostly_defect_and_batching_is_consistent():
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    x, y = random_logits(k1, (64,)), random_logits(k2, (64,))
    cfg = NaiveConfig(steps=500, record_every=50)
    tr = naive_vs_naive(x, y, cfg)
    assert np.mean((tr.payoff_x[:, -1] < 0.1) & (tr.payoff_y[:, -1] < 0.1)) > 0.8
    one = naive_vs_naive(x[3], y[3], cfg)
    np.testing.assert_allclose(np.asarray(one.payoff_x), np.asarray(tr.payoff_x[3]), atol=1e-5)
    alt = naive_vs_naive(x[:4], y[:4], dataclasses.replace(cfg, alternating=True))
    assert alt.x.shape == (4, 11, 5)  # 500 steps recorded every 50, plus the start
    # the record starts at the initial strategies; alternating updates take another path to mutual defection
    np.testing.assert_allclose(np.asarray(alt.x[:, 0]), np.asarray(jax.nn.sigmoid(x[:4])), rtol=1e-6)
    assert not np.allclose(np.asarray(alt.x[:, -1]), np.asarray(tr.x[:4, -1]), rtol=0, atol=1e-6)
    assert np.all(np.asarray(alt.payoff_x[:, -1]) < 0.1) and np.all(np.asarray(alt.payoff_y[:, -1]) < 0.1)


def test_shaping_learns_extortion_and_is_deterministic():
    cfg = ShapingConfig(meta_steps=100, n_seeds=2, naive_batch=2, naive_steps=10, record_every=50)
    a = train_shaping(jax.random.PRNGKey(0), cfg)
    b = train_shaping(jax.random.PRNGKey(0), cfg)
    np.testing.assert_array_equal(np.asarray(a.final_logits), np.asarray(b.final_logits))
    assert np.all(np.asarray(a.meta_payoff[:, -1]) > 1.0) and np.all(np.asarray(a.naive_payoff[:, -1]) < 0.6)
    rep = extortion_report(np.asarray(a.strategy[:, -1]))
    assert np.all(rep.valid) and np.all(rep.chi > 2)


def test_mixed_group_runs_and_is_deterministic():
    cfg = MixedGroupConfig(shaping=ShapingConfig(naive_batch=2, naive_steps=3), n_meta=2, steps=20,
                           n_seeds=2, record_every=10, mixture="sampled")
    a = train_mixed_group(jax.random.PRNGKey(0), cfg)
    b = train_mixed_group(jax.random.PRNGKey(0), cfg)
    assert a.strategy.shape == (2, 3, 2, 5) and a.aware_payoff.shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(a.final_logits), np.asarray(b.final_logits))


@pytest.mark.parametrize("make, error, match", [
    (lambda: NaiveConfig(lr=-1.0), ValueError, "lr must be positive, got -1.0"),
    (lambda: NaiveConfig(steps=100, record_every=30), ValueError, r"steps \(100\) must be a multiple of record_every \(30\)"),
    (lambda: NaiveConfig(alternating="yes"), TypeError, "alternating must be True or False, got 'yes'"),
    (lambda: LolaConfig(lookahead=-1), ValueError, "lookahead must be at least 0, got -1"),
    (lambda: ShapingConfig(optimizer="rmsprop"), ValueError, "optimizer must be one of .*got 'rmsprop'"),
    (lambda: ShapingConfig(meta_init="cooperate"), ValueError, "meta_init must be 'random' or 'defect', got 'cooperate'"),
    (lambda: ShapingConfig(defect_prob=0.9), ValueError, r"defect_prob must lie in \(0, 0.5\), got 0.9"),
    (lambda: MixedGroupConfig(p_naive=1.5), ValueError, r"p_naive must be a probability in \[0, 1\], got 1.5"),
    (lambda: MixedGroupConfig(n_meta=1), ValueError, "n_meta must be at least 2, got 1"),
    (lambda: MixedGroupConfig(mixture="average"), ValueError, "mixture must be 'expected' or 'sampled', got 'average'"),
    (lambda: Objective(discount=None, horizon=None), ValueError, "Objective needs a discount in .*a horizon, or both"),
    (lambda: Objective(discount=1.0), ValueError, r"discount must lie in \(0, 1\), got 1.0"),
    (lambda: NaiveConfig.preset("huge"), ValueError, "unknown preset 'huge'"),
])
def test_bad_configs_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"logits_x must be logits with a trailing axis of length 5, got shape \(4,\)"):
        naive_vs_naive(jnp.zeros(4), jnp.zeros(5))
    with pytest.raises(ValueError, match="logits_x contains NaN or infinite logits"):
        naive_vs_naive(jnp.full(5, jnp.nan), jnp.zeros(5))
    with pytest.raises(ValueError, match=r"strategy_y must hold probabilities in \[0, 1\], got values in \[1.5, 1.5\]"):
        naive_vs_fixed(jnp.zeros(5), jnp.full(5, 1.5))


def test_presets_differ_only_in_size():
    fast, cpu = ShapingConfig.preset("fast"), ShapingConfig.preset("cpu")
    assert (fast.naive_lr, fast.naive_steps, fast.meta_lr, fast.objective) == (cpu.naive_lr, cpu.naive_steps, cpu.meta_lr, cpu.objective)
    assert Objective(discount=0.99, normalized=False).scale == pytest.approx(100.0)
