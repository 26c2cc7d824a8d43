"""Typed experiment configs: learners, their co-player pools, the network and the A2C settings.

An experiment is an :class:`ExperimentConfig`: ``n_learners`` networks trained at the same time,
each with its own pool of co-players (:mod:`ismarl.pools` specs with mixing weights), e.g.

* Step 1: one learner, pool ``(("random", 1.0),)``;
* Step 2: one learner against a frozen Step-1 agent: ``(("frozen:0", 1.0),)`` with
  ``frozen=("results/step1",)``;
* Step 3: two learners initialized from checkpoints (``init_from``), pools ``learner:1`` / ``learner:0``;
* Step 4: two learners, pools ``(("learner:1", .5), ("random", .5))`` and
  ``(("learner:0", .5), ("random", .5))``; the opponent-ID ablation sets ``network.use_z``,
  the no-tabular ablation drops ``random``.

A learner-vs-learner pairing is played once per iteration and trains both sides (the episodes
count towards both learners' batches). Presets per step: ``paper`` (SPEC Table 2), ``cpu``
(minutes on a 2-core CPU) and ``fast`` (CI smoke), via :func:`get_config`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ismarl.agents import NetworkConfig


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
        if self.advantage_norm not in ("none", "center", "standardize"):
            raise ValueError(f"advantage_norm must be 'none', 'center' or 'standardize', got {self.advantage_norm!r}")
        for name in ("gamma", "gae_lambda", "td_lambda"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {v}")
        for name in ("entropy_decay_iterations", "entropy_decay_start", "lr_decay_iterations", "lr_decay_start"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a training run (the seed list is given at run time)."""

    name: str
    pools: tuple[tuple[tuple[str, float], ...], ...]  # one pool per learner
    batch_size: int  # episodes per learner per update
    iterations: int
    network: NetworkConfig = NetworkConfig()
    a2c: A2CConfig = A2CConfig()
    horizon: int = 100
    frozen: tuple[str, ...] = ()  # run directories of frozen co-players ("frozen:j")
    init_from: tuple[str | None, ...] = ()  # per learner: run directory to start from, or None
    init_seed_offset: tuple[int, ...] = ()  # per learner: seed i starts from that run's seed i + offset
    # per learner: the init_from run's seed (by value) each of this run's seeds starts from, one per
    # seed in order; names the pairs outright (e.g. only warm-up agents that meet the Step-1 criterion)
    init_seeds: tuple[tuple[int, ...], ...] = ()
    init_iteration: int = 0  # start from the init_from runs' snapshot at this iteration; 0 = their final checkpoint
    chunk: int = 50  # iterations per compiled call (metrics are logged once per chunk)
    checkpoint_every: int = 500  # a multiple of chunk
    probe_every: int = 500  # behavioural probes (TFT/ALLC/ALLD); 0 = never
    snapshot_every: int = 0  # keep the parameters every this many iterations (snapshots.msgpack); 0 = never
    probe_episodes: int = 256
    probes: tuple[str, ...] = ("tft", "allc", "alld", "random")

    @property
    def n_learners(self) -> int:
        return len(self.pools)

    def __post_init__(self):
        if not self.pools:
            raise ValueError("an experiment needs at least one learner (one pool)")
        if self.init_iteration < 0:
            raise ValueError(f"init_iteration must be >= 0, got {self.init_iteration}")
        if self.init_seeds and self.init_seed_offset:
            raise ValueError("give init_seeds or init_seed_offset, not both")
        if self.init_seeds and not any(self.init_from):
            raise ValueError("init_seeds names seeds of the init_from runs, but init_from is empty")
        if self.init_seeds and len(self.init_seeds) != len(self.pools):
            raise ValueError(f"init_seeds needs one list per learner ({len(self.pools)}), got {len(self.init_seeds)}")
        if len({len(s) for s in self.init_seeds}) > 1:
            raise ValueError(f"init_seeds: every learner needs one source seed per seed, got lengths {[len(s) for s in self.init_seeds]}")
        if self.chunk <= 0 or any(v % self.chunk for v in (self.checkpoint_every, self.probe_every, self.snapshot_every)):
            raise ValueError("checkpoint_every, probe_every and snapshot_every must be multiples of chunk")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """Short hash of everything that changes the trajectory of training (used to match
        checkpoints to configs). The number of iterations is not part of it, so a finished run
        can be extended with ``--resume --iterations N``."""
        d = self.to_dict()
        for k in ("iterations", "checkpoint_every", "probe_every", "probe_episodes", "probes", "snapshot_every"):
            d.pop(k)
        for k in ("init_seed_offset", "init_iteration", "init_seeds"):  # fields added later stay out of the hash at their default
            if not d[k]:
                d.pop(k)
        for k in ("entropy_decay_start", "lr_decay_start"):
            if not d["a2c"][k]:
                d["a2c"].pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **kw) -> "ExperimentConfig":
        return dataclasses.replace(self, **kw)


def from_dict(d: dict) -> ExperimentConfig:
    d = dict(d)
    d["network"] = NetworkConfig(**d["network"])
    d["a2c"] = A2CConfig(**d["a2c"])
    d["pools"] = tuple(tuple((str(s), float(w)) for s, w in pool) for pool in d["pools"])
    for k in ("frozen", "init_from", "init_seed_offset", "probes"):
        d.setdefault(k, ())
        d[k] = tuple(d[k])
    d["init_seeds"] = tuple(tuple(int(x) for x in s) for s in d.get("init_seeds") or ())
    return ExperimentConfig(**d)


# -- presets ------------------------------------------------------------------------------------
RANDOM_POOL = (("random", 1.0),)


def step1(preset: str = "cpu") -> ExperimentConfig:
    """Step 1: one learner against fresh U(0,1)^5 tabular agents (one per episode)."""
    if preset == "paper":
        return ExperimentConfig(
            name="step1", pools=(RANDOM_POOL,), batch_size=2048, iterations=50_000,
            network=NetworkConfig(128, 32),
            a2c=A2CConfig(learning_rate=5e-3, gae_lambda=0.99, td_lambda=0.99, entropy_coef=0.001,
                          reward_scale=0.2, advantage_norm="center"),
            chunk=100, checkpoint_every=1000, probe_every=1000,
        )
    if preset == "cpu":
        # Found by a short search on a 2-core CPU (results/step1/search_log.md): GRU-32,
        # 256 episodes per update, a pool that mixes the paper's U(0, 1)^5 agents (a quarter of
        # the episodes) with nearly deterministic ones (entries i.i.d. Beta(0.1, 0.1), so that
        # reciprocators are common without naming any), standardized advantages and an entropy
        # bonus decaying from 0.05 to 0.003 over 3000 iterations.
        return ExperimentConfig(
            name="step1", pools=((("random", 0.25), ("beta:0.1", 0.75)),), batch_size=256, iterations=8000,
            network=NetworkConfig(32, 32),
            a2c=A2CConfig(learning_rate=2e-3, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.05,
                          entropy_coef_end=0.003, entropy_decay_iterations=3000,
                          reward_scale=0.2, advantage_norm="standardize"),
            chunk=50, checkpoint_every=500, probe_every=250,
        )
    if preset == "fast":
        return ExperimentConfig(
            name="step1", pools=(RANDOM_POOL,), batch_size=32, iterations=40,
            network=NetworkConfig(16, 8),
            a2c=A2CConfig(learning_rate=3e-3, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.02),
            horizon=100, chunk=10, checkpoint_every=20, probe_every=20, probe_episodes=32,
        )
    raise ValueError(f"unknown preset {preset!r}; choose 'fast', 'cpu' or 'paper'")


STEP1_RUN = "results/step1"
STEP2_RUN = "results/step2"


def _tabular_pool(preset: str, weight: float) -> tuple[tuple[str, float], ...]:
    """The tabular part of a pool with total weight ``weight``: the paper's U(0, 1)^5 agents, or at
    ``cpu``/``fast`` scale the Step-1 ``cpu`` mixture (a quarter U(0, 1), three quarters Beta(0.1, 0.1))."""
    if weight <= 0:
        return ()
    if preset == "paper":
        return (("random", weight),)
    return (("random", 0.25 * weight), ("beta:0.1", 0.75 * weight))


def step2(preset: str = "cpu") -> ExperimentConfig:
    """Step 2: a fresh learner trained only against the frozen Step-1 agent (the Fixed-ICL)."""
    pools = ((("frozen:0", 1.0),),)
    if preset == "paper":
        return ExperimentConfig(
            name="step2", pools=pools, batch_size=2048, iterations=100_000, network=NetworkConfig(128, 32),
            a2c=A2CConfig(learning_rate=5e-3, gae_lambda=1.0, td_lambda=1.0, entropy_coef=0.001,
                          reward_scale=0.05, advantage_norm="none"),
            frozen=(STEP1_RUN,), chunk=100, checkpoint_every=1000, probe_every=1000,
        )
    if preset == "cpu":
        return ExperimentConfig(
            name="step2", pools=pools, batch_size=256, iterations=3000, network=NetworkConfig(32, 32),
            # an entropy bonus kept at 0.01: with less, the extorter stops ever cooperating after
            # mutual defection, and two of them lock into DD in Step 3 (results/step3_search/README.md)
            a2c=A2CConfig(learning_rate=2e-3, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.02,
                          entropy_coef_end=0.01, entropy_decay_iterations=1500,
                          reward_scale=0.2, advantage_norm="standardize"),
            frozen=(STEP1_RUN,), chunk=50, checkpoint_every=500, probe_every=500, snapshot_every=250,
        )
    if preset == "fast":
        return step1("fast").replace(name="step2", pools=pools, frozen=(STEP1_RUN,), snapshot_every=20)
    raise ValueError(f"unknown preset {preset!r}; choose 'fast', 'cpu' or 'paper'")


def step3(preset: str = "cpu") -> ExperimentConfig:
    """Step 3: two learners initialized from Step-2 extorters, trained against each other. Seed i's
    learners start from the Step-2 run's seeds i and i + 1 (two different extorters)."""
    base = step2(preset)
    pools = ((("learner:1", 1.0),), (("learner:0", 1.0),))
    if preset == "paper":
        return base.replace(name="step3", pools=pools, batch_size=4096, iterations=10_000, frozen=(),
                            init_from=(STEP2_RUN, STEP2_RUN), init_seed_offset=(0, 1),
                            a2c=A2CConfig(learning_rate=5e-4, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.001,
                                          reward_scale=0.02, advantage_norm="center"))
    if preset == "cpu":
        return base.replace(name="step3", pools=pools, iterations=1000, frozen=(), init_from=(STEP2_RUN, STEP2_RUN),
                            init_seed_offset=(0, 1),
                            a2c=A2CConfig(learning_rate=5e-4, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.003,
                                          reward_scale=0.2, advantage_norm="standardize"),
                            probe_every=100, checkpoint_every=100, snapshot_every=100)
    if preset == "fast":
        return base.replace(name="step3", pools=pools, frozen=(), init_from=(STEP2_RUN, STEP2_RUN),
                            init_seed_offset=(0, 1))
    raise ValueError(f"unknown preset {preset!r}; choose 'fast', 'cpu' or 'paper'")


STEP1_OPPONENT_ID_RUN = "results/step1_opponent_id"
STEP2_MIXED_RUN = "results/step2_mixed"


def step2_mixed(preset: str = "cpu") -> ExperimentConfig:
    """Step 2 beyond the paper: the exploiter spends half of its episodes against the Fixed-ICL and
    half against fresh tabular agents (at ``cpu`` scale the Step-1 mixture), so it learns to extort
    while it stays an in-context best-responder. Everything else is :func:`step2`."""
    return step2(preset).replace(name="step2_mixed", pools=((("frozen:0", 0.5),) + _tabular_pool(preset, 0.5),))


def step3_mixed(preset: str = "cpu") -> ExperimentConfig:
    """Step 3 between two :func:`step2_mixed` exploiters (seed i's learners from its seeds i and
    i + 1); everything else is :func:`step3`."""
    return step3(preset).replace(name="step3_mixed", init_from=(STEP2_MIXED_RUN, STEP2_MIXED_RUN))


def step4(preset: str = "cpu", tabular_fraction: float = 0.5, opponent_id: bool = False,
          name: str = "step4") -> ExperimentConfig:
    """Step 4: two learners trained at the same time, each spending ``1 - tabular_fraction`` of
    its episodes against the other and the rest against fresh tabular agents (no identities, unless
    ``opponent_id``: then z = the tabular agent's log-probabilities, zeros for the learner).

    The tabular part is the paper's: U(0, 1)^5 agents at every scale.

    At ``cpu`` scale the run is the second phase of two. The first, a warm-up against tabular
    agents alone (the Step-1 ``cpu`` mixture), is a Step-1 run (``results/step1``; ``results/step1_opponent_id`` with
    the co-player's identity given); both learners start from it (seed i's learners from its seeds
    i and i + 1). A pool without a tabular part has no warm-up: the no-tabular ablation starts from
    scratch. Each ablation thus changes both phases, as it changes the whole run in the paper."""
    tab = _tabular_pool("paper", tabular_fraction)  # the paper's U(0, 1)^5 agents, at every scale
    ll = 1.0 - tabular_fraction
    pools = tuple(((f"learner:{1 - i}", ll),) + tab if ll > 0 else tab for i in range(2))
    if preset == "paper":
        return ExperimentConfig(
            name=name, pools=pools, batch_size=4096, iterations=200_000, network=NetworkConfig(128, 32, use_z=opponent_id),
            a2c=A2CConfig(learning_rate=1e-3, gae_lambda=1.0, td_lambda=1.0, entropy_coef=0.01,
                          reward_scale=0.02, advantage_norm="center"),
            chunk=100, checkpoint_every=2000, probe_every=2000,
        )
    if preset == "cpu":
        # The warm-up replaces the paper's long from-scratch phase, which did not produce in-context
        # learners on this budget (results/step4_search/README.md). Full-return advantages (lambda = 1,
        # as the paper's Step 4), standardized per co-player. The entropy bonus falls from 0.1 to
        # 0.003 over the first 1000 iterations, while the pairs find cooperation; then the step size
        # falls tenfold over iterations 1500-2500, so that pairs that cooperate keep it (with a
        # constant one they find cooperation and lose it again; results/step4_search/README.md,
        # s4ent01_paperpool*).
        warm = () if not tab else (STEP1_OPPONENT_ID_RUN if opponent_id else STEP1_RUN,) * 2
        return ExperimentConfig(
            name=name, pools=pools, batch_size=256, iterations=3000, network=NetworkConfig(32, 32, use_z=opponent_id),
            a2c=A2CConfig(learning_rate=3e-4, learning_rate_end=3e-5, lr_decay_iterations=1000, lr_decay_start=1500,
                          gae_lambda=1.0, td_lambda=1.0, entropy_coef=0.1,
                          entropy_coef_end=0.003, entropy_decay_iterations=1000,
                          reward_scale=0.2, advantage_norm="standardize"),
            init_from=warm, init_seed_offset=(0, 1) if warm else (),
            chunk=50, checkpoint_every=250, probe_every=250, snapshot_every=250,
        )
    if preset == "fast":
        return step1("fast").replace(name=name, pools=pools, network=NetworkConfig(16, 8, use_z=opponent_id),
                                     snapshot_every=20)
    raise ValueError(f"unknown preset {preset!r}; choose 'fast', 'cpu' or 'paper'")


def step1_opponent_id(preset: str = "cpu") -> ExperimentConfig:
    """Step 1 with the co-player's identity given (z = its 10 log-probabilities): the warm-up of
    the opponent-ID ablation of Step 4."""
    cfg = step1(preset)
    return cfg.replace(name="step1_opponent_id", network=dataclasses.replace(cfg.network, use_z=True))


STEPS = {
    "step1": step1,
    "step1_opponent_id": step1_opponent_id,
    "step2": step2,
    "step3": step3,
    "step2_mixed": step2_mixed,
    "step3_mixed": step3_mixed,
    "step4": step4,
    "step4_opponent_id": lambda preset="cpu": step4(preset, opponent_id=True, name="step4_opponent_id"),
    "step4_no_tabular": lambda preset="cpu": step4(preset, tabular_fraction=0.0, name="step4_no_tabular"),
    "step4_tabular25": lambda preset="cpu": step4(preset, tabular_fraction=0.25, name="step4_tabular25"),
    "step4_tabular75": lambda preset="cpu": step4(preset, tabular_fraction=0.75, name="step4_tabular75"),
}


def apply_overrides(cfg: ExperimentConfig, assignments) -> ExperimentConfig:
    """Apply ``["a2c.entropy_coef=0.05", "network.hidden=32", "batch_size=512"]`` to a config."""
    d = cfg.to_dict()
    for a in assignments:
        if "=" not in a:
            raise ValueError(f"override {a!r} is not of the form key=value (e.g. a2c.learning_rate=1e-3)")
        key, value = a.split("=", 1)
        parts = key.strip().split(".")
        node = d
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ValueError(f"override {a!r}: {p!r} is not a config section")
            node = node[p]
        if parts[-1] not in node:
            raise ValueError(f"override {a!r}: unknown field {parts[-1]!r}; known: {sorted(node)}")
        node[parts[-1]] = json.loads(value) if value not in ("None", "none") else None
    return from_dict(d)


def get_config(step: str, preset: str = "cpu") -> ExperimentConfig:
    if step not in STEPS:
        raise ValueError(f"unknown experiment {step!r}; choose one of {sorted(STEPS)}")
    return STEPS[step](preset)
