"""Memory-1 strategies: named ones, random sampling, and the zero-determinant families."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import ergodic, float64, random_pd
from hypothesis import given
from hypothesis import strategies as st

from ismarl import analytic, games, strategies
from ismarl.conventions import CD, DC, SWAP_PERSPECTIVE

IPD = games.ipd()


# each named strategy's vector [p0, pCC, pCD, pDC, pDD] on the paper's IPD, and a phrase its description must hold
NAMED = {
    "allc": ([1, 1, 1, 1, 1], "Always cooperate"),
    "alld": ([0, 0, 0, 0, 0], "Always defect"),
    "tft": ([1, 1, 0, 1, 0], "copy the co-player's last move"),
    "stft": ([0, 1, 0, 1, 0], "Suspicious tit-for-tat: defect first"),
    "wsls": ([1, 1, 0, 0, 1], "Win-stay lose-shift"),
    "grim": ([1, 1, 0, 0, 0], "cooperate until anyone defects"),
    "random": ([0.5] * 5, "probability 1/2"),
    "alternator": ([1, 0, 0, 1, 1], "Alternate C and D"),
    "gtft": ([1, 1, 0.5, 1, 0.5], "forgive a defection"),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_strategies_and_their_descriptions(name):
    vector, phrase = NAMED[name]
    assert np.asarray(strategies.named(name)).tolist() == vector
    assert phrase in strategies.describe(name)
    assert strategies.describe(name.upper()) == strategies.describe(name)  # names are case-insensitive
    assert np.asarray(strategies.named(name.upper())).tolist() == vector


def test_every_named_strategy_is_covered_and_described_differently():
    assert set(strategies.NAMED_STRATEGIES) == set(NAMED)
    assert len({strategies.describe(n) for n in strategies.NAMED_STRATEGIES}) == len(NAMED)


def test_tft_copies_the_co_players_last_move():
    tft = np.asarray(strategies.named("tft"))
    for own in (0, 1):
        for other in (0, 1):
            assert tft[1 + 2 * own + other] == 1 - other


def test_gtft_forgives_half_the_time_on_the_paper_ipd():
    assert np.asarray(strategies.named("gtft")).tolist() == [1, 1, 0.5, 1, 0.5]


def test_sample_uniform_shape_range_and_mean():
    s = np.asarray(strategies.sample_uniform(jax.random.key(0), (4000,)))
    assert s.shape == (4000, 5) and s.min() >= 0 and s.max() < 1
    se = np.sqrt(1 / 12 / 4000)
    assert np.all(np.abs(s.mean(0) - 0.5) < 4 * se)


def test_swap_perspective_exchanges_cd_and_dc():
    p = np.arange(5.0)
    assert np.asarray(strategies.swap_perspective(p)).tolist() == [0, 1, 3, 2, 4]
    assert np.array_equal(np.asarray(p)[SWAP_PERSPECTIVE][SWAP_PERSPECTIVE], p)
    assert (CD, DC) == (2, 3)


def test_log_probs_layout():
    z = np.asarray(strategies.log_probs(np.array([1.0, 0.5, 0.25, 0.0, 0.75])))
    assert z.shape == (10,)
    np.testing.assert_allclose(np.exp(z[2:4]), [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(np.exp(z[4:6]), [0.25, 0.75], rtol=1e-6)


# -- zero-determinant strategies ----------------------------------------------------------------
def test_zd_chi_1_is_tit_for_tat():
    np.testing.assert_allclose(strategies.zd_extortion(IPD, chi=1.0, phi=1 / 3), strategies.named("tft"), atol=1e-7)


def test_zd_chi_3_at_phi_max_is_five_sevenths():
    np.testing.assert_allclose(strategies.zd_extortion(IPD, chi=3.0, phi=1 / 7)[1:], [5 / 7, 0, 5 / 7, 0], atol=1e-7)
    # phi defaults to the largest admissible value, 1/(1 + 2 chi) on the paper's IPD
    np.testing.assert_allclose(strategies.zd_extortion(IPD, chi=3.0), strategies.zd_extortion(IPD, 3.0, 1 / 7), atol=1e-7)
    assert strategies.zd_phi_range(IPD, 3.0)[1] == pytest.approx(1 / 7)


@given(chi=st.floats(1.0, 8.0), frac=st.floats(0.05, 1.0))
def test_zd_against_allc_for_every_admissible_phi(chi, frac):
    """Y's best response to an extorter is ALLC, where s_Y = P + (R-P)(T-S)/((T-R) + chi(R-S))
    and s_X - P = chi (s_Y - P): 3/(1+2chi) and 3chi/(1+2chi) on the paper's IPD."""
    g = IPD
    phi = frac * strategies.zd_phi_range(g, chi)[1]
    x, y = analytic.expected_payoffs(strategies.zd_extortion(g, chi, phi), strategies.named("allc"), g)
    s_y = g.P + (g.R - g.P) * (g.T - g.S) / ((g.T - g.R) + chi * (g.R - g.S))
    assert s_y == pytest.approx(3 / (1 + 2 * chi))
    assert float(y) == pytest.approx(s_y, abs=2e-6)
    assert float(x) == pytest.approx(g.P + chi * (s_y - g.P), abs=2e-6)
    assert float(x) == pytest.approx(3 * chi / (1 + 2 * chi), abs=2e-6)


def _random_opponents(n=100, seed=1):
    return ergodic(np.asarray(strategies.sample_uniform(jax.random.key(seed), (n,)), dtype=np.float64))


@pytest.mark.parametrize("game", [IPD, games.classic_pd(), random_pd(np.random.default_rng(7))], ids=lambda g: g.name)
def test_generous_zd_enforces_its_relation(game):
    """Generous ZD: s_X - R = chi (s_Y - R), so it never earns more than its co-player."""
    q = _random_opponents()
    with float64():
        for chi in (1.5, 2.0, 4.0):
            p = strategies.zd_generous(game, chi)
            x, y = map(np.asarray, analytic.press_dyson_payoffs(p, q, game))
            np.testing.assert_allclose(x - game.R, chi * (y - game.R), atol=1e-10)
            assert np.all(x <= y + 1e-10)


@pytest.mark.parametrize("game", [IPD, games.classic_pd(), random_pd(np.random.default_rng(8))], ids=lambda g: g.name)
def test_equalizer_fixes_the_co_players_payoff(game):
    q = _random_opponents()
    with float64():
        for target in (game.P + 0.25 * (game.R - game.P), (game.R + game.P) / 2):
            p = strategies.zd_equalizer(game, target)
            _, y = analytic.press_dyson_payoffs(p, q, game)
            np.testing.assert_allclose(np.asarray(y), target, atol=1e-10)


@given(chi=st.floats(1.0, 6.0), frac=st.floats(0.05, 1.0))
def test_fit_zd_recovers_chi_and_phi(chi, frac):
    phi = frac * strategies.zd_phi_range(IPD, chi)[1]
    with float64():
        fit = strategies.fit_zd(strategies.zd_extortion(IPD, chi, phi), IPD)
    assert bool(fit.valid)
    assert float(fit.chi) == pytest.approx(chi, rel=1e-9)
    assert float(fit.phi) == pytest.approx(phi, rel=1e-9)
    assert float(fit.sse) < 1e-20


def test_fit_zd_recovers_in_other_games_and_in_batch():
    g = random_pd(np.random.default_rng(3))
    chis = np.array([1.0, 2.0, 3.5])
    with float64():
        batch = np.stack([np.asarray(strategies.zd_extortion(g, c)) for c in chis])
        fit = strategies.fit_zd(batch, g)
    np.testing.assert_allclose(fit.chi, chis, rtol=1e-9)
    assert fit.sse.shape == (3,) and np.all(fit.sse < 1e-20)


def test_fit_zd_on_random_strategies_fits_badly():
    """Random memory-1 strategies are not extortioners: large residuals (the COALA-PG contrast)."""
    fit = strategies.fit_zd(strategies.sample_uniform(jax.random.key(4), (1000,)), IPD)
    assert fit.valid.dtype == bool and fit.sse.shape == (1000,)
    assert np.all(np.isnan(fit.chi[~fit.valid]))
    # pDD alone is ~U(0,1) and enters the residual directly, so E[sse] >= E[pDD^2] = 1/3.
    assert np.median(fit.sse) > 0.1
    assert np.mean(fit.sse < 1e-3) < 0.01


# -- errors -----------------------------------------------------------------------------------
def test_inadmissible_zd_parameters_are_rejected():
    with pytest.raises(ValueError, match="chi >= 1"):
        strategies.zd_extortion(IPD, chi=0.5)
    with pytest.raises(ValueError, match=r"phi=0.5 is not admissible"):
        strategies.zd_extortion(IPD, chi=3.0, phi=0.5)
    with pytest.raises(ValueError, match="is not admissible"):
        strategies.zd_extortion(IPD, chi=3.0, phi=0.0)
    with pytest.raises(ValueError, match="is not admissible"):
        strategies.zd_extortion(IPD, chi=3.0, phi=-0.1)
    with pytest.raises(ValueError, match="chi must be finite"):
        strategies.zd_extortion(IPD, chi=float("nan"))
    with pytest.raises(ValueError, match="p0 must be a probability"):
        strategies.zd_extortion(IPD, chi=3.0, p0=1.5)
    with pytest.raises(ValueError, match="needs chi >= 1"):
        strategies.zd_generous(IPD, chi=0.9)
    with pytest.raises(ValueError, match=r"within \[P, R\]"):
        strategies.zd_equalizer(IPD, target=1.5)
    with pytest.raises(ValueError, match="P > S"):
        strategies.zd_extortion(games.harmony(), chi=2.0)
    with pytest.raises(ValueError, match="not symmetric"):
        strategies.zd_extortion(games.matching_pennies(), chi=2.0)


def test_unknown_strategy_names():
    with pytest.raises(ValueError, match=r"unknown strategy 'titfortat'; choose one of \['allc'"):
        strategies.named("titfortat")
    with pytest.raises(ValueError, match="unknown strategy 'x'"):
        strategies.describe("x")


def test_fit_zd_validates_its_input():
    with pytest.raises(ValueError, match="trailing axis of length 5"):
        strategies.fit_zd(np.ones(4), IPD)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        strategies.fit_zd(np.full(5, 1.2), IPD)
    with pytest.raises(ValueError, match="strategy contains NaN or infinite values"):
        strategies.fit_zd(np.array([1, np.nan, 0, 1, 0]), IPD)
