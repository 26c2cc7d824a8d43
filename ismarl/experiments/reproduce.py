"""The mechanism's experiments as one chain: every step trained into one directory, in order.

The presets name the runs they build on by experiment (Step 2's frozen Fixed-ICL is ``step1``,
Step 3 starts from ``step2``, the ``cpu`` Step 4 from its warm-up ``step1``), and a name is the run
of that experiment beside the one being trained. :func:`run_chain` trains a list of experiments
into ``OUT/<experiment>``, in :data:`~ismarl.experiments.presets.ORDER`, so each builds on the
chain's own runs and a whole reproduction at one scale is a single command::

    python -m ismarl reproduce --scale paper --seeds 10 --out results/paper

An experiment whose run directory already holds a finished checkpoint of the same configuration
is skipped, a partial one is resumed, so an interrupted chain continues where it stopped. With a
time budget (:class:`ismarl.runs.budget.Budget`, ``--time-budget``) the chain stops at the chunk
boundary where the next chunk would not fit, and the same command, run again (on this machine or
on another one with a copy of ``OUT``), continues it: a chain in commands of bounded wall time,
with the same result as one uninterrupted run (bit for bit on the same kind of machine).
``OUT/progress.json`` says what each command left behind (:func:`write_progress`) and keeps what
the runs' chunks took, from which :func:`describe_pieces` estimates how many commands are left.

A Step 4 that starts from the chain's warm-up pairs only warm-up agents that meet the Step-1
criterion (:func:`pair_warmup_agents`): with one that misses it, the mixed pool rarely finds
cooperation (``results/step4_search/README.md``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ismarl.engines.experiment import ExperimentConfig, apply_overrides
from ismarl.experiments.presets import EXPERIMENTS, ORDER, PAPER, WARMUPS, builds_on, get_config
from ismarl.experiments.warmup import criterion_pairs, warmup_best_responders
from ismarl.runs import checkpoint
from ismarl.runs.evaluate import evaluate_run, read_evaluation, write_json
from ismarl.runs.budget import Budget, plan_pieces
from ismarl.runs.provenance import current_command, describe_machine, utc_now
from ismarl.runs.train import train_piece

PROGRESS = "progress.json"  # OUT/progress.json: what the chain's last command left behind
PROGRESS_FORMAT = "ismarl-chain-progress/1"


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


def run_states(rows, n_seeds: int, out) -> list[dict]:
    """Where each run of ``rows`` (:func:`plan`) stands in ``out``: ``experiment``, ``state``
    (``finished``, ``partial`` or ``to train``), ``iteration`` (of its checkpoint), ``iterations``
    and ``config_hash`` (with the Step-4 pairs the chain would start it from, as far as known)."""
    states = []
    for step, cfg, run_dir in rows:
        cfg = pair_warmup_agents(cfg, n_seeds, out, evaluate=False, log=lambda *a: None)
        iteration = checkpoint.iteration(run_dir)
        state = "finished" if is_finished(run_dir, cfg) else "partial" if checkpoint.exists(run_dir) else "to train"
        states.append({"experiment": step, "state": state, "iteration": iteration, "iterations": cfg.iterations,
                       "config_hash": cfg.hash()})
    return states


def read_progress(out) -> dict:
    """``OUT/progress.json`` (:func:`write_progress`); empty when absent or unreadable (it is
    written again by the chain's next command)."""
    try:
        data = json.loads((Path(out) / PROGRESS).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == PROGRESS_FORMAT else {}


def write_progress(out, rows, seeds, timings: dict, status: str) -> Path:
    """Write ``OUT/progress.json`` atomically: the chain's runs and where each stands
    (:func:`run_states`), the ``status`` (``running``, ``complete`` or ``stopped at the time
    budget``), and, under ``timing``, what each run's chunks took in the latest command that
    measured them (:meth:`ismarl.runs.budget.Budget.run_timing`, with the run's config hash, its
    number of seeds and the machine), merged over ``timings`` of earlier commands."""
    measured = read_progress(out).get("timing", {})
    for step, new in timings.items():
        old = measured.get(step, {})
        same = all(old.get(k) == new.get(k) for k in ("config_hash", "seeds", "machine"))
        measured[step] = {k: v if v is not None or not same else old.get(k) for k, v in new.items()}
    doc = {"format": PROGRESS_FORMAT, "updated_utc": utc_now(), "command": current_command(), "status": status,
           "seeds": [int(s) for s in seeds], "runs": run_states(rows, len(seeds), out), "timing": measured}
    path = Path(out) / PROGRESS
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def describe_pieces(rows, n_seeds: int, out, seconds: float) -> str:
    """How many commands of ``seconds`` each the unfinished runs of ``rows`` will likely take,
    estimated from the times ``OUT/progress.json`` keeps for runs of the same config and number of
    seeds (:func:`ismarl.runs.budget.plan_pieces`), or that they are not known yet."""
    timing = read_progress(out).get("timing", {})
    runs, machines = [], set()
    for (step, cfg, _), st in zip(rows, run_states(rows, n_seeds, out)):
        if st["state"] == "finished":
            continue
        t = timing.get(step, {})
        known = t if (t.get("config_hash"), t.get("seeds")) == (st["config_hash"], n_seeds) else None
        if known:
            machines.add(known.get("machine") or "?")
        runs.append((step, st["iteration"], st["iterations"], cfg.run.chunk, known))
    if not runs:
        return "nothing left to train: the chain is complete"
    commands, unknown = plan_pieces(runs, seconds)
    lines = []
    if commands:
        head = f"{'about' if unknown is None else 'at least'} {len(commands)} command(s) of --time-budget {seconds:g} s"
        lines.append(f"{head}, estimated from the times measured on {'; '.join(sorted(machines))} ({Path(out) / PROGRESS}):")
        for step in dict.fromkeys(name for cmd in commands for name, _, _ in cmd):
            where = [k + 1 for k, cmd in enumerate(commands) if any(name == step for name, _, _ in cmd)]
            first = min(a for cmd in commands for name, a, _ in cmd if name == step)
            last = max(b for cmd in commands for name, _, b in cmd if name == step)
            span = f"command {where[0]}" if len(where) == 1 else f"commands {where[0]}-{where[-1]}"
            lines.append(f"  {step}: iterations {first}-{last} in {span}")
    if unknown is not None:
        rest = [r[0] for r in runs[[r[0] for r in runs].index(unknown):]]
        lines.append(f"{'then ' if commands else ''}{', '.join(rest)}: {'more commands' if commands else 'commands'}, "
                     f"how many is not known: the time per iteration of {unknown} is not measured yet (the first command "
                     f"that trains it measures it into {Path(out) / PROGRESS}; run --dry-run again after it)")
    return "\n".join(lines)


def run_chain(steps, preset: str, seeds, out, overrides=(), manifest: bool = True, progress: bool = True,
              log=print, budget: Budget | None = None) -> list[tuple[str, str]]:
    """Train ``steps`` (see :func:`plan`) into ``out``; returns ``[(experiment, what happened)]``
    with ``"trained"``, ``"resumed"``, ``"skipped (finished)"`` or, when ``budget`` ran out
    (``budget.stopped``; :class:`ismarl.runs.budget.Budget`), ``"stopped at iteration N"``
    for the run it stopped in. ``OUT/progress.json`` is written after every run
    (:func:`write_progress`)."""
    seeds = [int(s) for s in seeds]
    budget = budget if budget is not None else Budget()  # unlimited: only measures, for later plans
    rows = plan(steps, preset, out, overrides)
    done, timings = [], {}
    for step, cfg, run_dir in rows:
        cfg = pair_warmup_agents(cfg, len(seeds), out, log=log)
        if is_finished(run_dir, cfg):
            meta = checkpoint.read_sidecar(run_dir)
            if meta.get("seeds") != seeds:
                raise ValueError(f"{run_dir} holds seeds {meta.get('seeds')}, this chain asks for {seeds}; "
                                 f"choose another --out")
            log(f"{step}: finished in {run_dir}, skipped")
            done.append((step, "skipped (finished)"))
            continue
        if not budget.fits(budget.start_s):
            log(f"{step}: not started, {budget.elapsed():.0f} s into a time budget of {budget.seconds:g} s (starting "
                f"a run took up to {budget.start_s:.0f} s)")
            break
        resume = checkpoint.exists(run_dir)
        log(f"{step}: {'resuming' if resume else 'training'} {cfg.iterations} iterations into {run_dir}")
        reached = train_piece(cfg, seeds, run_dir, resume=resume, progress=progress, log=log, budget=budget,
                              manifest={"experiment": cfg.name, "seeds": seeds, "chain": str(out)} if manifest else None)
        timings[step] = {**budget.run_timing(), "config_hash": cfg.hash(), "seeds": len(seeds), "machine": describe_machine()}
        if reached < cfg.iterations:
            done.append((step, f"stopped at iteration {reached}"))
            break
        done.append((step, "resumed" if resume else "trained"))
        write_progress(out, rows, seeds, timings, "running")
    write_progress(out, rows, seeds, timings, "stopped at the time budget" if budget.stopped else "complete")
    return done
