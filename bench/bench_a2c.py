"""Training throughput of the A2C engine against the machine and against a plain implementation,
and wall time until the Step-1 agent best-responds in context.

Usage: ``python bench/bench_a2c.py [--iterations 3] [--out results/bench_a2c]``. Prints the machine
and, all measured in the same run (this machine is shared: compare ratios, not seconds):

- the machine's attainable float32 matmul rate (a 2048 x 2048 ``jnp.dot``, best of 5);
- for GRU-128 and GRU-32 at batch 256 and 2048 (T = 100; one learner, one seed, Step 1 against
  U(0, 1)^5 agents), seconds per iteration of the engine and of ``bench/reference_a2c.py`` (a
  minimal single-file A2C of the same model), compile time excluded, interleaved, best of
  ``--iterations`` timed calls each; agent-steps per second; the engine's *model FLOP rate*: the
  matmul FLOPs a plain GRU needs per agent-step (input 32 -> 3H and hidden H -> 3H projections
  and the two heads, 2 FLOPs per multiply-add) times 4 (the rollout's forward pass, the loss's
  forward pass, and a backward pass counted as two forward passes), per second, and that rate as
  a fraction of the matmul rate;
- the wall time of the shipped Step-1 run (``results/step1``) until its first probe meeting the
  criterion (:data:`ismarl.protocol.STEP1`: cooperation >= 0.9 with TFT in rounds 40-60, <= 0.05
  with ALLC).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from ismarl.agents.network import NetworkConfig
from ismarl.runs.provenance import describe_machine, git_commit, write_manifest
from ismarl.engines.a2c import engine as a2c
from ismarl.engines.seeds import seed_keys
from ismarl.experiments.presets import get_config
from ismarl.protocol import STEP1
from ismarl.runs.metrics import read_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_a2c  # noqa: E402  (the bench's own baseline, beside this file)

ROUNDS, EMBED = 100, 32


def matmul_rate(n: int = 2048, repeats: int = 5) -> float:
    """Attainable float32 matmul rate of the default device (FLOP/s): the best of ``repeats``
    timed ``n x n`` products after a warm-up."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    dot = jax.jit(jnp.dot)
    dot(a, a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        dot(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best


def model_flops_per_step(hidden: int, embed: int = EMBED) -> float:
    """Training FLOPs per agent-step of a plain GRU policy (see the module's docstring)."""
    forward = 2 * 3 * hidden * (embed + hidden) + 2 * hidden * 3
    return 4.0 * forward


def reference_runner(hidden: int, batch: int):
    """The baseline's ``run()`` (one iteration, blocking) after compiling it."""
    opt, iteration = reference_a2c.make_iteration(hidden, batch)
    params = reference_a2c.init(jax.random.PRNGKey(0), hidden, EMBED)
    state = {"p": params, "o": opt.init(params), "k": jax.random.PRNGKey(1)}

    def run():
        state["k"], k = jax.random.split(state["k"])
        state["p"], state["o"] = iteration(state["p"], state["o"], k)
        jax.block_until_ready(state["p"])

    run()
    return run


def engine_runner(hidden: int, batch: int):
    """The engine's ``run()`` (one iteration, blocking) and its compile time."""
    cfg = get_config("step1", "cpu").replace(network=NetworkConfig(hidden, EMBED), batch_size=batch,
                                             pools=((("random", 1.0),),))
    state = {"s": jax.tree_util.tree_map(lambda x: x[None], a2c.init_state(cfg, 0))}
    keys = seed_keys(0)[1][None]
    chunk = a2c.make_chunk(cfg, 1)

    def run():
        state["s"], _ = chunk(state["s"], keys, ())
        jax.block_until_ready(state["s"])

    t = time.perf_counter()
    run()
    return run, time.perf_counter() - t


def interleaved_best(runs, repeats: int) -> list[float]:
    """The best time of ``repeats`` calls of each function in ``runs``, calls interleaved."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            t = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def time_to_best_response(run_dir: Path):
    probes = read_metrics(run_dir, "probe")
    train = {(d["seed"], d["iteration"]): d["wall_s"] for d in read_metrics(run_dir, "train")}
    out = {}
    for d in probes:
        if d["seed"] not in out and d["iteration"] > 0 and STEP1.met(d["probe"]["tft"][STEP1.window.key], d["probe"]["allc"]["coop"]):
            out[d["seed"]] = (d["iteration"], train.get((d["seed"], d["iteration"])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--run", default="results/step1")
    args = ap.parse_args()
    t0, commit = time.time(), git_commit()  # the code measured, before any output is written
    rate = matmul_rate()
    lines = [f"Machine: {describe_machine()}; load average at the start: {os.getloadavg()[0]:.2f}", "",
             f"Attainable float32 matmul rate (2048 x 2048 `jnp.dot`, best of 5): {rate / 1e9:.1f} GFLOP/s", "",
             "| network | batch | engine s / it | reference s / it | engine / reference time | agent-steps / s "
             "| model GFLOP/s | fraction of matmul rate | compile s |", "|---|---|---|---|---|---|---|---|---|"]
    for hidden in (128, 32):
        for batch in (256, 2048):
            engine, comp = engine_runner(hidden, batch)
            reference = reference_runner(hidden, batch)
            ours, ref = interleaved_best([engine, reference], args.iterations)
            flops = model_flops_per_step(hidden) * batch * ROUNDS / ours
            lines.append(f"| GRU-{hidden} | {batch} | {ours:.3f} | {ref:.3f} | {ours / ref:.2f} | "
                         f"{batch * ROUNDS / ours / 1e6:.3f} M | {flops / 1e9:.1f} | {flops / rate:.2f} | {comp:.1f} |")
            print(lines[-1], flush=True)
    lines += ["", "Model FLOPs: a plain GRU's matmuls per agent-step x 4 (rollout, loss forward, backward as two "
              "forward passes); the engine's input projection is a table lookup, so this counts work a plain "
              "implementation does.", ""]
    run = Path(args.run)
    if (run / "metrics.jsonl").exists():
        ttb = time_to_best_response(run)
        lines.append(f"Shipped Step-1 run ({run}): first probe meeting the criterion, per seed: "
                     + ", ".join(f"seed {s}: iteration {it}, {w:.0f} s" if w is not None else f"seed {s}: iteration {it}"
                                 for s, (it, w) in sorted(ttb.items())) if ttb else f"Shipped Step-1 run ({run}): criterion never met")
    lines += ["", "Load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "table.md").write_text(text + "\n")
        write_manifest(args.out, wall_time_s=time.time() - t0, commit=commit)


if __name__ == "__main__":
    main()
