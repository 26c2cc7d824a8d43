"""The status report of the shipped Step-4 runs, ``results/step4/README.md``, written from the
committed files only (manifests, metrics, evaluations; no number is typed by hand):

    python results/step4/write_readme.py            # print it
    python results/step4/write_readme.py --write    # (re)write results/step4/README.md

The search runs it names are grouped in ``results/step4_search/groups.json`` (the lab notebook
appendix reads the same file). A test checks that the committed README is what this script writes from the committed
files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ismarl.analysis.summary import (fresh_cooperation, held_by_starting_pair, held_count, learner_cooperation,
                                     outcome_table, same_training)
from ismarl.experiments.warmup import warmup_best_responders
from ismarl.runs.evaluate import read_evaluation
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

GROUPS = json.loads((Path(__file__).resolve().parent.parent / "step4_search" / "groups.json").read_text())
RUNS, SAME_PAIRS, PREVIOUS, PRESET_RUN, LARGE_BONUS = (GROUPS[k] for k in ("RUNS", "SAME_PAIRS", "PREVIOUS", "PRESET_RUN", "LARGE_BONUS"))
PROTOCOL, SETTINGS, PROTOCOL_WARMUPS, FALLING = (GROUPS[k] for k in ("PROTOCOL", "SETTINGS", "PROTOCOL_WARMUPS", "FALLING"))

def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _command(run: Path) -> str:
    m = read_manifest(run)
    return m.get("equivalent_command", m["command"])


def _tabular(run: Path, learner: int = 1) -> list[float]:
    """Learner 1's (or 2's) cooperation against U(0, 1)^5 agents per seed, fresh episodes."""
    f = fresh_cooperation(run)
    key = "tabular" if learner == 1 else "tabular_2"
    if key not in f:
        raise FileNotFoundError(f"{run} has no evaluation of learner {learner} against U(0, 1)^5 agents")
    return [e["coop"] for e in f[key].values()]


def _schedule(run: Path) -> str:
    """The training schedule of a run, in words, from its ``config.json``."""
    c = read_config(run)
    return (f"{c.iterations} iterations of {c.batch_size} episodes per learner, "
            f"learning rate {c.a2c.learning_rate.words()}, entropy bonus {c.a2c.entropy_coef.words()}")




def _ok(b) -> str:
    return "met" if b else "NOT met"


def _fmt(xs, digits: int = 2) -> str:
    return ", ".join(f"{x:.{digits}f}" for x in xs)


def step4_readme(root="results") -> str:
    """The text of ``results/step4/README.md`` from the files under ``root``."""
    R = Path(root)
    S = R / "step4_search"
    runs = RUNS
    cmds = "\n".join(f"| `results/{r}` | `{_command(R / r)}` |" for r in ["step1_opponent_id"] + runs)
    walls = {r: read_manifest(R / r)["wall_time_s"] / 60 for r in ["step1", "step1_opponent_id"] + runs}
    prev_walls = [read_manifest(S / r)["wall_time_s"] / 60 for r in PREVIOUS]
    ev = read_evaluation(R / "step4/evaluate.json")["coplayers"]
    fixed = "\n".join(f"| {k} | " + " | ".join(f"{e['learner']['coop']:.2f} / {e['learner']['reward']:.2f}" for e in v["per_seed"])
                      + " |" for k, v in ev.items())
    held = {r: held_count(R / r) for r in runs}
    text = f"""# Step 4 (mixed pool) at `cpu` scale: the shipped runs

This file is written by `python results/step4/write_readme.py --write` from the files in `results/`.

Runs (each with `manifest.json`, `config.json`, `metrics.jsonl`, final checkpoint and parameter
snapshots every 250 iterations; `step1_opponent_id` has no snapshots):

| directory | command |
|---|---|
{cmds}

Evaluations (1000 fresh episodes per seed and co-player), in the run directories of the mixed
pool and of both ablations:

```bash
python -m ismarl evaluate results/step4 --coplayer-run results/step4 --coplayer-learner 1 --episodes 1000 --out results/step4/evaluate_learners.json
python -m ismarl evaluate results/step4 --coplayers random,tft,allc,alld --episodes 1000 --out results/step4/evaluate.json
python -m ismarl evaluate results/step4 --learner 1 --coplayers random --episodes 1000 --out results/step4/evaluate_learner2.json   # mixed pool only
```

(the same two commands for `step4_opponent_id` and `step4_no_tabular`).

At `cpu` scale Step 4 is the second phase of two. The first is a warm-up against tabular agents
alone, a Step-1 run (its pool: a quarter U(0, 1)^5 agents, three quarters nearly deterministic
Beta(0.1, 0.1) ones; Step 4's tabular co-players are U(0, 1)^5 agents only, the paper's):
`results/step1` for the mixed pool and the sweep,
`results/step1_opponent_id` (Step 1 with z given) for the opponent-ID ablation, none for the
no-tabular ablation, which starts from scratch. Seed i's two learners start from warm-up seeds
i and i + 1 (the warm-ups have two seeds). Then {_schedule(R / "step4")}.
Wall times (a 2-core CPU, shared: the warm-ups with other runs, the Step-4 runs three at a
time; run one at a time, the previous preset's took {min(prev_walls):.0f}-{max(prev_walls):.0f} min): warm-ups
{walls['step1']:.0f} and {walls['step1_opponent_id']:.0f} min (2 seeds each); Step-4 runs
{min(walls[r] for r in runs):.0f}-{max(walls[r] for r in runs):.0f} min (5 seeds each). The search that led here is in
`results/step4_search/README.md`.

## Outcome (from the files above; `python -c "from ismarl.analysis.summary import outcome_table; print(outcome_table(['results/step4', 'results/step4_opponent_id', 'results/step4_no_tabular', 'results/step4_tabular25', 'results/step4_tabular75']))"`)

{outcome_table([R / r for r in runs])}

Seeds with learner-vs-learner cooperation held >= 0.8 over the last 10% of training:
{", ".join(f"{r} {held[r]} of 5" for r in runs)}.

Learner 1 of the mixed pool against fixed co-players (`results/step4/evaluate.json`; cooperation /
reward per seed 0-4; against U(0, 1)^5 agents ALLD earns {ev['random']['alld_reward']:.3f} and the
oracle {ev['random']['oracle_reward']:.3f} on these draws, cooperating {ev['random']['oracle_coop']:.3f} of the time):

| co-player | seed 0 | seed 1 | seed 2 | seed 3 | seed 4 |
|---|---|---|---|---|---|
{fixed}
"""
    fresh = [e["both"] for e in fresh_cooperation(R / "step4")["learners"].values()]
    tabc = _tabular(R / "step4")
    tab2 = _tabular(R / "step4", 2)
    notheld = [e["seed"] for e in learner_cooperation(R / "step4") if e["held"] < 0.8]
    oid = fresh_cooperation(R / "step4_opponent_id")["tabular"].values()
    oidc = [e["coop"] for e in oid]
    oidr = [e["reward"] for e in oid]
    ends = {r: [e["final"] for e in learner_cooperation(R / r)] for r in runs}
    text += f"""
## Status against the Step-4 targets

- Learner-vs-learner cooperation >= 0.8, held to the end, in at least 4 of 5 seeds: {_ok(held['step4'] >= 4)}
  ({held['step4']} of 5 held over the last 10% of training; not held: seed(s) {notheld}; fresh
  episodes, mean of both learners, {_fmt(fresh)}).
  On held-out seeds and pairs (below): {held_count(R / "step4_heldout/step4")} of {len(learner_cooperation(R / "step4_heldout/step4"))}, {_ok(held_count(R / "step4_heldout/step4") >= 0.8 * len(learner_cooperation(R / "step4_heldout/step4")))} (our threshold: 80% of the seeds).
- Against random tabular agents, cooperation about 0.05-0.15: {_ok(0.05 <= np.mean(tabc) <= 0.15)} for learner 1
  ({_fmt(tabc)}, mean {np.mean(tabc):.3f}), {_ok(0.05 <= np.mean(tab2) <= 0.15)} for learner 2
  ({_fmt(tab2)}, mean {np.mean(tab2):.3f}), {_ok(0.05 <= np.mean(tabc + tab2) <= 0.15)} over both learners
  ({np.mean(tabc + tab2):.3f}). Against the fixed probes: the table above.
- Opponent-ID ablation ends in defection: {_ok(max(ends['step4_opponent_id']) <= 0.2)} (end cooperation
  {_fmt(ends['step4_opponent_id'])}), while its learners best-respond to
  tabular agents (cooperation {min(oidc):.3f}-{max(oidc):.3f}, reward {min(oidr):.3f}-{max(oidr):.3f}; ALLD {ev['random']['alld_reward']:.3f}).
- No-tabular ablation ends in defection: {_ok(max(ends['step4_no_tabular']) <= 0.2)} (end cooperation
  {_fmt(ends['step4_no_tabular'])}).
- Sweep: mean end cooperation {", ".join(f"{np.mean(ends[r]):.2f}" for r in ['step4_no_tabular', 'step4_tabular25', 'step4', 'step4_tabular75'])}
  for 0 / 25 / 50 / 75% tabular episodes.
"""
    text += heldout_section(R)
    s4v = learner_cooperation(S / "s4V")
    s4w = learner_cooperation(S / "s4W")
    w1, w2 = np.mean(_tabular(S / "s4W")), np.mean(_tabular(S / "s4W", 2))
    v1, v2 = np.mean(_tabular(S / "s4V")), np.mean(_tabular(S / "s4V", 2))
    held_v = sum(e["held"] >= 0.8 for e in s4v)
    held_w = sum(e["held"] >= 0.8 for e in s4w)
    others = {n: held_count(S / n) for n in SAME_PAIRS}
    s4p = learner_cooperation(S / "s4W_pairs2")
    held_p = sum(e["held"] >= 0.8 for e in s4p)
    p1, p2 = np.mean(_tabular(S / "s4W_pairs2")), np.mean(_tabular(S / "s4W_pairs2", 2))
    stopped = {n: learner_cooperation(S / n)[0]["iterations"] for n in others}
    never = all(learner_cooperation(S / n)[1]["rise"] is None for n in ["s4W", *others])
    prev = {r: learner_cooperation(S / r) for r in PREVIOUS}
    pt1, pt2 = np.mean(_tabular(S / "s4T_shipped")), np.mean(_tabular(S / "s4T_shipped", 2))
    text += f"""
## How the preset was chosen (`results/step4_search/README.md`)

- The previous preset, shipped until this one: the search run `s4T` ({_schedule(S / "s4T")};
  tabular co-players from the Step-1 mixture, a quarter U(0, 1)^5 agents). Its five shipped runs are
  kept as {", ".join(f"`{r}`" for r in PREVIOUS)} (manifests and evaluations; `s4T_shipped`
  {"reproduces" if same_training(S / "s4T_shipped", S / "s4T") else "does NOT reproduce"} `s4T` exactly). It held >= 0.8 in
  {held_count(S / "s4T_shipped")} of 5 seeds; against U(0, 1)^5 agents learner 1 cooperated {pt1:.3f} and learner 2
  {pt2:.3f} (fresh episodes, mean over seeds; both learners {(pt1 + pt2) / 2:.3f}, {_ok(0.05 <= (pt1 + pt2) / 2 <= 0.15)}); both
  ablations ended in defection (end cooperation at most {max(max(e["final"] for e in prev[r]) for r in PREVIOUS[1:3]):.2f}); sweep: mean end cooperation
  {", ".join(f"{np.mean([e['final'] for e in prev[r]]):.2f}" for r in ['s4T_no_tabular', 's4T_tabular25', 's4T_shipped', 's4T_tabular75'])} for 0 / 25 / 50 / 75% tabular episodes.
- Stability: the previous preset's run continued to {s4v[0]['iterations']} iterations (`results/step4_search/s4V`):
  learner-vs-learner cooperation over its last 10% {_fmt(e['final'] for e in s4v)}, held >= 0.8 in
  {held_v} of 5 seeds; against U(0, 1)^5 agents learner 1 cooperated {v1:.3f} and learner 2 {v2:.3f}
  on average ({_ok(0.05 <= (v1 + v2) / 2 <= 0.15)} over both learners). Longer training sharpens the best
  response to tabular agents and loosens the pairs' cooperation. An earlier preset (`s4const`) continued the same way (`s4Q`) kept moving between mutual
  cooperation and one-sided extortion, and one seed collapsed to mutual defection (details in the
  search log).
- Starting pairs: the five seeds of every shipped run share one pair of warm-up agents (the warm-up
  has two seeds). From five different pairs (`results/step4_search/s4W`, a five-seed warm-up `w5`) the
  previous preset held >= 0.8 in {held_w} of 5 seeds (end {_fmt(e['final'] for e in s4w)}), and against
  U(0, 1)^5 agents learner 1 cooperated {w1:.3f} and learner 2 {w2:.3f} on average: the two learners
  alike, so learner 2's excess in `s4T_shipped` is that pair's, not its side's; over both learners
  {(w1 + w2) / 2:.3f}, {_ok(0.05 <= (w1 + w2) / 2 <= 0.15)} against the paper's 0.05-0.15.
  From the same five pairs, {len(others)} more runs (entropy, step size, 75% tabular episodes, other training
  seeds; `results/step4_search/README.md`) held >= 0.8 in {", ".join(f"`{k}` {v}" + (f" (stopped at {stopped[k]})" if stopped[k] < 3000 else "") for k, v in others.items())} of 5
  seeds. Summed over two training-seed sets, the previous preset held in {held_w + others["s4W_rep"]} of 10 and 75% tabular in
  {others["s4W_tabular75"] + others["s4W_tabular75_rep"]} of 10. The pair of `w5` agents 1 and 2 never reached 0.5 in any of these runs
  ({"confirmed" if never else "NOT confirmed"} from the metrics).
  Paired differently (`s4W_pairs2`: learner 2 from `w5` agent i + 2) the previous preset held in {held_p} of 5 seeds
  ({"every pair" if all(e["rise"] is not None for e in s4p) else "not every pair"} left mutual defection), while against U(0, 1)^5 agents learner 1 cooperated
  {p1:.3f} and learner 2 {p2:.3f} on average. Over these ten different pairs: held in {held_w + held_p} of 10.
"""
    both = {b: np.mean(_tabular(S / b) + _tabular(S / b, 2)) for b in LARGE_BONUS.values()}
    ent_lines = "; ".join(f"`{b}` {held_count(S / b)} (previous preset `{a}` {held_count(S / a)})" for a, b in LARGE_BONUS.items())
    stuck = [learner_cooperation(S / b)[1]["rise"] for b in ("s4ent01", "s4ent01_rep")]
    text += f"""- A much larger entropy bonus early (0.1 falling to 0.003 over the first 1000 iterations; `s4ent01`,
  over the same fifteen pairs and training seeds as `s4W`, `s4W_rep` and `s4W_pairs2`): held >= 0.8 in
  {ent_lines} of 5 seeds. The stuck pair reached 0.5 at iteration {stuck[0]} in `s4ent01` and
  {"never" if stuck[1] is None else "at " + str(stuck[1])} in `s4ent01_rep`. Against U(0, 1)^5 agents, mean over both learners: {_fmt(both.values(), 3)}
  ({sum(v <= 0.15 for v in both.values())} of 3 inside 0.05-0.15).
"""
    pool = {b: "s4ent01_paperpool" + b.removeprefix("s4ent01") for b in LARGE_BONUS.values()}
    tab = {r: np.mean(_tabular(S / r) + _tabular(S / r, 2))
           for p in pool.values() for r in (p, f"{p}_4500")}
    inside = lambda runs: sum(0.05 <= tab[r] <= 0.15 for r in runs)
    text += f"""- The same schedule with the paper's tabular co-players (U(0, 1)^5 agents only, `s4ent01_paperpool`,
  over the same fifteen pairs and training seeds): held >= 0.8 in
  {", ".join(f"{held_count(S / p)}" for p in pool.values())} of 5 at 3000 iterations and
  {", ".join(f"{held_count(S / f'{p}_4500')}" for p in pool.values())} of 5 continued to 4500 (`<run>_4500`).
  Against U(0, 1)^5 agents, mean over both learners: {_fmt((tab[p] for p in pool.values()), 3)} at 3000
  ({inside(pool.values())} of 3 inside 0.05-0.15) and {_fmt((tab[f"{p}_4500"] for p in pool.values()), 3)} at 4500
  ({inside(f"{p}_4500" for p in pool.values())} of 3 inside). Both halves of the claim together: in
  {sum(held_count(S / f"{p}_4500") >= 4 and 0.05 <= tab[f"{p}_4500"] <= 0.15 for p in pool.values())} of 3 sets at 4500.
"""
    cool = {"the shipped warm-up": "s4ent01_paperpool_cool_step1", **{f"`w5` as `{p}`": p.replace("paperpool", "paperpool_cool")
                                                                 for p in pool.values()}}
    ctab = {k: np.mean(_tabular(S / r) + _tabular(S / r, 2)) for k, r in cool.items()}
    chel = {k: held_count(S / r) for k, r in cool.items()}
    text += f"""- On top of that, a step size that falls once the pairs have found cooperation
  (`s4ent01_paperpool_cool*`: {_schedule(S / "s4ent01_paperpool_cool_step1")}).
  Without it, from the shipped warm-up, the paper-pool setting held in
  {held_count(S / "s4ent01_paperpool_step1")} of 5 at 3000 (`s4ent01_paperpool_step1`), though every pair had reached
  {min(e["max"] for e in learner_cooperation(S / "s4ent01_paperpool_step1")):.2f} or more on the way. With it:
  {"; ".join(f"from {k} held >= 0.8 in {chel[k]} of 5, both learners vs U(0, 1)^5 {ctab[k]:.3f}" for k in cool)}.
  Both halves of the claim together: {sum(chel[k] >= 4 and 0.05 <= ctab[k] <= 0.15 for k in cool)} of {len(cool)}.
  This setting is the present preset: `results/step4` {"reproduces" if same_training(R / "step4", S / PRESET_RUN) else "does NOT reproduce"}
  `{PRESET_RUN}` exactly (every training metric, wall time aside).
"""
    ok = warmup_best_responders(S / "w5")
    by_pair = held_by_starting_pair([S / f"{b}{s}" for b in FALLING for s in ("", "_rep", "_pairs2")])
    # a pair of criterion-meeting agents that held in none of these runs is the stuck pair
    stuck = [p for p, h in by_pair.items() if all(ok[a] for a in p) and not any(h)]
    kind = lambda pair: "stuck" if pair in stuck else ("both" if all(ok[a] for a in pair) else "one")
    count = {k: (sum(sum(h) for p, h in by_pair.items() if kind(p) == k), sum(len(h) for p, h in by_pair.items() if kind(p) == k))
             for k in ("both", "stuck", "one")}
    tft = {e["seed"]: e["coop_rounds_40_60"] for e in read_evaluation(R / "step1/evaluate.json")["coplayers"]["tft"]["per_seed"]}
    bad = [a for a in ok if not ok[a]]
    shipped_ok = all(warmup_best_responders(R / "step1").values())
    w2b_ok = warmup_best_responders(S / "w2b")
    w2b = learner_cooperation(S / "s4cool_w2b")
    text += f"""- Which starting pairs hold: over the three sets of `w5` pairs trained with a falling step size
  ({", ".join(f"`{b}`" for b in FALLING)}, each with `_rep` and `_pairs2`), pairs of two
  `w5` agents that meet the Step-1 criterion (agents {", ".join(str(a) for a in ok if ok[a])}) held >= 0.8 in
  {count["both"][0]} of {count["both"][1]}, apart from the pair{"s" if len(stuck) > 1 else ""} {", ".join(" + ".join(map(str, p)) for p in stuck) or "(none)"} ({count["stuck"][0]} of {count["stuck"][1]}); pairs with agent {", ".join(map(str, bad))},
  which misses it, held in {count["one"][0]} of {count["one"][1]}. Those pairs cooperate in the middle of the episode
  and lose it to end-game defection (`round_windows_table` in the search log). The shipped
  warm-up's two agents {"both meet" if shipped_ok else "do NOT both meet"} the criterion (cooperation with TFT in rounds 40-60:
  {_fmt(tft.values())}). From a second two-seed warm-up (`w2b`: {", ".join(f"agent {a} {'meets' if v else 'misses'} it" for a, v in w2b_ok.items())}),
  the preset trained exactly as the shipped run (`s4cool_w2b`) held >= 0.8 in {held_count(S / "s4cool_w2b")} of 5 seeds
  ({"no seed reached 0.5" if all(e["rise"] is None for e in w2b) else "some seeds reached 0.5"}; peak {max(e["max"] for e in w2b):.2f}): the shipped
  result depends on the warm-up drawing two agents that meet the criterion.
"""
    fresh_ok = {w: warmup_best_responders(S / w) for w in PROTOCOL_WARMUPS}
    runs = {r: learner_cooperation(S / r) for r in PROTOCOL}
    text += f"""- A warm-up protocol, tested: pairs of criterion-meeting agents only (`python -m ismarl warmup-pairs`,
  config field `init_seeds`), predicted in the search log to hold in at least 4 of 5 seeds per run.
  Fresh four-seed warm-ups: {"; ".join(f"`{w}` {sum(ok.values())} of {len(ok)} agents meet the criterion" for w, ok in fresh_ok.items())}.
  Held >= 0.8: {"; ".join(f"`{r}` {held_count(S / r)} of {len(summ)}" for r, summ in runs.items())}
  (fresh episodes, learner vs learner: {"; ".join(_fmt(e["both"] for e in fresh_cooperation(S / r)["learners"].values()) for r in runs)}).
  Seeds that reached 0.5: {sum(e["rise"] is not None for summ in runs.values() for e in summ)} of {sum(len(s) for s in runs.values())}.
  Meeting the criterion is needed for a pair to find cooperation, and not enough for it to hold 0.8.
"""
    base_dir = lambda r: R / "step4" if r == "step4" else S / r
    text += """- Two settings of the returns on the same pairs and training seeds (written down in the search log
  before they finished), held >= 0.8 with the preset and with the setting: """ + "; ".join(
        f"{setting}, `{base}` {held_count(base_dir(base))} of 5 -> `{changed}` {held_count(S / changed)} of 5"
        for setting, base, changed in SETTINGS) + """.
  Neither became the preset: what holds depends on the warm-up pair more than on either setting.
"""
    return text


def heldout_section(R: Path) -> str:
    """The held-out batch: the shipped preset run once on warm-up agents and training seeds that
    played no part in the search (``results/step4_heldout``)."""
    H = R / "step4_heldout"
    w, s4 = H / "step1", H / "step4"
    seeds = read_manifest(s4)["seeds"]
    summ = learner_cooperation(s4)
    held = held_count(s4)
    fresh = fresh_cooperation(s4)
    ev = read_evaluation(s4 / "evaluate.json")["coplayers"]["random"]
    alld = ev["alld_reward"]
    tab1, tab2 = _tabular(s4), _tabular(s4, 2)
    rewards = [e["reward"] for e in fresh["tabular"].values()]
    ok = warmup_best_responders(w)
    by_pair = held_by_starting_pair([s4])
    both = [h[0] for p, h in by_pair.items() if all(ok[a] for a in p)]
    one = [h[0] for p, h in by_pair.items() if not all(ok[a] for a in p)]
    same = read_config(s4).a2c == read_config(R / "step4").a2c and read_config(s4).iterations == read_config(R / "step4").iterations
    return f"""
## Held-out seeds: the preset judged on pairs that played no part in the search

The preset above was chosen on the shipped pair of warm-up agents. It was then run once, unchanged
({"the same A2C settings and schedule as `results/step4`" if same else "NOT the same settings as `results/step4`"}), on a fresh warm-up and fresh training seeds
{seeds[0]}-{seeds[-1]}, which no search run used; seed k's learners start from warm-up agents k and
k + 1 (modulo the ten), so every seed has its own pair. Commands (manifests in `results/step4_heldout/*/`):

```bash
{_command(w)}
{_command(s4)}
python -m ismarl evaluate results/step4_heldout/step1 --coplayers tft,allc,alld,random --episodes 1000 --out results/step4_heldout/step1/evaluate.json
python -m ismarl evaluate results/step4_heldout/step4 --coplayer-run results/step4_heldout/step4 --coplayer-learner 1 --episodes 1000 --out results/step4_heldout/step4/evaluate_learners.json
python -m ismarl evaluate results/step4_heldout/step4 --coplayers random,tft,allc,alld --episodes 1000 --out results/step4_heldout/step4/evaluate.json
python -m ismarl evaluate results/step4_heldout/step4 --learner 1 --coplayers random --episodes 1000 --out results/step4_heldout/step4/evaluate_learner2.json
```

Wall times: warm-up {read_manifest(w)["wall_time_s"] / 60:.0f} min, Step 4 {read_manifest(s4)["wall_time_s"] / 60:.0f} min (10 seeds each, one program; 2-core CPU, shared).

{outcome_table([s4])}

- Held >= 0.8 over the last 10% of training: **{held} of {len(summ)} seeds** (in-sample, on the pair the
  preset was chosen on: {held_count(R / "step4")} of 5). Our target, at least 80% of the seeds: {_ok(held >= 0.8 * len(summ))}.
  Seeds that ended below 0.2: {sum(e["final"] < 0.2 for e in summ)}; between 0.2 and 0.8: {sum(0.2 <= e["final"] < 0.8 for e in summ)}.
- Against U(0, 1)^5 agents (fresh episodes): learner 1 cooperated {_fmt(tab1, 3)} (mean {np.mean(tab1):.3f}),
  learner 2 mean {np.mean(tab2):.3f}; both learners {np.mean(tab1 + tab2):.3f}, {_ok(0.05 <= np.mean(tab1 + tab2) <= 0.15)} against 0.05-0.15;
  {sum(0.05 <= c <= 0.15 for c in tab1)} of {len(tab1)} seeds of learner 1 inside. Learner 1's reward {_fmt(rewards, 3)}
  against always-defect's {alld:.3f} on the same co-players (oracle {ev["oracle_reward"]:.3f}): at least ALLD's in
  {sum(r >= alld for r in rewards)} of {len(rewards)} seeds.
- The warm-up: {sum(ok.values())} of {len(ok)} agents meet the Step-1 criterion (missing: {", ".join(str(a) for a in ok if not ok[a]) or "none"}).
  Pairs of two that meet it held in {sum(both)} of {len(both)}; pairs with one that misses it in {sum(one)} of {len(one)}.
"""


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python results/step4/write_readme.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default="results", help="the results directory (default: results)")
    p.add_argument("--write", action="store_true", help="write ROOT/step4/README.md instead of printing")
    a = p.parse_args(argv)
    text = step4_readme(a.root)
    if a.write:
        (Path(a.root) / "step4/README.md").write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
