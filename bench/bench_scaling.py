"""Scaling curves: seconds per training iteration (A2C) or phase (PPI) against one size at a time.

Usage: ``python bench/bench_scaling.py [--repeats 3] [--out results/bench_scaling]``. From a base
configuration, each *axis* changes one size and keeps the others (this machine is shared: read
the shape of a curve and the ratios along it, not single seconds):

- A2C (Step 1 against U(0, 1)^5 agents, the engine of :mod:`ismarl.engines.a2c`), base GRU-32,
  256 episodes per update, 100 rounds, one seed: episodes per update (``batch``), GRU units
  (``hidden``), rounds per episode (``horizon``), seeds trained together (``seeds``, vmapped in one
  program).
- PPI (phase 1 of Step 1, :mod:`ismarl.engines.ppi`), base GRU-32 world model, 32 new games per
  phase, 100 rounds, one seed, K = 4 rollouts of H = 10 rounds per candidate action, and a fixed
  20 fit steps of 32 games (so the fit costs the same at every point): new games per phase
  (``batch``), GRU units (``hidden``), rounds per game (``horizon``), seeds, and rollouts per
  candidate action (``k``).

Each point: compile (reported), then the best of ``--repeats`` timed calls of one iteration, on
the default JAX device. ``--out`` writes ``table.md``, ``scaling.json`` (the points, for the
performance appendix's plots) and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from ismarl.agents.network import NetworkConfig
from ismarl.engines import engine_for
from ismarl.engines.seeds import seed_keys
from ismarl.experiments.presets import get_config
from ismarl.runs.provenance import describe_machine, git_commit, write_manifest

A2C_AXES = {"batch": (64, 128, 256, 512, 1024, 2048), "hidden": (16, 32, 64, 128, 256),
            "horizon": (25, 50, 100, 200), "seeds": (1, 2, 4, 8)}
A2C_BASE = {"batch": 256, "hidden": 32, "horizon": 100, "seeds": 1}
PPI_AXES = {"batch": (8, 16, 32, 64, 128), "hidden": (16, 32, 64, 128), "horizon": (25, 50, 100, 200),
            "seeds": (1, 2, 4), "k": (1, 2, 4, 8, 16)}
PPI_BASE = {"batch": 32, "hidden": 32, "horizon": 100, "seeds": 1, "k": 4}
PPI_FIT_STEPS = 20


def a2c_config(batch: int, hidden: int, horizon: int, **_):
    return get_config("step1", "cpu").replace(network=NetworkConfig(hidden, 32), batch_size=batch, horizon=horizon,
                                              pools=((("random", 1.0),),))


def ppi_config(batch: int, hidden: int, horizon: int, k: int, repeats: int, **_):
    cfg = get_config("ppi_step1", "cpu")
    ppi = dataclasses.replace(cfg.ppi, k=k, rollout_horizon=10, pretrain_episodes=256, fit_batch=32, epochs=1000.0,
                          max_fit_steps=PPI_FIT_STEPS, reinit=True, finetune_steps=0, finetune_learning_rate=0.0,
                          heldout_episodes=32)
    return cfg.replace(network=NetworkConfig(hidden, 32), batch_size=batch, horizon=horizon, ppi=ppi,
                       iterations=repeats + 1)


def memory(compiled) -> dict:
    """XLA's buffer sizes of a compiled program (bytes of arguments, outputs, temporaries)."""
    m = compiled.memory_analysis()
    if m is None:
        return {}
    return {k: int(getattr(m, f"{k}_size_in_bytes")) for k in ("argument", "output", "temp")}


def time_point(cfg, seeds: int, repeats: int) -> dict:
    """``compile_s`` (compile and first call), ``seconds`` (best of ``repeats`` calls of one
    iteration) and ``memory`` (:func:`memory`) for ``seeds`` seeds at once."""
    eng = engine_for(cfg)
    states = [eng.init_state(cfg, s) for s in range(seeds)]
    state = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *states)
    keys = jnp.stack([seed_keys(s)[1] for s in range(seeds)])
    t = time.perf_counter()
    compiled = eng.make_chunk(cfg, 1).lower(state, keys, ()).compile()
    state, _ = compiled(state, keys, ())
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - t
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        state, _ = compiled(state, keys, ())
        jax.block_until_ready(state)
        best = min(best, time.perf_counter() - t)
    return {"compile_s": compile_s, "seconds": best, "memory": memory(compiled)}


def sweep(name: str, base: dict, axes: dict, make, repeats: int) -> list[dict]:
    points = []
    for axis, values in axes.items():
        for v in values:
            sizes = dict(base, **{axis: v})
            cfg = make(repeats=repeats, **sizes)
            r = time_point(cfg, sizes["seeds"], repeats)
            points.append({"engine": name, "axis": axis, "value": v, "sizes": sizes, "seconds": r["seconds"],
                           "compile_s": r["compile_s"]})
            print(f"{name} {axis}={v}: {r['seconds']:.4f} s / iteration (compile {r['compile_s']:.1f} s)", flush=True)
    return points


def table(points: list[dict]) -> str:
    lines = []
    for name in dict.fromkeys(p["engine"] for p in points):
        unit = "phase" if name == "ppi" else "iteration"
        for axis in dict.fromkeys(p["axis"] for p in points if p["engine"] == name):
            row = [p for p in points if p["engine"] == name and p["axis"] == axis]
            base = row[0]
            lines += [f"| {name}: {axis} | s / {unit} | relative to {axis} = {base['value']} | compile s |", "|---|---|---|---|"]
            lines += [f"| {p['value']} | {p['seconds']:.4f} | {p['seconds'] / base['seconds']:.2f} | {p['compile_s']:.1f} |" for p in row]
            lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per point (best is kept)")
    ap.add_argument("--out", type=Path, default=None, help="directory for table.md, scaling.json and manifest.json")
    ap.add_argument("--engines", default="a2c,ppi", help="comma-separated: a2c, ppi")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")
    engines = args.engines.split(",")
    unknown = set(engines) - {"a2c", "ppi"}
    if unknown:
        raise SystemExit(f"--engines: unknown {sorted(unknown)}; choose from a2c, ppi")
    t0, commit = time.time(), git_commit()
    load = os.getloadavg()[0]
    points = []
    if "a2c" in engines:
        points += sweep("a2c", A2C_BASE, A2C_AXES, a2c_config, args.repeats)
    if "ppi" in engines:
        points += sweep("ppi", PPI_BASE, PPI_AXES, ppi_config, args.repeats)
    text = "\n".join([f"Machine: {describe_machine()}; load average at the start: {load:.2f}", "",
                      f"A2C base: {A2C_BASE}; PPI base: {PPI_BASE}, {PPI_FIT_STEPS} fit steps per phase", "",
                      table(points),
                      "Load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())])
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text(text + "\n")
        (args.out / "scaling.json").write_text(json.dumps({"machine": describe_machine(), "a2c_base": A2C_BASE,
                                                           "ppi_base": PPI_BASE, "ppi_fit_steps": PPI_FIT_STEPS,
                                                           "points": points}, indent=1) + "\n")
        write_manifest(args.out, wall_time_s=time.time() - t0, commit=commit, repeats=args.repeats)


if __name__ == "__main__":
    main()
