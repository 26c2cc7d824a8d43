"""Reading a finished (or partial) run: its config, seeds, parameters and snapshots, and which
agents of another run each seed starts from.

Only the parameters are read (:func:`load_run`); the optimizer state stays in the checkpoint, for
``--resume``. Every failure to read is a :class:`~ismarl.runs.checkpoint.CheckpointError` (or a
``FileNotFoundError`` for a missing directory) naming the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ismarl.engines import engine_for
from ismarl.engines.experiment import ExperimentConfig, from_dict
from ismarl.runs import checkpoint
from ismarl.runs.checkpoint import CheckpointError
from ismarl.runs.layout import CONFIG


def config_of(meta: dict, where) -> ExperimentConfig:
    """The config recorded in a checkpoint sidecar or ``config.json`` (``{"config": ...}``), with a
    :class:`CheckpointError` if it cannot be read."""
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{where} holds no config object")
    try:
        return from_dict(meta["config"])
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"the config in {where} is invalid: {exc}") from None


def read_config(run_dir) -> ExperimentConfig:
    """The config of a run from its ``config.json`` (any config format, :func:`from_dict`)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} has no {CONFIG}: not a run directory")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None
    return config_of(meta, path)


def seeds_of(meta: dict, where) -> list[int]:
    seeds = meta.get("seeds")
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise CheckpointError(f"the checkpoint sidecar in {where} holds no list of integer seeds (got {seeds!r})")
    return seeds


def params_template(cfg: ExperimentConfig, n_seeds: int):
    """Zeros shaped like the parameters of a run: leaves (n_seeds, n_learners, ...)."""
    init = engine_for(cfg).init_params
    shapes = jax.eval_shape(lambda: init(cfg, jax.random.PRNGKey(0)))
    return jax.tree_util.tree_map(lambda x: np.zeros((n_seeds, cfg.n_learners) + x.shape, x.dtype), shapes)


def check_finite(params, where) -> None:
    """Refuse parameters holding NaN or infinity (a run that diverged)."""
    bad = [jax.tree_util.keystr(k) for k, x in jax.tree_util.tree_flatten_with_path(params)[0]
           if not np.all(np.isfinite(np.asarray(x)))]
    if bad:
        raise CheckpointError(f"{where} holds non-finite parameters (NaN or infinity) in {bad[0]}: "
                              "the run diverged; train it again with a smaller learning rate")


def load_run(run_dir):
    """``(config, seeds, params, sidecar)`` of a run; ``params`` leaves are (n_seeds, n_learners, ...)."""
    meta = checkpoint.read_sidecar(run_dir)
    cfg, seeds = config_of(meta, run_dir), seeds_of(meta, run_dir)
    # no config-hash check: the config comes from the same sidecar, whose digest guards the data
    params, meta = checkpoint.load(run_dir, params_template(cfg, len(seeds)), seeds=seeds,
                                   part="params")
    check_finite(params, f"the checkpoint in {run_dir}")
    return cfg, seeds, jax.tree_util.tree_map(jnp.asarray, params), meta


def load_snapshots(run_dir):
    """``(config, seeds, {iteration: params})`` of a run trained with ``snapshot_every``; the
    parameter leaves are (n_seeds, n_learners, ...), as in :func:`load_run`."""
    meta = checkpoint.read_sidecar(run_dir)
    cfg, seeds = config_of(meta, run_dir), seeds_of(meta, run_dir)
    snaps = checkpoint.load_snapshots(run_dir)
    return cfg, seeds, {i: jax.tree_util.tree_map(jnp.asarray, p) for i, p in snaps.items()}


def source_seeds(cfg: ExperimentConfig, learner: int, seeds, from_seeds) -> list[int]:
    """The seeds of ``cfg.init_from[learner]`` (whose seeds are ``from_seeds``) that this run's
    ``seeds`` start learner ``learner`` from: ``init_seeds[learner]`` when the config names them,
    else, for the run's k-th seed, the other run's seed (k + ``init_seed_offset[learner]``) modulo
    its seed count. The one place that maps seeds to starting agents."""
    if cfg.init_seeds:
        named = list(cfg.init_seeds[learner])
        if len(named) != len(seeds):
            raise ValueError(f"init_seeds names {len(named)} source seeds for learner {learner}, this run has {len(seeds)} seeds")
        missing = [s for s in named if s not in list(from_seeds)]
        if missing:
            raise ValueError(f"init_seeds: {cfg.init_from[learner]} has no seed(s) {missing}; its seeds are {list(from_seeds)}")
        return named
    offset = cfg.init_seed_offset[learner] if cfg.init_seed_offset else 0
    return [list(from_seeds)[(k + offset) % len(from_seeds)] for k in range(len(seeds))]
