"""The A2C engine's hyperparameters (names as in the paper's Table 2)."""

from __future__ import annotations

import dataclasses

from ismarl._validate import check_int, check_real
from ismarl.engines.schedule import Schedule


@dataclasses.dataclass(frozen=True)
class A2CConfig:
    """A2C hyperparameters (names as in SPEC Table 2).

    ``advantage_norm``: ``"none"``, ``"center"`` (subtract the batch mean) or ``"standardize"``
    (also divide by the std); with ``per_coplayer_norm`` the statistics are taken separately for
    each co-player of the pool. ``learning_rate`` and ``entropy_coef`` are
    :class:`~ismarl.engines.schedule.Schedule` values over iterations (a number is a constant).
    """

    learning_rate: Schedule = Schedule(5e-3)
    gamma: float = 0.99
    gae_lambda: float = 0.99
    td_lambda: float = 0.99
    value_coef: float = 0.5
    entropy_coef: Schedule = Schedule(0.001)
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
        for name, low_open in (("learning_rate", True), ("entropy_coef", False)):
            schedule = Schedule.of(getattr(self, name), f"a2c.{name}")
            object.__setattr__(self, name, schedule)
            check_real(schedule.start, f"a2c.{name}", 0.0, low_open=low_open)
            check_real(schedule.end, f"a2c.{name}.end", 0.0, optional=True)
        for name in ("gamma", "gae_lambda", "td_lambda"):
            check_real(getattr(self, name), f"a2c.{name}", 0.0, 1.0)
        check_real(self.value_coef, "a2c.value_coef", 0.0)
        for name in ("reward_scale", "max_grad_norm"):
            check_real(getattr(self, name), f"a2c.{name}", 0.0, low_open=True)
        check_real(self.adam_eps, "a2c.adam_eps", 0.0)  # 0 is plain Adam (exact step sizes, as in the tests)
        check_int(self.scan_unroll, "a2c.scan_unroll", minimum=1)
