"""Is a learned policy extortion? Fit the Press–Dyson family and measure the enforced ratio."""

from __future__ import annotations

import dataclasses

import numpy as np

from ismarl.games import Game, resolve
from ismarl.strategies import fit_zd, zd_extortion, zd_phi_range


@dataclasses.dataclass(frozen=True)
class ExtortionReport:
    """``chi``, ``phi``, ``sse`` from :func:`ismarl.strategies.fit_zd` (per policy) plus the root
    mean square residual per entry ``rms`` and the fitted ZD strategy ``zd`` (NaN where invalid)."""

    chi: np.ndarray
    phi: np.ndarray
    sse: np.ndarray
    rms: np.ndarray
    valid: np.ndarray
    zd: np.ndarray


def extortion_report(strategy, game: Game | None = None) -> ExtortionReport:
    """Fit ``(chi, phi)`` of the extortion family to one or many strategies ``[..., 5]``."""
    game = resolve(game)
    s = np.asarray(strategy, dtype=float)
    fit = fit_zd(s, game)
    zd = np.full(s.shape, np.nan)
    flat_s, flat_zd = s.reshape(-1, 5), zd.reshape(-1, 5)
    chis, phis, valid = np.ravel(fit.chi), np.ravel(fit.phi), np.ravel(fit.valid)
    for i in range(flat_s.shape[0]):
        if valid[i] and chis[i] >= 1:
            try:
                flat_zd[i] = np.asarray(zd_extortion(game, chis[i], min(phis[i], _phi_max(game, chis[i])),
                                                     p0=flat_s[i, 0]))
            except ValueError:
                pass
    return ExtortionReport(fit.chi, fit.phi, fit.sse, np.sqrt(fit.sse / 4), fit.valid, flat_zd.reshape(s.shape))


def _phi_max(game, chi):
    return zd_phi_range(game, chi)[1]


def enforced_ratio(payoff_x, payoff_y, game: Game | None = None):
    """``(s_X - P) / (s_Y - P)``: the slope an extortioner enforces (chi for a ZD strategy)."""
    game = resolve(game)
    return (np.asarray(payoff_x) - game.P) / (np.asarray(payoff_y) - game.P)
