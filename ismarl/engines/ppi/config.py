"""The PPI engine's settings (SPEC §4; the paper's values are the ``paper`` preset of each PPI
experiment in :mod:`ismarl.experiments.presets`).

One training *iteration* of the PPI engine is one *phase*: fit the sequence model on every episode
collected so far (D0 included), then collect ``batch_size`` new episodes per learner with the
improved policy and add them to the learner's dataset. The model's sizes are the experiment's
``network`` section (``hidden``, ``embed``).
"""

from __future__ import annotations

import dataclasses

from ismarl._validate import check_int, check_real

#: How D0 is made: both sides U(0, 1)^5 tabular agents, or both playing C and D at random (each
#: round a fair coin; the no-tabular ablation's pretraining).
PRETRAIN_KINDS = ("tabular", "random_actions")
#: Which policy collects a phase's episodes: the improved policy π (the paper's text) or the
#: model's prior p_φ (its Algorithm 1).
COLLECT_KINDS = ("pi", "prior")
#: What a rolled-out round counts as its reward: the payoff of the drawn outcome, or its expectation
#: under the model's co-player prediction (:mod:`ismarl.agents.ppi_policy`; same mean, less noise).
ROLLOUT_REWARDS = ("sampled", "expected")
#: Fields added after runs were shipped: hashed only when set away from their default, so that a
#: shipped run's checkpoint keeps matching its config (and ``--resume`` keeps working).
HASHED_WHEN_SET = {"rollout_reward": "sampled"}


@dataclasses.dataclass(frozen=True)
class PPIConfig:
    """PPI hyperparameters.

    Improvement step: ``beta`` (inverse temperature of ``π ∝ p_φ exp(β Q̂)``), ``k`` rollouts of
    ``rollout_horizon`` rounds in the model, ``q`` ``"mean"`` (per-round) or ``"sum"`` returns,
    round ``i`` weighted ``discount**i``, each rolled-out round's reward ``rollout_reward``
    (``"sampled"``: the drawn outcome's payoff; ``"expected"``: its expectation under the model's
    co-player prediction, the same Q̂ in expectation with less noise); ``collect`` names the policy that plays a phase's
    episodes (``"pi"`` or ``"prior"``).

    Fitting: ``pretrain_episodes`` episodes of D0 (``pretrain``: ``"tabular"`` or
    ``"random_actions"``); each phase fits ``epochs`` passes over the data so far (at most
    ``max_fit_steps`` steps; 0 = no cap) with AdamW (``learning_rate``, ``weight_decay``, β 0.9 /
    0.98, clip 1) on minibatches of ``fit_batch`` episodes drawn with replacement, starting from
    fresh parameters (``reinit``, the paper's choice) or from the previous phase's model.

    ``heldout_episodes`` episodes of D0's kind, never trained on, measure each phase's model
    against the exact Bayes-optimal co-player prediction (the ``inference_gap`` metric).
    """

    beta: float = 100.0
    q: str = "mean"
    k: int = 8
    rollout_horizon: int = 15
    discount: float = 1.0
    rollout_reward: str = "sampled"
    collect: str = "pi"
    pretrain_episodes: int = 200_000
    pretrain: str = "tabular"
    epochs: float = 10.0
    max_fit_steps: int = 0
    fit_batch: int = 256
    learning_rate: float = 1e-4
    weight_decay: float = 1e-2
    reinit: bool = True
    finetune_steps: int = 0
    finetune_learning_rate: float = 0.0
    heldout_episodes: int = 256

    def __post_init__(self):
        check_real(self.beta, "ppi.beta", 0.0)
        if self.q not in ("mean", "sum"):
            raise ValueError(f"ppi.q must be 'mean' or 'sum', got {self.q!r}")
        for name in ("k", "rollout_horizon", "pretrain_episodes", "fit_batch", "heldout_episodes"):
            check_int(getattr(self, name), f"ppi.{name}", minimum=1)
        check_int(self.max_fit_steps, "ppi.max_fit_steps", minimum=0)
        check_int(self.finetune_steps, "ppi.finetune_steps", minimum=0)
        check_real(self.discount, "ppi.discount", 0.0, 1.0)
        if self.rollout_reward not in ROLLOUT_REWARDS:
            raise ValueError(f"ppi.rollout_reward must be one of {ROLLOUT_REWARDS}, got {self.rollout_reward!r}")
        if self.collect not in COLLECT_KINDS:
            raise ValueError(f"ppi.collect must be one of {COLLECT_KINDS}, got {self.collect!r}")
        if self.pretrain not in PRETRAIN_KINDS:
            raise ValueError(f"ppi.pretrain must be one of {PRETRAIN_KINDS}, got {self.pretrain!r}")
        check_real(self.epochs, "ppi.epochs", 0.0)
        check_real(self.learning_rate, "ppi.learning_rate", 0.0, low_open=True)
        check_real(self.finetune_learning_rate, "ppi.finetune_learning_rate", 0.0)
        check_real(self.weight_decay, "ppi.weight_decay", 0.0)
        if not isinstance(self.reinit, bool):
            raise TypeError(f"ppi.reinit must be true or false, got {self.reinit!r}")
