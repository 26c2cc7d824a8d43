"""Writes README.md of the held-out batch with expected rollout rewards from the run files it reads:
``python results/ppi_step4_expected/write_readme.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ismarl.analysis.summary import cooperation_by_phase, held_count, learner_cooperation, pieces_text
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent
#: The held-out batch of the candidate preset, trained here in pieces.
RUN = HERE / "heldout"
#: The shipped held-out batch of today's preset (sampled rollout rewards), on other fresh seeds.
SHIPPED = RESULTS / "ppi_step4"
#: Our criterion (issue target): learner-vs-learner cooperation held >= this over the last 10 % of
#: phases, in at least 8 of 10 held-out seeds. The paper's curve ends at 0.85-0.9.
THRESHOLD = 0.8


def table(coop: dict, other: dict) -> str:
    """Per phase: each seed's cooperation, then mean and seeds >= THRESHOLD here and in ``other``."""
    seeds = sorted(coop[max(coop)])
    heads = [f"seed {s}" for s in seeds] + ["mean", f">= {THRESHOLD}", "sampled batch: mean", f">= {THRESHOLD}"]
    lines = ["| phase | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for p in sorted(coop):
        here, there = list(coop[p].values()), list(other.get(p, {}).values())
        cells = [f"{coop[p][s]:.2f}" if s in coop[p] else "—" for s in seeds]
        cells += [f"{np.mean(here):.2f}", str(sum(v >= THRESHOLD for v in here))]
        cells += [f"{np.mean(there):.2f}", str(sum(v >= THRESHOLD for v in there))] if there else ["—", "—"]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    manifest, cfg = read_manifest(RUN), read_config(RUN)
    coop = cooperation_by_phase(RUN)
    seeds, done = sorted(coop[max(coop)]), max(coop)
    machines = sorted({p["machine"] for p in manifest.get("pieces") or []})
    shipped_seeds = sorted(cooperation_by_phase(SHIPPED)[max(cooperation_by_phase(SHIPPED))])
    lines = ["# PPI Step 4 with expected rollout rewards: a held-out batch (in progress until it says finished)", "",
             "*Written by `python results/ppi_step4_expected/write_readme.py` from the files it reads.*", "",
             "The candidate preset: `ppi_step4` at `cpu` scale with `ppi.rollout_reward=expected` (each rolled-out "
             "round counts its expected payoff under the model's prediction of the co-player, the same Q̂ on "
             "average with about a quarter of its variance: `results/ppi_rollout_reward/README.md`). It was chosen "
             "on seeds 0-3 (`results/ppi_step4_search/README.md`, try `expected`), in-sample. This batch runs it "
             f"once on seeds {seeds[0]}-{seeds[-1]}, which played no part in any search and differ from the shipped "
             f"held-out batch's ({shipped_seeds[0]}-{shipped_seeds[-1]}, sampled rewards, `results/ppi_step4`). "
             "Its rate, whatever it is, is the candidate's result; only when it has finished does it replace "
             "`results/ppi_step4` (and the preset change), with the sampled-reward batch kept beside it.", "",
             "```", manifest["command"], "```", "",
             f"Seeds {', '.join(map(str, seeds))}, K = {cfg.ppi.k}, rollout reward `{cfg.ppi.rollout_reward}`; "
             f"phases {done} of {cfg.iterations} done ({pieces_text(RUN)}; {'; '.join(machines)}). "
             + ("Finished." if manifest.get("finished") else "**In progress**: continue it with the same command "
                "(`--resume` continues exactly; the time budget only sets where a piece stops)."), "",
             "Learner-vs-learner cooperation (mean of both learners) in each phase's training games, and beside "
             "it, per phase, the mean over seeds and the seeds at >= 0.8 of this batch and of the sampled-reward "
             "batch (other fresh seeds, the same protocol):", "",
             table(coop, cooperation_by_phase(SHIPPED)), ""]
    if manifest.get("finished"):
        end = learner_cooperation(RUN, threshold=THRESHOLD)
        lines += ["At the end of training (last 10 % of phases), per seed: "
                  + ", ".join(f"seed {e['seed']} {e['final']:.2f}" for e in end)
                  + f". **Held >= {THRESHOLD} in {held_count(RUN, THRESHOLD)} of {len(end)} held-out seeds** "
                  f"(the sampled-reward batch: {held_count(SHIPPED, THRESHOLD)} of {len(shipped_seeds)}; "
                  "our target 8 of 10).", ""]
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
