"""Evaluate trained learners against co-players: in-episode curves, episode means, oracle ratios.

The two sides of every game are the **learner** (a network of the run, ``--learner``) and its
**co-player** (a tabular strategy, or a learner of ``--coplayer-run``).
``python -m ismarl evaluate RUN_DIR --coplayers tft,allc,random,0.9:0.8:0.1:0.7:0.2 --episodes 1000 --json``
prints (or with ``--out FILE`` writes) one JSON object laid out as :data:`JSON_LAYOUT`.

Rewards are per round in the game's original scale; ``coop`` is the fraction of rounds played C.
Seed ``i`` of the run plays seed ``i`` of ``--coplayer-run`` (modulo its number of seeds), its
learner ``--coplayer-learner``; ``--coplayer-run RUN --learner 0 --coplayer-learner 1`` plays the
two learners of one Step-4 run against each other. Read a file back with :func:`read_evaluation`:
files without ``"format"`` (format 1, written before the names above, with ``opponents``,
``agent``/``opponent`` and ``agent_*`` keys) are upgraded on read.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ismarl import games
from ismarl._validate import check_int
from ismarl.agents.coplayers import make_player, parse_spec
from ismarl.agents.match import play_match
from ismarl.agents.network import Z_DIM
from ismarl.agents.players import agent_player
from ismarl.engines import engine_for
from ismarl.engines.experiment import ExperimentConfig
from ismarl.oracle import best_response, best_response_cooperation, fixed_strategy_value
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs.store import load_run
from ismarl.sim.core import make_params

#: The JSON layout of :func:`evaluate_run` (shown by ``python -m ismarl evaluate --help``); the
#: window's key and rounds come from :data:`ismarl.protocol.ROUNDS_40_60`.
JSON_LAYOUT = """

    {
      "format": "ismarl-evaluation/2",
      "run": RUN_DIR, "iteration": int, "learner": int, "episodes": int, "horizon": T,
      "seeds": [s0, s1, ...],                   # the run's seeds, in order
      "coplayer_run": OTHER_RUN or null,        # --coplayer-run
      "coplayer_learner": int or null,          # --coplayer-learner (null without --coplayer-run)
      "coplayers": {
        SPEC: {                                 # "tft", "random", "0.9:0.8:0.1:0.7:0.2", "run:OTHER[#k]"
          "oracle_reward": float or null,       # best response's per-round reward (exact, mean over
                                                #   the episodes' tabular co-players; null for networks)
          "oracle_coop": float or null,         # the best response's cooperation rate against them (exact)
          "alld_reward": float or null,         # always-defect's exact per-round reward against them
          "per_seed": [                         # one entry per seed, same order as "seeds"
            {"seed": s,
             "learner":  {"reward": float, "coop": float,            # episode means
                          "reward_curve": [T floats], "coop_curve": [T floats],  # per-round means
                          "conditional_coop": [5 floats or null],  # P(C) after Start, CC, CD, DC, DD
                          "visits": [5 floats]},                   #   and how often each came
             "coplayer": {... same keys, for the co-player ...},
             "{window_key}": float,        # the learner's cooperation rate in {window_label} (1-based)
             "learner_over_oracle": float or null, "alld_over_oracle": float or null,
             "normalized_gain": float or null}  # (learner - ALLD) / (oracle - ALLD)
          ],
          "mean": {"learner_reward", "learner_coop", "coplayer_reward", "coplayer_coop",
                   "{window_key}", "learner_over_oracle", "alld_over_oracle"}
        }, ...
      }
    }
""".replace("{window_key}", ROUNDS_40_60.key).replace("{window_label}", ROUNDS_40_60.label)

#: What an evaluation file of the layout above names in ``"format"``; files without it are format 1.
FORMAT = "ismarl-evaluation/2"


def conditional_cooperation(traj, side: int = 0):
    """``(rates, visits)``: side's mean probability of C after each observation [Start, CC, CD, DC,
    DD] (its own perspective; the order of a memory-1 strategy), NaN where never seen, and the
    fraction of rounds that followed each observation."""
    obs = np.asarray(traj.obs[side]).ravel()
    p = np.asarray(traj.p_coop[side], np.float64).ravel()
    counts = np.bincount(obs, minlength=5)[:5].astype(np.float64)
    sums = np.bincount(obs, weights=p, minlength=5)[:5]
    rates = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    return rates, counts / counts.sum()


def _curves(traj, side):
    r = np.asarray(traj.rewards[side], np.float64)  # (T, N)
    c = 1.0 - np.asarray(traj.actions[side], np.float64)
    rates, visits = conditional_cooperation(traj, side)
    return {"reward": float(r.mean()), "coop": float(c.mean()),
            "reward_curve": r.mean(axis=1).round(5).tolist(), "coop_curve": c.mean(axis=1).round(5).tolist(),
            "conditional_coop": [None if np.isnan(x) else round(float(x), 5) for x in rates],
            "visits": visits.round(5).tolist()}


def play_learner(cfg: ExperimentConfig, params, spec: str, episodes: int, key, coplayer=None):
    """Play one learner of a run of ``cfg`` (``params`` of one learner, deployed as its engine
    deploys it: a network, or PPI's improved policy) against ``spec`` (or against ``coplayer`` =
    (agent description, params), e.g. ``(engine_for(c).agent(c), params)``); returns
    ``(trajectory, tabular strategies or None)``."""
    env = make_params(games.get(cfg.game), horizon=cfg.horizon, dtype=jnp.float32)
    k_opp, k_play = jax.random.split(key)
    k_a, k_b = jax.random.split(jax.random.fold_in(key, 1))  # the deployed agents' own dice (PPI's rollouts)
    if coplayer is not None:
        side_b, z_b, strat = agent_player(coplayer[0], coplayer[1], key=k_b), jnp.zeros((episodes, Z_DIM)), None
    else:
        co = parse_spec(spec)
        if not co.is_tabular:
            raise ValueError(f"evaluate plays tabular co-players or --coplayer-run; got {spec!r}")
        side_b, z_b = make_player(co, k_opp, episodes)
        strat = side_b.params
    side_a = agent_player(engine_for(cfg).agent(cfg), params, z_b if cfg.network.use_z else None, key=k_a)
    traj = _play_jit(k_play, side_a, side_b, episodes, env)
    return traj, strat


_play_jit = jax.jit(play_match, static_argnames=("n",))


def evaluate_run(run_dir, coplayers, episodes: int = 1000, learner: int = 0, coplayer_run=None,
                 coplayer_learner: int = 0, eval_seed: int = 12345, seeds=None) -> dict:
    """Evaluate every seed of a run: its learner ``learner`` against each spec of ``coplayers``
    (a list or a comma string), or, with ``coplayer_run``, against learner ``coplayer_learner``
    of that run (``coplayers`` is then ignored). Returns the format-2 layout of the module docstring.

    ``seeds`` (a list of the run's seeds, in any order) evaluates only those, in the run's order:
    each seed's entry is the one the whole run's evaluation gives it (every seed plays the same
    co-players and dice, and seed ``i`` keeps its co-player run's seed ``i``), and ``"seeds"`` and
    ``"mean"`` cover the seeds evaluated."""
    window = ROUNDS_40_60
    check_int(episodes, "--episodes", minimum=1)
    check_int(learner, "--learner", minimum=0)
    check_int(coplayer_learner, "--coplayer-learner", minimum=0)
    if isinstance(coplayers, str):
        coplayers = [s.strip() for s in coplayers.split(",") if s.strip()]
    specs = list(coplayers)
    if coplayer_run is None:
        if not specs:
            raise ValueError("--coplayers is empty: name at least one co-player, e.g. --coplayers tft,allc,random")
        for spec in specs:
            if not isinstance(spec, str) or not parse_spec(spec).is_tabular:
                raise ValueError(f"evaluate plays tabular co-players or --coplayer-run; got {spec!r}")
    cfg, run_seeds, params, meta = load_run(run_dir)
    game = games.get(cfg.game)
    if seeds is None:
        chosen = list(range(len(run_seeds)))
    else:
        wanted = [check_int(s, "--seeds", minimum=0) for s in seeds]
        missing = [s for s in wanted if s not in run_seeds]
        if missing or not wanted:
            raise ValueError(f"--seeds {','.join(map(str, wanted)) or '(none)'}: run {run_dir} has seeds "
                             f"{','.join(map(str, run_seeds))}" + (f", not {','.join(map(str, missing))}" if missing else ""))
        chosen = [i for i, s in enumerate(run_seeds) if s in wanted]
    seeds = [run_seeds[i] for i in chosen]
    if learner >= cfg.n_learners:
        raise ValueError(f"run {run_dir} has {cfg.n_learners} learner(s); --learner {learner} does not exist")
    other = None
    if coplayer_run is not None:
        ocfg, oseeds, oparams, _ = load_run(coplayer_run)
        if (ocfg.horizon, ocfg.game) != (cfg.horizon, cfg.game):
            raise ValueError(f"{run_dir} and {coplayer_run} play different games ({cfg.game}, {cfg.horizon} rounds "
                             f"against {ocfg.game}, {ocfg.horizon} rounds)")
        if not 0 <= coplayer_learner < ocfg.n_learners:
            raise ValueError(f"run {coplayer_run} has {ocfg.n_learners} learner(s); "
                             f"--coplayer-learner {coplayer_learner} does not exist")
        other = (ocfg, oparams)
        specs = [f"run:{coplayer_run}" + (f"#{coplayer_learner}" if coplayer_learner else "")]
    out = {"format": FORMAT, "run": str(run_dir), "iteration": meta["iteration"], "learner": learner,
           "episodes": episodes, "horizon": cfg.horizon, "seeds": seeds,
           "coplayer_run": None if coplayer_run is None else str(coplayer_run),
           "coplayer_learner": None if coplayer_run is None else coplayer_learner,
           "coplayers": {}}
    for j, spec in enumerate(specs):
        per_seed = []
        oracle = alld = oracle_coop = None
        for si in chosen:
            seed = run_seeds[si]
            p = jax.tree_util.tree_map(lambda x: x[si, learner], params)
            co = None
            if other is not None:
                ocfg, oparams = other
                n_o = jax.tree_util.tree_leaves(oparams)[0].shape[0]
                co = (engine_for(ocfg).agent(ocfg), jax.tree_util.tree_map(lambda x: x[si % n_o, coplayer_learner], oparams))
            # the same co-players and dice for every seed of the run (common random numbers)
            key = jax.random.fold_in(jax.random.PRNGKey(eval_seed), j)
            traj, strat = play_learner(cfg, p, spec, episodes, key, coplayer=co)
            entry = {"seed": seed, "learner": _curves(traj, 0), "coplayer": _curves(traj, 1)}
            entry[window.key] = (float(np.mean(1.0 - np.asarray(traj.actions[0, window.slice], np.float64)))
                                 if window.fits(cfg.horizon) else None)
            if strat is not None:
                if oracle is None:
                    s = np.asarray(strat, np.float64)
                    value, cooperate = best_response(s, cfg.horizon, game)
                    oracle = float(value.mean())
                    oracle_coop = float(best_response_cooperation(s, cfg.horizon, game, cooperate=cooperate).mean())
                    alld = float(fixed_strategy_value(np.zeros(5), s, cfg.horizon, game).mean())
                ok = abs(oracle) > 1e-9
                entry["learner_over_oracle"] = entry["learner"]["reward"] / oracle if ok else None
                entry["alld_over_oracle"] = alld / oracle if ok else None
                gap = oracle - alld
                entry["normalized_gain"] = (entry["learner"]["reward"] - alld) / gap if abs(gap) > 1e-9 else None
            else:
                entry.update(learner_over_oracle=None, alld_over_oracle=None, normalized_gain=None)
            per_seed.append(entry)
        mean = {"learner_reward": float(np.mean([e["learner"]["reward"] for e in per_seed])),
                "learner_coop": float(np.mean([e["learner"]["coop"] for e in per_seed])),
                "coplayer_reward": float(np.mean([e["coplayer"]["reward"] for e in per_seed])),
                "coplayer_coop": float(np.mean([e["coplayer"]["coop"] for e in per_seed])),
                window.key: float(np.mean([e[window.key] for e in per_seed])) if window.fits(cfg.horizon) else None}
        if oracle is not None and abs(oracle) > 1e-9:
            mean["learner_over_oracle"] = mean["learner_reward"] / oracle
            mean["alld_over_oracle"] = alld / oracle
        out["coplayers"][spec] = {"oracle_reward": oracle, "oracle_coop": oracle_coop, "alld_reward": alld,
                                  "per_seed": per_seed, "mean": mean}
    return out


def summary_table(result: dict) -> str:
    """A short human-readable table of a result of :func:`evaluate_run` (or of :func:`read_evaluation`)."""
    w = ROUNDS_40_60
    lines = [f"{'co-player':>22} {'reward':>7} {'coop':>6} {'coop' + str(w.first) + '-' + str(w.last):>9} "
             f"{'learner/oracle':>14} {'ALLD/oracle':>11}"]
    for spec, r in result["coplayers"].items():
        m = r["mean"]
        f = lambda k: f"{m[k]:.3f}" if m.get(k) is not None else "-"
        lines.append(f"{spec[:22]:>22} {m['learner_reward']:7.3f} {m['learner_coop']:6.3f} {f(w.key):>9} "
                     f"{f('learner_over_oracle'):>14} {f('alld_over_oracle'):>11}")
    return "\n".join(lines)


def write_json(result: dict, path) -> None:
    Path(path).write_text(json.dumps(result) + "\n")


#: Format 1 -> format 2: the keys that were renamed (at the top level, in each ``per_seed`` entry
#: and in each ``mean``); everything else kept its name.
FORMAT1_KEYS = {"opponents": "coplayers", "opponent_run": "coplayer_run",
                "agent": "learner", "opponent": "coplayer", "agent_over_oracle": "learner_over_oracle",
                "agent_reward": "learner_reward", "agent_coop": "learner_coop",
                "opponent_reward": "coplayer_reward", "opponent_coop": "coplayer_coop"}


def upgrade_format1(d: dict) -> dict:
    """The format-1 reader: an evaluation written before ``"format"`` existed (every file under
    ``results/`` committed before it; "agent"/"opponent" for learner/co-player), in the format-2
    layout. Renames the keys of :data:`FORMAT1_KEYS` and adds ``"format"`` and
    ``"coplayer_learner"`` (read from the co-player run's spec, ``run:OTHER#k``). Keys a file lacks
    stay missing."""
    ren = lambda m: {FORMAT1_KEYS.get(k, k): v for k, v in m.items()}
    specs = list(d.get("opponents", ()))
    out = {"format": FORMAT}
    for k, v in ren(d).items():
        if k == "coplayers":
            v = {spec: {f: [ren(e) for e in x] if f == "per_seed" else ren(x) if f == "mean" else x for f, x in r.items()}
                 for spec, r in v.items()}
        out[k] = v
        if k == "coplayer_run":  # format 1 kept the co-player's learner only in its spec, run:OTHER#k
            out["coplayer_learner"] = (None if v is None else
                                       int(specs[0].rsplit("#", 1)[1]) if len(specs) == 1 and "#" in specs[0] else 0)
    return out


def read_evaluation(path) -> dict:
    """An evaluation file written by ``python -m ismarl evaluate --out`` (:func:`evaluate_run`), in
    the format-2 layout of the module docstring: format-1 files are upgraded on read
    (:func:`upgrade_format1`). The one reader of evaluation files; raises ``ValueError`` naming the
    file for one that is not JSON, not an object, or of an unknown format."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except ValueError as e:
        raise ValueError(f"{path} is not JSON ({e})") from e
    if not isinstance(d, dict):
        raise ValueError(f"{path} is not an evaluation written by `python -m ismarl evaluate` (a JSON {type(d).__name__})")
    fmt = d.get("format")
    if fmt is None:
        return upgrade_format1(d)
    if fmt != FORMAT:
        raise ValueError(f"{path}: unknown evaluation format {fmt!r} (this version reads {FORMAT!r} and format 1)")
    return d
