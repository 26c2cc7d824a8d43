"""The A2C engine's hyperparameters (names as in the paper's Table 2)."""

from __future__ import annotations

import dataclasses

from ismarl._validate import check_int, check_real


@dataclasses.dataclass(frozen=True)
class A2CConfig:
    """A2C hyperparameters (names as in SPEC Table 2).

    ``advantage_norm``: ``"none"``, ``"center"`` (subtract the batch mean) or ``"standardize"``
    (also divide by the std); with ``per_coplayer_norm`` the statistics are taken separately for
    each co-player of the pool. ``entropy_coef`` decays linearly to ``entropy_coef_end`` over
    ``entropy_decay_iterations`` (0 = constant), starting at iteration ``entropy_decay_start``;
    ``learning_rate`` likewise to ``learning_rate_end`` over ``lr_decay_iterations``, starting at
    iteration ``lr_decay_start``.
    """

    learning_rate: float = 5e-3
    learning_rate_end: float | None = None
    lr_decay_iterations: int = 0
    lr_decay_start: int = 0
    gamma: float = 0.99
    gae_lambda: float = 0.99
    td_lambda: float = 0.99
    value_coef: float = 0.5
    entropy_coef: float = 0.001
    entropy_coef_end: float | None = None
    entropy_decay_iterations: int = 0
    entropy_decay_start: int = 0
    reward_scale: float = 0.2
    advantage_norm: str = "center"
    per_coplayer_norm: bool = True
    max_grad_norm: float = 1.0
    adam_eps: float = 1e-5
    scan_unroll: int = 1

    def __post_init__(self):
        if not isinstance(self.advantage_norm, str) or self.advantage_norm not in ("none", "center", "standardize"):
            raise ValueError(f"a2c.advantage_norm must be 'none', 'center' or 'standardize', got {self.advantage_norm!r}")
        if not isinstance(self.per_coplayer_norm, bool):
            raise TypeError(f"a2c.per_coplayer_norm must be true or false, got {self.per_coplayer_norm!r}")
        check_real(self.learning_rate, "a2c.learning_rate", 0.0, low_open=True)
        check_real(self.learning_rate_end, "a2c.learning_rate_end", 0.0, optional=True)
        for name in ("gamma", "gae_lambda", "td_lambda"):
            check_real(getattr(self, name), f"a2c.{name}", 0.0, 1.0)
        for name in ("value_coef", "entropy_coef"):
            check_real(getattr(self, name), f"a2c.{name}", 0.0)
        check_real(self.entropy_coef_end, "a2c.entropy_coef_end", 0.0, optional=True)
        for name in ("reward_scale", "max_grad_norm"):
            check_real(getattr(self, name), f"a2c.{name}", 0.0, low_open=True)
        check_real(self.adam_eps, "a2c.adam_eps", 0.0)  # 0 is plain Adam (exact step sizes, as in the tests)
        for name in ("entropy_decay_iterations", "entropy_decay_start", "lr_decay_iterations", "lr_decay_start"):
            check_int(getattr(self, name), f"a2c.{name}", minimum=0)
        check_int(self.scan_unroll, "a2c.scan_unroll", minimum=1)
