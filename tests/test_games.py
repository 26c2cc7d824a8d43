"""Games: the paper's payoffs, presets, validation and converters to other conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismarl import games

finite = st.floats(-100, 100, allow_nan=False)


def test_paper_ipd_is_a_prisoners_dilemma():
    g = games.ipd()
    assert (g.R, g.S, g.T, g.P) == (1, -1, 2, 0)
    assert g.T > g.R > g.P > g.S and 2 * g.R > g.T + g.S
    assert games.is_prisoners_dilemma(g)


def test_paper_ipd_is_the_donation_game_b2_c1():
    """r_i = b c_j - c c_i with b = 2, c = 1, evaluated on the four joint actions."""
    g = games.ipd()
    for own in (0, 1):
        for other in (0, 1):
            c_own, c_other = 1 - own, 1 - other
            assert g.payoff_table()[own, other] == 2 * c_other - c_own
    assert games.donation_game(2.0, 1.0).payoffs.tolist() == g.payoffs.tolist()


@pytest.mark.parametrize(
    "name, dilemma, pd",
    [("ipd", True, True), ("classic_pd", True, True), ("stag_hunt", True, False), ("chicken", True, False), ("harmony", False, False)],
)
def test_social_dilemma_classification_of_presets(name, dilemma, pd):
    g = games.get(name)
    assert games.is_social_dilemma(g) is dilemma
    assert games.is_prisoners_dilemma(g) is pd


def test_dilemma_tensions():
    assert games.dilemma_tensions(games.ipd()) == {"greed": 1.0, "fear": 1.0}
    t = games.dilemma_tensions(games.stag_hunt())
    assert t["greed"] < 0 < t["fear"]


def test_matching_pennies_is_zero_sum_and_not_symmetric():
    g = games.matching_pennies()
    assert np.array_equal(g.A, -g.B)
    assert not g.is_symmetric
    with pytest.raises(ValueError, match="not symmetric"):
        g.to_matrix_game()
    with pytest.raises(ValueError, match="not symmetric"):
        games.is_social_dilemma(g)


def test_payoff_vectors_follow_the_first_person_state_order():
    rx, ry = games.ipd().payoff_vectors()
    assert rx.tolist() == [1, -1, 2, 0]  # X's states CC, CD, DC, DD
    assert ry.tolist() == [1, 2, -1, 0]  # Y's payoff in X's states: Y is exploited in DC
    bx, by = games.ipd().bimatrix().payoff_vectors()
    assert np.array_equal(bx, rx) and np.array_equal(by, ry)


# -- converters ---------------------------------------------------------------------------------
def test_lola_cost_matrix_and_the_plus_two_shift():
    lola = games.lola_ipd()
    assert games.to_cost_matrix(lola).tolist() == [[1, 3], [0, 2]]
    assert games.from_cost_matrix([[1, 3], [0, 2]]).payoffs.tolist() == lola.payoffs.tolist()
    assert (lola.affine(shift=2.0).payoffs == games.ipd().payoffs).all()


def test_openspiel_table():
    os_ipd = games.openspiel_ipd()
    assert games.to_openspiel_payoff_table(os_ipd).tolist() == [[5, 0], [10, 1]]
    assert (os_ipd.R, os_ipd.S, os_ipd.T, os_ipd.P) == (5, 0, 10, 1)
    # Its ordering is a prisoner's dilemma, but 2R == T + S: taking turns exploiting pays as much as
    # mutual cooperation, so the strict definition (2R > T + S) does not count it.
    assert os_ipd.T > os_ipd.R > os_ipd.P > os_ipd.S and 2 * os_ipd.R == os_ipd.T + os_ipd.S
    assert not games.is_prisoners_dilemma(os_ipd)


@given(finite, finite, finite, finite)
def test_converters_round_trip(R, S, T, P):
    g = games.MatrixGame(R, S, T, P)
    same = lambda h: np.array_equal(h.payoffs, g.payoffs)  # noqa: E731
    assert same(games.from_cost_matrix(games.to_cost_matrix(g)))
    assert same(games.from_openspiel_payoff_table(games.to_openspiel_payoff_table(g)))
    back = games.from_bimatrix_array(games.to_bimatrix_array(g))
    assert isinstance(back, games.MatrixGame) and same(back)
    assert same(g.bimatrix().to_matrix_game())


def test_bimatrix_array_round_trip_of_an_asymmetric_game():
    g = games.matching_pennies()
    arr = games.to_bimatrix_array(g)
    assert arr.shape == (2, 2, 2) and arr[0, 0].tolist() == [1, -1]
    back = games.from_bimatrix_array(arr)
    assert isinstance(back, games.BimatrixGame) and back == g


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(R=float("nan"), S=0, T=5, P=1), ValueError, "R must be finite"),
        (dict(R=3, S=float("inf"), T=5, P=1), ValueError, "S must be finite"),
        (dict(R=3, S=0, T="5", P=1), TypeError, "T must be a real number"),
        (dict(R=3, S=0, T=5, P=None), TypeError, "P must be a real number"),
        (dict(R=True, S=0, T=5, P=1), TypeError, "R must be a real number"),
        (dict(R=[3, 3], S=0, T=5, P=1), TypeError, "R must be a real number"),
        (dict(R=np.ones(2), S=0, T=5, P=1), ValueError, "R must be a scalar"),
    ],
)
def test_matrix_game_rejects_bad_payoffs(kwargs, error, match):
    with pytest.raises(error, match=match):
        games.MatrixGame(**kwargs)


def test_bimatrix_game_rejects_bad_payoffs():
    with pytest.raises(ValueError, match="A must be a 2x2 payoff matrix"):
        games.BimatrixGame(np.zeros(3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="B contains NaN"):
        games.BimatrixGame(np.zeros((2, 2)), np.array([[0, np.nan], [0, 0]]))
    with pytest.raises(TypeError, match="A must hold real numbers"):
        games.BimatrixGame(np.array([["a", "b"], ["c", "d"]]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(2, 2, 2\)"):
        games.from_bimatrix_array(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="costs must be a 2x2 matrix"):
        games.from_cost_matrix([1, 2, 3])


def test_unknown_game_and_non_game_inputs():
    with pytest.raises(ValueError, match="unknown game 'pd'"):
        games.get("pd")
    with pytest.raises(TypeError, match="expected a MatrixGame or BimatrixGame"):
        games.check_game((1, -1, 2, 0))
    with pytest.raises(ValueError, match="scale must be positive"):
        games.ipd().affine(scale=-1.0)
