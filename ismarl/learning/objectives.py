"""The learners' objective: exact per-round payoffs of two memory-1 policies given as logits.

A policy is 5 logits ``phi``; its memory-1 strategy is ``sigmoid(phi)`` (layout
``[p0, pCC, pCD, pDC, pDD]``, see :mod:`ismarl.conventions`). Every learning rule in
:mod:`ismarl.learning` ascends the objective defined here.

**Normalization convention.** By default the objective is the *normalized* per-round return:
``(1-g) * sum_t g^t r_t`` for a discount ``g`` (``Objective(discount=g)``), or the average over
``T`` rounds (``Objective(horizon=T)``), both in payoff units (between S and T). Learning rates are
therefore per unit of per-round payoff. With ``normalized=False`` the objective is the raw
discounted (or summed) return, ``1/(1-g)`` (or ``T``) times larger, as in COALA-PG's eq. 16: a
learning rate ``eta`` there equals a learning rate ``eta/(1-g)`` here, which is why results
quoted with "the same" learning rate can differ so much between papers.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_discount, check_positive_int
from ismarl.analytic import expected_payoffs
from ismarl.games import Game, check_game


@dataclasses.dataclass(frozen=True)
class Objective:
    """Which return a learner maximizes.

    * ``discount=g`` (default 0.99), ``horizon=None``: infinitely repeated game, discounted;
    * ``horizon=T`` (``discount`` may also be set): ``T`` rounds, optionally discounted;
    * ``normalized``: per-round scale (True, default) or raw sum of (discounted) rewards.
    """

    discount: float | None = 0.99
    horizon: int | None = None
    normalized: bool = True

    def __post_init__(self):
        if self.discount is None and self.horizon is None:
            raise ValueError("Objective needs a discount in (0, 1), a horizon, or both")
        if self.discount is not None:
            object.__setattr__(self, "discount", check_discount(self.discount, "discount"))
        if self.horizon is not None:
            object.__setattr__(self, "horizon", check_positive_int(self.horizon, "horizon"))
        if not isinstance(self.normalized, bool):
            raise TypeError(f"normalized must be True or False, got {self.normalized!r}")

    @property
    def scale(self) -> float:
        """Factor from the normalized per-round return to this objective."""
        if self.normalized:
            return 1.0
        g = 1.0 if self.discount is None else self.discount
        if self.horizon is None:
            return 1.0 / (1.0 - g)
        return float(np.sum(g ** np.arange(self.horizon)))

    def describe(self) -> str:
        parts = []
        if self.horizon is not None:
            parts.append(f"T={self.horizon} rounds")
        if self.discount is not None:
            parts.append(f"discount {self.discount:g}")
        parts.append("per-round (normalized)" if self.normalized else "raw sum")
        return ", ".join(parts)


def policy(logits) -> jnp.ndarray:
    """Memory-1 strategy ``sigmoid(logits)``."""
    return jax.nn.sigmoid(jnp.asarray(logits))


def logits_of(strategy, eps: float = 1e-6) -> jnp.ndarray:
    """Logits of a strategy, clipped away from 0 and 1 (a pure strategy has infinite logits)."""
    p = jnp.clip(jnp.asarray(strategy, dtype=jnp.result_type(float)), eps, 1 - eps)
    return jnp.log(p) - jnp.log1p(-p)


def payoffs(logits_x, logits_y, game: Game, objective: Objective):
    """``(J_X, J_Y)`` of the policies ``sigmoid(logits_x)`` and ``sigmoid(logits_y)`` (each
    from its own side), in the objective's units. Batched by broadcasting; differentiable."""
    jx, jy = expected_payoffs(
        policy(logits_x), policy(logits_y), game, horizon=objective.horizon, discount=objective.discount
    )
    s = objective.scale
    return s * jx, s * jy


def per_round(logits_x, logits_y, game: Game, objective: Objective):
    """Normalized per-round payoffs ``(x, y)`` under the objective's discount/horizon (for reporting)."""
    return expected_payoffs(policy(logits_x), policy(logits_y), game, horizon=objective.horizon,
                            discount=objective.discount)


def own_payoff(logits_me, logits_other, game: Game, objective: Objective):
    """The payoff of the player holding ``logits_me`` (X's view; symmetric or not)."""
    return payoffs(logits_me, logits_other, game, objective)[0]


def other_payoff(logits_me, logits_other, game: Game, objective: Objective):
    """The payoff of the co-player when I hold ``logits_me`` (Y's return with me as X)."""
    return payoffs(logits_me, logits_other, game, objective)[1]


def as_logits(x, name: str) -> jnp.ndarray:
    """Validate a batch of policies given as logits: finite floats with a trailing axis of 5."""
    arr = jnp.asarray(x)
    if arr.ndim == 0 or arr.shape[-1] != 5:
        raise ValueError(f"{name} must be logits with a trailing axis of length 5, got shape {arr.shape}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if not isinstance(arr, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(arr))):
        raise ValueError(f"{name} contains NaN or infinite logits")
    return arr


def check_game_is_valid(game: Game) -> Game:
    return check_game(game)
