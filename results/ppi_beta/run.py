"""The β study of PPI (chapter 10): the improved policy π ∝ p_φ exp(β Q̂) of the shipped
``results/ppi_step1`` models after phase 1, replayed with β over six decades, with Q̂ read as the
per-round mean or the sum of a rollout's rewards, and with K rollouts, against tit-for-tat,
always-cooperate and fresh U(0, 1)^5 agents. Writes ``beta.json``, ``manifest.json`` and ``README.md``
beside this file.

Run from the repository root: ``python results/ppi_beta/run.py`` (about 15 minutes on 2 cores).
"""

import json
import time
from pathlib import Path

import numpy as np

from ismarl.analysis.ppi import beta_sweep
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs.provenance import git_commit, write_manifest

HERE = Path(__file__).resolve().parent
RUN = HERE.parent / "ppi_step1"
PHASE = 1
BETAS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
KS = [1, 2, 8, 32]
COPLAYERS = ("tft", "allc", "random")
EPISODES = 32


def summary(res):
    return {spec: {q: np.asarray(v).mean(axis=-1).round(4).tolist() for q, v in r.items()} for spec, r in res.items()}


def main():
    t0, commit = time.time(), git_commit(HERE)  # the code the study starts with
    out = {"run": "results/ppi_step1", "phase": PHASE, "episodes_per_seed": EPISODES, "betas": BETAS, "ks": KS,
           "q": {}, "k": None}
    for q in ("mean", "sum"):
        out["q"][q] = summary(beta_sweep(RUN, BETAS, COPLAYERS, EPISODES, iteration=PHASE, q=q))
    out["k"] = {k: summary(beta_sweep(RUN, [100.0], COPLAYERS, EPISODES, iteration=PHASE, q="mean", k=k)) for k in KS}
    (HERE / "beta.json").write_text(json.dumps(out, indent=1) + "\n")
    write_manifest(HERE, command="python results/ppi_beta/run.py", wall_time_s=time.time() - t0, commit=commit)
    write_readme(out)


def write_readme(out):
    key = ROUNDS_40_60.key
    lines = ["# The β question (PPI, chapter 10)", "",
             "The paper sets β = 0.01 \"for all experiments\". Taken as the inverse temperature of",
             "π ∝ p_φ exp(β Q̂) on a per-round mean return (range -1 to 2) it leaves the prior p_φ almost",
             "unchanged; read as the temperature α = 1/β of the KL-regularized objective, β = 100. This",
             f"replays the models of `{out['run']}` after phase {out['phase']} with each β and both readings of Q̂",
             f"(mean: per-round mean of a rollout; sum: its summed reward over up to 15 rounds), {out['episodes_per_seed']} "
             "games per seed and co-player, and with K rollouts at β = 100 (mean). Cells: mean over seeds of the",
             f"cooperation rate (TFT: in {ROUNDS_40_60.label}) and the reward. Written by `run.py` (see manifest.json).", ""]
    for q, res in out["q"].items():
        lines += [f"## Q̂ = {q}", "", "| β | TFT coop " + ROUNDS_40_60.label + " | TFT reward | ALLC coop | random coop | random reward |",
                  "|---|---|---|---|---|---|"]
        for i, b in enumerate(out["betas"]):
            lines.append(f"| {b:g} | {res['tft'][key][i]:.3f} | {res['tft']['reward'][i]:.3f} | {res['allc']['coop'][i]:.3f} | "
                         f"{res['random']['coop'][i]:.3f} | {res['random']['reward'][i]:.3f} |")
        lines.append("")
    lines += ["## K rollouts (β = 100, mean)", "", "| K | TFT coop " + ROUNDS_40_60.label + " | ALLC coop | random coop | random reward |",
              "|---|---|---|---|---|"]
    for k, res in out["k"].items():
        lines.append(f"| {k} | {res['tft'][key][0]:.3f} | {res['allc']['coop'][0]:.3f} | {res['random']['coop'][0]:.3f} | "
                     f"{res['random']['reward'][0]:.3f} |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
