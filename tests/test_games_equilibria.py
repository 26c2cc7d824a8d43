"""One-shot analysis of 2x2 games: best responses, pure and mixed equilibria, Pareto optimality."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismarl import games

C, D = 0, 1


def test_prisoners_dilemma_has_dominant_defection_and_inefficient_equilibrium():
    for g in (games.ipd(), games.classic_pd(), games.lola_ipd()):
        assert games.dominant_actions(g) == (D, D)
        assert games.pure_nash_equilibria(g) == [(D, D)]
        assert (D, D) not in games.pareto_optimal_outcomes(g)
        assert set(games.pareto_optimal_outcomes(g)) == {(C, C), (C, D), (D, C)}
        assert games.mixed_nash_equilibrium(g) is None


def test_ipd_best_responses_are_defect_against_both_actions():
    br_x, br_y = games.best_responses(games.ipd())
    np.testing.assert_array_equal(br_x, [[False, True], [False, True]])
    np.testing.assert_array_equal(br_y, [[False, True], [False, True]])


def test_stag_hunt_chicken_harmony():
    assert games.pure_nash_equilibria(games.stag_hunt()) == [(C, C), (D, D)]
    assert games.dominant_actions(games.stag_hunt()) == (None, None)
    assert games.pure_nash_equilibria(games.chicken()) == [(C, D), (D, C)]
    assert games.pure_nash_equilibria(games.harmony()) == [(C, C)]
    assert games.dominant_actions(games.harmony()) == (C, C)
    sh = games.stag_hunt()  # R=4,S=1,T=3,P=2: indifferent when 4y + (1-y) = 3y + 2(1-y) -> y = 1/2
    np.testing.assert_allclose(games.mixed_nash_equilibrium(sh), (0.5, 0.5))
    ch = games.chicken()  # R=3,S=1,T=4,P=0: 3y + (1-y) = 4y -> y = 1/2
    np.testing.assert_allclose(games.mixed_nash_equilibrium(ch), (0.5, 0.5))


def test_matching_pennies_has_only_a_mixed_equilibrium():
    mp = games.matching_pennies()
    assert games.pure_nash_equilibria(mp) == []
    assert games.mixed_nash_equilibrium(mp) == (0.5, 0.5)
    assert len(games.pareto_optimal_outcomes(mp)) == 4  # zero-sum: every outcome is Pareto optimal


def test_ties_give_several_best_responses():
    g = games.MatrixGame(R=1, S=0, T=1, P=0)
    br_x, _ = games.best_responses(g)
    assert br_x[C].all()  # against C both replies earn 1
    assert games.dominant_actions(g) == (None, None)


def test_bad_input_raises():
    with pytest.raises(TypeError, match="MatrixGame or BimatrixGame"):
        games.pure_nash_equilibria([[1, 2], [3, 4]])


payoff = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(payoff, payoff, payoff, payoff, payoff, payoff, payoff, payoff)
def test_equilibria_are_mutual_best_responses(a, b, c, d, e, f, g_, h):
    game = games.BimatrixGame(np.array([[a, b], [c, d]]), np.array([[e, f], [g_, h]]))
    for i, j in games.pure_nash_equilibria(game):
        assert game.A[i, j] >= game.A[1 - i, j] and game.B[i, j] >= game.B[i, 1 - j]
    mixed = games.mixed_nash_equilibrium(game)
    if mixed is not None:
        x, y = mixed
        assert 0 <= x <= 1 and 0 <= y <= 1  # a mix is a probability
        ax = game.A @ np.array([y, 1 - y])  # X's payoff from each pure action against Y's mix
        by = np.array([x, 1 - x]) @ game.B
        assert np.isclose(ax[0], ax[1]) and np.isclose(by[0], by[1])
    dx, dy = games.dominant_actions(game)
    if dx is not None and dy is not None:
        assert games.pure_nash_equilibria(game) == [(dx, dy)]


@settings(max_examples=100, deadline=None)
@given(st.floats(0.1, 5), st.floats(0.1, 5))
def test_every_donation_game_is_a_prisoners_dilemma_with_unique_dd_equilibrium(cost, extra):
    g = games.donation_game(benefit=cost + extra, cost=cost)
    assert games.is_prisoners_dilemma(g)
    assert games.pure_nash_equilibria(g) == [(D, D)]
