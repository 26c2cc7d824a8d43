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
  a fraction of the matmul rate, beside the ceiling for these shapes: the GRU's recurrent products
  alone in a 100-step scan (:func:`recurrence_matmul_rate`);
- the shipped Step-4 configuration (``step4`` at ``cpu`` scale: 5 seeds, 2 learners, GRU-32, 256
  episodes per learner and iteration), seconds per iteration as each change to the engine left it:
  the engine before them (per-round input rows gathered from the scanned observations, seeds
  ``vmap``-ed, one device), then one-hot inputs multiplied inside the scan (whose body is now
  rematerialized, ``jax.checkpoint``), then the seeds one at a
  time (:func:`ismarl.engines.seeds.map_replicas`), then the seeds spread over the host's cores as
  devices as ``python -m ismarl train`` places them (:mod:`ismarl.runs.sharding`, in a fresh
  process that sees one device per core); and where one seed's iteration spends its time
  (rollout, one learner's loss forward, its gradient);
- the wall time of the shipped Step-1 run (``results/step1``) until its first probe meeting the
  criterion (:data:`ismarl.protocol.STEP1`: cooperation >= 0.9 with TFT in rounds 40-60, <= 0.05
  with ALLC).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from ismarl import games
from ismarl.agents.match import play_match
from ismarl.agents.network import NetworkConfig, gru_cell, heads, initial_state, input_table
from ismarl.agents.players import network_player, tabular_player
from ismarl.runs.provenance import describe_machine, git_commit, write_manifest
from ismarl.engines.a2c import engine as a2c
from ismarl.engines.seeds import seed_keys
from ismarl.experiments.presets import get_config
from ismarl.protocol import STEP1
from ismarl.runs import sharding
from ismarl.runs.metrics import read_metrics
from ismarl.sim.core import make_params

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


def recurrence_matmul_rate(hidden: int, batch: int, embed: int = EMBED, repeats: int = 5) -> float:
    """The float32 rate (FLOP/s) of a GRU's matmuls alone in a sequential scan: ``ROUNDS`` products
    ``[x, h] @ W`` of shape (batch, embed + hidden) x (embed + hidden, 3 hidden), each new ``h`` a
    slice of the last product (no gates, no heads, no backward pass): a ceiling for any
    recurrent engine of these shapes on this device, the best of ``repeats`` timed calls."""
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(k1, (batch, embed), jnp.float32)
    w = jax.random.normal(k2, (embed + hidden, 3 * hidden), jnp.float32) / (embed + hidden) ** 0.5

    @jax.jit
    def scan(h):
        step = lambda h, _: (jnp.concatenate([x, h], axis=1).dot(w)[:, :hidden], None)
        return jax.lax.scan(step, h, None, length=ROUNDS)[0]

    h = jnp.zeros((batch, hidden), jnp.float32)
    scan(h).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        scan(h).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2.0 * batch * (embed + hidden) * 3 * hidden * ROUNDS / best


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


STEP4_CHUNK = 10  # iterations per timed call of the Step-4 chunk


def former_sequence_outputs(config, params, obs, z=None, scan_unroll: int = 1):
    """The engine's loss pass before the one-hot change, kept here as the baseline: every round's
    input rows gathered from :func:`ismarl.agents.network.input_table` before the scan, the scan
    running over those rows."""
    gxs = input_table(params)[obs]
    h0 = initial_state(config, params, z, obs.shape[1])

    def body(h, gx):
        h = gru_cell(params, gx, h)
        return h, h

    _, hs = jax.lax.scan(body, h0, gxs, unroll=scan_unroll)
    return heads(params, hs)


def step4_inputs():
    cfg = get_config("step4", "cpu")
    seeds = list(range(5))
    states = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *[a2c.init_state(cfg, s) for s in seeds])
    return cfg, states, jnp.stack([seed_keys(s)[1] for s in seeds])


def timed_chunk(chunk, states, keys, repeats: int) -> float:
    """Best seconds per iteration of ``repeats`` calls of a compiled chunk, after one call."""
    jax.block_until_ready(chunk(states, keys, None))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(chunk(states, keys, None))
        best = min(best, time.perf_counter() - t)
    return best / STEP4_CHUNK


def step4_vmapped(former_inputs: bool, repeats: int) -> float:
    """Seconds per iteration of the Step-4 chunk with its seeds ``vmap``-ed on one device, with
    the former or the current input path."""
    cfg, states, keys = step4_inputs()
    current = a2c.sequence_outputs
    a2c.sequence_outputs = former_sequence_outputs if former_inputs else current
    try:
        it = a2c.make_iteration(cfg)
        one_seed = lambda s, k, f: jax.lax.scan(lambda c, _: it(c, k, f), s, None, length=STEP4_CHUNK)  # noqa: E731
        chunk = jax.jit(jax.vmap(one_seed))
        return timed_chunk(chunk, states, keys, repeats)  # traced and compiled here, inside the swap
    finally:
        a2c.sequence_outputs = current


def step4_engine(repeats: int) -> tuple[float, str]:
    """Seconds per iteration of the engine's Step-4 chunk placed on this process's devices as
    training places it, and the placement."""
    cfg, states, keys = step4_inputs()
    placement = sharding.plan(len(keys))
    states, keys = sharding.place((states, keys), placement)
    chunk = sharding.over_devices(a2c.make_chunk(cfg, STEP4_CHUNK), placement)
    return timed_chunk(chunk, states, keys, repeats), placement.describe()


def step4_on_host_cores(repeats: int) -> dict:
    """:func:`step4_engine` in a fresh process that sees one host device per core."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    sharding.use_host_cores(env)
    res = subprocess.run([sys.executable, __file__, "--step4-engine", "--iterations", str(repeats)], env=env,
                         capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise RuntimeError("the Step-4 run on host devices failed:\n" + res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def step4_profile(repeats: int) -> dict:
    """Milliseconds of one Step-4 seed's pieces on one device: its three matches' rollout, one
    learner's loss forward (256 episodes) and its gradient."""
    cfg, states, _ = step4_inputs()
    net, env = cfg.network, make_params(games.get(cfg.game), horizon=cfg.horizon, dtype=jnp.float32)
    params = jax.tree_util.tree_map(lambda x: x[0], states.params)
    p0, p1 = (jax.tree_util.tree_map(lambda x, i=i: x[i], params) for i in (0, 1))
    n = cfg.batch_size // 2
    key = jax.random.PRNGKey(0)

    def rollout(p0, p1, key):
        k = jax.random.split(key, 5)
        return [play_match(k[0], network_player(net, p0), network_player(net, p1), n, env),
                play_match(k[1], network_player(net, p0), tabular_player(jax.random.uniform(k[2], (n, 5))), n, env),
                play_match(k[3], network_player(net, p1), tabular_player(jax.random.uniform(k[4], (n, 5))), n, env)]

    k = jax.random.split(key, 3)
    obs = jax.random.randint(k[0], (cfg.horizon, 2 * n), 0, 5)
    actions = jax.random.randint(k[1], (cfg.horizon, 2 * n), 0, 2)
    rewards = jax.random.normal(k[2], (cfg.horizon, 2 * n))
    loss = lambda p: a2c.a2c_loss(p, net, cfg.a2c, obs, actions, rewards, None, ((0, n), (n, 2 * n)), 0.1)[0]  # noqa: E731
    out = {}
    for name, fn, args in (("rollout (3 matches)", rollout, (p0, p1, key)), ("loss forward (1 learner)", loss, (p0,)),
                           ("loss gradient (1 learner)", jax.grad(loss), (p0,))):
        f = jax.jit(fn)
        jax.block_until_ready(f(*args))
        best = float("inf")
        for _ in range(max(repeats, 5)):
            t = time.perf_counter()
            jax.block_until_ready(f(*args))
            best = min(best, time.perf_counter() - t)
        out[name] = best * 1e3
    return out


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


def step4_lines(repeats: int) -> list[str]:
    """The Step-4 table (module docstring): each change's seconds per iteration and speed-up."""
    before = step4_vmapped(True, repeats)
    one_hot = step4_vmapped(False, repeats)
    engine, _ = step4_engine(repeats)
    cores = step4_on_host_cores(repeats)
    rows = [("before: input rows gathered from the scanned observations, seeds vmapped, 1 device", before),
            ("one-hot inputs multiplied inside the scan, scan body rematerialized", one_hot),
            ("and the seeds one at a time (`map_replicas`), 1 device", engine),
            (f"and the seeds on {cores['devices']} host devices, one per core", cores["seconds"])]
    lines = ["Shipped Step-4 configuration (5 seeds, 2 learners, GRU-32, 256 episodes per learner and iteration), "
             f"best of {repeats} calls of {STEP4_CHUNK} iterations:", "",
             "| engine | s / iteration | speed-up over before |", "|---|---|---|"]
    lines += [f"| {name} | {sec:.4f} | {before / sec:.2f}x |" for name, sec in rows]
    prof = step4_profile(repeats)
    lines += ["", f"Placement on the host devices: {cores['placement']}.", "",
              "One Step-4 seed on one device, each piece alone (ms): "
              + "; ".join(f"{k} {v:.1f}" for k, v in prof.items()), ""]
    for ln in lines:
        print(ln, flush=True)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--run", default="results/step1")
    ap.add_argument("--step4-engine", action="store_true", help="only time the engine's Step-4 chunk (JSON)")
    args = ap.parse_args()
    if args.step4_engine:
        seconds, placement = step4_engine(args.iterations)
        print(json.dumps({"seconds": seconds, "placement": placement, "devices": jax.device_count()}))
        return
    t0, commit = time.time(), git_commit()  # the code measured, before any output is written
    rate = matmul_rate()
    lines = [f"Machine: {describe_machine()}; load average at the start: {os.getloadavg()[0]:.2f}", "",
             f"Attainable float32 matmul rate (2048 x 2048 `jnp.dot`, best of 5): {rate / 1e9:.1f} GFLOP/s", "",
             "| network | batch | engine s / it | reference s / it | engine / reference time | agent-steps / s "
             "| model GFLOP/s | fraction of matmul rate | its matmuls alone in a scan: fraction | compile s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for hidden in (128, 32):
        for batch in (256, 2048):
            engine, comp = engine_runner(hidden, batch)
            reference = reference_runner(hidden, batch)
            ours, ref = interleaved_best([engine, reference], args.iterations)
            flops = model_flops_per_step(hidden) * batch * ROUNDS / ours
            ceiling = recurrence_matmul_rate(hidden, batch)
            lines.append(f"| GRU-{hidden} | {batch} | {ours:.3f} | {ref:.3f} | {ours / ref:.2f} | "
                         f"{batch * ROUNDS / ours / 1e6:.3f} M | {flops / 1e9:.1f} | {flops / rate:.2f} | "
                         f"{ceiling / rate:.2f} | {comp:.1f} |")
            print(lines[-1], flush=True)
    lines += ["", "Model FLOPs: a plain GRU's matmuls per agent-step x 4 (rollout, loss forward, backward as two "
              "forward passes); the engine's input projection is a product with a 5-row table, so this counts "
              "work a plain implementation does. Its matmuls alone in a scan: the "
              "rate of the GRU's recurrent products (batch x (32 + H) times (32 + H) x 3H, each step's state a slice "
              "of the last product, no gates, heads or backward pass) over 100 sequential steps, as a fraction of "
              "the matmul rate: a ceiling on that fraction for any engine that runs the recurrence step by step.", ""]
    lines += step4_lines(args.iterations)
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
