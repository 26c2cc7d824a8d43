"""Replay training: play the parameters a run held at any snapshot iteration against a co-player.

Runs trained with ``snapshot_every`` keep every seed's parameters every few iterations
(:func:`ismarl.runs.checkpoint.save_snapshots`). :func:`replay` plays learner ``learner`` of seed
``seed_index`` at ``iteration`` against

* ``"co-learner"`` -- the other learner of the same run at the same iteration (Steps 3 and 4);
* ``"frozen"`` -- the run's frozen co-player (Step 2's Fixed-ICL), seed ``seed_index`` modulo its seeds;
* any tabular spec of :mod:`ismarl.agents.coplayers` (``"tft"``, ``"random"``, ``"0.9:0.8:0.1:0.7:0.2"``).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ismarl.engines import engine_for
from ismarl.runs.evaluate import play_learner
from ismarl.runs.layout import resolve_reference
from ismarl.runs.store import load_run, load_snapshots


@functools.lru_cache(maxsize=8)
def _snapshots(run_dir: str):
    return load_snapshots(run_dir)


def snapshot_iterations(run_dir) -> list[int]:
    return sorted(_snapshots(str(run_dir))[2])


def run_seeds(run_dir) -> list[int]:
    return list(_snapshots(str(run_dir))[1])


def replay(run_dir, seed_index: int, iteration: int, coplayer: str = "co-learner", episodes: int = 64,
           key: int = 0, learner: int = 0):
    """Play ``episodes`` episodes; returns the :class:`~ismarl.agents.match.Trajectory` (side 0 = the learner)."""
    cfg, seeds, snaps = _snapshots(str(run_dir))
    if iteration not in snaps:
        raise ValueError(f"{run_dir} has no snapshot at iteration {iteration}; it has {sorted(snaps)}")
    if not 0 <= seed_index < len(seeds):
        raise ValueError(f"{run_dir} has {len(seeds)} seeds; seed index {seed_index} does not exist")
    pick = lambda tree, s, i: jax.tree_util.tree_map(lambda x: x[s, i], tree)
    params = pick(snaps[iteration], seed_index, learner)
    opp, spec = None, coplayer
    if coplayer == "co-learner":
        if cfg.n_learners < 2:
            raise ValueError(f"{run_dir} has a single learner; choose 'frozen' or a tabular co-player")
        opp = (engine_for(cfg).agent(cfg), pick(snaps[iteration], seed_index, 1 - learner))
    elif coplayer == "frozen":
        if not cfg.frozen:
            raise ValueError(f"{run_dir} has no frozen co-player")
        fcfg, _, fparams, _ = load_run(resolve_reference(cfg.frozen[0], run_dir))
        n = jax.tree_util.tree_leaves(fparams)[0].shape[0]
        opp = (engine_for(fcfg).agent(fcfg), pick(fparams, seed_index % n, 0))
    traj, _ = play_learner(cfg, params, spec, episodes, jax.random.PRNGKey(key), coplayer=opp)
    return traj


def action_string(traj, side: int, episode: int = 0) -> str:
    """``"CCDDC..."``: one side's actions in one episode."""
    return "".join("CD"[int(a)] for a in np.asarray(traj.actions[side, :, episode]))
