"""Exact payoffs from the Markov chain: named pairs, long-run limits, Press–Dyson, discounting,
gradients and input checks."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ergodic, ergodic_strategies, float64, random_pd, strategy_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from ismarl import analytic, games, strategies

IPD = games.ipd()
named = strategies.named


def payoffs(p, q, game=IPD, **kw):
    x, y = analytic.expected_payoffs(p, q, game, **kw)
    return float(x), float(y)


# -- named pairs over the paper's horizon -------------------------------------------------------
@pytest.mark.parametrize(
    "x, y, expected",
    [
        ("tft", "tft", (1.0, 1.0)),  # cooperation throughout
        ("alld", "allc", (2.0, -1.0)),  # T and S every round
        ("tft", "alld", (-0.01, 0.02)),  # TFT is exploited once (S, T), then DD: (S + 99P)/100
    ],
)
def test_named_pairs_over_100_rounds(x, y, expected):
    assert payoffs(named(x), named(y), horizon=100) == pytest.approx(expected, abs=1e-6)


def test_alld_against_random_tabular_agents():
    """ALLD vs U(0,1)^5: the tabular agent cooperates with probability ~1/2 (its first move and its
    reply to DD are both uniform), so ALLD gets ~T/2 = 1 and the tabular agent ~S/2 = -1/2."""
    q = strategies.sample_uniform(jax.random.key(0), (20_000,))
    x, y = analytic.expected_payoffs(named("alld"), q, IPD, horizon=100)
    cx, cy = analytic.cooperation_rates(named("alld"), q, 100)
    n = q.shape[0]
    for values, mean in ((x, 1.0), (y, -0.5), (cy.mean(-1), 0.5)):
        values = np.asarray(values)
        assert abs(values.mean() - mean) < 4 * values.std() / np.sqrt(n)
    assert float(jnp.max(cx)) == 0.0


def test_tft_against_alld_round_by_round():
    cx, cy = analytic.cooperation_rates(named("tft"), named("alld"), 5)
    assert np.asarray(cx).tolist() == [1, 0, 0, 0, 0] and np.asarray(cy).tolist() == [0] * 5


# -- long-run payoffs for every chain -----------------------------------------------------------
@pytest.mark.parametrize(
    "x, y, expected",
    [
        ("tft", "tft", (1.0, 1.0)),  # reducible: CC is absorbing
        ("allc", "allc", (1.0, 1.0)),
        ("alld", "alld", (0.0, 0.0)),
        ("tft", "alld", (0.0, 0.0)),  # one round CD, then DD for ever
        ("wsls", "wsls", (1.0, 1.0)),  # CC absorbing, every other state leads to it
        ("grim", "stft", (0.0, 0.0)),  # STFT opens with D; GRIM retaliates forever
        ("tft", "stft", (0.5, 0.5)),  # periodic: CD, DC, CD, ... averages (S + T)/2 each
        ("wsls", "alld", (-0.5, 1.0)),  # period 2: WSLS alternates C (S) and D (P)
        ("alternator", "allc", (1.5, 0.0)),  # period 2: CC, DC, ...
    ],
)
def test_long_run_payoffs_are_defined_for_reducible_and_periodic_chains(x, y, expected):
    assert payoffs(named(x), named(y)) == pytest.approx(expected, abs=1e-6)


def test_long_run_is_the_limit_of_long_horizons_for_a_periodic_chain():
    """TFT vs STFT alternates; the T-round average tends to the long-run value 0.5."""
    lr = payoffs(named("tft"), named("stft"))
    assert payoffs(named("tft"), named("stft"), horizon=1000) == pytest.approx(lr, abs=1e-6)


TFT_HALF = [0.5, 1, 0, 1, 0]  # TFT that opens with C with probability 1/2


@pytest.mark.parametrize(
    "p, q, expected",
    [
        (TFT_HALF, "stft", (0.25, 0.25)),  # X opens C: the CD/DC alternation, (S + T)/2; X opens D: DD
        (TFT_HALF, "tft", (0.75, 0.75)),  # CC (R) or the alternation, each with probability 1/2
        (TFT_HALF, TFT_HALF, (0.5, 0.5)),  # CC, DD and the alternation w.p. 1/4, 1/4, 1/2
    ],
)
def test_long_run_weighs_closed_classes_by_their_absorption_probabilities(p, q, expected):
    p, q = (named(x) if isinstance(x, str) else jnp.array(x, jnp.float32) for x in (p, q))
    assert payoffs(p, q) == pytest.approx(expected, abs=1e-6)


def test_long_run_of_a_chain_with_several_closed_classes_is_the_limit_of_long_horizons():
    """The T-round average approaches the absorption-weighted long-run value."""
    p, q = jnp.array(TFT_HALF, jnp.float32), named("stft")
    assert payoffs(p, q, horizon=4000) == pytest.approx(payoffs(p, q), abs=1e-3)


def stationary_by_solve(p, q):
    """Reference: the stationary distribution from one batched ``numpy.linalg.solve`` of
    ``d (M - I) = 0`` with ``sum(d) = 1`` replacing the last equation (ergodic chains only)."""
    with float64():
        _, M = analytic.markov_chain(np.asarray(p, np.float64), np.asarray(q, np.float64))
    A = np.swapaxes(np.asarray(M), -1, -2) - np.eye(4)
    A[..., -1, :] = 1.0
    b = np.broadcast_to(np.eye(4)[-1], A.shape[:-1])[..., None]
    return np.linalg.solve(A, b)[..., 0]


def test_long_run_equals_a_batched_stationary_solve():
    """U(0,1) pairs are ergodic almost surely; the closed form equals the solve to round-off in
    float64, and to float32 resolution in float32."""
    k1, k2 = jax.random.split(jax.random.key(13))
    p, q = strategies.sample_uniform(k1, (10_000,)), strategies.sample_uniform(k2, (10_000,))
    reference = stationary_by_solve(p, q)
    with float64():
        d64 = np.asarray(analytic.long_run_distribution(np.asarray(p, np.float64), np.asarray(q, np.float64)))
    np.testing.assert_allclose(d64, reference, rtol=1e-10, atol=1e-13)
    d32 = np.asarray(analytic.long_run_distribution(p, q))
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, reference, atol=1e-6)


def test_long_run_of_a_nearly_reducible_chain_keeps_its_precision():
    """TFT against TFT with tiny errors: ergodic, but close to three closed classes. The float32
    closed form still matches the float64 solve of the same (float32) strategies to float32
    relative precision."""
    noise = np.array([0.0, -1, 1, -1, 1]) * 1e-4  # each move is the wrong one with probability 1e-4
    p = np.clip(np.asarray(named("tft")) + noise, 0, 1).astype(np.float32)
    reference = stationary_by_solve(p, p)
    d32 = np.asarray(analytic.long_run_distribution(p, p))
    np.testing.assert_allclose(d32, reference, rtol=1e-6)


def abel_test_pairs():
    """Every pair of memory-1 strategies with pure replies and an opening of 0, 1/2 or 1 (48 x 48:
    absorbing, periodic and several closed classes weighed by the opening), and 2000 random pairs
    with about half their entries set to exactly 0 or 1 and the rest in [0.05, 0.95] (so that every
    chain mixes fast enough for the discount below)."""
    replies = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    pure = np.array([[p0, *r] for p0 in (0.0, 0.5, 1.0) for r in replies])
    p, q = np.repeat(pure, len(pure), axis=0), np.tile(pure, (len(pure), 1))
    rng = np.random.default_rng(14)
    mixed = rng.uniform(0.05, 0.95, size=(2, 2000, 5))
    snap = rng.uniform(size=mixed.shape)
    mixed = np.where(snap < 0.25, 0.0, np.where(snap > 0.75, 1.0, mixed))
    return np.concatenate([p, mixed[0]]), np.concatenate([q, mixed[1]])


def test_long_run_is_the_limit_of_discounted_values():
    """Every chain, reducible and periodic ones included: the Cesàro limit equals the Abel limit
    of the normalized discounted values (1-g) d0 (I - gM)^-1 r as g -> 1, here g = 1 - 1e-9."""
    p, q = abel_test_pairs()
    with float64():
        lr = np.array(analytic.expected_payoffs(p, q, IPD))
        abel = np.array(analytic.expected_payoffs(p, q, IPD, discount=1 - 1e-9))
    np.testing.assert_allclose(lr, abel, atol=1e-5)


@given(p=strategy_vectors, q=strategy_vectors)
def test_long_run_distribution_is_invariant(p, q):
    """Any pair, deterministic and reducible ones included: the Cesàro limit d is a probability
    vector with d M = d."""
    with float64():
        d = np.asarray(analytic.long_run_distribution(p, q))
        _, M = analytic.markov_chain(p, q)
    assert np.all(d >= -1e-12)
    np.testing.assert_allclose(d.sum(), 1.0, atol=1e-12)
    np.testing.assert_allclose(d @ np.asarray(M), d, atol=1e-10)


@settings(max_examples=10)
@given(p=st.lists(st.floats(0.1, 0.9), min_size=5, max_size=5), q=st.lists(st.floats(0.1, 0.9), min_size=5, max_size=5))
def test_long_run_is_the_limit_of_long_horizons(p, q):
    """Doeblin's bound: with delta = sum_j min_i M[i, j], ||d0 M^t - d|| <= (1 - delta)^t, so the
    T-round average is within 2 max|r| / (delta T) of the long-run payoff."""
    horizon = 2000
    with float64():
        lr = np.array(analytic.expected_payoffs(np.array(p), np.array(q), IPD))
        finite = np.array(analytic.expected_payoffs(np.array(p), np.array(q), IPD, horizon=horizon))
        _, M = analytic.markov_chain(np.array(p), np.array(q))
    delta = np.asarray(M).min(axis=0).sum()
    np.testing.assert_allclose(lr, finite, atol=2 * np.abs(IPD.payoffs).max() / (delta * horizon))


# -- Press–Dyson ----------------------------------------------------------------------------------
PD_GAMES = [IPD, games.classic_pd(), random_pd(np.random.default_rng(11))]


@pytest.mark.parametrize("game", PD_GAMES, ids=lambda g: g.name)
@pytest.mark.parametrize("chi", [2.0, 3.0, 5.0])
def test_press_dyson_relation_float32(game, chi):
    """s_X - P = chi (s_Y - P) against 200 random opponents. float32 resolves payoffs to
    ~6e-8 relative, so the bound is 1e-6 in units of the largest payoff (at least 1)."""
    q = ergodic(strategies.sample_uniform(jax.random.key(int(chi)), (200,)))
    p = strategies.zd_extortion(game, chi)
    tol = 1e-6 * max(1.0, float(np.abs(game.payoffs).max()))
    for method in (analytic.expected_payoffs, analytic.press_dyson_payoffs):
        x, y = map(np.asarray, method(p, q, game))
        assert x.dtype == np.float32
        assert np.abs((x - game.P) - chi * (y - game.P)).max() < tol, method.__name__


@pytest.mark.parametrize("game", PD_GAMES, ids=lambda g: g.name)
def test_press_dyson_relation_float64(game):
    q = ergodic(np.asarray(strategies.sample_uniform(jax.random.key(9), (200,)), np.float64))
    with float64():
        for chi in (2.0, 3.0, 5.0):
            p = strategies.zd_extortion(game, chi)
            for method in (analytic.expected_payoffs, analytic.press_dyson_payoffs):
                x, y = map(np.asarray, method(p, q, game))
                assert x.dtype == np.float64
                assert np.abs((x - game.P) - chi * (y - game.P)).max() < 1e-10, method.__name__
    assert jnp.result_type(float) == jnp.float32  # the switch did not leak out of the block


def test_extortion_relation_holds_at_finite_horizon_only_approximately():
    """The relation is a long-run statement; over T rounds the opening transient breaks it by O(1/T)."""
    p, q = strategies.zd_extortion(IPD, 3.0), named("allc")
    x, y = payoffs(p, q, horizon=100)
    assert abs(x - 3 * y) < 5 / 100


@given(p=ergodic_strategies, q=ergodic_strategies)
def test_determinant_form_equals_stationary_distribution(p, q):
    with float64():
        a = np.array(analytic.press_dyson_payoffs(p, q, games.classic_pd()))
        b = np.array(analytic.expected_payoffs(p, q, games.classic_pd()))
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_determinant_form_equals_stationary_distribution_float32_batch():
    k1, k2 = jax.random.split(jax.random.key(5))
    p, q = (ergodic(strategies.sample_uniform(k, (200,))) for k in (k1, k2))
    for game in PD_GAMES:
        a = np.array(analytic.press_dyson_payoffs(p, q, game))
        b = np.array(analytic.expected_payoffs(p, q, game))
        np.testing.assert_allclose(a, b, atol=1e-5 * max(1.0, np.abs(game.payoffs).max()))


def test_press_dyson_refuses_chains_without_a_unique_stationary_distribution():
    with pytest.raises(ValueError, match="no unique stationary distribution"):
        analytic.press_dyson_payoffs(named("tft"), named("tft"), IPD)


# -- discounting and finite horizons ------------------------------------------------------------
@settings(max_examples=10)
@given(p=strategy_vectors, q=strategy_vectors, gamma=st.floats(0.5, 0.99))
def test_discounted_closed_form_equals_its_series(p, q, gamma):
    """(1-g) d0 (I - gM)^-1 r equals the truncated series sum_t g^t d0 M^t r normalized."""
    with float64():
        closed = np.array(analytic.expected_payoffs(p, q, IPD, discount=gamma))
        horizon = 3000  # one compiled horizon for every example; gamma**3000 <= 0.99**3000 < 1e-13
        series = np.array(analytic.expected_payoffs(p, q, IPD, horizon=horizon, discount=gamma))
    np.testing.assert_allclose(closed, series, atol=1e-10)


def test_discounted_returns_are_unnormalized():
    x, y = analytic.discounted_returns(named("tft"), named("tft"), IPD, 0.9)
    assert (float(x), float(y)) == pytest.approx((10.0, 10.0), rel=1e-5)


def test_finite_horizon_is_the_mean_of_per_round_payoffs():
    p, q = strategies.sample_uniform(jax.random.key(1), (2,))
    ds = analytic.state_distributions(p, q, 37)
    rx, ry = IPD.payoff_vectors()
    assert ds.shape == (37, 4)
    np.testing.assert_allclose(np.asarray(ds).sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(payoffs(p, q, horizon=37)[0], (np.asarray(ds) @ rx).mean(), atol=1e-6)


def test_symmetry_swapping_players_swaps_payoffs():
    k1, k2 = jax.random.split(jax.random.key(2))
    p, q = strategies.sample_uniform(k1, (100,)), strategies.sample_uniform(k2, (100,))
    for kw in ({}, {"horizon": 100}, {"discount": 0.9}):
        x, y = analytic.expected_payoffs(p, q, IPD, **kw)
        y2, x2 = analytic.expected_payoffs(q, p, IPD, **kw)
        np.testing.assert_allclose(x, x2, atol=1e-5)
        np.testing.assert_allclose(y, y2, atol=1e-5)


def test_broadcasting_and_batch_shapes():
    p = strategies.sample_uniform(jax.random.key(3), (4, 1))
    q = strategies.sample_uniform(jax.random.key(4), (25,))
    x, y = analytic.expected_payoffs(p, q, IPD, horizon=100)
    assert x.shape == y.shape == (4, 25)


def test_donation_identity_in_expectation():
    """In the donation game r_X = 2 c_Y - c_X and r_X + r_Y = c_X + c_Y for the exact averages."""
    k1, k2 = jax.random.split(jax.random.key(6))
    p, q = strategies.sample_uniform(k1, (100,)), strategies.sample_uniform(k2, (100,))
    x, y = map(np.asarray, analytic.expected_payoffs(p, q, IPD, horizon=100))
    cx, cy = (np.asarray(c).mean(-1) for c in analytic.cooperation_rates(p, q, 100))
    np.testing.assert_allclose(x, 2 * cy - cx, atol=1e-5)
    np.testing.assert_allclose(y, 2 * cx - cy, atol=1e-5)
    np.testing.assert_allclose(x + y, cx + cy, atol=1e-5)


# -- differentiability --------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"horizon": 20}, {"discount": 0.9}], ids=["long_run", "horizon", "discount"])
def test_gradients_match_finite_differences(kw):
    with float64():
        p0 = ergodic(np.asarray(strategies.sample_uniform(jax.random.key(7), ()), np.float64), 0.1)
        q0 = ergodic(np.asarray(strategies.sample_uniform(jax.random.key(8), ()), np.float64), 0.1)

        def f(p):
            return analytic.expected_payoffs(p, q0, IPD, **kw)[0]

        grad = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(p0)))
        h = 1e-6
        fd = np.array([(float(f(p0 + h * e)) - float(f(p0 - h * e))) / (2 * h) for e in np.eye(5)])
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, fd, atol=1e-6)


def test_jit_and_vmap():
    p = strategies.sample_uniform(jax.random.key(9), (100,))
    f = jax.jit(lambda p, q: analytic.expected_payoffs(p, q, IPD, discount=0.95))
    x, _ = f(p, named("tft"))
    xv, _ = jax.vmap(f, in_axes=(0, None))(p, named("tft"))
    np.testing.assert_allclose(x, xv, atol=1e-6)


# -- input checks -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p, kw, error, match",
    [
        (np.ones(4), {}, ValueError, "trailing axis of length 5"),
        (np.ones((3, 6)), {}, ValueError, "trailing axis of length 5"),
        (np.array([1, 1, 0, 1.5, 0]), {}, ValueError, r"probabilities in \[0, 1\]"),
        (np.array([1, 1, 0, -0.2, 0]), {}, ValueError, r"probabilities in \[0, 1\]"),
        (np.array([1, np.nan, 0, 1, 0]), {}, ValueError, "p contains NaN or infinite values"),
        (np.array(["a"] * 5), {}, TypeError, "real numeric array"),
        (np.ones(5), {"horizon": 0}, ValueError, "horizon must be a positive integer"),
        (np.ones(5), {"horizon": 2.5}, TypeError, "horizon must be a positive integer"),
        (np.ones(5), {"discount": 1.0}, ValueError, r"discount must lie in \(0, 1\)"),
        (np.ones(5), {"discount": 0.0}, ValueError, r"discount must lie in \(0, 1\)"),
        (np.ones(5), {"discount": float("nan")}, ValueError, "discount must be finite"),
        (np.ones(5), {"discount": "0.9"}, TypeError, "discount must be a real number"),
    ],
)
def test_expected_payoffs_rejects_bad_input(p, kw, error, match):
    with pytest.raises(error, match=match):
        analytic.expected_payoffs(p, named("tft"), IPD, **kw)


def test_bad_game_and_bad_second_strategy():
    with pytest.raises(TypeError, match="expected a MatrixGame or BimatrixGame"):
        analytic.expected_payoffs(named("tft"), named("tft"), "ipd")
    with pytest.raises(ValueError, match="q must have a trailing axis"):
        analytic.expected_payoffs(named("tft"), np.ones(3), IPD)
    with pytest.raises(ValueError, match=r"q must hold probabilities"):
        analytic.press_dyson_payoffs(named("tft"), np.full(5, 2.0), IPD)


@pytest.mark.parametrize("kw", [{}, {"horizon": 100}], ids=["long_run", "horizon"])
def test_large_batches_agree_with_small_ones(kw):
    """A batch of 20,000 pairs gives the same values as the same pairs computed a few at a time
    (guards the batched kernels against layout-dependent backend problems)."""
    k1, k2 = jax.random.split(jax.random.key(12))
    p, q = strategies.sample_uniform(k1, (20_000,)), strategies.sample_uniform(k2, (20_000,))
    big = np.array(analytic.expected_payoffs(p, q, IPD, **kw))
    small = np.array(analytic.expected_payoffs(p[:100], q[:100], IPD, **kw))
    np.testing.assert_allclose(big[:, :100], small, atol=1e-6)
