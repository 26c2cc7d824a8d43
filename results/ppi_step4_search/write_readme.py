"""Writes README.md of this search try from its own files: ``python results/ppi_step4_search/write_readme.py``."""

from __future__ import annotations

import json
from pathlib import Path

from ismarl.analysis.summary import cooperation_by_phase, learner_cooperation, phase_table

HERE = Path(__file__).resolve().parent
#: try -> (what it changes, the run set beside it, that run's label, what else to say of the try)
RUNS = {
    "k16": ("K = 16 rollouts per action (the `cpu` preset then had the paper's K = 8); all else as `ppi_step4` at `cpu` scale",
            HERE.parent / "ppi_step4_b500", "K = 8 (`ppi_step4_b500`), same seeds",
            "Its wall times include a 25-minute pause of the first piece. Trained as `results/ppi_step4_k16` and moved "
            "here: continue it with the same command, `--out results/ppi_step4_search/k16`."),
    "expected": ("expected rewards in the rollouts (`ppi.rollout_reward=expected`: each rolled-out round counts its "
                 "expected payoff under the model's co-player prediction, the same Q̂ on average with about a quarter "
                 "of the variance, `results/ppi_rollout_reward/README.md`); all else as the `ppi_step4` `cpu` preset (K = 16)",
                 HERE / "k16", "sampled rewards (`k16`), same seeds",
                 "Its last piece ran alone on the machine (its wall time: the manifest). Its held-out "
                 "batch: `results/ppi_step4_expected/README.md`."),
}


def main() -> None:
    lines = ["# PPI Step 4: search tries (in-sample)", "",
             "*Written by `python results/ppi_step4_search/write_readme.py` from the files beside it.*", "",
             "Tries of the Step-4 PPI setting on seeds that are also the search run's "
             "(`results/ppi_step4_b500`, seeds 0-4): **in-sample**, to choose a setting that a held-out batch then judges. "
             "Learner-vs-learner cooperation (mean of both learners) in each phase's training games.", ""]
    for name, (what, baseline, label, note) in RUNS.items():
        run = HERE / name
        if not (run / "manifest.json").is_file():
            continue
        manifest = json.loads((run / "manifest.json").read_text())
        cfg = json.loads((run / "config.json").read_text())
        seeds = cfg["seeds"]
        coop = cooperation_by_phase(run)
        lines += [f"## `{name}`: {what}", "", "```", manifest["command"], "```", "",
                  f"Commit {manifest['commit'][:7]}; {len(seeds)} seeds; phases {max(coop)} of {cfg['config']['iterations']} "
                  f"done in {len(manifest.get('pieces') or [1])} piece(s) (their manifest: commits, wall times) on "
                  f"{manifest['machine']['cpu_count']} cores, other jobs beside it part of the time. {note}", "",
                  phase_table(run, every=1, beside=(label, baseline))]
        lines.append("")
        if manifest.get("finished"):
            end = {e["seed"]: e["final"] for e in learner_cooperation(run)}
            other = {e["seed"]: e["final"] for e in learner_cooperation(baseline)}
            done = json.loads((baseline / "manifest.json").read_text()).get("finished")
            lines += ["Finished. At the end of training (mean of the last 10 % of phases), per seed: "
                      + ", ".join(f"seed {s} {v:.2f}" for s, v in end.items())
                      + f"; beside it ({label}{'' if done else f', the last 10 % of the {max(cooperation_by_phase(baseline))} phases it has so far'}): "
                      + ", ".join(f"{other[s]:.2f}" for s in end if s in other) + ".", ""]
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
