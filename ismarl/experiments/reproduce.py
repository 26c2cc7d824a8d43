"""The mechanism's experiments as one chain: every step trained into one directory, in order.

The presets name the runs they build on as ``results/<experiment>`` (Step 2's frozen Fixed-ICL is
``results/step1``, Step 3 starts from ``results/step2``, the ``cpu`` Step 4 from its warm-up
``results/step1``). :func:`run_chain` trains a list of experiments into ``OUT/<experiment>``
and points each one's ``frozen`` and ``init_from`` at the runs of the same chain, so a whole
reproduction at one scale is a single command::

    python -m ismarl reproduce --scale paper --seeds 10 --out results/paper

An experiment whose run directory already holds a finished checkpoint of the same configuration
is skipped, a partial one is resumed, so an interrupted chain continues where it stopped.

A Step 4 that starts from the chain's warm-up pairs only warm-up agents that meet the Step-1
criterion (:func:`pair_warmup_agents`): with one that misses it, the mixed pool rarely finds
cooperation (``results/step4_search/README.md``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from ismarl.engines.experiment import ExperimentConfig, apply_overrides
from ismarl.experiments.presets import STEPS, get_config
from ismarl.experiments.warmup import criterion_pairs, warmup_best_responders
from ismarl.runs import checkpoint
from ismarl.runs.evaluate import evaluate_run, write_json
from ismarl.runs.provenance import write_manifest
from ismarl.runs.train import train

#: every experiment, in an order in which each comes after the runs it builds on
ORDER = ("step1", "step1_opponent_id", "step2", "step3", "step2_mixed", "step3_mixed", "step4",
         "step4_opponent_id", "step4_no_tabular", "step4_tabular25", "step4_tabular75")
#: the paper's experiments: Steps 1-4 and the two ablations (Figs 1-4)
PAPER = ("step1", "step2", "step3", "step4", "step4_opponent_id", "step4_no_tabular")
RESULTS_PREFIX = "results/"

assert set(ORDER) == set(STEPS), "every experiment needs a place in the chain's order"


def dependencies(cfg: ExperimentConfig) -> list[str]:
    """The experiments ``cfg`` builds on (from its ``frozen`` and ``init_from`` paths)."""
    deps = []
    for path in tuple(cfg.frozen) + tuple(p for p in cfg.init_from if p):
        name = str(path)[len(RESULTS_PREFIX):] if str(path).startswith(RESULTS_PREFIX) else None
        if name is None or name not in STEPS:
            raise ValueError(f"{cfg.name}: cannot place {path!r} in a chain (expected results/<experiment>)")
        if name not in deps:
            deps.append(name)
    return deps


def resolve(steps, preset: str = "cpu", with_dependencies: bool = True) -> list[str]:
    """``steps`` (plus, with ``with_dependencies``, every run they build on) in chain order."""
    unknown = [s for s in steps if s not in STEPS]
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


def relocate(cfg: ExperimentConfig, out) -> ExperimentConfig:
    """``cfg`` with every ``results/<experiment>`` in ``frozen``/``init_from`` replaced by
    ``out/<experiment>``."""
    move = lambda p: None if not p else str(Path(out) / p[len(RESULTS_PREFIX):]) if p.startswith(RESULTS_PREFIX) else p
    return dataclasses.replace(cfg, frozen=tuple(move(p) for p in cfg.frozen),
                               init_from=tuple(move(p) for p in cfg.init_from))


def is_finished(run_dir, cfg: ExperimentConfig) -> bool:
    """True when ``run_dir`` holds the final checkpoint of exactly ``cfg``."""
    if not checkpoint.exists(run_dir):
        return False
    meta = checkpoint.read_sidecar(run_dir)
    return meta.get("config_hash") == cfg.hash() and int(meta.get("iteration", -1)) >= cfg.iterations


def configured(step: str, preset: str, out, overrides=()) -> ExperimentConfig:
    """The config of ``step`` in a chain in ``out``: its preset, relocated to the chain
    (:func:`relocate`), with ``overrides`` (``["key=value", ...]``) applied."""
    cfg = relocate(get_config(step, preset), out)
    return apply_overrides(cfg, overrides) if overrides else cfg


def plan(steps, preset: str, out, overrides=()) -> list[tuple[str, ExperimentConfig, Path]]:
    """``[(experiment, config, run directory)]`` for ``steps`` in chain order; every run an
    experiment builds on must be part of the plan or already finished in ``out``."""
    out = Path(out)
    planned, rows = set(), []
    for step in resolve(steps, preset, with_dependencies=False):
        for dep in dependencies(get_config(step, preset)):
            if dep not in planned and not is_finished(out / dep, configured(dep, preset, out, overrides)):
                raise ValueError(f"{step} builds on {dep}, which is neither in this chain nor finished in {out / dep}; "
                                 f"add it to --steps (or leave --steps out)")
        rows.append((step, configured(step, preset, out, overrides), out / step))
        planned.add(step)
    return rows


#: experiments whose agents are warm-ups for Step 4 at ``cpu`` scale (one learner, best-responding)
WARMUPS = ("step1", "step1_opponent_id")


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
    warm = Path(src.pop())
    if warm.parent != Path(out) or warm.name not in WARMUPS or not checkpoint.exists(warm):
        return cfg
    ev = warm / "evaluate.json"
    iteration = int(checkpoint.read_sidecar(warm)["iteration"])
    try:
        done = json.loads(ev.read_text()) if ev.is_file() else {}
    except ValueError:  # an unreadable evaluation (e.g. cut short) is made again
        done = {}
    if done.get("iteration") != iteration or not {"tft", "allc"} <= set(done.get("opponents", {})):
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
        t0 = time.time()
        train(cfg, seeds, run_dir, resume=resume, progress=progress, log=log)
        if manifest:
            write_manifest(run_dir, wall_time_s=time.time() - t0, experiment=cfg.name, seeds=seeds,
                           config_hash=cfg.hash(), resumed=resume, chain=str(out))
        done.append((step, "resumed" if resume else "trained"))
    return done
