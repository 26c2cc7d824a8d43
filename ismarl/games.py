"""Two-player, two-action matrix games: the paper's IPD, classic presets, validation, converters.

A symmetric game is a :class:`MatrixGame` ``(R, S, T, P)`` seen from the row player
(own action first). Non-symmetric games are :class:`BimatrixGame` ``(A, B)``. Both expose
:meth:`payoff_vectors`, the only thing the rest of ismarl reads: the two players' payoffs
over X's first-person states ``(CC, CD, DC, DD)`` (see :mod:`ismarl.conventions`).
"""

from __future__ import annotations

import dataclasses
from typing import Union

import numpy as np

from ismarl._validate import check_finite_number


@dataclasses.dataclass(frozen=True)
class MatrixGame:
    """Symmetric 2x2 game in first-person form.

    ``R`` reward (both C), ``S`` sucker's payoff (I play C, they play D),
    ``T`` temptation (I play D, they play C), ``P`` punishment (both D).
    """

    R: float
    S: float
    T: float
    P: float
    name: str = "custom"

    def __post_init__(self):
        for field in ("R", "S", "T", "P"):
            object.__setattr__(self, field, check_finite_number(getattr(self, field), field))
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__}")

    # -- views -------------------------------------------------------------------------
    @property
    def payoffs(self) -> np.ndarray:
        """``[R, S, T, P]`` as a float array."""
        return np.array([self.R, self.S, self.T, self.P])

    def payoff_table(self) -> np.ndarray:
        """Own payoff as ``table[own_action, other_action]`` (0 = C, 1 = D): ``[[R, S], [T, P]]``."""
        return np.array([[self.R, self.S], [self.T, self.P]])

    def bimatrix(self) -> "BimatrixGame":
        """The same game as a bimatrix ``(A, B)`` with ``B = A.T``."""
        a = self.payoff_table()
        return BimatrixGame(a, a.T, name=self.name)

    def payoff_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Payoffs of X and of Y over X's states (CC, CD, DC, DD): ``(R,S,T,P)`` and ``(R,T,S,P)``."""
        return np.array([self.R, self.S, self.T, self.P]), np.array([self.R, self.T, self.S, self.P])

    def affine(self, scale: float = 1.0, shift: float = 0.0) -> "MatrixGame":
        """``scale * payoff + shift`` (scale > 0 keeps every strategic property)."""
        scale = check_finite_number(scale, "scale")
        shift = check_finite_number(shift, "shift")
        if scale <= 0:
            raise ValueError(f"scale must be positive to keep the game's preferences, got {scale}")
        return MatrixGame(*(scale * self.payoffs + shift), name=f"{self.name} (affine)")

    def __repr__(self) -> str:
        return f"MatrixGame(R={self.R:g}, S={self.S:g}, T={self.T:g}, P={self.P:g}, name={self.name!r})"


@dataclasses.dataclass(frozen=True, eq=False)
class BimatrixGame:
    """General 2x2 two-player game. ``A[i, j]`` is X's payoff and ``B[i, j]`` Y's payoff
    when X plays ``i`` and Y plays ``j`` (0 = C / first action, 1 = D / second action)."""

    A: np.ndarray
    B: np.ndarray
    name: str = "custom"

    def __post_init__(self):
        for field in ("A", "B"):
            arr = np.asarray(getattr(self, field))
            if arr.shape != (2, 2):
                raise ValueError(f"{field} must be a 2x2 payoff matrix, got shape {arr.shape}")
            if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
                raise TypeError(f"{field} must hold real numbers, got dtype {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{field} contains NaN or infinite payoffs")
            arr = arr.astype(float)
            arr.setflags(write=False)
            object.__setattr__(self, field, arr)

    def __eq__(self, other):
        return isinstance(other, BimatrixGame) and np.array_equal(self.A, other.A) and np.array_equal(self.B, other.B)

    def __hash__(self):
        return hash((self.A.tobytes(), self.B.tobytes()))

    @property
    def is_symmetric(self) -> bool:
        return bool(np.array_equal(self.A, self.B.T))

    def payoff_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Payoffs of X and Y over X's states (CC, CD, DC, DD)."""
        return self.A.reshape(4).copy(), self.B.reshape(4).copy()

    def bimatrix(self) -> "BimatrixGame":
        return self

    def to_matrix_game(self) -> MatrixGame:
        """The symmetric form; raises if the game is not symmetric."""
        if not self.is_symmetric:
            raise ValueError(f"game {self.name!r} is not symmetric (B != A.T); it has no (R, S, T, P) form")
        (R, S), (T, P) = self.A
        return MatrixGame(R, S, T, P, name=self.name)


Game = Union[MatrixGame, BimatrixGame]


def check_game(game) -> Game:
    """Return ``game`` if it is a game object, else raise a TypeError naming what was passed."""
    if not isinstance(game, (MatrixGame, BimatrixGame)):
        raise TypeError(f"expected a MatrixGame or BimatrixGame, got {type(game).__name__}: {game!r}")
    return game


def resolve(game: Game | None) -> Game:
    """The game to use where a function takes ``game=None``: the paper's IPD by default,
    else ``game`` itself once checked (:func:`check_game`)."""
    return ipd() if game is None else check_game(game)


def as_symmetric(game: Game | None) -> MatrixGame:
    """``game`` (default: the paper's IPD) as a symmetric :class:`MatrixGame`; a bimatrix game
    must be symmetric to convert."""
    game = resolve(game)
    return game if isinstance(game, MatrixGame) else game.to_matrix_game()


# -- presets -------------------------------------------------------------------------------
def donation_game(benefit: float = 2.0, cost: float = 1.0) -> MatrixGame:
    """Donation game: cooperating costs ``cost`` and gives ``benefit`` to the other player.

    Per-round reward ``r_i = benefit * c_j - cost * c_i``; ``benefit > cost > 0`` makes it a
    prisoner's dilemma.
    """
    b = check_finite_number(benefit, "benefit")
    c = check_finite_number(cost, "cost")
    return MatrixGame(R=b - c, S=-c, T=b, P=0.0, name=f"donation(b={b:g}, c={c:g})")


def ipd() -> MatrixGame:
    """The paper's prisoner's dilemma, R=1, S=-1, T=2, P=0 (the donation game b=2, c=1)."""
    return MatrixGame(R=1.0, S=-1.0, T=2.0, P=0.0, name="ipd")


def classic_pd() -> MatrixGame:
    """Axelrod's prisoner's dilemma, (R, S, T, P) = (3, 0, 5, 1)."""
    return MatrixGame(R=3.0, S=0.0, T=5.0, P=1.0, name="classic_pd")


def stag_hunt() -> MatrixGame:
    """Stag hunt (R > T > P > S): two pure equilibria, coordination on trust."""
    return MatrixGame(R=4.0, S=1.0, T=3.0, P=2.0, name="stag_hunt")


def chicken() -> MatrixGame:
    """Chicken / snowdrift (T > R > S > P): anti-coordination, two asymmetric pure equilibria."""
    return MatrixGame(R=3.0, S=1.0, T=4.0, P=0.0, name="chicken")


def harmony() -> MatrixGame:
    """Harmony (R > T, S > P): cooperation dominates, no dilemma at all."""
    return MatrixGame(R=3.0, S=2.0, T=1.0, P=0.0, name="harmony")


def matching_pennies() -> BimatrixGame:
    """Zero-sum matching pennies: X wins when the actions match, Y when they differ."""
    a = np.array([[1.0, -1.0], [-1.0, 1.0]])
    return BimatrixGame(a, -a, name="matching_pennies")


PRESETS = {
    "ipd": ipd,
    "classic_pd": classic_pd,
    "stag_hunt": stag_hunt,
    "chicken": chicken,
    "harmony": harmony,
    "matching_pennies": matching_pennies,
}


def get(name: str) -> Game:
    """A preset game by name (see ``PRESETS``)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(f"unknown game {name!r}; choose one of {sorted(PRESETS)}") from None


# -- classification ------------------------------------------------------------------------
def is_prisoners_dilemma(game: MatrixGame) -> bool:
    """``T > R > P > S`` and ``2R > T + S`` (mutual cooperation beats taking turns)."""
    g = as_symmetric(game)
    return bool(g.T > g.R > g.P > g.S and 2 * g.R > g.T + g.S)


def is_social_dilemma(game: MatrixGame) -> bool:
    """Macy & Flache's conditions: mutual cooperation beats mutual defection (R > P) and being
    exploited (R > S), beats alternating (2R > T + S), and at least one of greed (T > R) or fear
    (P > S) pulls towards defection. Prisoner's dilemma, stag hunt and chicken qualify; harmony
    does not."""
    g = as_symmetric(game)
    return bool(g.R > g.P and g.R > g.S and 2 * g.R > g.T + g.S and (g.T > g.R or g.P > g.S))


def dilemma_tensions(game: MatrixGame) -> dict[str, float]:
    """Greed ``T - R`` and fear ``P - S``: positive values pull a player towards defection."""
    g = as_symmetric(game)
    return {"greed": g.T - g.R, "fear": g.P - g.S}


# -- converters to and from other conventions ------------------------------------------------
def to_cost_matrix(game: MatrixGame) -> np.ndarray:
    """Row player's costs ``-payoff[own, other]``, the sign convention of the LOLA code bases
    (the LOLA IPD is the cost matrix ``[[1, 3], [0, 2]]``)."""
    return -as_symmetric(game).payoff_table()


def from_cost_matrix(costs, name: str = "from_costs") -> MatrixGame:
    """Inverse of :func:`to_cost_matrix`."""
    c = _table(costs, "costs")
    return MatrixGame(R=-c[0, 0], S=-c[0, 1], T=-c[1, 0], P=-c[1, 1], name=name)


def lola_ipd() -> MatrixGame:
    """The IPD of Foerster et al. (2018), payoffs (R, S, T, P) = (-1, -3, 0, -2); the paper's IPD
    is this game shifted by +2."""
    return MatrixGame(R=-1.0, S=-3.0, T=0.0, P=-2.0, name="lola_ipd")


def to_openspiel_payoff_table(game: MatrixGame) -> np.ndarray:
    """OpenSpiel's ``_PAYOFF[own_action][other_action]`` table (COOPERATE=0, DEFECT=1); its IPD is
    ``[[5, 0], [10, 1]]``, i.e. (R, S, T, P) = (5, 0, 10, 1)."""
    return as_symmetric(game).payoff_table()


def from_openspiel_payoff_table(table, name: str = "from_openspiel") -> MatrixGame:
    """Inverse of :func:`to_openspiel_payoff_table`."""
    t = _table(table, "table")
    return MatrixGame(R=t[0, 0], S=t[0, 1], T=t[1, 0], P=t[1, 1], name=name)


def openspiel_ipd() -> MatrixGame:
    """OpenSpiel's python_iterated_prisoners_dilemma payoffs, (R, S, T, P) = (5, 0, 10, 1)."""
    return from_openspiel_payoff_table([[5.0, 0.0], [10.0, 1.0]], name="openspiel_ipd")


def to_bimatrix_array(game: Game) -> np.ndarray:
    """``out[x_action, y_action] = (payoff_X, payoff_Y)``, shape (2, 2, 2)."""
    g = check_game(game).bimatrix()
    return np.stack([g.A, g.B], axis=-1)


def from_bimatrix_array(array, name: str = "from_array") -> Game:
    """Inverse of :func:`to_bimatrix_array`; returns a MatrixGame when the game is symmetric."""
    arr = np.asarray(array, dtype=float)
    if arr.shape != (2, 2, 2):
        raise ValueError(f"a bimatrix array must have shape (2, 2, 2), got {arr.shape}")
    g = BimatrixGame(arr[..., 0], arr[..., 1], name=name)
    return g.to_matrix_game() if g.is_symmetric else g


def _table(table, name: str) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    if t.shape != (2, 2):
        raise ValueError(f"{name} must be a 2x2 matrix, got shape {t.shape}")
    return t


# -- one-shot analysis: best responses, equilibria, Pareto optimality -------------------------
def best_responses(game: Game) -> tuple[np.ndarray, np.ndarray]:
    """Pure best responses of both players in the one-shot game.

    Returns boolean arrays ``(br_x, br_y)`` of shape (2, 2): ``br_x[j, i]`` is True when X's
    action ``i`` is a best response to Y playing ``j``, and ``br_y[i, j]`` is True when Y's action
    ``j`` is a best response to X playing ``i`` (0 = C, 1 = D; ties give several True entries).
    """
    g = check_game(game).bimatrix()
    br_x = g.A.T == g.A.max(axis=0)[:, None]  # rows: Y's action j, columns: X's reply i
    br_y = g.B == g.B.max(axis=1)[:, None]  # rows: X's action i, columns: Y's reply j
    return br_x, br_y


def pure_nash_equilibria(game: Game) -> list[tuple[int, int]]:
    """Action pairs ``(x_action, y_action)`` where each action is a best response to the other."""
    br_x, br_y = best_responses(game)
    return [(i, j) for i in range(2) for j in range(2) if br_x[j, i] and br_y[i, j]]


def dominant_actions(game: Game) -> tuple[int | None, int | None]:
    """Each player's strictly dominant action (better against every co-player action), or None."""
    g = check_game(game).bimatrix()
    x = next((i for i in range(2) if np.all(g.A[i] > g.A[1 - i])), None)
    y = next((j for j in range(2) if np.all(g.B[:, j] > g.B[:, 1 - j])), None)
    return x, y


def pareto_optimal_outcomes(game: Game) -> list[tuple[int, int]]:
    """Action pairs whose payoffs no other pure outcome weakly improves for both and strictly for one."""
    g = check_game(game).bimatrix()
    cells = [(i, j) for i in range(2) for j in range(2)]
    pay = {c: (g.A[c], g.B[c]) for c in cells}

    def dominated(c):
        return any(
            pay[d][0] >= pay[c][0] and pay[d][1] >= pay[c][1] and pay[d] != pay[c] for d in cells if d != c
        )

    return [c for c in cells if not dominated(c)]


def mixed_nash_equilibrium(game: Game) -> tuple[float, float] | None:
    """The fully mixed equilibrium ``(x, y)`` (each player's probability of action 0 = C) of a 2x2
    game: each player mixes so that the other is indifferent. None when no such interior point
    exists (e.g. when a player has a dominant action)."""
    g = check_game(game).bimatrix()
    A, B = g.A, g.B
    den_x = B[0, 0] - B[1, 0] - B[0, 1] + B[1, 1]  # X's mix makes Y indifferent
    den_y = A[0, 0] - A[0, 1] - A[1, 0] + A[1, 1]  # Y's mix makes X indifferent
    if den_x == 0 or den_y == 0:
        return None
    x = (B[1, 1] - B[1, 0]) / den_x
    y = (A[1, 1] - A[0, 1]) / den_y
    if not (0 < x < 1 and 0 < y < 1):
        return None
    return float(x), float(y)
