"""How noisy the PPI Step-4 learners' Q̂(C) − Q̂(D) is, with sampled or expected rewards in the
rollouts (``ppi.rollout_reward``), on the states where the held-out batch's learners meet:

    python results/ppi_rollout_reward/measure.py            # measure, write q_noise.json, manifest.json, README.md
    python results/ppi_rollout_reward/measure.py --readme   # only rewrite README.md from q_noise.json

The numbers come from :func:`ismarl.analysis.ppi.q_noise`; the README is written from the files."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ismarl.analysis.ppi import q_noise
from ismarl.runs.provenance import read_manifest, write_manifest
from ismarl.runs.store import read_config

HERE = Path(__file__).resolve().parent
RUN = HERE.parent / "ppi_step4"  # the held-out batch: the preset's learners at the end of training
SETTINGS = dict(rounds=(20, 50, 80), episodes=32, repeats=100, seed=0)


def measure() -> None:
    t0 = time.time()
    rows = q_noise(RUN, **SETTINGS)
    (HERE / "q_noise.json").write_text(json.dumps({"run": "results/ppi_step4", "settings": SETTINGS, "rows": rows}, indent=1) + "\n")
    write_manifest(HERE, command="python results/ppi_rollout_reward/measure.py", wall_time_s=time.time() - t0)


def readme() -> str:
    data = json.loads((HERE / "q_noise.json").read_text())
    rows, st = data["rows"], data["settings"]
    cfg, m = read_config(RUN), read_manifest(HERE)
    table = ["| seed | round | mean Q̂(C) − Q̂(D) | median \\|gap\\| of a game | spread, sampled | spread, expected | variance ratio |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r['seed']} | {r['round']} | {r['mean_gap']:+.3f} | {r['abs_gap']:.3f} | {r['std_sampled']:.3f} | "
              f"{r['std_expected']:.3f} | {r['var_ratio']:.2f} |" for r in rows]
    ratios = np.array([r["var_ratio"] for r in rows])
    beta = cfg.ppi.beta
    spread, gap = np.median([r["std_sampled"] for r in rows]), np.median([r["abs_gap"] for r in rows])
    return f"""# PPI rollouts: sampled or expected rewards (`ppi.rollout_reward`)

*Written by `python results/ppi_rollout_reward/measure.py` from `q_noise.json` (command, commit and
machine in `manifest.json`: {m['commit'][:7]}, {m['machine']['processor']}).*

PPI's improved policy π ∝ p_φ exp(β Q̂) estimates Q̂(x, a) from K rollouts inside the model. Each
rolled-out round counts a reward: the payoff of the outcome drawn from the model's co-player
prediction (`sampled`, what every shipped PPI run used), or that payoff's expectation under the
same prediction (`expected`), while the rollout still continues from the drawn outcome. Both give
the same Q̂ in expectation (the round's reward replaced by its conditional expectation, a
Rao-Blackwellization; `tests/test_ppi_policy.py` checks the means agree and the variance drops).

Measured on the held-out Step-4 batch (`results/ppi_step4`, K = {cfg.ppi.k}, per-round Q̂, β = {beta:g}): its two
learners play {st['episodes']} games per seed as deployed; at rounds {', '.join(map(str, st['rounds']))} learner 0's
Q̂(C) − Q̂(D) is estimated {st['repeats']} times with independent keys, in both modes from the same states.
The spread is the standard deviation over those estimates (mean over games); the variance ratio is
sampled over expected (mean over games).

{chr(10).join(table)}

Over all seeds and rounds the variance ratio lies between {ratios.min():.2f} and {ratios.max():.2f} (median
{np.median(ratios):.2f}): at the same K and cost, expected rewards give the precision of about
{np.median(ratios):.1f} times as many rollouts. The spread matters because β = {beta:g} multiplies it: the
median spread with sampled rewards, {spread:.3f}, is {spread * beta:.1f} nats in π's logits, against a median gap of
{gap:.3f} ({gap * beta:.1f} nats) between the two actions' Q̂ in a game, so many moves are decided by
rollout noise. Whether the preset should use `expected` is for a
search and then a held-out batch to say; no shipped run uses it yet.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="only rewrite README.md from q_noise.json")
    if not parser.parse_args().readme:
        measure()
    (HERE / "README.md").write_text(readme())


if __name__ == "__main__":
    main()
