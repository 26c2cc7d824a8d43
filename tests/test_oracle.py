"""The finite-horizon best response (SPEC claim 7) and its consistency with exact play."""

import numpy as np
import pytest

from ismarl import strategies
from ismarl.analytic import expected_payoffs
from ismarl.games import ipd
from ismarl.oracle import best_response, best_response_cooperation, best_response_value, fixed_strategy_value


def test_best_response_to_tft_is_cooperate_then_defect_last_round():
    value, coop = best_response(np.asarray(strategies.named("tft")), horizon=100)
    assert value == pytest.approx(1.01, abs=1e-12)
    assert coop[:99, 0].all() and coop[:99, 1].all()  # cooperate from the start and after CC
    assert not coop[99].any()  # defect in the final round


def test_best_response_to_allc_and_alld_is_always_defect():
    assert best_response_value(np.ones(5)) == pytest.approx(2.0)
    assert best_response_value(np.zeros(5)) == pytest.approx(0.0)
    assert not best_response(np.ones(5))[1].any()


def test_random_tabular_pool_values():
    q = np.random.default_rng(0).uniform(size=(60_000, 5))
    oracle = best_response_value(q)
    alld = fixed_strategy_value(np.zeros(5), q)
    # SPEC claim 7: oracle ~ 1.049; always-defect earns 1.0 in expectation (E[b/(1-a+b)] = 1/2
    # for a, b ~ U(0,1)), measured 1.007 over 20k draws in the SPEC.
    se = oracle.std() / np.sqrt(len(q))
    assert oracle.mean() == pytest.approx(1.049, abs=max(4 * se, 0.004))
    assert alld.mean() == pytest.approx(1.0, abs=4 * alld.std() / np.sqrt(len(q)))
    assert np.all(oracle >= alld - 1e-12)


def test_oracle_dominates_every_memory1_strategy_and_matches_exact_payoffs():
    rng = np.random.default_rng(1)
    q = rng.uniform(size=(200, 5))
    p = rng.uniform(size=(200, 5))
    v = fixed_strategy_value(p, q, horizon=20)
    ref, _ = expected_payoffs(p, q, ipd(), horizon=20)
    np.testing.assert_allclose(v, np.asarray(ref), atol=1e-5)
    assert np.all(best_response_value(q, horizon=20) >= v - 1e-12)


def test_dp_policy_achieves_its_value():
    """Evaluate the DP policy forward (exact distribution over observations) and compare."""
    rng = np.random.default_rng(2)
    q = rng.uniform(size=(50, 5))
    T = 15
    value, coop = best_response(q, horizon=T)
    qs = q[:, [0, 1, 3, 2, 4]]
    pay = np.array([[1.0, -1.0], [2.0, 0.0]])
    dist = np.zeros((50, 5)); dist[:, 0] = 1
    total = np.zeros(50)
    for t in range(T):
        new = np.zeros_like(dist)
        for o in range(5):
            a = np.where(coop[:, t, o], 0, 1)
            for b, pb in ((0, qs[:, o]), (1, 1 - qs[:, o])):
                w = dist[:, o] * pb
                total += w * pay[a, b]
                np.add.at(new, (np.arange(50), 1 + 2 * a + b), w)
        dist = new
    np.testing.assert_allclose(total / T, value, atol=1e-12)


def test_best_response_cooperation_exact_cases():
    # TFT: cooperate in rounds 1-99, defect in the last; ALLC and ALLD: never cooperate
    assert best_response_cooperation(np.asarray(strategies.named("tft"))) == pytest.approx(0.99, abs=1e-12)
    assert best_response_cooperation(np.ones(5)) == pytest.approx(0.0)
    assert best_response_cooperation(np.zeros(5)) == pytest.approx(0.0)
    # batched: one rate per co-player, each its own exact value (TFT at T = 7: six C's then D)
    batch = np.stack([np.ones(5), np.asarray(strategies.named("tft")), np.zeros(5)])
    np.testing.assert_allclose(best_response_cooperation(batch, horizon=7), [0.0, 6 / 7, 0.0], atol=1e-12)


def test_best_response_cooperation_matches_monte_carlo():
    """Play the DP policy against sampled memory-1 co-players and count its C's."""
    rng = np.random.default_rng(3)
    q = rng.uniform(size=(40, 5))
    T, n = 30, 4000
    _, coop = best_response(q, horizon=T)
    exact = best_response_cooperation(q, horizon=T)
    qs = q[:, [0, 1, 3, 2, 4]]
    obs = np.zeros((40, n), int)
    count = np.zeros((40, n))
    rows = np.arange(40)[:, None]
    for t in range(T):
        a = np.where(coop[rows, t, obs], 0, 1)  # 0 = C
        b = (rng.uniform(size=(40, n)) >= qs[rows, obs]).astype(int)
        count += a == 0
        obs = 1 + 2 * a + b
    frac = count / T
    se = frac.std(axis=1) / np.sqrt(n)
    assert np.all(np.abs(frac.mean(axis=1) - exact) <= 5 * se + 1e-9)


def test_best_response_cooperation_against_random_pool():
    q = np.random.default_rng(4).uniform(size=(20_000, 5))
    c = best_response_cooperation(q)
    # the exact best response to U(0,1)^5 agents mostly defects: about 8% C at T = 100
    assert 0.05 < c.mean() < 0.12
    assert np.all((c >= 0) & (c <= 1))


def test_best_response_cooperation_rejects_bad_input():
    with pytest.raises(ValueError, match=r"q must hold probabilities in \[0, 1\], got values in \[1.5, 1.5\]"):
        best_response_cooperation(np.full(5, 1.5))
    with pytest.raises(ValueError, match=r"q must have a trailing axis of length 5 .*got shape \(4,\)"):
        best_response_cooperation(np.ones(4))
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        best_response_cooperation(np.ones(5), horizon=0)


def test_fixed_strategy_value_rejects_bad_input():
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\], got values in \[-0.1, -0.1\]"):
        fixed_strategy_value(np.full(5, -0.1), np.ones(5))
    with pytest.raises(ValueError, match="q contains NaN or infinite values"):
        fixed_strategy_value(np.ones(5), np.full(5, np.nan))
    with pytest.raises(ValueError, match=r"p must have a trailing axis of length 5 .*got shape \(3,\)"):
        fixed_strategy_value(np.ones(3), np.ones(5))
