"""Learning dynamics on exact payoffs: naive learners, look-ahead LOLA, the learning-aware shaping agent
of Meulemans et al. (2025), mixed groups, and the extortion analysis of learned policies.

Policies are 5 logits of a memory-1 strategy (``sigmoid(logits)``); every learner ascends the exact,
differentiable return of :mod:`ismarl.learning.objectives` (per-round normalized by default).
"""

from ismarl.learning.configs import LolaConfig, MixedGroupConfig, NaiveConfig, ShapingConfig
from ismarl.learning.extortion import ExtortionReport, enforced_ratio, extortion_report
from ismarl.learning.lola import (
    lola_first_order_gradient,
    lola_gradient,
    lola_vs_lola,
    lola_vs_naive,
    lookahead_objective,
)
from ismarl.learning.naive import (
    Trajectory,
    co_player_gradient,
    naive_gradient,
    naive_pairs,
    naive_vs_fixed,
    naive_vs_naive,
    random_logits,
)
from ismarl.learning.objectives import Objective, logits_of, payoffs, per_round, policy
from ismarl.learning.shaping import (
    GroupRun,
    NaiveEvaluation,
    ShapingRun,
    evaluate_against_naive,
    initial_meta_logits,
    partial_gradient,
    shaping_gradient,
    shaping_objective,
    train_mixed_group,
    train_shaping,
    unroll_naive,
)

__all__ = [name for name in dir() if not name.startswith("_")]

from ismarl.learning.analysis import (  # noqa: E402
    OUTCOMES,
    classify_outcomes,
    outcome_fractions,
    reactive_flow,
    reactive_strategy,
    reactive_trajectories,
)

__all__ = [name for name in dir() if not name.startswith("_")]
