"""Summaries of a run's ``metrics.jsonl``: where learner-vs-learner cooperation ended, whether it
held, and how the learners treated tabular co-players; and of its fresh-episode evaluations
(used by the chapters, the search logs and ``results/step4/README.md``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

import numpy as np

from ismarl.experiments.presets import get_config
from ismarl.experiments.warmup import starting_pairs, warmup_best_responders
from ismarl.protocol import EPISODE_PHASES, LEARNER_VS_LEARNER, ROUNDS_40_60, match_name
from ismarl.runs.evaluate import read_evaluation
from ismarl.runs.metrics import read_metrics
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

LEARNER_MATCH = LEARNER_VS_LEARNER


def _series(rows, seed, match, quantity):
    r = [d for d in rows if d["seed"] == seed and match in d["matches"]]
    return np.array([d["iteration"] for d in r]), np.array([d["matches"][match][quantity] for d in r], float)


def cooperation_by_phase(run_dir, match: str = LEARNER_MATCH) -> dict[int, dict[int, float]]:
    """Per training iteration (a PPI phase), per seed: the cooperation in ``match`` (mean of both
    sides), from the run's training metrics."""
    out: dict[int, dict[int, float]] = {}
    for d in read_metrics(run_dir, "train"):
        if match in d["matches"]:
            out.setdefault(d["iteration"], {})[d["seed"]] = float(np.mean(d["matches"][match]["coop"]))
    if not out:
        raise ValueError(f"{run_dir} has no training metrics of the match {match!r} (yet)")
    return out


def phase_table(run_dir, every: int = 5, match: str = LEARNER_MATCH, beside: tuple[str, Path] | None = None) -> str:
    """A markdown table of :func:`cooperation_by_phase`: one row every ``every`` iterations (and the
    first and the last), one column per seed; ``beside=(label, other_run)`` adds a column with the
    other run's values in the same phase on the seeds both have."""
    coop = cooperation_by_phase(run_dir, match)
    other = cooperation_by_phase(beside[1], match) if beside is not None else None
    seeds = sorted({s for by_seed in coop.values() for s in by_seed})
    last = max(coop)
    phases = sorted({min(coop), *(p for p in range(every, last + 1, every) if p in coop), last})
    heads = [f"seed {s}" for s in seeds] + ([beside[0]] if beside is not None else [])
    lines = ["| phase | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for p in phases:
        cells = [f"{coop[p][s]:.2f}" if s in coop[p] else "—" for s in seeds]
        if other is not None:
            cells.append(" / ".join(f"{other[p][s]:.2f}" for s in seeds if s in other.get(p, {})) or "—")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pieces_text(run_dir) -> str:
    """The pieces a run was trained in, from its manifest: phases, commit and wall time of each."""
    m = read_manifest(run_dir)
    pieces = m.get("pieces") or [{"from_iteration": 0, "to_iteration": m["iteration"], "commit": m["commit"],
                                  "wall_time_s": m["wall_time_s"]}]
    return "; ".join(f"phases {p['from_iteration']}-{p['to_iteration']}: commit {p['commit'][:7]}, "
                     f"{p['wall_time_s'] / 60:.0f} min" for p in pieces)


def ppi_seed_table(run_dir) -> str:
    """Per seed of a PPI Step-4 run: learner-vs-learner cooperation at the end of training (last
    10 %), its maximum, the first phase at 0.5, fresh games learner against learner and against
    U(0, 1)^5 agents, and learner 1 against TFT / ALLC / ALLD (from ``evaluate.json``)."""
    run = Path(run_dir)
    summ = learner_cooperation(run)
    fresh = fresh_cooperation(run)
    ev = read_evaluation(run / EVALUATIONS["tabular"])["coplayers"]
    lines = ["| seed | end of training (last 10 %) | max (phase) | first >= 0.5 | fresh games, learner vs learner "
             "(1 / 2) | vs U(0,1)^5, fresh: learner 1 / 2 | learner 1 vs TFT (rounds 41-60) / ALLC / ALLD |",
             "|---|---|---|---|---|---|---|"]
    for k, e in enumerate(summ):
        s = e["seed"]
        ll = fresh["learners"][s]["coop"]
        t1, t2 = fresh["tabular"][s]["coop"], fresh["tabular_2"][s]["coop"]
        named = [ev[c]["per_seed"][k] for c in ("tft", "allc", "alld")]
        lines.append(f"| {s} | {e['final']:.2f} | {e['max']:.2f} ({e['argmax']}) | {e['rise'] or '-'} | "
                     f"{ll[0]:.2f} / {ll[1]:.2f} | {t1:.3f} / {t2:.3f} | {named[0]['coop_rounds_40_60']:.2f} / "
                     f"{named[1]['learner']['coop']:.3f} / {named[2]['learner']['coop']:.3f} |")
    return "\n".join(lines)


def ppi_rate_table(runs: dict, threshold: float = 0.8) -> str:
    """A markdown table of PPI Step-4 runs (``{label: run_dir}``), one row each: K (rollouts per
    action), seeds, phases reached of the configured ones, seeds that held learner-vs-learner
    cooperation >= ``threshold`` over the last 10 % of their phases (:func:`held_count`) and the
    mean cooperation there."""
    lines = [f"| run | K | seeds | phases | held >= {threshold:g} (last 10 %) | mean at the end |", "|---|---|---|---|---|---|"]
    for label, run in runs.items():
        cfg, summ = read_config(run), learner_cooperation(run, threshold=threshold)
        lines.append(f"| {label} | {cfg.ppi.k} | {', '.join(str(e['seed']) for e in summ)} | "
                     f"{max(cooperation_by_phase(run))} of {cfg.iterations} | "
                     f"{sum(e['held'] >= threshold for e in summ)} of {len(summ)} | "
                     f"{np.mean([e['final'] for e in summ]):.2f} |")
    return "\n".join(lines)


def learner_cooperation(run_dir, tail: float = 0.1, threshold: float = 0.8, rows=None,
                        match: str = LEARNER_MATCH) -> list[dict]:
    """Per seed: learner-vs-learner cooperation (mean of both learners) at the end (mean of the last
    ``tail`` fraction of training), its maximum and where it was reached, the fraction of the last
    ``tail`` at or above ``threshold`` ("held"), and the same-period cooperation and reward against
    the U(0, 1)^5 tabular agents if the run has them (``tabular_coop``/``tabular_reward`` for
    learner 1, with the suffix ``_2`` for learner 2), and ``rise``: the first iteration at which
    the cooperation reached one half (None if it never did: a pair that never left mutual
    defection). ``match`` picks another match of the run
    (e.g. ``"learner:0_vs_frozen:0"``: a learner and a frozen co-player, both sides averaged)."""
    rows = read_metrics(run_dir, "train") if rows is None else rows
    if not rows:
        raise ValueError(f"{run_dir} has no training metrics (yet)")
    out = []
    for seed in sorted({d["seed"] for d in rows}):
        its, coop = _series(rows, seed, match, "coop")
        if not len(its):
            raise ValueError(f"{run_dir} has no match {match!r}")
        both = coop.mean(axis=1)
        k = max(1, int(round(tail * len(both))))
        entry = {"seed": seed, "iterations": int(its[-1]), "final": float(both[-k:].mean()),
                 "max": float(both.max()), "argmax": int(its[both.argmax()]),
                 "held": float((both[-k:] >= threshold).mean()),
                 "rise": int(its[np.argmax(both >= 0.5)]) if (both >= 0.5).any() else None,
                 "final_reward": float(_series(rows, seed, match, "reward")[1][-k:].mean())}
        for tab, suffix in ((match_name(0, "random"), ""), (match_name(1, "random"), "_2")):
            if any(tab in d["matches"] for d in rows):
                _, tc = _series(rows, seed, tab, "coop")
                _, tr = _series(rows, seed, tab, "reward")
                entry["tabular_coop" + suffix] = float(tc[-k:, 0].mean())
                entry["tabular_reward" + suffix] = float(tr[-k:, 0].mean())
        out.append(entry)
    return out


#: the evaluation files of a Step-4 run (written by ``python -m ismarl evaluate``; commands in
#: ``results/step4/README.md``) and what :func:`fresh_cooperation` reads from each
EVALUATIONS = {"learners": "evaluate_learners.json",  # learner 1 against learner 2 of the same seed
               "tabular": "evaluate.json",  # learner 1 against U(0, 1)^5 agents ("random")
               "tabular_2": "evaluate_learner2.json"}  # learner 2 against U(0, 1)^5 agents


def fresh_cooperation(run_dir) -> dict[str, dict[int, dict]]:
    """Fresh-episode results of a run per seed, from its evaluation files (:data:`EVALUATIONS`):
    ``learners[seed]`` has ``coop`` (learner 1, learner 2), ``both`` (their mean) and ``curve``
    (cooperation of both per round of the episode; None if the file has no per-round curves);
    ``tabular[seed]`` and ``tabular_2[seed]`` have ``coop`` and ``reward`` of learner 1 and of
    learner 2 against U(0, 1)^5 agents. A key is missing where its file is (or where the file has
    no ``random`` co-player); a learner-vs-learner file must hold exactly one co-player run."""
    d = Path(run_dir)
    out: dict[str, dict[int, dict]] = {}
    f = d / EVALUATIONS["learners"]
    if f.exists():
        coplayers = read_evaluation(f)["coplayers"]
        if len(coplayers) != 1:
            raise ValueError(f"{f} should hold one learner co-player, found {sorted(coplayers)}")
        (_, r), = coplayers.items()
        out["learners"] = {e["seed"]: {"coop": (e["learner"]["coop"], e["coplayer"]["coop"]),
                                       "both": (e["learner"]["coop"] + e["coplayer"]["coop"]) / 2,
                                       "curve": (np.asarray(e["learner"]["coop_curve"]) + np.asarray(e["coplayer"]["coop_curve"])) / 2
                                       if "coop_curve" in e["learner"] and "coop_curve" in e["coplayer"] else None}
                             for e in r["per_seed"]}
    for key in ("tabular", "tabular_2"):
        f = d / EVALUATIONS[key]
        r = read_evaluation(f)["coplayers"].get("random") if f.exists() else None
        if r is not None:
            out[key] = {e["seed"]: {"coop": e["learner"]["coop"], "reward": e["learner"]["reward"]} for e in r["per_seed"]}
    return out


def mean_tabular_coop(run_dir) -> tuple[float | None, float | None]:
    """Learner 1's and learner 2's fresh-episode cooperation with U(0, 1)^5 agents, mean over
    seeds (None where the evaluation is missing)."""
    f = fresh_cooperation(run_dir)
    return tuple(float(np.mean([e["coop"] for e in f[k].values()])) if k in f else None
                 for k in ("tabular", "tabular_2"))


def search_table(run_dirs, match: str = LEARNER_MATCH) -> str:
    """A markdown table of several runs of a search: their settings (from ``config.json``) and
    outcomes (from ``metrics.jsonl``): cooperation in ``match`` (learner vs learner by default) at
    the end and at its maximum, and the last probes of learner 1 (cooperation in rounds 40-60 with
    TFT, ALLC, ALLD)."""
    lines = ["| run | seeds | iterations | GRU / batch | start | other co-players | lr | γ / λ | adv. | reward scale | entropy | "
             "end coop (per seed) | max coop | last probe TFT / ALLC / ALLD |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in run_dirs:
        d = Path(d)
        c = read_config(d)
        a = c.a2c
        summ = learner_cooperation(d, match=match)
        probes = read_metrics(d, "probe")
        last = [p for p in probes if p["iteration"] == max(q["iteration"] for q in probes)] if probes else []
        probe = " ; ".join(f"{p['probe']['tft'][ROUNDS_40_60.key]:.2f} / {p['probe']['allc']['coop']:.2f} / "
                           f"{p['probe']['alld'][ROUNDS_40_60.key]:.2f}" for p in last)
        named = lambda s: (f"{s} ({c.frozen[int(s.split(':')[1])]})"
                           if s.startswith("frozen:") and int(s.split(":")[1]) < len(c.frozen) else s)
        tab = ", ".join(f"{named(s)} {w:g}" for s, w in c.pools[0] if not s.startswith("learner")) or "none"
        start = ", ".join(sorted({x for x in c.init_from if x})) or "scratch"
        if c.init_iteration and start != "scratch":
            start += f" @ {c.init_iteration}"
        offsets = list(c.init_seed_offset)
        if start != "scratch" and offsets and offsets != list(range(len(offsets))):
            start += " (seed i + " + " / i + ".join(str(o) for o in offsets) + ")"
        if start != "scratch" and c.init_seeds:
            start += " (agents " + ", ".join("+".join(map(str, p)) for p in zip(*c.init_seeds)) + ")"
        ends = ", ".join(f"{e['final']:.2f}" for e in summ)
        lines.append(
            f"| {d.name} | {len(summ)} | {summ[0]['iterations']} | {c.network.hidden} / {c.batch_size} | {start} | {tab} | "
            f"{a.learning_rate.short()} | {a.gamma:g} / {a.gae_lambda:g} | {a.advantage_norm} | {a.reward_scale:g} | "
            f"{a.entropy_coef.short()} | {ends} | {max(e['max'] for e in summ):.2f} | {probe} |")
    return "\n".join(lines)


def outcome_table(run_dirs, threshold: float = 0.8) -> str:
    """A markdown table, one row per run and seed: learner-vs-learner cooperation at the end of
    training and whether it held (from ``metrics.jsonl``), then fresh-episode cooperation of both
    learners with each other (``evaluate_learners.json``) and learner 1's cooperation and reward
    against U(0, 1)^5 agents (``evaluate.json``), where those files exist."""
    lines = [f"| run | seed | learner-vs-learner coop, end of training (mean of last 10%) | held >= {threshold:g} "
             "(fraction of last 10%) | fresh episodes: coop learner 1 / learner 2 | vs U(0,1)^5: coop / reward |",
             "|---|---|---|---|---|---|"]
    for d in run_dirs:
        d = Path(d)
        f = fresh_cooperation(d)
        ll, tab = f.get("learners", {}), f.get("tabular", {})
        for e in learner_cooperation(d, threshold=threshold):
            s = e["seed"]
            fresh = "{:.2f} / {:.2f}".format(*ll[s]["coop"]) if s in ll else "—"
            vs = f"{tab[s]['coop']:.3f} / {tab[s]['reward']:.3f}" if s in tab else "—"
            lines.append(f"| {d.name} | {s} | {e['final']:.2f} | {e['held']:.2f} | {fresh} | {vs} |")
    return "\n".join(lines)


def pooled_outcome(run_dirs, threshold: float = 0.8) -> dict:
    """Learner-vs-learner outcome pooled over the seeds of several runs: ``held`` (seeds that held
    >= ``threshold`` over the last 10% of training) of ``n``, mean ``end`` and highest ``peak``
    cooperation, ``rise`` (the latest first rise to one half; None if no seed rose) and ``tab``
    (both learners' fresh-episode cooperation with U(0, 1)^5 agents, mean over the evaluated runs;
    None if none was evaluated)."""
    summ = [e for d in run_dirs for e in learner_cooperation(d, threshold=threshold)]
    if not summ:
        raise ValueError("pooled_outcome needs at least one run")
    fresh = [t for d in run_dirs for t in mean_tabular_coop(d) if t is not None]
    rises = [e["rise"] for e in summ if e["rise"] is not None]
    return {"held": sum(e["held"] >= threshold for e in summ), "n": len(summ),
            "end": float(np.mean([e["final"] for e in summ])), "peak": max(e["max"] for e in summ),
            "rise": max(rises) if rises else None, "tab": float(np.mean(fresh)) if fresh else None}


def levers_table(results_root, levers) -> tuple[str, dict[str, tuple[dict, dict]]]:
    """The table of the settings that changed the Step-4 outcome (chapter 9): ``levers`` is a list
    of dicts with ``setting``, ``before`` and ``after`` (words), ``before_runs`` and ``after_runs``
    (run directories relative to ``results_root``) and ``why`` (``LEVERS`` in
    ``results/step4_search/groups.json``). Returns the markdown table and, per setting, the
    :func:`pooled_outcome` before and after."""
    root = Path(results_root)
    out = {}
    for lever in levers:
        missing = {"setting", "before", "after", "before_runs", "after_runs", "why"} - set(lever)
        if missing:
            raise ValueError(f"lever {lever.get('setting', lever)!r} lacks {sorted(missing)}")
        out[lever["setting"]] = tuple(pooled_outcome([root / r for r in lever[k]]) for k in ("before_runs", "after_runs"))

    def cell(o):
        tab = "" if o["tab"] is None else f"; with U(0, 1)^5 {o['tab']:.2f}"
        return f"held {o['held']} of {o['n']}, end {o['end']:.2f}, peak {o['peak']:.2f}, last rise {o['rise']}{tab}"

    lines = ["| setting | before | after | before: learner vs learner | after | why |", "|---|---|---|---|---|---|"]
    lines += [f"| {v['setting']} | {v['before']} | {v['after']} | {cell(out[v['setting']][0])} | {cell(out[v['setting']][1])} "
              f"| {v['why']} |" for v in levers]
    return "\n".join(lines), out


def same_training(run_a, run_b) -> bool:
    """Whether two runs trained identically: every training metric equal, wall time aside (the
    check that a shipped run reproduces a search run, bit for bit)."""
    strip = lambda rows: [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]
    a, b = strip(read_metrics(run_a, "train")), strip(read_metrics(run_b, "train"))
    return bool(a) and a == b


def held_count(run_dir, threshold: float = 0.8) -> int:
    """Seeds whose learner-vs-learner cooperation stayed >= ``threshold`` over the last 10%."""
    return sum(e["held"] >= threshold for e in learner_cooperation(run_dir, threshold=threshold))


def pairs_table(run_dirs, threshold: float = 0.8) -> str:
    """A markdown table, one row per run of the Step-4 search: seeds held (:func:`held_count`),
    fresh-episode learner-vs-learner cooperation per seed (mean of both learners,
    ``evaluate_learners.json``), the iteration each pair first reached one half ("-": never), and
    the cooperation of learner 1 (``evaluate.json``), learner 2 (``evaluate_learner2.json``) and
    both with U(0, 1)^5 agents in fresh episodes, mean over seeds ("—" where a file is missing)."""
    lines = [f"| run | held >= {threshold:g} (last 10%) | fresh episodes, learner vs learner | first reached 0.5 "
             "| vs U(0, 1)^5, fresh: learner 1 / learner 2 / both |", "|---|---|---|---|---|"]
    for d in map(Path, run_dirs):
        summ = learner_cooperation(d, threshold=threshold)
        ll = fresh_cooperation(d).get("learners")
        fresh = "—" if ll is None else ", ".join(f"{e['both']:.2f}" for e in ll.values())
        rises = ", ".join("-" if e["rise"] is None else str(e["rise"]) for e in summ)
        t1, t2 = mean_tabular_coop(d)
        vs = " / ".join("—" if t is None else f"{t:.3f}" for t in (t1, t2, None if None in (t1, t2) else (t1 + t2) / 2))
        lines.append(f"| `{d.name}` | {sum(e['held'] >= threshold for e in summ)} of {len(summ)} | {fresh} | {rises} | {vs} |")
    return "\n".join(lines)


def held_by_starting_pair(run_dirs, threshold: float = 0.8) -> dict[tuple[int, ...], list[bool]]:
    """Over several runs started from one warm-up run, whether each seed held learner-vs-learner
    cooperation (:func:`held_count`'s test), grouped by the unordered pair of warm-up seeds its two
    learners started from."""
    out: dict[tuple[int, ...], list[bool]] = {}
    for d in run_dirs:
        for pair, e in zip(starting_pairs(d), learner_cooperation(d, threshold=threshold)):
            out.setdefault(tuple(sorted(pair)), []).append(bool(e["held"] >= threshold))
    return dict(sorted(out.items()))


def starting_pairs_table(run_dirs, warmup_dir, threshold: float = 0.8) -> str:
    """A markdown table, one row per pair of warm-up agents: whether each meets the Step-1
    criterion (:func:`warmup_best_responders`) and in how many of the runs' seeds that started
    from the pair learner-vs-learner cooperation held."""
    ok = warmup_best_responders(warmup_dir)
    held = held_by_starting_pair(run_dirs, threshold)
    lines = ["| warm-up agents | both meet the Step-1 criterion | held >= 0.8 (last 10%) |", "|---|---|---|"]
    for pair, hs in held.items():
        lines.append(f"| {' + '.join(map(str, pair))} | {'yes' if all(ok[s] for s in pair) else 'no'} | "
                     f"{sum(hs)} of {len(hs)} |")
    return "\n".join(lines)


def round_windows_table(run_dirs, windows=EPISODE_PHASES) -> str:
    """A markdown table, one row per seed: learner-vs-learner cooperation (both learners, fresh
    episodes, ``evaluate_learners.json``) within windows of rounds of the episode, and over the
    whole episode; shows *where* in the episode a pair falls short (the opening, the middle, or
    the last rounds)."""
    heads = " | ".join(w.label for w in windows)
    lines = [f"| run | seed | warm-up agents | {heads} | all |", "|---|---|---|" + "---|" * (len(windows) + 1)]
    for d in map(Path, run_dirs):
        ll = fresh_cooperation(d).get("learners")
        if ll is None:
            raise FileNotFoundError(f"{d} has no {EVALUATIONS['learners']}")
        if any(e["curve"] is None for e in ll.values()):
            raise ValueError(f"{d / EVALUATIONS['learners']} has no per-round cooperation curves")
        pairs = starting_pairs(d)
        for k, (seed, e) in enumerate(ll.items()):
            c = e["curve"]
            if not windows[-1].fits(len(c)):
                raise ValueError(f"{d}: episodes of {len(c)} rounds, shorter than the window {windows[-1].label}")
            cells = " | ".join(f"{c[w.slice].mean():.2f}" for w in windows)
            lines.append(f"| `{d.name}` | {seed} | {' + '.join(map(str, pairs[k]))} | {cells} | {c.mean():.2f} |")
    return "\n".join(lines)


#: The settings a reader compares with the paper's Table 2, per engine (config paths).
SETTINGS = {
    "a2c": ("network.hidden", "network.embed", "network.use_z", "batch_size", "iterations", "a2c.learning_rate",
            "a2c.entropy_coef", "a2c.reward_scale", "a2c.advantage_norm", "a2c.gae_lambda", "a2c.td_lambda",
            "pools", "frozen", "init_from"),
    "ppi": ("network.hidden", "network.embed", "network.use_z", "batch_size", "iterations", "ppi.pretrain_episodes", "ppi.pretrain",
            "ppi.reinit", "ppi.epochs", "ppi.finetune_steps", "ppi.fit_batch", "ppi.learning_rate",
            "ppi.weight_decay", "ppi.beta", "ppi.q", "ppi.k", "ppi.rollout_horizon", "ppi.discount", "ppi.rollout_reward",
            "ppi.collect", "pools", "frozen", "init_from"),
}
_SETTING_NAMES = {"batch_size": "episodes per update (PPI: new games per phase)",
                  "iterations": "iterations (PPI: phases)", "init_from": "starts from (warm-up)",
                  "frozen": "frozen co-players", "pools": "co-player pools"}


def _setting_text(value) -> str:
    """A config value as a reader reads it: schedules as ``start → end (iterations a-b)``, pools
    as ``name weight`` lists, empty values as ``-``."""
    if isinstance(value, dict) and "start" in value:
        if value.get("end") is None or value["end"] == value["start"]:
            return f"{value['start']:g}"
        return f"{value['start']:g} → {value['end']:g} (iterations {value['begin']}-{value['begin'] + value['steps']})"
    if isinstance(value, (list, tuple)):
        if not value:
            return "-"
        if all(isinstance(v, (list, tuple)) and v and all(isinstance(e, (list, tuple)) for e in v) for v in value):
            return " / ".join(", ".join(f"{n} {w:g}" for n, w in pool) for pool in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_table(experiment: str, fields=None) -> str:
    """A Markdown table of an experiment's ``paper`` preset (the paper's Table 2 settings) beside
    its ``cpu`` preset, field by field, read from :func:`ismarl.experiments.presets.get_config`;
    a row whose values differ is marked, so that no departure from the paper hides."""
    cfgs = {p: get_config(experiment, p) for p in ("paper", "cpu")}
    fields = SETTINGS[cfgs["paper"].engine] if fields is None else tuple(fields)
    dicts = {p: c.to_dict() for p, c in cfgs.items()}

    def value(d, field):
        for part in field.split("."):
            if not isinstance(d, dict) or part not in d:
                raise ValueError(f"settings_table: {experiment} has no config field {field!r}")
            d = d[part]
        return d

    rows = ["| setting | paper | cpu (ours) | |", "|---|---|---|---|"]
    for f in fields:
        a, b = (_setting_text(value(dicts[p], f)) for p in ("paper", "cpu"))
        rows.append(f"| {_SETTING_NAMES.get(f, f)} | {a} | {b} | {'' if a == b else 'differs'} |")
    return "\n".join(rows)


def readme_main(doc: str, readme: Callable[[], str], here, argv=None) -> None:
    """The command line of a ``results/<run>/write_readme.py`` script: print what ``readme()``
    writes, or with ``--write`` (re)write ``README.md`` in ``here``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write README.md beside the script")
    text = readme()
    if parser.parse_args(argv).write:
        (Path(here) / "README.md").write_text(text)
    else:
        print(text)
