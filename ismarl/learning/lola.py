"""Look-ahead LOLA (Foerster et al. 2018): learning with opponent-learning awareness on exact payoffs.

A LOLA player X assumes the co-player Y takes ``lookahead`` naive gradient steps of size ``eta``
and climbs its own return *after* those steps, differentiating through them:

    grad_X = d/d phi_X  J_X(phi_X, phi_Y + sum_q Delta_q),
    Delta_q = eta * d/d phi_Y J_Y(phi_X, phi_Y + sum_{q' < q} Delta_q')

(the look-ahead form of COALA-PG's eq. 4). For one look-ahead step, to first order in ``eta`` this
is ``grad_X J_X + eta (grad_Y J_X)^T grad_X grad_Y J_Y + eta (grad_X grad_Y J_X) grad_Y J_Y``:
Foerster et al.'s first-order update (:func:`lola_first_order_gradient`) is the first two terms;
it drops the last, X's own gradient taken at the anticipated co-player.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ismarl.games import Game, resolve
from ismarl.learning._batch import over_batch
from ismarl.learning.configs import LolaConfig
from ismarl.learning.naive import Trajectory, _run, co_player_gradient, naive_gradient
from ismarl.learning.objectives import Objective, as_logits, other_payoff, own_payoff


def lookahead_co_player(logits_me, logits_other, game: Game, objective: Objective, lookahead: int, eta: float):
    """The co-player's logits after ``lookahead`` naive steps of size ``eta`` (a function of mine)."""

    def step(y, _):
        return y + eta * co_player_gradient(logits_me, y, game, objective), None

    y, _ = jax.lax.scan(step, logits_other, None, length=lookahead)
    return y


def lookahead_objective(logits_me, logits_other, game: Game, objective: Objective, lookahead: int, eta: float):
    """My return against the co-player after its ``lookahead`` anticipated naive steps."""
    y = lookahead_co_player(logits_me, logits_other, game, objective, lookahead, eta)
    return own_payoff(logits_me, y, game, objective)


def lola_gradient(logits_me, logits_other, game: Game, objective: Objective, lookahead: int, eta: float):
    """The look-ahead LOLA direction: the total derivative of :func:`lookahead_objective`."""
    return jax.grad(lookahead_objective)(logits_me, logits_other, game, objective, lookahead, eta)


def lola_first_order_gradient(logits_me, logits_other, game: Game, objective: Objective, eta: float):
    """Foerster et al.'s first-order LOLA: ``grad_X J_X + eta (grad_Y J_X)^T grad_X grad_Y J_Y``."""
    g_own = naive_gradient(logits_me, logits_other, game, objective)
    g_y_of_jx = jax.grad(own_payoff, argnums=1)(logits_me, logits_other, game, objective)
    _, vjp = jax.vjp(lambda x: co_player_gradient(x, logits_other, game, objective), logits_me)
    return g_own + eta * vjp(g_y_of_jx)[0]



def _lola_y_gradient(x, y, game, objective, lookahead, eta):
    """Y's LOLA direction. Y's return as a function of (phi_Y, phi_X) is ``other_payoff(x, y)``."""

    def y_objective(y_, x_):
        def step(xx, _):
            return xx + eta * naive_gradient(xx, y_, game, objective), None

        xl, _ = jax.lax.scan(step, x_, None, length=lookahead)
        return other_payoff(xl, y_, game, objective)

    return jax.grad(y_objective)(y, x)


@functools.partial(jax.jit, static_argnames=("config", "game", "opponent"))
def _lola_pair(x, y, config: LolaConfig, game: Game, opponent: str):
    obj, lr, k, eta = config.objective, config.lr, config.lookahead, config.lookahead_lr

    def step(x, y):
        gx = lola_gradient(x, y, game, obj, k, eta)
        if opponent == "lola":
            gy = _lola_y_gradient(x, y, game, obj, k, eta)
        else:
            gy = co_player_gradient(x, y, game, obj)
        return x + lr * gx, y + lr * gy

    return _run(step, x, y, config, game)


def lola_vs_naive(logits_x, logits_y, config: LolaConfig | None = None, game: Game | None = None) -> Trajectory:
    """LOLA player X against a naive learner Y (same step size ``lr``), batched over inits."""
    config = config or LolaConfig()
    game = resolve(game)
    return over_batch(lambda a, b: _lola_pair(a, b, config, game, "naive"),
                      as_logits(logits_x, "logits_x"), as_logits(logits_y, "logits_y"))


def lola_vs_lola(logits_x, logits_y, config: LolaConfig | None = None, game: Game | None = None) -> Trajectory:
    """Two LOLA players, each anticipating the other's naive look-ahead, batched over inits."""
    config = config or LolaConfig()
    game = resolve(game)
    return over_batch(lambda a, b: _lola_pair(a, b, config, game, "lola"),
                      as_logits(logits_x, "logits_x"), as_logits(logits_y, "logits_y"))
