"""The report of the PPI Step-4 search run and its no-tabular ablation,
``results/ppi_step4_b500/README.md``, written from the committed files only (manifests, configs,
metrics, evaluations; no number is typed by hand):

    python results/ppi_step4_b500/write_readme.py            # print it
    python results/ppi_step4_b500/write_readme.py --write    # (re)write the README

A test checks that the committed README is what this script writes from the committed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ismarl.analysis.status import paper
from ismarl.analysis.summary import (fresh_cooperation, held_count, learner_cooperation, phase_table, pieces_text,
                                     ppi_seed_table, readme_main)
from ismarl.runs.evaluate import read_evaluation
from ismarl.runs.metrics import read_metrics
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent
#: The ablations run with this run's K = 8 (the no-tabular one moved to results/ppi_ablations_k8 when
#: its preset took K = 16; results/ppi_ablations_k16/README.md sets each K = 16 rerun beside its K = 8 run).
ABLATIONS = ("ppi_ablations_k8/no_tabular", "ppi_step4_opponent_id")


def _ablation_section(results: Path, name: str, mixed_final: float) -> str:
    """The section on the ablation run ``results/name`` (learner against learner, as the mixed pool)."""
    run = results / name
    ab = learner_cooperation(run)
    fresh_ab = fresh_cooperation(run)["learners"]
    last_ab = max(r["iteration"] for r in read_metrics(run, "train"))
    finals = [e["final"] for e in ab]
    low = sum(f <= 0.2 for f in finals)
    if not read_config(run).pools[0][1:]:  # learners only
        label = "no-tabular ablation"
        what = ("The same setting without tabular co-players: D0 is random action sequences and every game is\n"
                "against the other learner")
    else:
        label = "opponent-ID ablation"
        what = ("The same setting with the co-player's identity given: each game's z (the tabular co-player's 10\n"
                "log-probabilities of cooperating, zeros against the other learner) enters each learner's world\n"
                "model as one GRU step before the first token, in training and when the learner plays")
    v_ab = paper("Weis Fig 1A", f"{label}: PPI vs PPI cooperation")
    notes = read_manifest(run).get("notes")
    moved = f"\n{notes}\n" if notes else ""
    tabular, per_seed = "", ""
    if (run / "evaluate.json").exists():  # against tabular and named co-players, as the mixed pool
        tabular = (f"\npython -m ismarl evaluate results/{name} --coplayers random,tft,allc,alld --episodes 100 --out results/{name}/evaluate.json"
                   f"\npython -m ismarl evaluate results/{name} --learner 1 --coplayers random --episodes 100 --out results/{name}/evaluate_learner2.json")
        per_seed = f"\n{ppi_seed_table(run)}\n"
    text = f"""
## The {label} (`results/{name}`)

{what} (paper Fig 1A: {v_ab.text()}).

```
{read_manifest(run)["command"]}
```
{moved}
{read_manifest(run)["wall_time_s"] / 60:.0f} min, K = {read_config(run).ppi.k}. Learner-vs-learner cooperation per seed:

{phase_table(run)}

Evaluated like the mixed pool{"" if tabular else ", learner against learner"}:

```
python -m ismarl evaluate results/{name} --coplayer-run results/{name} --coplayer-learner 1 --episodes 100 --out results/{name}/evaluate_learners.json{tabular}
```
{per_seed}
End of training (last 10 %): {", ".join(f"{f:.2f}" for f in finals)} (mean {np.mean(finals):.2f};
the mixed pool {mixed_final:.2f}); fresh games {", ".join(f"{v['both']:.2f}" for v in fresh_ab.values())}.
**<= 0.2 in {low} of {len(ab)} seeds**: our criterion for the ablation (every seed) is {"met" if low == len(ab) else "not met"}.
Cooperation reached at most {max(e['max'] for e in ab):.2f} in a seed during training, and the last phase was the
run's highest in {sum(e['argmax'] == last_ab for e in ab)} seed(s).
"""
    return text


def readme(results: Path = RESULTS) -> str:
    run = results / "ppi_step4_b500"
    cfg = read_config(run)
    summ = learner_cooperation(run)
    held = held_count(run)
    rnd = read_evaluation(run / "evaluate.json")["coplayers"]["random"]
    tab = fresh_cooperation(run)
    tab_all = [tab[k][s]["coop"] for k in ("tabular", "tabular_2") for s in tab[k]]
    v_ll, v_tab = paper("Weis Fig 1A", "PPI vs PPI cooperation, phase 30"), paper("Weis Fig 1A", "PPI vs tabular cooperation")
    p = cfg.ppi
    rows = read_metrics(run, "train")
    ll = lambda lo, hi: np.array([np.mean([np.mean(r["matches"]["learner:0_vs_learner:1"]["coop"]) for r in rows
                                           if r["seed"] == e["seed"] and lo <= r["iteration"] <= hi]) for e in summ])
    last = max(r["iteration"] for r in rows)
    early, late = ll(1, 5), np.array([e["final"] for e in summ])
    tail = [[np.mean(r["matches"]["learner:0_vs_learner:1"]["coop"]) for r in rows
             if r["seed"] == e["seed"] and r["iteration"] > last - 5] for e in summ]
    spread = max(max(t) - min(t) for t in tail)
    text = f"""# PPI Step 4 at `cpu` scale: the search run (in-sample) and both ablations

*Written by `python results/ppi_step4_b500/write_readme.py --write` from the committed files.*

## What ran

Two PPI learners in the mixed pool of Step 4 (paper Fig 1A): each has its own sequence model and
dataset, starts from its own D0 of {p.pretrain_episodes:,} games between U(0, 1)^5 tabular agents
(the paper's start; no other warm-up), and in each of {cfg.iterations} phases adds {cfg.batch_size} games,
half against the other learner and half against fresh U(0, 1)^5 agents. GRU-{cfg.network.hidden},
β = {p.beta:g} on per-round Q̂ from K = {p.k} rollouts of {p.rollout_horizon} rounds; the first fit {p.epochs:g}
epochs at lr {p.learning_rate:g} (batch {p.fit_batch}), then {p.finetune_steps} fine-tuning steps per phase at lr
{p.finetune_learning_rate:g}. Each phase adds a tenth of D0, the paper's proportion (20,000 new games on
200,000); the Step 1-3 presets add 300 games to 20,000. The `ppi_step4` cpu preset is this setting with
K = 16 rollouts instead of {p.k}: a second try on seeds 0-3 (`results/ppi_step4_search/README.md`) rose
earlier and higher in every seed. These are seeds the setting was chosen on: **in-sample**. The held-out
batch, the result, is `results/ppi_step4`. The two ablations at the end were run with K = {p.k} too;
`results/ppi_ablations_k16/README.md` sets their reruns with K = 16 beside them.

```
{read_manifest(run)["command"]}
```

Run in pieces ({pieces_text(run)}), {read_manifest(run)["wall_time_s"] / 60:.0f} min in all on the
shared 2-core CPU, five seeds in one program. Evaluations (100 fresh games per seed and co-player):

```
python -m ismarl evaluate results/ppi_step4_b500 --coplayer-run results/ppi_step4_b500 --coplayer-learner 1 --episodes 100 --out results/ppi_step4_b500/evaluate_learners.json
python -m ismarl evaluate results/ppi_step4_b500 --coplayers random,tft,allc,alld --episodes 100 --out results/ppi_step4_b500/evaluate.json
python -m ismarl evaluate results/ppi_step4_b500 --learner 1 --coplayers random --episodes 100 --out results/ppi_step4_b500/evaluate_learner2.json
```

## Result

Learner-vs-learner cooperation (mean of both learners) during training, per seed:

{phase_table(run)}

Per seed at the end (our criterion: held >= 0.8 over the last 10 % of training; the paper's curve
ends at {v_ll.text()} at phase 30):

{ppi_seed_table(run)}

- **Held >= 0.8 in {held} of {len(summ)} seeds** (in-sample); mean at the end
  {np.mean([e['final'] for e in summ]):.2f} against the paper's {v_ll.text()}: **Fig 1A is not reproduced at this
  scale**. Learner-vs-learner cooperation was {early.mean():.2f} on average in phases 1-5 (at most
  {early.max():.2f} in a seed); it rose to at least twice that in {int(np.sum(late > 2 * early))} of {len(summ)} seeds and
  to 0.5 or more in {sum(e['rise'] is not None for e in summ)}, later and lower than the paper's (which rises over
  phases ~5-12); over the last five phases no seed's cooperation moved by more than {spread:.2f}.
- Against U(0, 1)^5 agents both learners stay best responders: cooperation {min(tab_all):.3f}-{max(tab_all):.3f}
  per learner and seed in fresh games (paper ≈ {v_tab.text()}); learner 1 earns {rnd['mean']['learner_reward']:.3f}
  against them, always-defect {rnd['alld_reward']:.3f} on the same draws.
"""
    for name in ABLATIONS:
        if (results / name / "metrics.jsonl").exists():
            text += _ablation_section(results, name, np.mean([e["final"] for e in summ]))
    return text


if __name__ == "__main__":
    readme_main(__doc__, readme, HERE)
