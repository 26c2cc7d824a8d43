"""The experiments by name, with their presets per scale: ``paper`` (the paper's Table 2), ``cpu``
(minutes on a 2-core CPU) and ``fast`` (CI smoke), via :func:`get_config`.

A new experiment is a function here and an entry of :data:`STEPS`; where it sits in a reproduction
chain is :data:`ismarl.experiments.reproduce.ORDER`.
"""

from __future__ import annotations

import dataclasses

from ismarl.agents.network import NetworkConfig
from ismarl.engines.a2c.config import A2CConfig
from ismarl.engines.experiment import ExperimentConfig

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


def get_config(step: str, preset: str = "cpu") -> ExperimentConfig:
    if step not in STEPS:
        raise ValueError(f"unknown experiment {step!r}; choose one of {sorted(STEPS)}")
    return STEPS[step](preset)
