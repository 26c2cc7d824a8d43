"""Writes README.md of the K = 16 ablations from the run files it reads (``RUNS``):
``python results/ppi_ablations_k16/write_readme.py``."""

from __future__ import annotations

from pathlib import Path

from ismarl.analysis.summary import cooperation_by_phase, learner_cooperation, phase_table, pieces_text
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent
#: experiment -> (its K = 16 run, its K = 8 run), directories under results/. A K = 16 run is trained
#: here and, once finished, moved to results/<experiment> (its K = 8 run to results/ppi_ablations_k8),
#: where chapter 10 reads it and the experiment's preset describes it.
RUNS = {"ppi_step4_no_tabular": ("ppi_step4_no_tabular", "ppi_ablations_k8/no_tabular"),
        "ppi_step4_opponent_id": ("ppi_ablations_k16/opponent_id", "ppi_step4_opponent_id")}
#: Our criterion for both ablations (SPEC §5's Step-4 targets): learner-vs-learner cooperation at
#: the end of training (last 10 % of phases) at most this in every seed.
CRITERION = 0.2


def section(experiment: str, name: str, baseline: str) -> list[str]:
    run = RESULTS / name
    manifest, cfg = read_manifest(run), read_config(run)
    coop = cooperation_by_phase(run)
    seeds, iterations, done = sorted(coop[max(coop)]), cfg.iterations, max(coop)
    machines = sorted({p["machine"] for p in manifest.get("pieces") or []})
    moved = ([f"Trained as the first command says and moved to `results/{name}` when it finished; the command "
              "that continues or repeats it there today:", "", "```", manifest["equivalent_command"], "```", ""]
             if "equivalent_command" in manifest else [])
    lines = [f"## `{experiment}` with K = 16 (`results/{name}`)", "", "```", manifest["command"], "```", "", *moved,
             f"Seeds {', '.join(map(str, seeds))}, K = {cfg.ppi.k}; phases {done} of {iterations} done "
             f"({pieces_text(run)}; {'; '.join(machines)}). " + ("Finished." if manifest.get("finished") else
                                    "**In progress**: continue it with the same command."), "",
             "Learner-vs-learner cooperation (mean of both learners) in each phase's training games, beside the "
             f"K = 8 run (`results/{baseline}`) on the seeds both have:", "",
             phase_table(run, every=1, beside=("K = 8, same seeds", RESULTS / baseline))]
    lines.append("")
    if manifest.get("finished"):
        end = {e["seed"]: e["final"] for e in learner_cooperation(run)}
        over = [s for s, v in end.items() if v > CRITERION]
        lines += ["At the end of training (last 10 % of phases), per seed: "
                  + ", ".join(f"seed {s} {v:.2f}" for s, v in end.items())
                  + f". Our criterion (at most {CRITERION} in every seed): "
                  + ("**met**." if not over else f"**not met** (seeds {', '.join(map(str, over))} above it).")
                  + " The K = 8 run: " + ", ".join(f"seed {e['seed']} {e['final']:.2f}" for e in learner_cooperation(RESULTS / baseline))
                  + ".", ""]
    return lines


def main() -> None:
    lines = ["# The PPI Step-4 ablations with the mixed pool's K = 16", "",
             "*Written by `python results/ppi_ablations_k16/write_readme.py` from the files it reads.*", "",
             "The ablations were first run with K = 8 rollouts per action, before the Step-4 search doubled K "
             "for the mixed pool (`results/ppi_step4_search/README.md`). They are run again here with K = 16, so "
             "that an ablation differs from the shipped mixed pool (`results/ppi_step4`) only in what it ablates, "
             "on the K = 8 runs' seeds 0-4 (the no-tabular run adds seed 5: its 2 devices hold 3 seeds each, so "
             "the sixth costs no time).", "",
             "A run is trained here in pieces (`--resume` continues it exactly; `manifest.json` lists each piece: "
             "its phases, wall time, commit and machine; the time budget only sets where a piece stops), and "
             "nothing in the book or the tests reads it until it has finished its 30 phases. A finished run is "
             "evaluated as `results/ppi_step4` is (100 fresh games per seed and co-player) and moved to "
             "`results/<experiment>`, where chapter 10 reads it, the experiment's `cpu` preset takes K = 16, and "
             "its K = 8 run moves to `results/ppi_ablations_k8` (documented in `results/ppi_step4_b500/README.md`). "
             "The evaluations of the opponent-ID run, once moved:", "", "```"]
    lines += [f"python -m ismarl evaluate results/ppi_step4_opponent_id {args} --episodes 100 "
              f"--out results/ppi_step4_opponent_id/{out}"
              for args, out in (("--coplayer-run results/ppi_step4_opponent_id --coplayer-learner 1",
                                 "evaluate_learners.json"),
                                ("--coplayers random,tft,allc,alld", "evaluate.json"),
                                ("--learner 1 --coplayers random", "evaluate_learner2.json"))]
    lines += ["```", ""]
    for experiment, (name, baseline) in RUNS.items():
        if (RESULTS / name / "manifest.json").is_file():
            lines += section(experiment, name, baseline)
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
