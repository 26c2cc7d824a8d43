"""The mechanism's experiments as one chain: every step trained into one directory, in order.

The presets name the runs they build on by experiment (Step 2's frozen Fixed-ICL is ``step1``,
Step 3 starts from ``step2``, the ``cpu`` Step 4 from its warm-up ``step1``), and a name is the run
of that experiment beside the one being trained. :func:`run_chain` trains a list of experiments
into ``OUT/<experiment>``, in :data:`~ismarl.experiments.presets.ORDER`, so each builds on the
chain's own runs and a whole reproduction at one scale is a single command::

    python -m ismarl reproduce --scale paper --seeds 10 --out results/paper

An experiment whose run directory already holds a finished checkpoint of the same configuration
is skipped, a partial one is resumed, so an interrupted chain continues where it stopped.

A Step 4 that starts from the chain's warm-up pairs only warm-up agents that meet the Step-1
criterion (:func:`pair_warmup_agents`): with one that misses it, the mixed pool rarely finds
cooperation (``results/step4_search/README.md``).
"""

from __future__ import annotations

import time
from pathlib import Path

from ismarl.engines.experiment import ExperimentConfig, apply_overrides
from ismarl.experiments.presets import EXPERIMENTS, ORDER, PAPER, WARMUPS, builds_on, get_config
from ismarl.experiments.warmup import criterion_pairs, warmup_best_responders
from ismarl.runs import checkpoint
from ismarl.runs.evaluate import evaluate_run, read_evaluation, write_json
from ismarl.runs.provenance import git_commit, write_manifest
from ismarl.runs.train import train

def dependencies(cfg: ExperimentConfig) -> list[str]:
    """The experiments ``cfg`` builds on; a reference by path cannot be placed in a chain."""
    paths = [r for r in tuple(cfg.frozen) + tuple(cfg.init_from) if r and r not in EXPERIMENTS]
    if paths:
        raise ValueError(f"{cfg.name}: cannot place {paths[0]!r} in a chain (a chain's runs name each other by "
                         f"experiment: {list(ORDER)})")
    return builds_on(cfg)


def resolve(steps, preset: str = "cpu", with_dependencies: bool = True) -> list[str]:
    """``steps`` (plus, with ``with_dependencies``, every run they build on) in chain order."""
    unknown = [s for s in steps if s not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; choose from {list(ORDER)}")
    wanted = set(steps)
    if with_dependencies:
        todo = list(steps)
        while todo:
            for dep in dependencies(get_config(todo.pop(), preset)):
                if dep not in wanted:
                    wanted.add(dep)
                    todo.append(dep)
    return [s for s in ORDER if s in wanted]


def is_finished(run_dir, cfg: ExperimentConfig) -> bool:
    """True when ``run_dir`` holds the final checkpoint of exactly ``cfg``."""
    if not checkpoint.exists(run_dir):
        return False
    meta = checkpoint.read_sidecar(run_dir)
    return meta.get("config_hash") == cfg.hash() and int(meta.get("iteration", -1)) >= cfg.iterations


def configured(step: str, preset: str, overrides=()) -> ExperimentConfig:
    """The config of ``step`` in a chain: its preset with ``overrides`` (``["key=value", ...]``) applied."""
    cfg = get_config(step, preset)
    return apply_overrides(cfg, overrides) if overrides else cfg


def plan(steps, preset: str, out, overrides=()) -> list[tuple[str, ExperimentConfig, Path]]:
    """``[(experiment, config, run directory)]`` for ``steps`` in chain order; every run an
    experiment builds on must be part of the plan or already finished in ``out``."""
    out = Path(out)
    planned, rows = set(), []
    for step in resolve(steps, preset, with_dependencies=False):
        for dep in dependencies(get_config(step, preset)):
            if dep not in planned and not is_finished(out / dep, configured(dep, preset, overrides)):
                raise ValueError(f"{step} builds on {dep}, which is neither in this chain nor finished in {out / dep}; "
                                 f"add it to --steps (or leave --steps out)")
        rows.append((step, configured(step, preset, overrides), out / step))
        planned.add(step)
    return rows


def pair_warmup_agents(cfg: ExperimentConfig, n_seeds: int, out, evaluate: bool = True, log=print) -> ExperimentConfig:
    """``cfg`` with its starting pairs restricted to warm-up agents that meet the Step-1 criterion.

    Applies to an experiment that starts both learners by position (``init_seed_offset``) from the
    same warm-up run of the chain (``OUT/step1`` or ``OUT/step1_opponent_id``). The warm-up is
    evaluated against TFT and ALLC (``OUT/<warm-up>/evaluate.json``, 1000 episodes; only with
    ``evaluate``, else ``cfg`` is returned unchanged when it has none). When every agent meets the
    criterion, or fewer than two do, ``cfg`` is returned unchanged (with a warning in the second
    case); otherwise ``init_seeds`` names pairs of the agents that meet it
    (:func:`ismarl.experiments.warmup.criterion_pairs`)."""
    src = {p for p in cfg.init_from if p}
    if cfg.n_learners != 2 or len(src) != 1 or len([p for p in cfg.init_from if p]) != 2 or cfg.init_seeds:
        return cfg
    name = src.pop()
    if name not in WARMUPS:
        return cfg
    warm = Path(out) / name
    if not checkpoint.exists(warm):
        return cfg
    ev = warm / "evaluate.json"
    iteration = int(checkpoint.read_sidecar(warm)["iteration"])
    try:
        done = read_evaluation(ev) if ev.is_file() else {}
    except ValueError:  # an unreadable evaluation (e.g. cut short) is made again
        done = {}
    if done.get("iteration") != iteration or not {"tft", "allc"} <= set(done.get("coplayers", {})):
        if not evaluate:
            return cfg
        write_json(evaluate_run(warm, ["tft", "allc"], episodes=1000), ev)
    ok = warmup_best_responders(warm)
    good = [s for s, m in ok.items() if m]
    if len(good) == len(ok):
        return cfg
    if len(good) < 2:
        log(f"{cfg.name}: only {len(good)} of the {len(ok)} warm-up agents in {warm} meet the Step-1 criterion; "
            f"starting from them by position (train the warm-up with more seeds)")
        return cfg
    first, second = criterion_pairs(warm, n_seeds)
    log(f"{cfg.name}: warm-up agents {sorted(set(ok) - set(good))} miss the Step-1 criterion; "
        f"starting pairs {', '.join(f'{a} + {b}' for a, b in zip(first, second))}")
    return cfg.replace(init_seed_offset=(), init_seeds=(first, second))


def run_chain(steps, preset: str, seeds, out, overrides=(), manifest: bool = True, progress: bool = True,
              log=print) -> list[tuple[str, str]]:
    """Train ``steps`` (see :func:`plan`) into ``out``; returns ``[(experiment, what happened)]``
    with ``"trained"``, ``"resumed"`` or ``"skipped (finished)"``."""
    seeds = [int(s) for s in seeds]
    done = []
    for step, cfg, run_dir in plan(steps, preset, out, overrides):
        cfg = pair_warmup_agents(cfg, len(seeds), out, log=log)
        if is_finished(run_dir, cfg):
            meta = checkpoint.read_sidecar(run_dir)
            if meta.get("seeds") != seeds:
                raise ValueError(f"{run_dir} holds seeds {meta.get('seeds')}, this chain asks for {seeds}; "
                                 f"choose another --out")
            log(f"{step}: finished in {run_dir}, skipped")
            done.append((step, "skipped (finished)"))
            continue
        resume = checkpoint.exists(run_dir)
        log(f"{step}: {'resuming' if resume else 'training'} {cfg.iterations} iterations into {run_dir}")
        t0, commit = time.time(), git_commit() if manifest else None  # the code the run starts with
        train(cfg, seeds, run_dir, resume=resume, progress=progress, log=log)
        if manifest:
            write_manifest(run_dir, wall_time_s=time.time() - t0, commit=commit, experiment=cfg.name, seeds=seeds,
                           config_hash=cfg.hash(), resumed=resume, chain=str(out))
        done.append((step, "resumed" if resume else "trained"))
    return done
