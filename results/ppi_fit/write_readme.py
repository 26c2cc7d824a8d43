"""Writes README.md of the PPI model-fitting study from its runs (rNN.jsonl, written by study.py).

Run from the repository root: python results/ppi_fit/write_readme.py
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

INTRO = """# How fast can PPI's sequence model learn to infer its co-player on a CPU?

Run with the package at commits 7e483b5-d89ef36 (the shipped sequence model). A search over the settings of fitting the sequence model (`ismarl.agents.world_model`) on D0
(20,000 games of two fresh U(0, 1)^5 tabular agents, 100 rounds), measured by the exact yardstick
of `ismarl.inference`: the mean per-round log-loss of the model's prediction of the co-player's
next move minus that of the Bayes-optimal prediction, on 2,000 held-out games (`gap`, nats; 0 is
the best any model can do on average). The "TFT probe" plays 500 games of a U(0, 1)^5 agent
against tit-for-tat and reports the model's mean P(co-player cooperates) in rounds 20-100 where
TFT's true probability is 1 (`P1`) or 0 (`P0`).

Each run is one `study.py` command (its full arguments are the first line of its `rNN.jsonl`);
times count training only and were measured on this project's 2-core machine while other jobs
ran (seconds per step varied up to about 1.5x between runs), so compare steps as well as seconds.
`timing.py` measures seconds per step of each (hidden, batch) alone. A first fitting attempt
(GRU-32, lr 1e-3, batch 256) had stalled at a gap of about 0.08.

What the `cpu` PPI presets took from it: hidden 64, batch 64, constant lr 1e-2, about 3 epochs of
D0 (about 900 steps), then short fine-tuning at lr 3e-3 (r09, r10: a model fitted on D0 keeps or
improves its gap after 100-150 steps on a larger dataset). Many small batches beat few large
ones per second: the number of updates matters more than the episodes per update. The gap falls
late and suddenly (from 0.08 to 0.01 between steps 300 and 900), so a decaying schedule that is
small by then (r11, cosine over 900 steps) hurts.
"""


def runs():
    for path in sorted(HERE.glob("r*.jsonl")):
        lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        head, evals = lines[0], lines[1:]
        yield path.stem, head, evals


def first(evals, limit):
    for e in evals:
        if e["gap"] <= limit:
            return f"{e['step']} ({e['t']:.0f} s)"
    return "-"


def table() -> str:
    rows = ["| run | hidden | batch | lr | schedule | episodes | init | s/step | gap <= 0.02 at step | gap <= 0.01 at step "
            "| last step (s) | held-out gap | train gap | TFT P1 / P0 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, head, evals in runs():
        a = head["args"]
        if not evals:
            continue
        last = evals[-1]
        rows.append(f"| {name} | {a['hidden']} | {a['batch']} | {a['lr']:g} | {a['schedule']} | {a['n_train']} | "
                    f"{'warm start' if a['init'] else 'fresh'} | {last['sps']:.3f} | {first(evals, 0.02)} | "
                    f"{first(evals, 0.01)} | {last['step']} ({last['t']:.0f}) | {last['gap']:.4f} | "
                    f"{last.get('train_gap', float('nan')):.4f} | {last['tft_p1']:.2f} / {last['tft_p0']:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    (HERE / "README.md").write_text(INTRO + "\n" + table() + "\n")
    print((HERE / "README.md").read_text())
