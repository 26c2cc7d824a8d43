"""Memory-1 strategies ``[p0, pCC, pCD, pDC, pDD]``: named strategies, random sampling and the
Press–Dyson zero-determinant (ZD) families, with a least-squares fit back to (chi, phi).

Conventions are those of :mod:`ismarl.conventions`: entry ``k`` is the probability of
cooperating after observation ``k`` (Start, CC, CD, DC, DD), own action first.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_finite_number, check_probabilities
from ismarl.conventions import STRATEGY_LENGTH, SWAP_PERSPECTIVE
from ismarl.games import MatrixGame, as_symmetric


# -- named strategies --------------------------------------------------------------------------
def _gtft_generosity(game: MatrixGame) -> float:
    """Nowak & Sigmund's generosity: forgive a defection with this probability."""
    return float(min(1 - (game.T - game.R) / (game.R - game.S), (game.R - game.P) / (game.T - game.P)))


_FIXED = {
    "allc": ([1, 1, 1, 1, 1], "Always cooperate."),
    "alld": ([0, 0, 0, 0, 0], "Always defect."),
    "tft": ([1, 1, 0, 1, 0], "Tit-for-tat: cooperate first, then copy the co-player's last move."),
    "stft": ([0, 1, 0, 1, 0], "Suspicious tit-for-tat: defect first, then copy."),
    "wsls": ([1, 1, 0, 0, 1], "Win-stay lose-shift (Pavlov): repeat after R or T, switch after S or P."),
    "grim": ([1, 1, 0, 0, 0], "Grim trigger (memory-1): cooperate until anyone defects."),
    "random": ([0.5] * 5, "Uniformly random: cooperate with probability 1/2 everywhere."),
    "alternator": ([1, 0, 0, 1, 1], "Alternate C and D whatever the co-player does."),
}

NAMED_STRATEGIES: tuple[str, ...] = tuple(sorted([*_FIXED, "gtft"]))


def named(name: str, game: MatrixGame | None = None) -> jnp.ndarray:
    """A named memory-1 strategy as a float array of shape (5,).

    ``gtft`` (generous tit-for-tat) depends on the game (default: the paper's IPD), where its
    forgiveness is ``min(1 - (T-R)/(R-S), (R-P)/(T-P))`` (1/2 on the paper's IPD).
    """
    key = name.lower()
    if key in _FIXED:
        return jnp.asarray(_FIXED[key][0], dtype=float)
    if key == "gtft":
        g = as_symmetric(game)
        gen = _gtft_generosity(g)
        if not 0.0 <= gen <= 1.0:
            raise ValueError(f"generous TFT is not defined for {g!r}: generosity {gen:.3g} is not a probability")
        return jnp.asarray([1, 1, gen, 1, gen], dtype=float)
    raise ValueError(f"unknown strategy {name!r}; choose one of {list(NAMED_STRATEGIES)}")


def describe(name: str) -> str:
    """One-line description of a named strategy."""
    key = name.lower()
    if key == "gtft":
        return "Generous tit-for-tat: like TFT, but forgive a defection with a game-dependent probability."
    if key not in _FIXED:
        raise ValueError(f"unknown strategy {name!r}; choose one of {list(NAMED_STRATEGIES)}")
    return _FIXED[key][1]


def sample_uniform(key: jax.Array, shape: tuple[int, ...] = ()) -> jnp.ndarray:
    """Random tabular memory-1 agents: every entry i.i.d. U(0, 1); output shape ``shape + (5,)``."""
    return jax.random.uniform(key, tuple(shape) + (STRATEGY_LENGTH,))


def as_strategy(p, name: str = "strategy") -> jnp.ndarray:
    """Validate and convert to a float array with a trailing axis of 5 probabilities."""
    check_probabilities(p, name, last_dim=STRATEGY_LENGTH)
    return jnp.asarray(p, dtype=jnp.result_type(float))


def swap_perspective(p):
    """Re-index a strategy (or any per-observation array) from one player's side to the other's."""
    return jnp.asarray(p)[..., SWAP_PERSPECTIVE]


def log_probs(p, eps: float = 1e-6) -> jnp.ndarray:
    """The ten numbers ``log pi(a | o)`` for o in (Start, CC, CD, DC, DD) and a in (C, D),
    laid out ``[o0:C, o0:D, o1:C, ...]``; the opponent-ID vector of the paper's ablation."""
    p = jnp.clip(jnp.asarray(p), eps, 1 - eps)
    return jnp.stack([jnp.log(p), jnp.log1p(-p)], axis=-1).reshape(p.shape[:-1] + (2 * STRATEGY_LENGTH,))


# -- zero-determinant strategies ---------------------------------------------------------------
# Each ZD family is affine in its scale parameter: entries (pCC, pCD, pDC, pDD) = base + phi * slope.
# The admissible phi are those that keep every entry in [0, 1]; the default is the largest one.


def _phi_interval(base: np.ndarray, slope: np.ndarray) -> tuple[float, float]:
    """Largest interval (lo, hi) with lo >= 0 such that base + phi*slope lies in [0, 1]."""
    lo, hi = 0.0, np.inf
    for b, s in zip(base, slope):
        if s > 0:
            lo, hi = max(lo, (0.0 - b) / s), min(hi, (1.0 - b) / s)
        elif s < 0:
            lo, hi = max(lo, (1.0 - b) / s), min(hi, (0.0 - b) / s)
        elif not (0.0 <= b <= 1.0):
            return 1.0, 0.0
    return lo, hi


def _zd_from_line(base, slope, phi, p0, family: str, detail: str) -> jnp.ndarray:
    base, slope = np.asarray(base, float), np.asarray(slope, float)
    lo, hi = _phi_interval(base, slope)
    if not (np.isfinite(hi) and hi > 0 and hi >= lo):
        raise ValueError(f"no admissible {family} strategy exists for {detail}")
    if phi is None:
        phi = hi
    phi = check_finite_number(phi, "phi")
    tol = 1e-12 * max(1.0, hi)
    if phi <= 0 or phi < lo - tol or phi > hi + tol:
        raise ValueError(
            f"phi={phi:.6g} is not admissible for the {family} strategy with {detail}: "
            f"it must lie in ({max(lo, 0.0):.6g}, {hi:.6g}] so that every entry is a probability"
        )
    entries = np.clip(base + phi * slope, 0.0, 1.0)
    if p0 is None:
        p0 = entries[0]
    p0 = check_finite_number(p0, "p0")
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be a probability, got {p0}")
    return jnp.asarray(np.concatenate([[p0], entries]), dtype=float)


def zd_phi_range(game: MatrixGame, chi: float, kind: str = "extortion") -> tuple[float, float]:
    """Admissible ``(phi_min, phi_max)`` for :func:`zd_extortion` (``kind="extortion"``) or
    :func:`zd_generous` (``kind="generous"``)."""
    base, slope = {"extortion": _extortion_line, "generous": _generous_line}[kind](as_symmetric(game), chi)
    return _phi_interval(base, slope)


def _extortion_line(g: MatrixGame, chi: float):
    chi = check_finite_number(chi, "chi")
    if chi < 1:
        raise ValueError(f"extortion needs chi >= 1 (chi = 1 is fair, tit-for-tat-like), got chi={chi}")
    if not g.P > g.S:
        raise ValueError(f"extortion needs P > S (fear), got P={g.P:g}, S={g.S:g} in {g!r}")
    a = (g.R - g.P) / (g.P - g.S)
    b = (g.T - g.P) / (g.P - g.S)
    base = np.array([1.0, 1.0, 0.0, 0.0])
    slope = np.array([-(chi - 1) * a, -(1 + chi * b), chi + b, 0.0])
    return base, slope


def zd_extortion(game: MatrixGame | None = None, chi: float = 3.0, phi: float | None = None, p0: float | None = None):
    """Press–Dyson extortionate strategy enforcing ``s_X - P = chi * (s_Y - P)`` against any co-player.

    ``pCC = 1 - phi (chi-1) (R-P)/(P-S)``, ``pCD = 1 - phi (1 + chi (T-P)/(P-S))``,
    ``pDC = phi (chi + (T-P)/(P-S))``, ``pDD = 0`` (the scaling of COALA-PG's eq. 18).

    ``phi`` defaults to the largest admissible value (on the paper's IPD ``1/(1+2 chi)``, giving
    TFT for ``chi = 1`` and ``(5/7, 0, 5/7, 0)`` for ``chi = 3``). The opening move ``p0`` only
    matters for finite horizons; it defaults to ``pCC``, i.e. the strategy opens as if the last
    round had been mutual cooperation (so ``chi = 1`` is exactly TFT).
    """
    g = as_symmetric(game)
    base, slope = _extortion_line(g, chi)
    return _zd_from_line(base, slope, phi, p0, "extortionate", f"chi={chi:g} in {g!r}")


def _generous_line(g: MatrixGame, chi: float):
    chi = check_finite_number(chi, "chi")
    if chi < 1:
        raise ValueError(f"a generous ZD strategy needs chi >= 1, got chi={chi}")
    base = np.array([1.0, 1.0, 0.0, 0.0])
    slope = np.array([0.0, (g.S - g.R) - chi * (g.T - g.R), (g.T - g.R) - chi * (g.S - g.R), (chi - 1) * (g.R - g.P)])
    return base, slope


def zd_generous(game: MatrixGame | None = None, chi: float = 2.0, phi: float | None = None, p0: float = 1.0):
    """Generous ZD strategy (Stewart & Plotkin) enforcing ``s_X - R = chi * (s_Y - R)``: it never
    earns more than its co-player, and both earn R under mutual cooperation. ``phi`` is the raw
    Press–Dyson scale, defaulting to the largest admissible value."""
    g = as_symmetric(game)
    base, slope = _generous_line(g, chi)
    return _zd_from_line(base, slope, phi, p0, "generous", f"chi={chi:g} in {g!r}")


def zd_equalizer(game: MatrixGame | None = None, target: float | None = None, phi: float | None = None, p0: float = 1.0):
    """Equalizer ZD strategy fixing the co-player's long-run payoff at ``target`` (in [P, R]),
    whatever the co-player does. ``target`` defaults to the midpoint ``(R + P) / 2``."""
    g = as_symmetric(game)
    if target is None:
        target = (g.R + g.P) / 2
    v = check_finite_number(target, "target")
    if not g.P <= v <= g.R:
        raise ValueError(f"an equalizer can only fix the co-player's payoff within [P, R] = [{g.P:g}, {g.R:g}], got {v:g}")
    # p~ = -phi * (r_Y - v) with r_Y over X's states = (R, T, S, P).
    base = np.array([1.0, 1.0, 0.0, 0.0])
    slope = -np.array([g.R - v, g.T - v, g.S - v, g.P - v])
    return _zd_from_line(base, slope, phi, p0, "equalizer", f"target={v:g} in {g!r}")


@dataclasses.dataclass(frozen=True)
class ZDFit:
    """Least-squares fit of a strategy to the extortion family (arrays for batched input).

    ``chi`` and ``phi`` are the fitted parameters, ``sse`` the sum of squared residuals over the
    four state entries (the opening move is not part of the family), and ``valid`` is False where
    the fitted ``phi <= 0`` (no member of the family points the same way; ``chi`` is then NaN).
    """

    chi: np.ndarray
    phi: np.ndarray
    sse: np.ndarray
    valid: np.ndarray

    def __repr__(self):
        return f"ZDFit(chi={self.chi}, phi={self.phi}, sse={self.sse}, valid={self.valid})"


def fit_zd(strategy, game: MatrixGame | None = None) -> ZDFit:
    """Fit ``(chi, phi)`` of :func:`zd_extortion` to one or many strategies by least squares.

    With ``u = phi`` and ``v = phi * chi`` the family is linear:
    ``pCC = 1 + a (u - v)``, ``pCD = 1 - u - b v``, ``pDC = b u + v``, ``pDD = 0`` with
    ``a = (R-P)/(P-S)``, ``b = (T-P)/(P-S)``, so the fit is an exact linear least-squares solve.
    """
    g = as_symmetric(game)
    if not g.P > g.S:
        raise ValueError(f"the extortion family needs P > S, got {g!r}")
    s = np.asarray(check_probabilities(strategy, "strategy", last_dim=STRATEGY_LENGTH), dtype=float)
    a = (g.R - g.P) / (g.P - g.S)
    b = (g.T - g.P) / (g.P - g.S)
    # entries - offset = X @ [u, v]
    X = np.array([[a, -a], [-1.0, -b], [b, 1.0], [0.0, 0.0]])
    offset = np.array([1.0, 1.0, 0.0, 0.0])
    y = s[..., 1:] - offset
    coef = y @ X @ np.linalg.inv(X.T @ X)  # (..., 2); X has full column rank for any PD-like game
    resid = y - coef @ X.T
    u, v = coef[..., 0], coef[..., 1]
    valid = u > 1e-12
    chi = np.where(valid, v / np.where(valid, u, 1.0), np.nan)
    return ZDFit(chi=chi, phi=u, sse=np.sum(resid**2, axis=-1), valid=valid)
