"""The Bayes-optimal prediction of a memory-1 co-player's next move (ismarl.inference)."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
from conftest import float64

from ismarl import games, strategies
from ismarl.conventions import CD, DC, DD, START
from ismarl.inference import (
    bayes_log_loss,
    coplayer_observations,
    coplayer_posterior,
    coplayer_predictions,
    log_loss,
)
from ismarl.sim import simulate

C, D = 0, 1

# Six rounds, columns (learner, co-player).
EPISODE = np.array([[C, D], [C, D], [D, C], [C, D], [C, D], [C, C]])


def test_hand_worked_episode():
    # The co-player's own observation (own move first) before each round, and its move there:
    #   round 1: Start                                  -> prior mean 1/2;           it plays D
    #   round 2: after (C, D) it sees DC (own D, other C); DC unseen -> 1/2;         it plays D
    #   round 3: after (C, D) it sees DC; DC so far 0 C, 1 D -> (1+0)/(2+1) = 1/3;   it plays C
    #   round 4: after (D, C) it sees CD (the learner's DC); CD unseen -> 1/2;       it plays D
    #   round 5: after (C, D) it sees DC; DC so far 1 C, 1 D -> (1+1)/(2+2) = 1/2;   it plays D
    #   round 6: after (C, D) it sees DC; DC so far 1 C, 2 D -> (1+1)/(2+3) = 2/5;   it plays C
    expected = np.array([1 / 2, 1 / 2, 1 / 3, 1 / 2, 1 / 2, 2 / 5])
    np.testing.assert_array_equal(coplayer_observations(EPISODE), [START, DC, DC, CD, DC, DC])
    np.testing.assert_allclose(coplayer_predictions(EPISODE), expected, rtol=1e-6)
    # With a = 1/2, round 3 is (1/2 + 0)/(1 + 1) = 1/4 and round 6 is (1/2 + 1)/(1 + 3) = 3/8.
    np.testing.assert_allclose(coplayer_predictions(EPISODE, 0.5), [1 / 2, 1 / 2, 1 / 4, 1 / 2, 1 / 2, 3 / 8],
                               rtol=1e-6)
    # Log-loss: -log p where it cooperated (rounds 3 and 6), -log(1 - p) where it defected.
    loss = -np.log([1 / 2, 1 / 2, 1 / 3, 1 / 2, 1 / 2, 2 / 5])
    np.testing.assert_allclose(bayes_log_loss(EPISODE), loss, rtol=1e-6)
    np.testing.assert_allclose(log_loss(expected, EPISODE), loss, rtol=1e-6)
    # Posterior before round 6, in the co-player's own indexing: DC is Beta(1 + 1, 1 + 2), CD is
    # Beta(1, 1 + 1), Start Beta(1, 1 + 1) (its round-1 D); the learner's view would swap CD and DC.
    alpha, beta = coplayer_posterior(EPISODE)
    np.testing.assert_allclose(alpha[5], [1, 1, 1, 2, 1])
    np.testing.assert_allclose(beta[5], [2, 1, 2, 3, 1])
    np.testing.assert_allclose(alpha[0], np.ones(5))
    np.testing.assert_allclose(beta[0], np.ones(5))


def beta_mean_by_quadrature(alpha: float, beta: float, n: int = 200) -> float:
    """∫ p Beta(p; alpha, beta) dp / ∫ Beta(p; alpha, beta) dp by Gauss-Legendre quadrature of the
    unnormalized density. The halves [0, 1/2] and [1/2, 1] are mapped by p = v**10 and 1 - p = v**10,
    which removes the integrable endpoint singularities of a < 1 priors (p**(a - 1) dp becomes
    v**(10a - 1) dv, smooth for a >= 0.1)."""
    x, w = np.polynomial.legendre.leggauss(n)
    v = 0.5 ** 0.1 * (x + 1) / 2  # v in [0, (1/2)**(1/10)], so v**10 in [0, 1/2]
    wv = w * 0.5 ** 0.1 / 2
    num = den = 0.0
    for near_zero in (True, False):
        s = v**10  # distance from the endpoint
        p, q = (s, 1 - s) if near_zero else (1 - s, s)  # p and 1 - p, the small one exact
        dens = p ** (alpha - 1) * q ** (beta - 1) * 10 * v**9  # includes the Jacobian
        num += np.sum(wv * p * dens)
        den += np.sum(wv * dens)
    return num / den


@pytest.mark.parametrize("a", [1.0, 0.3])
def test_predictions_match_quadrature_over_the_posterior(a):
    rng = np.random.default_rng(7)
    actions = rng.integers(0, 2, size=(12, 2))
    with float64():
        pred = np.asarray(coplayer_predictions(actions, a))
    assert pred[0] == 0.5
    # The posterior of the entry the co-player uses in round t, from the counts of its earlier
    # moves after the same (own-first) observation, computed here with plain loops.
    obs = [START] + [1 + 2 * y + x for x, y in actions[:-1]]
    for t in range(1, len(actions)):
        c = sum(actions[u, 1] == C for u in range(t) if obs[u] == obs[t])
        d = sum(actions[u, 1] == D for u in range(t) if obs[u] == obs[t])
        assert pred[t] == pytest.approx(beta_mean_by_quadrature(a + c, a + d), abs=1e-10)
    assert beta_mean_by_quadrature(a, a) == pytest.approx(0.5, abs=1e-12)  # the quadrature itself
    assert beta_mean_by_quadrature(a + 2, a) == pytest.approx((a + 2) / (2 * a + 2), abs=1e-10)


@pytest.fixture(scope="module")
def prior_episodes():
    """20k co-players drawn from U(0, 1)^5 (the Beta(1, 1) prior) against a fixed learner, 30 rounds."""
    q = strategies.sample_uniform(jax.random.key(11), (20_000,))
    p = np.array([0.6, 0.8, 0.3, 0.6, 0.4])
    actions, _ = simulate.play(p, q, games.ipd(), 30, 20_000, jax.random.key(12))
    return actions


def test_calibrated_under_the_prior(prior_episodes):
    pred = np.asarray(coplayer_predictions(prior_episodes), np.float64).ravel()
    coop = (np.asarray(prior_episodes)[..., 1] == C).ravel()
    # Each round's prediction is fixed before the round, so within a bin sum(coop - pred) is a
    # martingale: its variance is sum(pred (1 - pred)) even though rounds of an episode are dependent.
    bins = np.minimum((pred * 10).astype(int), 9)
    checked = 0
    for b in range(10):
        inside = bins == b
        n = inside.sum()
        if n < 100:
            continue
        checked += 1
        se = np.sqrt(np.sum(pred[inside] * (1 - pred[inside]))) / n
        gap = coop[inside].mean() - pred[inside].mean()
        assert abs(gap) < 4 * se, (b, n, gap, se)
    assert checked >= 8  # the predictions spread over the unit interval


def test_bayes_log_loss_beats_a_coin_late_and_equals_it_in_round_one(prior_episodes):
    loss = np.asarray(bayes_log_loss(prior_episodes), np.float64)  # (20000, 30)
    np.testing.assert_allclose(loss[:, 0], np.log(2), rtol=1e-6)
    late = loss[:, 20:].mean()
    se = loss[:, 20:].mean(1).std(ddof=1) / np.sqrt(loss.shape[0])
    # With ~5-7 observations per entry the loss approaches E[H(p)] = 1/2 nat for p ~ U(0, 1).
    assert late < np.log(2) - 0.08 and late > 0.5, (late, se)
    assert se < 0.005
    # The per-round mean loss falls as evidence accumulates.
    per_round = loss.mean(0)
    assert per_round[29] < per_round[5] < per_round[1] + 4 * se


def test_huge_prior_shape_predicts_a_coin_flip():
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 2, size=(5, 40, 2))
    np.testing.assert_allclose(coplayer_predictions(actions, 1e6), 0.5, atol=1e-5)


def test_batched_equals_per_episode_and_jit():
    rng = np.random.default_rng(4)
    actions = rng.integers(0, 2, size=(3, 4, 9, 2))
    batched = np.asarray(coplayer_predictions(actions, 0.7))
    assert batched.shape == (3, 4, 9)
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(batched[i, j], coplayer_predictions(actions[i, j], 0.7))
    np.testing.assert_allclose(jax.jit(coplayer_predictions)(actions, 0.7), batched, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(bayes_log_loss)(actions, 0.7), bayes_log_loss(actions, 0.7), rtol=1e-6)
    assert coplayer_predictions(actions[0, 0, :1]).tolist() == [0.5]  # a one-round episode


def test_posterior_is_in_the_coplayers_own_perspective():
    # TFT cooperates after its own DC (the learner cooperated) and defects after its own CD.
    # The learner plays at random, so both are visited often over 400 rounds.
    tft = strategies.named("tft")
    actions, _ = simulate.play(np.full(5, 0.5), tft, games.ipd(), 400, 2, jax.random.key(5))
    alpha, beta = coplayer_posterior(actions)
    mean = np.asarray(alpha / (alpha + beta))[:, -1]
    assert (mean[:, DC] > 0.95).all() and (mean[:, CD] < 0.05).all() and (mean[:, DD] < 0.05).all()


@pytest.mark.parametrize(
    ("actions", "error", "message"),
    [
        (np.zeros(4, int), ValueError, "actions must have shape (..., T, 2) with T >= 1"),
        (np.zeros((4, 3), int), ValueError, "got shape (4, 3)"),
        (np.zeros((0, 2), int), ValueError, "got shape (0, 2)"),
        (np.zeros((4, 2)), TypeError,
         "actions must be an integer array of 0 = C and 1 = D, got dtype float64"),
        (np.array([[0, 1], [2, 0], [0, -1]]), ValueError,
         "actions must hold only 0 (C) and 1 (D), got [-1, 2]"),
    ],
)
def test_bad_actions(actions, error, message):
    for fn in (coplayer_predictions, bayes_log_loss, coplayer_posterior, coplayer_observations):
        with pytest.raises(error, match=re.escape(message)):
            fn(actions)


@pytest.mark.parametrize(
    ("prior_a", "error", "message"),
    [
        (0.0, ValueError,
         "prior_a must be a positive Beta(a, a) shape (1.0 for the U(0, 1)^5 pool), got 0.0"),
        (-1, ValueError, "prior_a must be a positive Beta(a, a) shape"),
        (np.nan, ValueError, "prior_a must be finite, got nan"),
        (np.inf, ValueError, "prior_a must be finite, got inf"),
        ("1", TypeError, "prior_a must be a real number, got str: '1'"),
        (True, TypeError, "prior_a must be a real number, got bool"),
    ],
)
def test_bad_prior(prior_a, error, message):
    for fn in (coplayer_predictions, bayes_log_loss, coplayer_posterior):
        with pytest.raises(error, match=re.escape(message)):
            fn(EPISODE, prior_a)


def test_bad_predictions_for_log_loss():
    with pytest.raises(ValueError, match=re.escape("p_coop must have shape (6,) (one prediction per round "
                                                   "of actions (6, 2)), got shape (5,)")):
        log_loss(np.full(5, 0.5), EPISODE)
    message = "p_coop must hold probabilities in [0, 1], got values in [0.5, 1.5]"
    with pytest.raises(ValueError, match=re.escape(message)):
        log_loss(np.array([0.5] * 5 + [1.5]), EPISODE)
    with pytest.raises(ValueError, match="p_coop contains NaN or infinite values"):
        log_loss(np.array([0.5] * 5 + [np.nan]), EPISODE)
    # A confident wrong prediction costs infinitely much; a confident right one nothing.
    assert np.isinf(log_loss(np.ones(6), EPISODE)[0])
    assert log_loss(np.zeros(6), EPISODE)[0] == 0.0
