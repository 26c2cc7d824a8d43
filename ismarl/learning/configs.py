"""Typed, frozen configurations for the learning-dynamics experiments, with presets.

Every experiment takes one of these; no magic numbers live in the training code. Each config
has ``preset(name)`` for ``"paper"``, ``"cpu"`` and ``"fast"`` (and ``for_scale()``, which reads
``ISMARL_SCALE``). The presets differ only in sizes (steps, batch, number of runs), never in the
learning rule, so a claim checked at ``fast`` is the same claim at ``cpu`` and ``paper`` scale.

Values from Meulemans et al. (2025), COALA-PG §4 and App. C, and the choices made where the paper
leaves them open (marked *choice*):

* discount ``gamma = 0.99`` (*choice*: the paper states 0.95 for its LOLA experiments and 0.999 for
  the policies of its Fig 3A; 0.99 sits between them and gives the same qualitative results);
* objective normalized per round (*choice*, see :mod:`ismarl.learning.objectives`);
* naive learning rate ``eta_naive = 10`` on the normalized return with ``M = 20`` naive steps
  (*choice*: COALA's Fig 10C uses 20 naive steps);
* meta optimizer Adam (optax), meta learning rate 0.05 (*choice*: the paper's AdamW at 0.005 needs
  ten times more steps for the same result);
* naive learners start from logits ~ N(0, 1) (*choice*).
"""

from __future__ import annotations

import dataclasses
import numbers

from ismarl._validate import check_finite_number
from ismarl.learning.objectives import Objective
from ismarl.scale import preset_name

PRESETS = ("paper", "cpu", "fast")
OPTIMIZERS = ("adam", "adamw", "sgd")


def _positive(value, name, allow_zero=False):
    v = check_finite_number(value, name)
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value!r}")
    return v


def _count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _objective(obj):
    if not isinstance(obj, Objective):
        raise TypeError(f"objective must be an Objective, got {type(obj).__name__}")
    return obj


def _check_record(steps, record_every):
    if steps % record_every:
        raise ValueError(f"steps ({steps}) must be a multiple of record_every ({record_every})")


class _Presets:
    _SIZES: dict = {}

    @classmethod
    def preset(cls, name: str = "cpu", **overrides):
        """The named preset (``paper``, ``cpu`` or ``fast``), with optional field overrides."""
        key = {"gpu": "paper", "default": "cpu"}.get(name, name)
        if key not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {PRESETS}")
        return dataclasses.replace(cls(**cls._SIZES[key]), **overrides)

    @classmethod
    def for_scale(cls, scale: str | None = None, **overrides):
        """The preset for ``ISMARL_SCALE`` (or the given scale)."""
        return cls.preset(preset_name(scale), **overrides)


@dataclasses.dataclass(frozen=True)
class NaiveConfig(_Presets):
    """Independent (naive) gradient ascent on one's own exact return.

    ``lr`` is the plain gradient-ascent step on the objective; ``alternating`` makes Y update after
    seeing X's new policy instead of at the same time; ``init_std`` is the std of the N(0, s^2)
    initial logits; ``n_runs`` the number of independent initializations in an experiment.
    """

    lr: float = 1.0
    steps: int = 2000
    alternating: bool = False
    objective: Objective = Objective(discount=0.99)
    init_std: float = 1.0
    n_runs: int = 1000
    record_every: int = 20

    _SIZES = {
        "paper": dict(steps=4000, n_runs=10_000, record_every=40),
        "cpu": dict(steps=2000, n_runs=2000, record_every=20),
        "fast": dict(steps=1000, n_runs=256, record_every=20),
    }

    def __post_init__(self):
        _positive(self.lr, "lr")
        _count(self.steps, "steps")
        _count(self.n_runs, "n_runs")
        _count(self.record_every, "record_every")
        _check_record(self.steps, self.record_every)
        _positive(self.init_std, "init_std", allow_zero=True)
        if not isinstance(self.alternating, bool):
            raise TypeError(f"alternating must be True or False, got {self.alternating!r}")
        _objective(self.objective)


@dataclasses.dataclass(frozen=True)
class LolaConfig(_Presets):
    """Look-ahead LOLA (Foerster et al. 2018) with ``lookahead`` unrolled co-player steps of size
    ``lookahead_lr`` (the LOLA-DICE form used by COALA-PG, eq. 4); ``lookahead=0`` is a naive
    learner. ``lr`` is the own gradient-ascent step."""

    lr: float = 1.0
    lookahead: int = 1
    lookahead_lr: float = 10.0
    steps: int = 2000
    objective: Objective = Objective(discount=0.99)
    init_std: float = 1.0
    n_runs: int = 256
    record_every: int = 20

    _SIZES = {
        "paper": dict(steps=4000, n_runs=1024, record_every=40),
        "cpu": dict(steps=1000, n_runs=128, record_every=20),
        "fast": dict(steps=500, n_runs=32, record_every=20),
    }

    def __post_init__(self):
        _positive(self.lr, "lr")
        _count(self.lookahead, "lookahead", minimum=0)
        _positive(self.lookahead_lr, "lookahead_lr")
        _count(self.steps, "steps")
        _count(self.n_runs, "n_runs")
        _count(self.record_every, "record_every")
        _check_record(self.steps, self.record_every)
        _positive(self.init_std, "init_std", allow_zero=True)
        _objective(self.objective)


@dataclasses.dataclass(frozen=True)
class ShapingConfig(_Presets):
    """The learning-aware (shaping, "meta") agent of COALA-PG §4.

    It maximizes ``(1/(M+1)) sum_{m=0..M} J_X(phi_X, phi_Y_m)``, where ``phi_Y_m`` are ``M =
    naive_steps`` gradient-ascent steps (size ``naive_lr``) of a naive learner started from logits
    ~ N(0, ``naive_init_std``^2), differentiating through the unrolled updates and averaging over
    ``naive_batch`` fresh naive learners per meta step. (The paper writes the sum over m; the mean
    differs by the constant M+1, which Adam ignores.) ``meta_init`` is ``"random"`` (logits ~
    N(0, ``meta_init_std``^2)) or ``"defect"`` (every entry at probability ``defect_prob``, COALA's
    "pure defection" start).
    """

    naive_lr: float = 10.0
    naive_steps: int = 20
    naive_batch: int = 8
    naive_init_std: float = 1.0
    meta_lr: float = 0.05
    meta_steps: int = 600
    optimizer: str = "adam"
    meta_init: str = "random"
    meta_init_std: float = 1.0
    defect_prob: float = 0.01
    objective: Objective = Objective(discount=0.99)
    n_seeds: int = 8
    record_every: int = 10

    _SIZES = {
        "paper": dict(meta_steps=1500, naive_batch=64, n_seeds=32, record_every=25),
        "cpu": dict(meta_steps=600, naive_batch=8, n_seeds=16, record_every=10),
        "fast": dict(meta_steps=300, naive_batch=8, n_seeds=8, record_every=10),
    }

    def __post_init__(self):
        _positive(self.naive_lr, "naive_lr")
        _count(self.naive_steps, "naive_steps", minimum=0)
        _count(self.naive_batch, "naive_batch")
        _positive(self.naive_init_std, "naive_init_std", allow_zero=True)
        _positive(self.meta_lr, "meta_lr")
        _count(self.meta_steps, "meta_steps")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.meta_init not in ("random", "defect"):
            raise ValueError(f"meta_init must be 'random' or 'defect', got {self.meta_init!r}")
        _positive(self.meta_init_std, "meta_init_std", allow_zero=True)
        d = check_finite_number(self.defect_prob, "defect_prob")
        if not 0.0 < d < 0.5:
            raise ValueError(f"defect_prob must lie in (0, 0.5), got {d}")
        _objective(self.objective)
        _count(self.n_seeds, "n_seeds")
        _count(self.record_every, "record_every")
        _check_record(self.meta_steps, self.record_every)


@dataclasses.dataclass(frozen=True)
class MixedGroupConfig(_Presets):
    """A group of ``n_meta`` learning-aware agents that meet naive learners with probability
    ``p_naive`` and each other otherwise (COALA-PG §4, Fig 3C).

    Each aware agent's update direction is ``p_naive * g_naive + (1 - p_naive) * g_aware``:
    ``g_naive`` the shaping gradient of :class:`ShapingConfig` (through ``M`` naive steps),
    ``g_aware`` the partial gradient of the same average-over-``M+1``-rounds objective against
    each other aware agent (which does not change during those rounds, so the average is just
    ``J_X``). Both terms are on the same per-round scale (*choice*, see the chapter).
    ``mixture="expected"`` uses this expectation; ``"sampled"`` draws, per agent and step, a naive
    co-player with probability ``p_naive`` (else another aware agent) and uses that gradient alone,
    like the paper's sampled meta-trajectories. ``p_naive = 0`` is the aware-only group.
    """

    shaping: ShapingConfig = ShapingConfig()
    p_naive: float = 0.75
    n_meta: int = 4
    mixture: str = "expected"
    steps: int = 1500
    n_seeds: int = 16
    record_every: int = 25

    _SIZES = {
        "paper": dict(steps=3000, n_seeds=32, record_every=50),
        "cpu": dict(steps=1500, n_seeds=16, record_every=25),
        "fast": dict(steps=1000, n_seeds=16, record_every=25),
    }

    def __post_init__(self):
        if not isinstance(self.shaping, ShapingConfig):
            raise TypeError(f"shaping must be a ShapingConfig, got {type(self.shaping).__name__}")
        p = check_finite_number(self.p_naive, "p_naive")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p_naive must be a probability in [0, 1], got {p}")
        _count(self.n_meta, "n_meta", minimum=2)
        if self.mixture not in ("expected", "sampled"):
            raise ValueError(f"mixture must be 'expected' or 'sampled', got {self.mixture!r}")
        _count(self.steps, "steps")
        _count(self.n_seeds, "n_seeds")
        _count(self.record_every, "record_every")
        _check_record(self.steps, self.record_every)
