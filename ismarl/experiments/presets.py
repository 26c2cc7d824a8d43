"""The experiments by name, each with its presets per scale: ``paper`` (the paper's Table 2), ``cpu``
(minutes on a 2-core CPU) and ``fast`` (CI smoke), via :func:`get_config`.

An experiment names the runs it builds on by experiment name (``frozen=("step1",)``: the ``step1``
run beside it), so :data:`ORDER`, the order in which a chain trains them, follows from the presets.
A new experiment is a function returning its three presets, registered in :data:`EXPERIMENTS`.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

from ismarl.agents.network import NetworkConfig
from ismarl.engines.a2c.config import A2CConfig
from ismarl.engines.experiment import ExperimentConfig, RunOptions
from ismarl.engines.ppi.config import PPIConfig
from ismarl.engines.schedule import Schedule

PRESETS = ("paper", "cpu", "fast")
RANDOM_POOL = (("random", 1.0),)


def _tabular_pool(preset: str, weight: float) -> tuple[tuple[str, float], ...]:
    """The tabular part of a pool with total weight ``weight``: the paper's U(0, 1)^5 agents, or at
    ``cpu``/``fast`` scale the Step-1 ``cpu`` mixture (a quarter U(0, 1), three quarters Beta(0.1, 0.1))."""
    if weight <= 0:
        return ()
    if preset == "paper":
        return (("random", weight),)
    return (("random", 0.25 * weight), ("beta:0.1", 0.75 * weight))


def step1() -> dict[str, ExperimentConfig]:
    """Step 1: one learner against fresh U(0,1)^5 tabular agents (one per episode)."""
    fast = ExperimentConfig(
        name="step1", pools=(RANDOM_POOL,), batch_size=32, iterations=40, network=NetworkConfig(16, 8),
        a2c=A2CConfig(learning_rate=3e-3, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.02),
        run=RunOptions(chunk=10, checkpoint_every=20, probe_every=20, probe_episodes=32))
    return {
        "paper": ExperimentConfig(
            name="step1", pools=(RANDOM_POOL,), batch_size=2048, iterations=50_000, network=NetworkConfig(128, 32),
            a2c=A2CConfig(learning_rate=5e-3, gae_lambda=0.99, td_lambda=0.99, entropy_coef=0.001,
                          reward_scale=0.2, advantage_norm="center"),
            run=RunOptions(chunk=100, checkpoint_every=1000, probe_every=1000)),
        # Found by a short search on a 2-core CPU (results/step1/search_log.md): GRU-32, 256 episodes
        # per update, a pool that mixes the paper's U(0, 1)^5 agents (a quarter of the episodes) with
        # nearly deterministic ones (entries i.i.d. Beta(0.1, 0.1), so that reciprocators are common
        # without naming any), standardized advantages and an entropy bonus decaying from 0.05 to
        # 0.003 over 3000 iterations.
        "cpu": ExperimentConfig(
            name="step1", pools=((("random", 0.25), ("beta:0.1", 0.75)),), batch_size=256, iterations=8000,
            network=NetworkConfig(32, 32),
            a2c=A2CConfig(learning_rate=2e-3, gae_lambda=0.95, td_lambda=0.95,
                          entropy_coef=Schedule(0.05, end=0.003, steps=3000),
                          reward_scale=0.2, advantage_norm="standardize"),
            run=RunOptions(chunk=50, checkpoint_every=500, probe_every=250)),
        "fast": fast,
    }


def step1_opponent_id() -> dict[str, ExperimentConfig]:
    """Step 1 with the co-player's identity given (z = its 10 log-probabilities): the warm-up of
    the opponent-ID ablation of Step 4."""
    return {p: cfg.replace(name="step1_opponent_id", network=dataclasses.replace(cfg.network, use_z=True))
            for p, cfg in step1().items()}


def step2() -> dict[str, ExperimentConfig]:
    """Step 2: a fresh learner trained only against the frozen Step-1 agent (the Fixed-ICL)."""
    pools = ((("frozen:0", 1.0),),)
    return {
        "paper": ExperimentConfig(
            name="step2", pools=pools, batch_size=2048, iterations=100_000, network=NetworkConfig(128, 32),
            a2c=A2CConfig(learning_rate=5e-3, gae_lambda=1.0, td_lambda=1.0, entropy_coef=0.001,
                          reward_scale=0.05, advantage_norm="none"),
            frozen=("step1",), run=RunOptions(chunk=100, checkpoint_every=1000, probe_every=1000)),
        "cpu": ExperimentConfig(
            name="step2", pools=pools, batch_size=256, iterations=3000, network=NetworkConfig(32, 32),
            # an entropy bonus kept at 0.01: with less, the extorter stops ever cooperating after
            # mutual defection, and two of them lock into DD in Step 3 (results/step3_search/README.md)
            a2c=A2CConfig(learning_rate=2e-3, gae_lambda=0.95, td_lambda=0.95,
                          entropy_coef=Schedule(0.02, end=0.01, steps=1500),
                          reward_scale=0.2, advantage_norm="standardize"),
            frozen=("step1",), run=RunOptions(chunk=50, checkpoint_every=500, probe_every=500, snapshot_every=250)),
        "fast": step1()["fast"].replace(name="step2", pools=pools, frozen=("step1",)).with_run(snapshot_every=20),
    }


def step3() -> dict[str, ExperimentConfig]:
    """Step 3: two learners initialized from Step-2 extorters, trained against each other. Seed i's
    learners start from the Step-2 run's seeds i and i + 1 (two different extorters)."""
    base = step2()
    pools = ((("learner:1", 1.0),), (("learner:0", 1.0),))
    start = dict(pools=pools, frozen=(), init_from=("step2", "step2"), init_seed_offset=(0, 1))
    return {
        "paper": base["paper"].replace(
            name="step3", batch_size=4096, iterations=10_000, **start,
            a2c=A2CConfig(learning_rate=5e-4, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.001,
                          reward_scale=0.02, advantage_norm="center")),
        "cpu": base["cpu"].replace(
            name="step3", iterations=1000, **start,
            a2c=A2CConfig(learning_rate=5e-4, gae_lambda=0.95, td_lambda=0.95, entropy_coef=0.003,
                          reward_scale=0.2, advantage_norm="standardize"),
        ).with_run(probe_every=100, checkpoint_every=100, snapshot_every=100),
        "fast": base["fast"].replace(name="step3", **start),
    }


def step2_mixed() -> dict[str, ExperimentConfig]:
    """Step 2 beyond the paper: the exploiter spends half of its episodes against the Fixed-ICL and
    half against fresh tabular agents (at ``cpu`` scale the Step-1 mixture), so it learns to extort
    while it stays an in-context best-responder. Everything else is :func:`step2`."""
    return {p: cfg.replace(name="step2_mixed", pools=((("frozen:0", 0.5),) + _tabular_pool(p, 0.5),))
            for p, cfg in step2().items()}


def step3_mixed() -> dict[str, ExperimentConfig]:
    """Step 3 between two :func:`step2_mixed` exploiters (seed i's learners from its seeds i and
    i + 1); everything else is :func:`step3`."""
    return {p: cfg.replace(name="step3_mixed", init_from=("step2_mixed", "step2_mixed")) for p, cfg in step3().items()}


def step4(tabular_fraction: float = 0.5, opponent_id: bool = False, name: str = "step4") -> dict[str, ExperimentConfig]:
    """Step 4: two learners trained at the same time, each spending ``1 - tabular_fraction`` of
    its episodes against the other and the rest against fresh tabular agents (no identities, unless
    ``opponent_id``: then z = the tabular agent's log-probabilities, zeros for the learner).

    The tabular part is the paper's: U(0, 1)^5 agents at every scale.

    At ``cpu`` scale the run is the second phase of two. The first, a warm-up against tabular
    agents alone (the Step-1 ``cpu`` mixture), is a Step-1 run (``step1``; ``step1_opponent_id`` with
    the co-player's identity given); both learners start from it (seed i's learners from its seeds
    i and i + 1). A pool without a tabular part has no warm-up: the no-tabular ablation starts from
    scratch. Each ablation thus changes both phases, as it changes the whole run in the paper."""
    tab = _tabular_pool("paper", tabular_fraction)  # the paper's U(0, 1)^5 agents, at every scale
    ll = 1.0 - tabular_fraction
    pools = tuple(((f"learner:{1 - i}", ll),) + tab if ll > 0 else tab for i in range(2))
    # The warm-up replaces the paper's long from-scratch phase, which did not produce in-context
    # learners on this budget (results/step4_search/README.md). Full-return advantages (lambda = 1,
    # as the paper's Step 4), standardized per co-player. The entropy bonus falls from 0.1 to 0.003
    # over the first 1000 iterations, while the pairs find cooperation; then the step size falls
    # tenfold over iterations 1500-2500, so that pairs that cooperate keep it (with a constant one
    # they find cooperation and lose it again; results/step4_search/README.md, s4ent01_paperpool*).
    warm = () if not tab else ("step1_opponent_id" if opponent_id else "step1",) * 2
    return {
        "paper": ExperimentConfig(
            name=name, pools=pools, batch_size=4096, iterations=200_000, network=NetworkConfig(128, 32, use_z=opponent_id),
            a2c=A2CConfig(learning_rate=1e-3, gae_lambda=1.0, td_lambda=1.0, entropy_coef=0.01,
                          reward_scale=0.02, advantage_norm="center"),
            run=RunOptions(chunk=100, checkpoint_every=2000, probe_every=2000)),
        "cpu": ExperimentConfig(
            name=name, pools=pools, batch_size=256, iterations=3000, network=NetworkConfig(32, 32, use_z=opponent_id),
            a2c=A2CConfig(learning_rate=Schedule(3e-4, end=3e-5, steps=1000, begin=1500),
                          gae_lambda=1.0, td_lambda=1.0, entropy_coef=Schedule(0.1, end=0.003, steps=1000),
                          reward_scale=0.2, advantage_norm="standardize"),
            init_from=warm, init_seed_offset=(0, 1) if warm else (),
            run=RunOptions(chunk=50, checkpoint_every=250, probe_every=250, snapshot_every=250)),
        "fast": step1()["fast"].replace(name=name, pools=pools, network=NetworkConfig(16, 8, use_z=opponent_id)
                                        ).with_run(snapshot_every=20),
    }


def _ppi(name: str, pools, pretrain: str = "tabular", **kw) -> dict[str, ExperimentConfig]:
    """The presets of a PPI experiment (SPEC §4) with these ``pools``; one iteration is one phase.

    ``paper``: GRU-128 / embedding 32, D0 of 200,000 games, 30 phases of 20,000 new games per
    learner, each phase re-initialized and fitted for 10 epochs (AdamW, lr 1e-4, weight decay 1e-2,
    batch 256), π ∝ p_φ exp(β Q̂) with Q̂ the per-round mean of K = 8 rollouts of 15 rounds and β = 100:
    the paper's β = 0.01 read as the temperature α = 1/β of its KL-regularized objective (taken as
    an inverse temperature it leaves the prior unchanged; chapter 10's β study).

    ``cpu``: GRU-64, D0 of 20,000 games; the model is fitted on D0 from fresh parameters once (3
    epochs, batch 64, lr 1e-2: with the paper's 1e-4 a CPU-sized fit does not learn to infer its
    co-player, with 1e-3 it stalls far from the Bayes-optimal prediction, and many small batches
    beat few large ones per second; ``results/ppi_fit``) and then fine-tuned on all data so far for
    150 steps at lr 3e-3 per phase instead of re-initialized; 300 new games per learner in each of
    8 phases."""
    paper = ExperimentConfig(
        name=name, engine="ppi", pools=pools, batch_size=20_000, iterations=30, network=NetworkConfig(128, 32),
        ppi=PPIConfig(beta=100.0, q="mean", k=8, rollout_horizon=15, pretrain_episodes=200_000, pretrain=pretrain,
                      epochs=10.0, fit_batch=256, learning_rate=1e-4, weight_decay=1e-2, reinit=True),
        run=RunOptions(chunk=1, checkpoint_every=1, probe_every=1, snapshot_every=1, probe_episodes=256), **kw)
    cpu = paper.replace(
        batch_size=300, iterations=8, network=NetworkConfig(64, 32),
        ppi=PPIConfig(beta=100.0, q="mean", k=8, rollout_horizon=15, pretrain_episodes=20_000, pretrain=pretrain,
                      epochs=3.0, fit_batch=64, learning_rate=1e-2, weight_decay=1e-2, reinit=False,
                      finetune_steps=150, finetune_learning_rate=3e-3),
    ).with_run(probe_episodes=64, probe_every=2, checkpoint_every=1, snapshot_every=1)
    fast = paper.replace(
        batch_size=16, iterations=2, network=NetworkConfig(16, 8), horizon=100,
        ppi=PPIConfig(beta=100.0, q="mean", k=2, rollout_horizon=5, pretrain_episodes=64, pretrain=pretrain,
                      epochs=1.0, fit_batch=32, learning_rate=1e-2, reinit=False, finetune_steps=2,
                      heldout_episodes=32),
    ).with_run(probe_episodes=16, probe_every=1, checkpoint_every=1, snapshot_every=1)
    return {"paper": paper, "cpu": cpu, "fast": fast}


def ppi_step1() -> dict[str, ExperimentConfig]:
    """PPI Step 1: one learner against fresh U(0, 1)^5 tabular agents (the paper's Fig 2A/B)."""
    return _ppi("ppi_step1", (RANDOM_POOL,))


def ppi_step2() -> dict[str, ExperimentConfig]:
    """PPI Step 2: a fresh PPI learner against the frozen PPI Step-1 agent (Fig 2C/D)."""
    return _ppi("ppi_step2", ((("frozen:0", 1.0),),), frozen=("ppi_step1",))


def ppi_step3() -> dict[str, ExperimentConfig]:
    """PPI Step 3: two PPI Step-2 learners trained against each other (Fig 2E/F). Seed i's
    learners take over the Step-2 run's seeds i and i + 1: each its model and its whole dataset
    (D0 and its games against the Fixed-ICL), which the paper leaves open; a phase then refits on
    that data and the new games between the two. At ``cpu`` scale the first phase fine-tunes the
    extorter's model like every later one."""
    out = {}
    for preset, cfg in ppi_step2().items():
        size = cfg.ppi.pretrain_episodes + cfg.iterations * cfg.batch_size
        ppi = dataclasses.replace(cfg.ppi, pretrain_episodes=size,
                                  max_fit_steps=cfg.ppi.finetune_steps if not cfg.ppi.reinit else 0)
        out[preset] = cfg.replace(name="ppi_step3", pools=((("learner:1", 1.0),), (("learner:0", 1.0),)), frozen=(),
                                  init_from=("ppi_step2", "ppi_step2"), init_seed_offset=(0, 1), ppi=ppi)
    return out


def ppi_step4(tabular_fraction: float = 0.5, opponent_id: bool = False, name: str = "ppi_step4",
              rollouts: int = 16) -> dict[str, ExperimentConfig]:
    """PPI Step 4: two PPI learners, each with its own model and dataset, spending
    ``1 - tabular_fraction`` of each phase's games against the other and the rest against fresh
    U(0, 1)^5 agents (Fig 1A). Both start from D0 as the paper's do (no other warm-up); without
    tabular co-players D0 is random action sequences (the paper's no-tabular ablation). With
    ``opponent_id`` every model also sees its co-player's identity (z = a tabular agent's
    log-probabilities, zeros for the other learner), in D0 and in every phase (the paper's
    opponent-ID ablation).

    ``cpu`` keeps the paper's proportions of data rather than Steps 1-3's: D0 of 5,000 games (fitted
    for 10 epochs) and 500 new games per learner in each of 30 phases, so that each phase adds a
    tenth of D0 as the paper's 20,000 add to its 200,000 (Steps 1-3 add 300 to 20,000 per phase),
    and ``rollouts`` = K Monte Carlo rollouts per action (the paper's K = 8; 16 at ``cpu`` scale:
    its smaller model's Q̂ is noisier). The search that chose these: ``results/ppi_step4_b500/README.md``
    (K = 8) and ``results/ppi_step4_search/README.md`` (K = 16). The no-tabular ablation uses the
    same K, so that it differs from the mixed pool only in its pool; the opponent-ID ablation's
    shipped run was made with K = 8, before the search chose 16, and its preset keeps it. The K = 8
    no-tabular run: ``results/ppi_ablations_k8``."""
    tab = (("random", tabular_fraction),) if tabular_fraction > 0 else ()
    ll = 1.0 - tabular_fraction
    pools = tuple(((f"learner:{1 - i}", ll),) + tab for i in range(2))
    out = _ppi(name, pools, pretrain="tabular" if tab else "random_actions")
    cpu = out["cpu"]
    # epochs as the int 10 (== 10.0): the config hash of the shipped runs, started with --set ppi.epochs=10
    out["cpu"] = cpu.replace(batch_size=500, iterations=30,
                             ppi=dataclasses.replace(cpu.ppi, pretrain_episodes=5000, epochs=10, k=rollouts))
    if opponent_id:
        out = {p: c.replace(network=dataclasses.replace(c.network, use_z=True)) for p, c in out.items()}
    return out


class Experiment(NamedTuple):
    """An experiment of the registry: its name, what it is in one line, and its presets."""

    name: str
    summary: str
    presets: Callable[[], dict[str, ExperimentConfig]]


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (
    Experiment("step1", "Step 1: in-context best response to a pool of tabular co-players", step1),
    Experiment("step1_opponent_id", "Step 1 with the co-player's identity given (warm-up of the opponent-ID ablation)",
               step1_opponent_id),
    Experiment("step2", "Step 2: a learner extorts the frozen Step-1 agent", step2),
    Experiment("step3", "Step 3: two Step-2 extortioners learn against each other", step3),
    Experiment("step2_mixed", "Step 2 with half of the episodes against tabular co-players", step2_mixed),
    Experiment("step3_mixed", "Step 3 between two step2_mixed extortioners", step3_mixed),
    Experiment("step4", "Step 4: two learners in a mixed pool (half learner, half tabular)", step4),
    Experiment("step4_opponent_id", "Step 4 ablation: the co-player's identity given",
               lambda: step4(opponent_id=True, name="step4_opponent_id")),
    Experiment("step4_no_tabular", "Step 4 ablation: learners only", lambda: step4(tabular_fraction=0.0, name="step4_no_tabular")),
    Experiment("step4_tabular25", "Step 4 with a quarter of the episodes against tabular co-players",
               lambda: step4(tabular_fraction=0.25, name="step4_tabular25")),
    Experiment("step4_tabular75", "Step 4 with three quarters of the episodes against tabular co-players",
               lambda: step4(tabular_fraction=0.75, name="step4_tabular75")),
    Experiment("ppi_step1", "PPI Step 1: in-context best response to tabular co-players", ppi_step1),
    Experiment("ppi_step2", "PPI Step 2: a PPI learner trained against the frozen PPI Step-1 agent", ppi_step2),
    Experiment("ppi_step3", "PPI Step 3: two PPI Step-2 learners learn against each other", ppi_step3),
    Experiment("ppi_step4", "PPI Step 4: two PPI learners in a mixed pool (half learner, half tabular)", ppi_step4),
    Experiment("ppi_step4_no_tabular", "PPI Step 4 ablation: learners only, pretrained on random action sequences",
               lambda: ppi_step4(tabular_fraction=0.0, name="ppi_step4_no_tabular")),
    Experiment("ppi_step4_opponent_id", "PPI Step 4 ablation: every model sees its co-player's identity",
               lambda: ppi_step4(opponent_id=True, name="ppi_step4_opponent_id", rollouts=8)),
)}


def get_config(name: str, preset: str = "cpu") -> ExperimentConfig:
    """The config of experiment ``name`` at preset ``paper``, ``cpu`` or ``fast``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESETS)}")
    return EXPERIMENTS[name].presets()[preset]


def builds_on(cfg: ExperimentConfig) -> list[str]:
    """The experiments whose runs ``cfg`` builds on (its ``frozen`` and ``init_from`` references
    that name an experiment rather than a path), in order of first mention."""
    refs = [r for r in tuple(cfg.frozen) + tuple(cfg.init_from) if r]
    return list(dict.fromkeys(r for r in refs if r in EXPERIMENTS))


def _chain_order() -> tuple[str, ...]:
    """Every experiment after the ones it builds on (at any preset), otherwise in registry order."""
    deps = {n: {d for p in PRESETS for d in builds_on(get_config(n, p))} for n in EXPERIMENTS}
    order: list[str] = []
    while len(order) < len(deps):
        ready = [n for n in EXPERIMENTS if n not in order and deps[n] <= set(order)]
        if not ready:
            raise ValueError(f"the experiments' dependencies form a cycle among {sorted(set(deps) - set(order))}")
        order.append(ready[0])
    return tuple(order)


#: Every experiment, each after the runs it builds on.
ORDER = _chain_order()
#: The paper's experiments: Steps 1-4 and the two ablations (Figs 1-4).
PAPER = ("step1", "step2", "step3", "step4", "step4_opponent_id", "step4_no_tabular")
#: The paper's PPI experiments (Figs 1A, 2): Steps 1-4 and both ablations.
PPI = ("ppi_step1", "ppi_step2", "ppi_step3", "ppi_step4", "ppi_step4_opponent_id", "ppi_step4_no_tabular")
#: Experiments whose agents are warm-ups for Step 4 at ``cpu`` scale (one learner, best-responding).
WARMUPS = ("step1", "step1_opponent_id")
