"""Monte Carlo play against the exact Markov-chain payoffs, and the donation-game identities."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_game, random_pd

from ismarl import analytic, games, strategies
from ismarl.sim import simulate

IPD = games.ipd()
named = strategies.named
N_EPISODES = 4096


def mean_and_se(per_episode):
    """Mean over episodes and its standard error, from the per-episode spread."""
    per_episode = np.asarray(per_episode, dtype=np.float64)
    return per_episode.mean(0), per_episode.std(0, ddof=1) / np.sqrt(per_episode.shape[0])


def test_shapes_and_action_values():
    actions, rewards = simulate.play(named("random"), named("random"), IPD, 7, 3, jax.random.key(0))
    assert actions.shape == rewards.shape == (3, 7, 2)
    assert set(np.unique(np.asarray(actions))) <= {0, 1}


@pytest.mark.parametrize(
    "x, y, first_rounds",
    [
        ("tft", "alld", [[0, 1], [1, 1], [1, 1]]),
        ("tft", "stft", [[0, 1], [1, 0], [0, 1]]),
        ("wsls", "alld", [[0, 1], [1, 1], [0, 1]]),
        ("alternator", "tft", [[0, 0], [1, 0], [0, 1]]),
    ],
)
def test_deterministic_pairs_play_exact_sequences(x, y, first_rounds):
    actions, _ = simulate.play(named(x), named(y), IPD, 3, 4, jax.random.key(1))
    assert np.all(np.asarray(actions) == np.array(first_rounds))


@pytest.mark.parametrize("x, y", [("tft", "tft"), ("alld", "allc"), ("tft", "alld")])
def test_deterministic_pairs_match_exact_payoffs(x, y):
    _, rewards = simulate.play(named(x), named(y), IPD, 100, 2, jax.random.key(2))
    exact = analytic.expected_payoffs(named(x), named(y), IPD, horizon=100)
    np.testing.assert_allclose(np.asarray(rewards).mean(1), np.broadcast_to(np.array(exact), (2, 2)), atol=1e-6)


def test_random_pairs_in_random_games_match_exact_payoffs():
    """12 random pairs, each in its own random game (a bimatrix or a prisoner's dilemma): the Monte
    Carlo per-round average is within 4 standard errors of the exact T-round average."""
    rng = np.random.default_rng(123)
    keys = jax.random.split(jax.random.key(3), 12)
    for i, key in enumerate(keys):
        game = random_game(rng) if i % 2 else random_pd(rng)
        k_strat, k_play = jax.random.split(key)
        p, q = strategies.sample_uniform(k_strat, (2,))
        _, rewards = simulate.play(p, q, game, 20, N_EPISODES, k_play)
        mean, se = mean_and_se(np.asarray(rewards).mean(1))
        exact = np.array(analytic.expected_payoffs(p, q, game, horizon=20))
        assert np.all(np.abs(mean - exact) < 4 * se), (i, game, mean, exact, se)


def test_per_episode_strategies_match_exact_payoffs():
    """One strategy pair per episode: the batch mean matches the mean of the exact values."""
    k1, k2, k3 = jax.random.split(jax.random.key(4), 3)
    p = strategies.sample_uniform(k1, (N_EPISODES,))
    q = strategies.sample_uniform(k2, (N_EPISODES,))
    _, rewards = simulate.play(p, q, IPD, 20, N_EPISODES, k3)
    exact = np.array(analytic.expected_payoffs(p, q, IPD, horizon=20)).T  # (n, 2)
    # Per-episode residuals around each episode's own exact value give the standard error.
    mean, se = mean_and_se(np.asarray(rewards).mean(1) - exact)
    assert np.all(np.abs(mean) < 4 * se)


def test_per_round_cooperation_matches_the_chain():
    """Round by round (first 10 rounds): the fraction of C matches the exact cooperation rate."""
    p, q = strategies.sample_uniform(jax.random.key(5), (2,))
    actions, _ = simulate.play(p, q, IPD, 10, N_EPISODES, jax.random.key(6))
    coop = 1.0 - np.asarray(actions, dtype=np.float64)  # (n, T, 2)
    cx, cy = (np.asarray(c) for c in analytic.cooperation_rates(p, q, 10))
    exact = np.stack([cx, cy], -1)
    mean, se = mean_and_se(coop)
    se = np.maximum(se, np.sqrt(exact * (1 - exact) / N_EPISODES))  # se is 0 where every episode agrees
    assert np.all(np.abs(mean - exact) <= 4 * se + 1e-12)


def test_discounted_closed_form_matches_monte_carlo():
    """sum_t g^t r_t over a horizon where g^T is negligible, normalized by (1 - g), against the
    closed form (1-g) d0 (I - gM)^-1 r, within 3 standard errors."""
    gamma, horizon = 0.9, 200  # 0.9**200 ~ 7e-10
    rng = np.random.default_rng(9)
    for seed in range(3):
        game = random_pd(rng)
        k1, k2 = jax.random.split(jax.random.key(10 + seed))
        p, q = strategies.sample_uniform(k1, (2,))
        _, rewards = simulate.play(p, q, game, horizon, N_EPISODES, k2)
        weights = (1 - gamma) * gamma ** np.arange(horizon)
        mean, se = mean_and_se(np.einsum("t,ntk->nk", weights, np.asarray(rewards, np.float64)))
        exact = np.array(analytic.expected_payoffs(p, q, game, discount=gamma))
        assert np.all(np.abs(mean - exact) < 3 * se), (seed, mean, exact, se)


def test_alld_against_random_tabular_agents():
    """ALLD vs a fresh U(0,1)^5 agent per episode: about 1.00 / -0.50 per round, coop about 0.5."""
    k1, k2 = jax.random.split(jax.random.key(7))
    q = strategies.sample_uniform(k1, (N_EPISODES,))
    actions, rewards = simulate.play(named("alld"), q, IPD, 100, N_EPISODES, k2)
    (rx, ry), (sx, sy) = mean_and_se(np.asarray(rewards).mean(1))
    (cy,), (scy,) = mean_and_se(1.0 - np.asarray(actions)[..., 1].mean(1, keepdims=True))
    assert abs(rx - 1.0) < 4 * sx and abs(ry + 0.5) < 4 * sy and abs(cy - 0.5) < 4 * scy
    assert np.all(np.asarray(actions)[..., 0] == 1)


def test_donation_identity_round_by_round():
    """On the paper's IPD, every simulated round has r_i = 2 c_j - c_i and r_1 + r_2 = c_1 + c_2."""
    k1, k2 = jax.random.split(jax.random.key(8))
    p = strategies.sample_uniform(k1, (256,))
    actions, rewards = simulate.play(p, named("tft"), IPD, 100, 256, k2)
    c = 1 - np.asarray(actions)
    r = np.asarray(rewards)
    assert np.array_equal(r[..., 0], 2 * c[..., 1] - c[..., 0])
    assert np.array_equal(r[..., 1], 2 * c[..., 0] - c[..., 1])
    assert np.array_equal(r.sum(-1), c.sum(-1))


def test_same_key_same_play_and_jit_free_call_path():
    key = jax.random.key(11)
    a1, _ = simulate.play(named("random"), named("gtft"), IPD, 50, 64, key)
    a2, _ = simulate.play(jnp.asarray(named("random")), np.asarray(named("gtft")), IPD, 50, 64, key)
    assert np.array_equal(np.asarray(a1), np.asarray(a2))


@pytest.mark.parametrize("shape", [(100, 2, 256), (3, 2, 7), (5,)], ids=str)
@pytest.mark.parametrize(
    "key",
    [jax.random.key(0), jax.random.key(2**31 + 5), jax.random.PRNGKey(7), jax.random.key(3, impl="rbg")],
    ids=["typed", "typed-large-seed", "raw-uint32", "rbg"],
)
def test_random_bits_are_those_of_jax_random(key, shape):
    """The written-out Threefry gives jax.random.bits bit for bit (so play's episodes for a key are
    those of play_match); other key types go to jax.random.bits itself."""
    expected = np.asarray(jax.random.bits(key, shape, jnp.uint32))
    bits = np.asarray(jax.jit(simulate.random_bits, static_argnums=1)(key, shape))
    assert bits.dtype == np.uint32 and np.array_equal(bits, expected)
    assert len(np.unique(bits)) > 0.99 * bits.size  # not a constant or a short cycle


def test_random_bits_follow_the_threefry_setting():
    key = jax.random.key(4)
    with jax.threefry_partitionable(False):
        expected = np.asarray(jax.random.bits(key, (4, 9), jnp.uint32))
        bits = np.asarray(simulate.random_bits(key, (4, 9)))
    assert np.array_equal(bits, expected)
    assert not np.array_equal(bits, np.asarray(jax.random.bits(key, (4, 9), jnp.uint32)))


def test_probability_extremes_are_exact():
    """Probabilities 0 and 1 are never violated, even over many draws."""
    actions, _ = simulate.play(named("allc"), named("alld"), IPD, 100, 1024, jax.random.key(12))
    assert np.all(np.asarray(actions)[..., 0] == 0) and np.all(np.asarray(actions)[..., 1] == 1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(p=np.ones(4)), ValueError, "p must have a trailing axis of length 5"),
        (dict(q=np.ones((3, 5))), ValueError, r"q must have shape \(5,\) or \(8, 5\)"),
        (dict(p=np.ones((2, 8, 5))), ValueError, r"p must have shape \(5,\) or \(8, 5\)"),
        (dict(p=np.full(5, 1.5)), ValueError, r"p must hold probabilities in \[0, 1\]"),
        (dict(q=np.array([np.nan, 1, 0, 1, 0])), ValueError, "q contains NaN"),
        (dict(horizon=0), ValueError, "horizon must be a positive integer"),
        (dict(horizon=10.0), TypeError, "horizon must be a positive integer"),
        (dict(n_episodes=-1), ValueError, "n_episodes must be a positive integer"),
        (dict(game="ipd"), TypeError, "expected a MatrixGame or BimatrixGame"),
    ],
)
def test_play_rejects_bad_input(kwargs, error, match):
    args = dict(p=named("tft"), q=named("alld"), game=IPD, horizon=5, n_episodes=8, key=jax.random.key(0))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        simulate.play(**args)
