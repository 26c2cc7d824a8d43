"""The Python driver around an engine's pure training step: chunks, progress, metrics,
checkpoints, resume. It knows nothing of a particular engine (:class:`ismarl.engines.Engine`).

The run directory's files are listed in :mod:`ismarl.runs.layout`. Resuming loads the checkpoint,
drops metric lines written after it and continues with the same chunk boundaries; because every
iteration's randomness is ``fold_in(run_key(seed), iteration)``, the result is bit-identical to an
uninterrupted run on the same machine. A run stops at a chunk boundary after ``stop_at`` or when
a wall-time budget (:mod:`ismarl.runs.budget`) has no room for the next chunk, and is resumed the
same way; :func:`train_piece` records each such piece in the run's manifest.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ismarl._validate import check_int
from ismarl.engines import engine_for
from ismarl.engines.experiment import ExperimentConfig
from ismarl.engines.seeds import seed_keys
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs import checkpoint, metrics, sharding
from ismarl.runs.budget import Budget, chunk_lengths
from ismarl.runs.evaluate import play_learner
from ismarl.runs.layout import CONFIG, METRICS, resolve_reference
from ismarl.runs.provenance import git_commit, utc_now, write_run_manifest
from ismarl.runs.store import config_of, load_run, load_snapshots, seeds_of, source_seeds


def _stack(trees):
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *trees)


def state_template(cfg: ExperimentConfig, seeds):
    """A freshly initialized state for ``seeds`` (leading seed axis); the shape target for loading."""
    engine = engine_for(cfg)
    return _stack([engine.init_state(cfg, s) for s in seeds])


def _load_params_per_seed(run_dir, seeds, learner: int | None = None, iteration: int = 0, source_of=None):
    """Parameters of another run (its snapshot at ``iteration``, or its final checkpoint when
    ``iteration`` is 0), one per seed of this run; ``source_of(from_seeds)`` names the other run's
    seed for each of this run's seeds (default: the same position, modulo its seed count). Returns
    ``(the agent description of the other run's learners, params with leading seed axis)``."""
    if iteration:
        src_cfg, src_seeds, snaps = load_snapshots(run_dir)
        if iteration not in snaps:
            raise ValueError(f"init_iteration {iteration}: {run_dir} has snapshots at {sorted(snaps)} only")
        params = snaps[iteration]
    else:
        src_cfg, src_seeds, params, _ = load_run(run_dir)
    chosen = source_of(src_seeds) if source_of else [src_seeds[k % len(src_seeds)] for k in range(len(seeds))]
    idx = jnp.asarray([list(src_seeds).index(s) for s in chosen])
    p = jax.tree_util.tree_map(lambda x: x[idx], params)  # (S, L, ...)
    if learner is not None:
        p = jax.tree_util.tree_map(lambda x: x[:, learner], p)
    return src_cfg, p


def initial_states(cfg: ExperimentConfig, seeds, run_dir="run"):
    """Every seed's state before iteration 1: fresh, or with learners copied from ``init_from``
    (references resolved for a run in ``run_dir``: :func:`ismarl.runs.layout.resolve_reference`)."""
    states = state_template(cfg, seeds)
    if cfg.init_from and any(cfg.init_from):
        if len(cfg.init_from) != cfg.n_learners:
            raise ValueError(f"init_from needs one entry per learner ({cfg.n_learners}), got {len(cfg.init_from)}")
        if cfg.init_seed_offset and len(cfg.init_seed_offset) != cfg.n_learners:
            raise ValueError(f"init_seed_offset needs one entry per learner ({cfg.n_learners}), got {len(cfg.init_seed_offset)}")
        engine = engine_for(cfg)
        if engine.inherit is not None:
            return _inherit_states(cfg, states, seeds, run_dir)
        params = states.params
        for i, src in enumerate(cfg.init_from):
            if src is None:
                continue
            src_cfg, p = _load_params_per_seed(resolve_reference(src, run_dir), seeds, learner=0, iteration=cfg.init_iteration,
                                               source_of=lambda from_seeds, i=i: source_seeds(cfg, i, seeds, from_seeds))
            net = src_cfg.network
            if src_cfg.engine != cfg.engine:
                raise ValueError(f"init_from {src}: a run of engine {src_cfg.engine!r} cannot start one of {cfg.engine!r}")
            if (net.hidden, net.embed) != (cfg.network.hidden, cfg.network.embed) or (net.use_z and not cfg.network.use_z):
                raise ValueError(f"init_from {src}: network {net} differs from this run's {cfg.network}")
            # a network without the z input can start a run that has one: z's embedding keeps its
            # fresh initialization, every other layer is copied
            merged = dict(params["params"])
            for name, layer in p["params"].items():
                merged[name] = jax.tree_util.tree_map(lambda full, new: full.at[:, i].set(new), params["params"][name], layer)
            params = {"params": merged}
        states = _stack([engine.init_state(cfg, s, jax.tree_util.tree_map(lambda x: x[k], params)) for k, s in enumerate(seeds)])
    return states


def _inherit_states(cfg: ExperimentConfig, states, seeds, run_dir):
    """``states`` with learner i taken over from ``init_from[i]``'s learner 0 by the engine's
    ``inherit`` (e.g. PPI: the model and the whole dataset), one source seed per seed
    (:func:`ismarl.runs.store.source_seeds`)."""
    engine = engine_for(cfg)
    if cfg.init_iteration:
        raise ValueError(f"init_iteration: the {cfg.engine} engine starts from a run's final checkpoint only "
                         "(its snapshots hold parameters, not the learners' data)")
    for i, src in enumerate(cfg.init_from):
        if src is None:
            continue
        src_dir = resolve_reference(src, run_dir)
        meta = checkpoint.read_sidecar(src_dir)
        src_cfg, src_seeds = config_of(meta, src_dir), seeds_of(meta, src_dir)
        if src_cfg.engine != cfg.engine:
            raise ValueError(f"init_from {src}: a run of engine {src_cfg.engine!r} cannot start one of {cfg.engine!r}")
        shapes = jax.eval_shape(lambda: state_template(src_cfg, src_seeds[:1]))
        target = jax.tree_util.tree_map(lambda x: np.zeros((len(src_seeds),) + x.shape[1:], x.dtype), shapes)
        full, _ = checkpoint.load(src_dir, target, seeds=src_seeds)
        chosen = source_seeds(cfg, i, seeds, src_seeds)
        idx = np.asarray([list(src_seeds).index(s) for s in chosen])
        source = jax.tree_util.tree_map(lambda x: jnp.asarray(np.asarray(x)[idx]), full)
        states = engine.inherit(cfg, states, i, src_cfg, source, src)
    return states


def load_frozen(cfg: ExperimentConfig, seeds, run_dir="run"):
    """The frozen co-players' agent descriptions (:class:`ismarl.engines.Engine` ``agent``) and
    parameters: seed k plays the k-th seed of each frozen run (modulo its seed count), its learner 0."""
    nets, params = [], []
    for src in cfg.frozen:
        src_cfg, p = _load_params_per_seed(resolve_reference(src, run_dir), seeds, learner=0)
        nets.append(engine_for(src_cfg).agent(src_cfg))
        params.append(p)
    return tuple(nets), tuple(params)


def _jsonable(x):
    x = np.asarray(x)
    return round(float(x), 5) if x.ndim == 0 else np.round(x.astype(np.float64), 5).tolist()


def make_probe(cfg: ExperimentConfig, placement: sharding.Placement | None = None):
    """``probe(states, seeds, iteration) -> lines``: the behaviour of every seed's learner 0
    against ``cfg.run.probes`` (reward, cooperation, and cooperation within
    :data:`ismarl.protocol.ROUNDS_40_60`, None for shorter episodes), one metrics line per seed.
    Each probe co-player's games are one compiled program over all seeds (vmapped, and split over
    the devices of ``placement`` as the run's chunks are), built once here: a PPI learner plans
    every move with rollouts, and its probes played seed after seed cost nearly as much as a phase."""
    window = ROUNDS_40_60

    def games(spec: str, j: int):
        def one_seed(params):
            # what does not depend on the learner (the dice, the co-players, the payoff table) is
            # made as constants, as when the games were played seed by seed
            with jax.ensure_compile_time_eval():
                key = jax.random.fold_in(jax.random.PRNGKey(777), j)
                traj, _ = play_learner(cfg, params, spec, cfg.run.probe_episodes, key)
            return traj.actions[0], traj.rewards[0]

        fn = jax.vmap(one_seed)
        return jax.jit(fn if placement is None else sharding.over_devices(fn, placement))

    programs = {spec: games(spec, j) for j, spec in enumerate(cfg.run.probes)}

    def probe(states, seeds, iteration: int) -> list[dict]:
        learner0 = jax.tree_util.tree_map(lambda x: x[:, 0], states.params)
        lines = [{"kind": "probe", "iteration": iteration, "seed": seed, "probe": {}} for seed in seeds]
        for spec, program in programs.items():
            actions, rewards = (np.asarray(x) for x in program(learner0))
            for si, line in enumerate(lines):
                c = 1.0 - actions[si].astype(np.float64)
                line["probe"][spec] = {"reward": round(float(rewards[si].mean()), 4), "coop": round(float(c.mean()), 4),
                                       window.key: round(float(c[window.slice].mean()), 4) if window.fits(len(c)) else None}
        return lines

    return probe


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of distinct non-negative integers, or a ValueError naming the problem."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of integers, got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: give at least one seed (e.g. --seeds 3 or --seeds 0,4)")
    for s in seeds:
        check_int(s, "seed", minimum=0)
        if s >= 2**31:
            raise ValueError(f"seed {s} is too large (seeds must be below 2**31)")
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise ValueError(f"seeds {seeds}: seed(s) {dup} appear more than once; every seed trains one agent, give distinct seeds")
    return [int(s) for s in seeds]


def _check_finite_chunk(cfg: ExperimentConfig, states, chunk_metrics, first: int, last: int,
                        has_checkpoint: bool) -> None:
    """Stop when training diverged in iterations ``first+1..last``: the parameters or the chunk's
    losses are NaN or infinite. Raised before anything of the chunk is saved, so the last
    checkpoint (a finite state) stays."""
    bad = [jax.tree_util.keystr(k) for k, x in jax.tree_util.tree_flatten_with_path(states.params)[0]
           if not np.all(np.isfinite(np.asarray(x)))]
    what = "parameters"
    if not bad:
        bad = [jax.tree_util.keystr(k) for k, x in jax.tree_util.tree_flatten_with_path(chunk_metrics)[0]
               if np.issubdtype(np.asarray(x).dtype, np.floating) and not np.all(np.isfinite(np.asarray(x)))]
        what = "losses/metrics"
    if bad:
        kept = ("the last checkpoint stays, --resume continues it" if has_checkpoint
                else "there was no checkpoint yet, so the run directory is not kept")
        raise ValueError(f"training diverged in iterations {first + 1}..{last}: non-finite (NaN or infinite) {what} "
                         f"in {bad[0]}; nothing of these iterations was saved ({kept}); train with a smaller "
                         f"learning rate (--set {cfg.engine}.learning_rate=...)")


def train(cfg: ExperimentConfig, seeds, out, resume: bool = False, stop_at: int | None = None,
          progress: bool = True, log=print, budget: Budget | None = None):
    """Train ``cfg`` for every seed in ``seeds`` into ``out``; returns the final states. Training
    stops (and checkpoints) after iteration ``stop_at``, or at the chunk boundary where ``budget``
    (:class:`ismarl.runs.budget.Budget`) has no time left for the next chunk (``budget.stopped``)."""
    if budget is not None:
        budget.start_run()
    out = Path(out)
    seeds = check_seeds(seeds)
    if not isinstance(cfg, ExperimentConfig):
        raise TypeError(f"train needs an ExperimentConfig, got {type(cfg).__name__}")
    if stop_at is not None:
        check_int(stop_at, "--stop-at", minimum=1)
    metrics_path = out / METRICS
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {str(out)!r} is a file, not a run directory; choose another --out")
    if checkpoint.exists(out) and not resume:
        raise FileExistsError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")
    # everything that can fail on the inputs happens before --out is created or a file written
    start = 0
    states = None
    resuming = resume and checkpoint.exists(out)
    if resuming:
        sidecar = checkpoint.read_sidecar(out)
        if "config_format" not in (sidecar.get("config") or {}):
            raise checkpoint.CheckpointError(
                f"the checkpoint in {out} was written by an earlier version of ismarl (config format 1): it can be "
                "evaluated and can start other runs, but not be resumed; train into a new --out")
        # read the states in the shapes they were saved with (a finished run continued with more
        # iterations: a PPI dataset sized for fewer phases), then give them room for this run's
        saved = config_of(sidecar, out).iterations
        states, meta = checkpoint.load(out, state_template(cfg.replace(iterations=saved), seeds),
                                       config_hash=cfg.hash(), seeds=seeds)
        if engine_for(cfg).extend is not None:
            states = engine_for(cfg).extend(cfg, states)
        start = int(meta["iteration"])
    else:
        states = initial_states(cfg, seeds, out)
    frozen_nets, frozen_params = load_frozen(cfg, seeds, out)
    engine = engine_for(cfg)
    engine.validate(cfg)  # the engine's own checks (e.g. who plays whom), before compiling or writing
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        if resuming:
            metrics.keep_until(out, start)  # lines written after the checkpoint come again
        elif metrics_path.exists():
            metrics_path.unlink()
        snapshots = {}
        if cfg.run.snapshot_every:
            if start and checkpoint.snapshot_iterations(out):
                snapshots = {i: p for i, p in checkpoint.load_snapshots(out).items() if i <= start}
            else:
                snapshots = {0: states.params}
        (out / CONFIG).write_text(json.dumps({"config": cfg.to_dict(), "config_hash": cfg.hash(), "seeds": seeds}, indent=1) + "\n")

        run_keys = jnp.stack([seed_keys(s)[1] for s in seeds])
        placement = sharding.plan(len(seeds))
        if placement.n_devices > 1 or jax.device_count() > 1:
            log(placement.describe() + (f" of {jax.device_count()} visible" if placement.n_devices < jax.device_count() else ""))
        states, run_keys, frozen_params = sharding.place((states, run_keys, frozen_params), placement)
        chunk_fns = {}
        end = cfg.iterations if stop_at is None else min(cfg.iterations, stop_at)
        probing = bool(cfg.run.probe_every) and ROUNDS_40_60.fits(cfg.horizon)
        probe = make_probe(cfg, placement) if probing else None
        bar = tqdm(total=cfg.iterations, initial=start, desc=f"{cfg.name} x{len(seeds)} seeds", unit="it") if progress else None
        t0 = time.time()
        it = start
        with open(metrics_path, "a") as mfile:
            if start == 0 and probing:
                for ln in probe(states, seeds, 0):
                    mfile.write(json.dumps(ln) + "\n")
            for n in chunk_lengths(start, end, cfg.run.chunk):
                if budget is not None and not budget.allows_chunk(n):
                    log(f"{cfg.name}: stopped at iteration {it} of {cfg.iterations}, {budget.elapsed():.0f} s into a "
                        f"time budget of {budget.seconds:g} s (the next chunk would take about {budget.estimate(n):.0f} s)")
                    break
                t_chunk = time.monotonic()
                if n not in chunk_fns:
                    chunk_fns[n] = sharding.over_devices(engine.make_chunk(cfg, n, frozen_nets), placement)
                states, chunk_metrics = chunk_fns[n](states, run_keys, frozen_params)
                _check_finite_chunk(cfg, states, chunk_metrics, it, it + n, checkpoint.exists(out))
                it += n
                means = jax.tree_util.tree_map(lambda x: np.asarray(x).mean(axis=1), chunk_metrics)  # over the chunk
                for si, seed in enumerate(seeds):
                    line = {"kind": "train", "iteration": it, "seed": seed, "wall_s": round(time.time() - t0, 2),
                            **{k: _jsonable(v[si]) for k, v in means.scalars.items()},
                            "matches": {k: {"reward": _jsonable(m.reward[si]), "coop": _jsonable(m.coop[si])}
                                        for k, m in means.matches.items()},
                            "learners": {k: _jsonable(v[si]) for k, v in means.learners.items()}}
                    mfile.write(json.dumps(line) + "\n")
                if probing and it % cfg.run.probe_every == 0:
                    lines = probe(states, seeds, it)
                    for ln in lines:
                        mfile.write(json.dumps(ln) + "\n")
                    if bar is not None:
                        tft = np.mean([ln["probe"]["tft"][ROUNDS_40_60.key] for ln in lines]) if "tft" in cfg.run.probes else float("nan")
                        allc = np.mean([ln["probe"]["allc"]["coop"] for ln in lines]) if "allc" in cfg.run.probes else float("nan")
                        bar.set_postfix({f"tft {ROUNDS_40_60.label}": f"{tft:.2f}", "allc": f"{allc:.2f}"})
                mfile.flush()
                if cfg.run.snapshot_every and (it % cfg.run.snapshot_every == 0 or it == cfg.iterations):
                    snapshots[it] = states.params
                    checkpoint.save_snapshots(out, snapshots, config_hash=cfg.hash(), seeds=seeds)
                if it % cfg.run.checkpoint_every == 0 or it == cfg.iterations:
                    checkpoint.save(out, states, config=cfg.to_dict(), config_hash=cfg.hash(), seeds=seeds, iteration=it)
                if bar is not None:
                    bar.update(n)
                if budget is not None:
                    budget.record_chunk(n, time.monotonic() - t_chunk)
        if bar is not None:
            bar.close()
        if it > start and it % cfg.run.checkpoint_every and it != cfg.iterations:  # stopped between checkpoints
            checkpoint.save(out, states, config=cfg.to_dict(), config_hash=cfg.hash(), seeds=seeds, iteration=it)
        if created and not checkpoint.exists(out):  # stopped before its first chunk: nothing to resume
            shutil.rmtree(out, ignore_errors=True)
    except BaseException:
        if created and not checkpoint.exists(out):  # nothing to resume: leave nothing behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    return states


def train_piece(cfg: ExperimentConfig, seeds, out, resume: bool = False, manifest: dict | None = None, **options) -> int:
    """:func:`train` (``options``: ``stop_at``, ``budget``, ``progress``, ``log``) as one piece of a
    run that may take several commands; returns the iteration reached. With ``manifest`` (extra
    fields such as ``experiment``), the piece is added to the run's ``manifest.json``
    (:func:`ismarl.runs.provenance.write_run_manifest`), also when the piece is interrupted (Ctrl-C)
    or fails after checkpointing: the iterations it saved are recorded as trained by it."""
    first = checkpoint.iteration(out) if resume and Path(out).is_dir() else 0
    started, t0 = utc_now(), time.time()
    commit = git_commit() if manifest is not None else None  # the code the piece starts with
    try:
        train(cfg, seeds, out, resume=resume, **options)
    finally:
        reached = checkpoint.iteration(out) if checkpoint.exists(out) else first
        if manifest is not None and reached > first:
            write_run_manifest(out, started_utc=started, wall_time_s=time.time() - t0, commit=commit, from_iteration=first,
                               to_iteration=reached, finished=reached >= cfg.iterations, config_hash=cfg.hash(), **manifest)
    return reached
