"""The Python driver around the pure training step: chunks, progress, metrics, checkpoints, resume.

Run directory layout (``--out``):

* ``config.json`` -- the :class:`~ismarl.train.configs.ExperimentConfig`, its hash and the seeds;
* ``metrics.jsonl`` -- one JSON line per seed per chunk (``"kind": "train"``: mean reward and
  cooperation of both sides of every match, entropy, value loss, gradient norm) and per probe
  (``"kind": "probe"``: the learners' behaviour against TFT, ALLC, ALLD and random tabular agents);
* ``checkpoint.msgpack`` + ``checkpoint.json`` -- see :mod:`ismarl.checkpoint`;
* ``snapshots.msgpack`` + ``snapshots.json`` -- with ``snapshot_every``, the parameters of every
  seed at iteration 0 and every ``snapshot_every`` iterations (to replay training afterwards).

Resuming loads the checkpoint, drops metric lines written after it and continues with the same
chunk boundaries; because every iteration's randomness is ``fold_in(run_key(seed), iteration)``,
the result is bit-identical to an uninterrupted run on the same machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ismarl import checkpoint
from ismarl.train import a2c
from ismarl.train.configs import ExperimentConfig


def _stack(trees):
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *trees)


def state_template(cfg: ExperimentConfig, seeds) -> a2c.TrainState:
    """A freshly initialized state for ``seeds`` (leading seed axis); the shape target for loading."""
    return _stack([a2c.init_state(cfg, s) for s in seeds])


def _load_params_per_seed(run_dir, n_seeds: int, learner: int | None = None, offset: int = 0, iteration: int = 0,
                          source_seeds=None):
    """Parameters of a finished run (its snapshot at ``iteration``, or its final checkpoint when
    ``iteration`` is 0), one per seed of this run: seed i takes the other run's seed
    ``source_seeds[i]`` (a seed value of that run) when given, else its seed (i + offset) modulo
    its seed count; returns ``(network config, params with leading seed axis)``."""
    from ismarl.evaluate import load_run, load_snapshots

    if iteration:
        cfg, src_seeds, snaps = load_snapshots(run_dir)
        if iteration not in snaps:
            raise ValueError(f"init_iteration {iteration}: {run_dir} has snapshots at {sorted(snaps)} only")
        params = snaps[iteration]
    else:
        cfg, src_seeds, params, _ = load_run(run_dir)
    n = jax.tree_util.tree_leaves(params)[0].shape[0]
    if source_seeds is not None:
        if len(source_seeds) != n_seeds:
            raise ValueError(f"init_seeds for {run_dir}: {len(source_seeds)} source seeds for {n_seeds} seeds of this run")
        missing = [s for s in source_seeds if s not in list(src_seeds)]
        if missing:
            raise ValueError(f"init_seeds: {run_dir} has no seed(s) {missing}; its seeds are {list(src_seeds)}")
        idx = jnp.asarray([list(src_seeds).index(s) for s in source_seeds])
    else:
        idx = (jnp.arange(n_seeds) + offset) % n
    p = jax.tree_util.tree_map(lambda x: x[idx], params)  # (S, L, ...)
    if learner is not None:
        p = jax.tree_util.tree_map(lambda x: x[:, learner], p)
    return cfg.network, p


def initial_states(cfg: ExperimentConfig, seeds):
    states = state_template(cfg, seeds)
    if cfg.init_from and any(cfg.init_from):
        if len(cfg.init_from) != cfg.n_learners:
            raise ValueError(f"init_from needs one entry per learner ({cfg.n_learners}), got {len(cfg.init_from)}")
        offsets = cfg.init_seed_offset or (0,) * cfg.n_learners
        if len(offsets) != cfg.n_learners:
            raise ValueError(f"init_seed_offset needs one entry per learner ({cfg.n_learners}), got {len(offsets)}")
        params = states.params
        for i, src in enumerate(cfg.init_from):
            if src is None:
                continue
            net, p = _load_params_per_seed(src, len(seeds), learner=0, offset=offsets[i], iteration=cfg.init_iteration,
                                           source_seeds=cfg.init_seeds[i] if cfg.init_seeds else None)
            if (net.hidden, net.embed) != (cfg.network.hidden, cfg.network.embed) or (net.use_z and not cfg.network.use_z):
                raise ValueError(f"init_from {src}: network {net} differs from this run's {cfg.network}")
            # a network without the z input can start a run that has one: z's embedding keeps its
            # fresh initialization, every other layer is copied
            merged = dict(params["params"])
            for name, layer in p["params"].items():
                merged[name] = jax.tree_util.tree_map(lambda full, new: full.at[:, i].set(new), params["params"][name], layer)
            params = {"params": merged}
        states = _stack([a2c.init_state(cfg, s, jax.tree_util.tree_map(lambda x: x[k], params)) for k, s in enumerate(seeds)])
    return states


def load_frozen(cfg: ExperimentConfig, n_seeds: int):
    nets, params = [], []
    for src in cfg.frozen:
        net, p = _load_params_per_seed(src, n_seeds, learner=0)
        nets.append(net)
        params.append(p)
    return tuple(nets), tuple(params)


def _jsonable(x):
    x = np.asarray(x)
    return round(float(x), 5) if x.ndim == 0 else np.round(x.astype(np.float64), 5).tolist()


def probe(cfg: ExperimentConfig, states, seeds, iteration: int) -> list[dict]:
    """Behaviour of every seed's learner 0 against ``cfg.probes`` (reward, coop, coop in rounds 40-60)."""
    from ismarl.evaluate import play_learner

    lines = []
    for si, seed in enumerate(seeds):
        p = jax.tree_util.tree_map(lambda x: x[si, 0], states.params)
        res = {}
        for j, spec in enumerate(cfg.probes):
            traj, _ = play_learner(cfg, p, spec, cfg.probe_episodes, jax.random.fold_in(jax.random.PRNGKey(777), j))
            c = 1.0 - np.asarray(traj.actions[0], np.float64)
            res[spec] = {"reward": round(float(np.asarray(traj.rewards[0]).mean()), 4), "coop": round(float(c.mean()), 4),
                         "coop_40_60": round(float(c[39:60].mean()), 4) if len(c) >= 60 else None}
        lines.append({"kind": "probe", "iteration": iteration, "seed": seed, "probe": res})
    return lines


def is_best_responder(probe_result: dict) -> bool:
    """The Step-1 criterion: cooperation >= 0.9 with TFT in rounds 40-60, <= 0.05 with ALLC."""
    return probe_result["tft"]["coop_40_60"] >= 0.9 and probe_result["allc"]["coop"] <= 0.05


def train(cfg: ExperimentConfig, seeds, out, resume: bool = False, stop_at: int | None = None,
          progress: bool = True, log=print):
    """Train ``cfg`` for every seed in ``seeds`` into ``out``; returns the final states."""
    out = Path(out)
    seeds = [int(s) for s in seeds]
    metrics_path = out / "metrics.jsonl"
    if checkpoint.exists(out) and not resume:
        raise FileExistsError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    start = 0
    states = None
    if resume and checkpoint.exists(out):
        states, meta = checkpoint.load(out, state_template(cfg, seeds), config_hash=cfg.hash(), seeds=seeds)
        start = int(meta["iteration"])
        if metrics_path.exists():  # drop lines written after the checkpoint
            kept = [ln for ln in metrics_path.read_text().splitlines() if ln.strip() and json.loads(ln)["iteration"] <= start]
            metrics_path.write_text("".join(ln + "\n" for ln in kept))
    else:
        if metrics_path.exists():
            metrics_path.unlink()
        states = initial_states(cfg, seeds)
    snapshots = {}
    if cfg.snapshot_every:
        if start and checkpoint.snapshot_iterations(out):
            snapshots = {i: p for i, p in checkpoint.load_snapshots(out).items() if i <= start}
        else:
            snapshots = {0: states.params}
    (out / "config.json").write_text(json.dumps({"config": cfg.to_dict(), "config_hash": cfg.hash(), "seeds": seeds}, indent=1) + "\n")

    frozen_nets, frozen_params = load_frozen(cfg, len(seeds))
    run_keys = jnp.stack([a2c.seed_keys(s)[1] for s in seeds])
    chunk_fns = {}
    end = cfg.iterations if stop_at is None else min(cfg.iterations, stop_at)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.iterations, initial=start, desc=f"{cfg.name} x{len(seeds)} seeds", unit="it")
    t0 = time.time()
    it = start
    with open(metrics_path, "a") as mfile:
        if start == 0 and cfg.probe_every and cfg.horizon >= 60:
            for ln in probe(cfg, states, seeds, 0):
                mfile.write(json.dumps(ln) + "\n")
        while it < end:
            n = min(cfg.chunk - it % cfg.chunk, end - it)
            if n not in chunk_fns:
                chunk_fns[n] = a2c.make_chunk(cfg, n, frozen_nets)
            states, metrics = chunk_fns[n](states, run_keys, frozen_params)
            it += n
            means = jax.tree_util.tree_map(lambda x: np.asarray(x).mean(axis=1), metrics)  # over the chunk
            for si, seed in enumerate(seeds):
                line = {"kind": "train", "iteration": it, "seed": seed, "wall_s": round(time.time() - t0, 2),
                        "entropy_coef": _jsonable(means["entropy_coef"][si]),
                        "matches": {k: {"reward": _jsonable(v["reward"][si]), "coop": _jsonable(v["coop"][si])}
                                    for k, v in means.items() if isinstance(v, dict) and "reward" in v},
                        "learners": {k: _jsonable(v[si]) for k, v in means["learners"].items()}}
                mfile.write(json.dumps(line) + "\n")
            if cfg.probe_every and it % cfg.probe_every == 0 and cfg.horizon >= 60:
                lines = probe(cfg, states, seeds, it)
                for ln in lines:
                    mfile.write(json.dumps(ln) + "\n")
                if bar is not None:
                    tft = np.mean([ln["probe"]["tft"]["coop_40_60"] for ln in lines]) if "tft" in cfg.probes else float("nan")
                    allc = np.mean([ln["probe"]["allc"]["coop"] for ln in lines]) if "allc" in cfg.probes else float("nan")
                    bar.set_postfix(tft40_60=f"{tft:.2f}", allc=f"{allc:.2f}")
            mfile.flush()
            if cfg.snapshot_every and (it % cfg.snapshot_every == 0 or it == cfg.iterations):
                snapshots[it] = states.params
                checkpoint.save_snapshots(out, snapshots, config_hash=cfg.hash(), seeds=seeds)
            if it % cfg.checkpoint_every == 0 or it == cfg.iterations:
                checkpoint.save(out, states, config=cfg.to_dict(), config_hash=cfg.hash(), seeds=seeds, iteration=it)
            if bar is not None:
                bar.update(n)
    if bar is not None:
        bar.close()
    if it == end and it % cfg.checkpoint_every and it != cfg.iterations:
        checkpoint.save(out, states, config=cfg.to_dict(), config_hash=cfg.hash(), seeds=seeds, iteration=it)
    return states


def read_metrics(run_dir, kind: str = "train") -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    return [d for d in (json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()) if d.get("kind") == kind]
