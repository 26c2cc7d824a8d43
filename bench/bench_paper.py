"""Paper scale on this machine: the cost of the paper's training programs measured at their shapes,
and what a whole paper-scale experiment would take here.

Usage: ``python bench/bench_paper.py [--repeats 2] [--out results/bench_paper]``. For each
measured experiment, at its ``paper`` preset's shapes (GRU-128, the paper's batch, pools and
horizon; one seed), on the default JAX device:

- **A2C** (``step1``: one learner, 2,048 episodes per update; ``step3``: two learners against each
  other, 4,096; ``step4``: two learners in the mixed pool, 4,096): seconds per iteration (compile,
  then the best of ``--repeats`` timed calls).
- **PPI** (``ppi_step1``, ``ppi_step4``): a paper phase (20,000 new games, a refit of 10 epochs on
  all data so far: 7,813 to 30,469 steps of 256 games) cannot run here, so the phase is measured
  at the paper's model, D0 and data shapes with G new games and S fit steps at three points,
  (G, S) = (32, 2), (96, 2), (32, 12), and its time fitted as ``a + b G + c S`` (exact through
  the three points). A paper phase p then takes ``a + b 20000 + c S_p`` with S_p the engine's
  step count (:func:`ismarl.analysis.cost.ppi_fit_steps_total`).
- **Memory**: XLA's buffer sizes for the compiled program (arguments, outputs, temporaries) on
  this device; a GPU's compiled program differs, so this is the order of magnitude a device needs.
  For PPI the temporaries at 20,000 games are extrapolated linearly from G = 32 and 96.

The projected time of each paper experiment per seed (seeds add linearly on one device:
``results/bench_scaling``) is the measured cost times the paper's iterations or phases.
``--out`` writes ``table.md``, ``paper.json`` (for chapter 11) and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from ismarl.analysis.cost import ppi_fit_steps_total, projected_hours
from ismarl.experiments.presets import get_config
from ismarl.runs.provenance import describe_machine, git_commit, write_manifest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scaling import time_point  # noqa: E402  (the timing of the scaling bench, beside this file)

A2C_MEASURED = ("step1", "step3", "step4")
PPI_MEASURED = ("ppi_step1", "ppi_step4")
PPI_POINTS = ((32, 2), (96, 2), (32, 12))
#: Paper experiments timed by another's program: (measured experiment, how they differ).
SAME_PROGRAM = {
    "step1_opponent_id": ("step1", "plus the z input"),
    "step2": ("step1", "the frozen co-player's forward pass not counted"),
    "step2_mixed": ("step1", "the frozen co-players' forward passes not counted"),
    "step3_mixed": ("step3", "the frozen co-players' forward passes not counted"),
    "step4_opponent_id": ("step4", "plus the z input"),
    "step4_no_tabular": ("step4", "another pool"),
    "step4_tabular25": ("step4", "another pool mix"),
    "step4_tabular75": ("step4", "another pool mix"),
    "ppi_step2": ("ppi_step1", "the frozen PPI co-player's planning not counted"),
    "ppi_step3": ("ppi_step4", "with its own D0 and fit steps"),
    "ppi_step4_no_tabular": ("ppi_step4", "another pool"),
    "ppi_step4_opponent_id": ("ppi_step4", "plus the z input"),
}


def ppi_point(name: str, games: int, steps: int):
    cfg = get_config(name, "paper").with_run(probe_every=0)
    return cfg.replace(batch_size=games, iterations=4, ppi=dataclasses.replace(cfg.ppi, max_fit_steps=steps))


def measure_a2c(name: str, repeats: int) -> dict:
    cfg = get_config(name, "paper")
    r = time_point(cfg.replace(iterations=repeats + 1).with_run(probe_every=0), 1, repeats)
    hours = r["seconds"] * cfg.iterations / 3600
    print(f"{name}: {r['seconds']:.3f} s / iteration (compile {r['compile_s']:.1f} s) -> {hours:.1f} h per seed", flush=True)
    return {"experiment": name, "engine": "a2c", "iterations": cfg.iterations, "batch": cfg.batch_size,
            "hidden": cfg.network.hidden, "learners": cfg.n_learners, **r, "hours_per_seed": hours}


def measure_ppi(name: str, repeats: int) -> dict:
    points = []
    for games, steps in PPI_POINTS:
        r = time_point(ppi_point(name, games, steps), 1, repeats)
        points.append({"games": games, "steps": steps, **r})
        print(f"{name} G={games} S={steps}: {r['seconds']:.2f} s / phase (compile {r['compile_s']:.1f} s)", flush=True)
    (p0, p1, p2) = points
    b = (p1["seconds"] - p0["seconds"]) / (p1["games"] - p0["games"])
    c = (p2["seconds"] - p0["seconds"]) / (p2["steps"] - p0["steps"])
    a = p0["seconds"] - b * p0["games"] - c * p0["steps"]
    cfg = get_config(name, "paper")
    steps = ppi_fit_steps_total(cfg)
    phases = [a + b * cfg.batch_size + c * s for s in steps]
    temp = None
    if p0["memory"] and p1["memory"]:
        per_game = (p1["memory"]["temp"] - p0["memory"]["temp"]) / (p1["games"] - p0["games"])
        temp = int(p0["memory"]["temp"] + per_game * (cfg.batch_size - p0["games"]))
    hours = sum(phases) / 3600
    print(f"{name}: a {a:.3f} s + {b * 1e3:.2f} ms per game + {c:.3f} s per fit step -> phase 1 {phases[0] / 3600:.1f} h, "
          f"{hours:.0f} h per seed", flush=True)
    return {"experiment": name, "engine": "ppi", "iterations": cfg.iterations, "batch": cfg.batch_size,
            "hidden": cfg.network.hidden, "learners": cfg.n_learners, "points": points,
            "fixed_s": a, "per_game_s": b, "per_fit_step_s": c, "fit_steps": steps, "phase_seconds": phases,
            "temp_bytes_paper_phase": temp, "hours_per_seed": hours}


def table(rows: list[dict]) -> str:
    gib = lambda n: "?" if n is None else f"{n / 2 ** 30:.2f}"  # noqa: E731
    lines = ["| experiment | engine | measured cost | XLA memory: arguments / temporaries (GiB) | paper iterations | "
             "projected time per seed |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r["engine"] == "a2c":
            cost = f"{r['seconds']:.2f} s / iteration"
            mem = f"{gib(r['memory'].get('argument'))} / {gib(r['memory'].get('temp'))}"
        else:
            cost = (f"{r['fixed_s']:.2f} s + {r['per_game_s'] * 1e3:.1f} ms / game + {r['per_fit_step_s']:.3f} s / fit "
                    f"step (phase 1: {r['phase_seconds'][0] / 3600:.1f} h)")
            mem = f"{gib(r['points'][0]['memory'].get('argument'))} / {gib(r['temp_bytes_paper_phase'])} (20,000 games)"
        lines.append(f"| `{r['experiment']}` | {r['engine']} | {cost} | {mem} | {r['iterations']:,} | "
                     f"{r['hours_per_seed']:,.0f} h ({r['hours_per_seed'] / 24:,.1f} days) |")
    by_name = {r["experiment"]: r for r in rows}
    for name, (src, how) in SAME_PROGRAM.items():
        if src in by_name:
            lines.append(f"| `{name}` | {by_name[src]['engine']} | as `{src}`, {how} | | "
                         f"{get_config(name, 'paper').iterations:,} | about {projected_hours(get_config(name, 'paper'), by_name[src]):,.0f} h |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2, help="timed calls per program (best is kept)")
    ap.add_argument("--out", type=Path, default=None, help="directory for table.md, paper.json and manifest.json")
    ap.add_argument("--experiments", default=",".join(A2C_MEASURED + PPI_MEASURED),
                    help="comma-separated, from: " + ", ".join(A2C_MEASURED + PPI_MEASURED))
    args = ap.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")
    names = args.experiments.split(",")
    unknown = set(names) - set(A2C_MEASURED + PPI_MEASURED)
    if unknown:
        raise SystemExit(f"--experiments: unknown {sorted(unknown)}; choose from {', '.join(A2C_MEASURED + PPI_MEASURED)}")
    t0, commit = time.time(), git_commit()
    load = os.getloadavg()[0]
    rows = [measure_a2c(n, args.repeats) if n in A2C_MEASURED else measure_ppi(n, args.repeats) for n in names]
    by_name = {r["experiment"]: r for r in rows}
    others = [{"experiment": name, "as": src, "how": how,
               "hours_per_seed": projected_hours(get_config(name, "paper"), by_name[src])}
              for name, (src, how) in SAME_PROGRAM.items() if src in by_name]
    text = "\n".join([f"Machine: {describe_machine()}; load average at the start: {load:.2f}", "", table(rows), "",
                      "Load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())])
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text(text + "\n")
        (args.out / "paper.json").write_text(json.dumps({"machine": describe_machine(), "load_start": load,
                                                         "experiments": rows, "same_program": others}, indent=1) + "\n")
        write_manifest(args.out, wall_time_s=time.time() - t0, commit=commit, repeats=args.repeats)


if __name__ == "__main__":
    main()
