"""Writes README.md of this search try from its own files: ``python results/ppi_step4_search/write_readme.py``."""

from __future__ import annotations

import json
from pathlib import Path

from ismarl.analysis.summary import cooperation_by_phase, phase_table

HERE = Path(__file__).resolve().parent
RUNS = {"k16": "K = 16 rollouts per action (the `cpu` preset has the paper's K = 8); all else as `ppi_step4` at `cpu` scale"}
BASELINE = HERE.parent / "ppi_step4_b500"  # the same setting with K = 8, seeds 0-4


def main() -> None:
    lines = ["# PPI Step 4: search tries (in-sample)", "",
             "*Written by `python results/ppi_step4_search/write_readme.py` from the files beside it.*", "",
             "Tries of the Step-4 PPI setting on seeds that are also the search run's "
             "(`results/ppi_step4_b500`, seeds 0-4): **in-sample**, to choose a setting that a held-out batch then judges. "
             "Learner-vs-learner cooperation (mean of both learners) in each phase's training games.", ""]
    for name, what in RUNS.items():
        run = HERE / name
        manifest = json.loads((run / "manifest.json").read_text())
        cfg = json.loads((run / "config.json").read_text())
        seeds = cfg["seeds"]
        coop = cooperation_by_phase(run)
        lines += [f"## `{name}`: {what}", "", "```", manifest["command"], "```", "",
                  f"Commit {manifest['commit'][:7]}; {len(seeds)} seeds; phases {max(coop)} of {cfg['config']['iterations']} "
                  f"done in {len(manifest.get('pieces') or [1])} pieces (their manifest: commits, wall times, which include a "
                  f"25-minute pause of the first piece) on {manifest['machine']['cpu_count']} cores, other jobs beside it "
                  "part of the time. Trained as `results/ppi_step4_k16` and moved here: continue it with the same command, "
                  f"`--out results/ppi_step4_search/{name}`.", "",
                  phase_table(run, every=1, beside=("K = 8 (`ppi_step4_b500`), same seeds", BASELINE))]
        lines.append("")
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
