"""The mechanism's experiments as one chain: every step trained into one directory, in order.

The presets name the runs they build on as ``results/<experiment>`` (Step 2's frozen Fixed-ICL is
``results/step1``, Step 3 starts from ``results/step2``, the ``cpu`` Step 4 from its warm-up
``results/step1``). :func:`run_chain` trains a list of experiments into ``OUT/<experiment>``
and points each one's ``frozen`` and ``init_from`` at the runs of the same chain, so a whole
reproduction at one scale is a single command::

    python -m ismarl reproduce --scale paper --seeds 10 --out results/paper

An experiment whose run directory already holds a finished checkpoint of the same configuration
is skipped, a partial one is resumed, so an interrupted chain continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from ismarl import checkpoint
from ismarl.train.configs import STEPS, ExperimentConfig, get_config

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
    from ismarl.train.configs import apply_overrides

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


def run_chain(steps, preset: str, seeds, out, overrides=(), manifest: bool = True, progress: bool = True,
              log=print) -> list[tuple[str, str]]:
    """Train ``steps`` (see :func:`plan`) into ``out``; returns ``[(experiment, what happened)]``
    with ``"trained"``, ``"resumed"`` or ``"skipped (finished)"``."""
    from ismarl.provenance import write_manifest
    from ismarl.train.loop import train

    seeds = [int(s) for s in seeds]
    done = []
    for step, cfg, run_dir in plan(steps, preset, out, overrides):
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
