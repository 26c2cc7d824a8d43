"""Benchmark of ismarl's core on this machine: exact payoffs of many strategy pairs against a
batched NumPy solve for the stationary distributions of the same pairs, and Monte Carlo play
(``simulate.play``) against a plain vectorized NumPy loop of the same game.

    python bench/bench_core.py [--pairs 1000000] [--repeats 7] [--out results/bench_core]

Timings are the best of ``--repeats`` runs after one warm-up (so JAX's compile time is excluded;
the exact payoffs, which take much longer per call, use half as many). Each JAX timing is
interleaved with its NumPy baseline in the same run, so their ratio is meaningful even on a
machine shared with other work; absolute numbers are not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from ismarl import analytic, games, strategies
from ismarl.runs import provenance
from ismarl.sim import simulate

HORIZON = 100
BATCHES = (256, 2048)


def numpy_play(p, q, payoffs, horizon, rng):
    """The reference: one vectorized NumPy step per round over all episodes.

    ``p``, ``q``: (n, 5) cooperation probabilities indexed by first-person observation;
    ``payoffs[x_action, y_action] = (r_X, r_Y)``. Returns actions and rewards (n, horizon, 2).
    """
    n = p.shape[0]
    u = rng.random((horizon, 2, n))
    rows = np.arange(n)
    obs_x = np.zeros(n, np.int64)  # 0 = Start
    obs_y = np.zeros(n, np.int64)
    actions = np.empty((horizon, 2, n), np.int64)
    for t in range(horizon):
        a_x = (u[t, 0] >= p[rows, obs_x]).astype(np.int64)  # 0 = C with probability p[obs]
        a_y = (u[t, 1] >= q[rows, obs_y]).astype(np.int64)
        actions[t, 0], actions[t, 1] = a_x, a_y
        obs_x, obs_y = 1 + 2 * a_x + a_y, 1 + 2 * a_y + a_x
    actions = actions.transpose(2, 0, 1)
    return actions, payoffs[actions[..., 0], actions[..., 1]]


def numpy_long_run(M, r_x, r_y):
    """The reference for long-run payoffs: stationary distributions from one batched
    ``numpy.linalg.solve`` of ``d (M - I) = 0`` with ``sum(d) = 1`` in place of the last equation
    (right for ergodic chains only; U(0, 1) pairs are ergodic almost surely). ``M``: (n, 4, 4)."""
    A = np.swapaxes(M, -1, -2) - np.eye(4, dtype=M.dtype)
    A[:, -1, :] = 1.0
    b = np.zeros(M.shape[:-1] + (1,), M.dtype)
    b[:, -1] = 1.0
    d = np.linalg.solve(A, b)[..., 0]
    return d @ r_x, d @ r_y


def best_times(fns, repeats):
    """Best wall time of each function over ``repeats`` interleaved rounds, after one warm-up
    (compile, allocate); interleaving makes every function see the same machine load."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, fn_times in zip(fns, times):
            start = time.perf_counter()
            fn()
            fn_times.append(time.perf_counter() - start)
    return [min(t) for t in times]


class ExactTimings(NamedTuple):
    """Seconds per call for ``n_pairs`` pairs, and how far the two long-run results differ."""

    long_run: float
    numpy_solve: float
    finite: float
    largest_difference: float
    dtype: np.dtype


def bench_exact(n_pairs, repeats) -> ExactTimings:
    """Long-run payoffs of ``n_pairs`` random pairs, by ismarl and by the NumPy solve (interleaved),
    and their T-round payoffs."""
    game = games.ipd()
    k1, k2 = jax.random.split(jax.random.key(0))
    p = strategies.sample_uniform(k1, (n_pairs,))
    q = strategies.sample_uniform(k2, (n_pairs,))
    long_run = jax.jit(lambda p, q: analytic.expected_payoffs(p, q, game))
    finite = jax.jit(lambda p, q: analytic.expected_payoffs(p, q, game, horizon=HORIZON))
    # The baseline gets the transition matrices for free (built here, outside its timing).
    M = np.asarray(analytic.markov_chain(p, q)[1])
    r_x, r_y = (np.asarray(r, M.dtype) for r in game.payoff_vectors())
    repeats = max(1, repeats // 2)
    t_long_run, t_solve = best_times(
        [lambda: jax.block_until_ready(long_run(p, q)), lambda: numpy_long_run(M, r_x, r_y)], repeats)
    (t_finite,) = best_times([lambda: jax.block_until_ready(finite(p, q))], repeats)
    difference = np.abs(np.asarray(long_run(p, q)) - np.asarray(numpy_long_run(M, r_x, r_y))).max()
    return ExactTimings(t_long_run, t_solve, t_finite, float(difference), M.dtype)


def bench_play(batch, repeats):
    game = games.ipd()
    payoffs = games.to_bimatrix_array(game)
    k1, k2, k3 = jax.random.split(jax.random.key(batch), 3)
    p = strategies.sample_uniform(k1, (batch,))
    q = strategies.sample_uniform(k2, (batch,))
    p_np, q_np = np.asarray(p, np.float64), np.asarray(q, np.float64)
    rng = np.random.default_rng(batch)

    def run_jax():
        jax.block_until_ready(simulate.play(p, q, game, HORIZON, batch, k3))

    def run_numpy():
        numpy_play(p_np, q_np, payoffs, HORIZON, rng)

    t_jax, t_np = best_times([run_jax, run_numpy], repeats)
    agent_steps = 2 * batch * HORIZON
    return agent_steps / t_jax, agent_steps / t_np


def table(n_pairs, repeats) -> str:
    lines = [
        f"Machine: {provenance.describe_machine()}; load average at the start: {os.getloadavg()[0]:.2f}",
        "",
        f"| exact payoffs, {n_pairs:,} random pairs | seconds (after compile) | pairs per second |",
        "|---|---|---|",
    ]
    exact = bench_exact(n_pairs, repeats)
    for label, seconds in (("long-run", exact.long_run),
                           ("long-run, NumPy batched `linalg.solve` (baseline)", exact.numpy_solve),
                           (f"T={HORIZON}", exact.finite)):
        lines.append(f"| {label} | {seconds:.3f} | {n_pairs / seconds:,.0f} |")
    lines += [
        "",
        f"Long-run payoffs, NumPy solve time / ismarl time: {exact.numpy_solve / exact.long_run:.2f}x; "
        f"largest difference between the two ({exact.dtype}): {exact.largest_difference:.1e}.",
        "",
        f"| `simulate.play`, T={HORIZON}, batch | JAX agent-steps/s | NumPy agent-steps/s | JAX / NumPy |",
        "|---|---|---|---|",
    ]
    for batch in BATCHES:
        jax_rate, np_rate = bench_play(batch, repeats)
        lines.append(f"| {batch} | {jax_rate:,.0f} | {np_rate:,.0f} | {jax_rate / np_rate:.2f}x |")
    lines += ["", f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000, help="strategy pairs for the exact-payoff timing")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions (the best is reported)")
    parser.add_argument("--out", type=Path, default=None, help="directory for table.md and manifest.json")
    args = parser.parse_args(argv)
    start, commit = time.perf_counter(), provenance.git_commit()  # the code measured, before any output
    text = table(args.pairs, args.repeats)
    print(text, end="")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text(text)
        provenance.write_manifest(
            args.out,
            command=provenance.current_command(),
            wall_time_s=time.perf_counter() - start,
            commit=commit,
            pairs=args.pairs,
            repeats=args.repeats,
            horizon=HORIZON,
        )
        print(f"wrote {args.out / 'table.md'} and its manifest")


if __name__ == "__main__":
    sys.exit(main())
