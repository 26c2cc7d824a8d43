"""Evaluate trained agents against co-players: in-episode curves, episode means, oracle ratios.

``python -m ismarl evaluate RUN_DIR --opponents tft,allc,random,0.9:0.8:0.1:0.7:0.2 --episodes 1000 --json``
prints (or with ``--out FILE`` writes) one JSON object:

.. code-block:: text

    {
      "run": RUN_DIR, "iteration": int, "learner": int, "episodes": int, "horizon": T,
      "seeds": [s0, s1, ...],                   # the run's seeds, in order
      "opponent_run": OTHER_RUN or null,
      "opponents": {
        SPEC: {                                 # "tft", "random", "0.9:0.8:0.1:0.7:0.2", "run:OTHER"
          "oracle_reward": float or null,       # best response's per-round reward (exact, mean over
                                                #   the episodes' tabular co-players; null for networks)
          "oracle_coop": float or null,         # the best response's cooperation rate against them (exact)
          "alld_reward": float or null,         # always-defect's exact per-round reward against them
          "per_seed": [                         # one entry per seed, same order as "seeds"
            {"seed": s,
             "agent":    {"reward": float, "coop": float,            # episode means
                          "reward_curve": [T floats], "coop_curve": [T floats],  # per-round means
                          "conditional_coop": [5 floats or null],  # P(C) after Start, CC, CD, DC, DD
                          "visits": [5 floats]},                   #   and how often each came
             "opponent": {... same keys, for the co-player ...},
             "coop_rounds_40_60": float,        # agent's cooperation rate in rounds 40..60 (1-based)
             "agent_over_oracle": float or null, "alld_over_oracle": float or null,
             "normalized_gain": float or null}  # (agent - ALLD) / (oracle - ALLD)
          ],
          "mean": {"agent_reward", "agent_coop", "coop_rounds_40_60", "agent_over_oracle", ...}
        }, ...
      }
    }

Rewards are per round in the game's original scale; ``coop`` is the fraction of rounds played C.
Seed ``i`` of the run plays seed ``i`` of ``--opponent-run`` (modulo its number of seeds), its
learner ``--opponent-learner``; ``--opponent-run RUN --learner 0 --opponent-learner 1`` plays the
two learners of one Step-4 run against each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ismarl._validate import check_int
from ismarl.agents.coplayers import make_player, parse_spec
from ismarl.agents.match import play_match
from ismarl.agents.network import Z_DIM
from ismarl.agents.players import network_player
from ismarl.engines.experiment import ExperimentConfig
from ismarl.oracle import best_response, best_response_cooperation, fixed_strategy_value
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs.store import load_run
from ismarl.sim.core import make_params

#: The JSON layout of :func:`evaluate_run`, shown by ``python -m ismarl evaluate --help``.
JSON_LAYOUT = __doc__.split("one JSON object:", 1)[1]


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


def play_learner(cfg: ExperimentConfig, params, spec: str, episodes: int, key, opponent=None):
    """Play one learner (``params`` of one network) against ``spec`` (or against ``opponent`` =
    (network config, params)); returns ``(trajectory, tabular strategies or None)``."""
    env = make_params(horizon=cfg.horizon, dtype=jnp.float32)
    k_opp, k_play = jax.random.split(key)
    if opponent is not None:
        side_b, z_b, strat = network_player(opponent[0], opponent[1]), jnp.zeros((episodes, Z_DIM)), None
    else:
        co = parse_spec(spec)
        if not co.is_tabular:
            raise ValueError(f"evaluate plays tabular co-players or --opponent-run; got {spec!r}")
        side_b, z_b = make_player(co, k_opp, episodes)
        strat = side_b.params
    side_a = network_player(cfg.network, params, z_b if cfg.network.use_z else None)
    traj = _play_jit(k_play, side_a, side_b, episodes, env)
    return traj, strat


_play_jit = jax.jit(play_match, static_argnames=("n",))


def evaluate_run(run_dir, opponents, episodes: int = 1000, learner: int = 0, opponent_run=None,
                 opponent_learner: int = 0, eval_seed: int = 12345) -> dict:
    """Evaluate every seed of a run (see the module docstring for the returned layout)."""
    window = ROUNDS_40_60
    check_int(episodes, "--episodes", minimum=1)
    check_int(learner, "--learner", minimum=0)
    check_int(opponent_learner, "--opponent-learner", minimum=0)
    if isinstance(opponents, str):
        opponents = [s.strip() for s in opponents.split(",") if s.strip()]
    specs = list(opponents)
    if opponent_run is None:
        if not specs:
            raise ValueError("--opponents is empty: name at least one co-player, e.g. --opponents tft,allc,random")
        for spec in specs:
            if not isinstance(spec, str) or not parse_spec(spec).is_tabular:
                raise ValueError(f"evaluate plays tabular co-players or --opponent-run; got {spec!r}")
    cfg, seeds, params, meta = load_run(run_dir)
    if learner >= cfg.n_learners:
        raise ValueError(f"run {run_dir} has {cfg.n_learners} learner(s); --learner {learner} does not exist")
    other = None
    if opponent_run is not None:
        ocfg, oseeds, oparams, _ = load_run(opponent_run)
        if ocfg.horizon != cfg.horizon:
            raise ValueError("the two runs use different horizons")
        if not 0 <= opponent_learner < ocfg.n_learners:
            raise ValueError(f"run {opponent_run} has {ocfg.n_learners} learner(s); opponent learner {opponent_learner} does not exist")
        other = (ocfg, oparams)
        specs = [f"run:{opponent_run}" + (f"#{opponent_learner}" if opponent_learner else "")]
    out = {"run": str(run_dir), "iteration": meta["iteration"], "learner": learner, "episodes": episodes,
           "horizon": cfg.horizon, "seeds": seeds, "opponent_run": None if opponent_run is None else str(opponent_run),
           "opponents": {}}
    for j, spec in enumerate(specs):
        per_seed = []
        oracle = alld = oracle_coop = None
        for si, seed in enumerate(seeds):
            p = jax.tree_util.tree_map(lambda x: x[si, learner], params)
            opp = None
            if other is not None:
                ocfg, oparams = other
                n_o = jax.tree_util.tree_leaves(oparams)[0].shape[0]
                opp = (ocfg.network, jax.tree_util.tree_map(lambda x: x[si % n_o, opponent_learner], oparams))
            # the same co-players and dice for every seed of the run (common random numbers)
            key = jax.random.fold_in(jax.random.PRNGKey(eval_seed), j)
            traj, strat = play_learner(cfg, p, spec, episodes, key, opponent=opp)
            entry = {"seed": seed, "agent": _curves(traj, 0), "opponent": _curves(traj, 1)}
            entry[window.key] = (float(np.mean(1.0 - np.asarray(traj.actions[0, window.slice], np.float64)))
                                 if window.fits(cfg.horizon) else None)
            if strat is not None:
                if oracle is None:
                    s = np.asarray(strat, np.float64)
                    value, cooperate = best_response(s, cfg.horizon)
                    oracle = float(value.mean())
                    oracle_coop = float(best_response_cooperation(s, cfg.horizon, cooperate=cooperate).mean())
                    alld = float(fixed_strategy_value(np.zeros(5), s, cfg.horizon).mean())
                ok = abs(oracle) > 1e-9
                entry["agent_over_oracle"] = entry["agent"]["reward"] / oracle if ok else None
                entry["alld_over_oracle"] = alld / oracle if ok else None
                gap = oracle - alld
                entry["normalized_gain"] = (entry["agent"]["reward"] - alld) / gap if abs(gap) > 1e-9 else None
            else:
                entry.update(agent_over_oracle=None, alld_over_oracle=None, normalized_gain=None)
            per_seed.append(entry)
        mean = {"agent_reward": float(np.mean([e["agent"]["reward"] for e in per_seed])),
                "agent_coop": float(np.mean([e["agent"]["coop"] for e in per_seed])),
                "opponent_reward": float(np.mean([e["opponent"]["reward"] for e in per_seed])),
                "opponent_coop": float(np.mean([e["opponent"]["coop"] for e in per_seed])),
                window.key: float(np.mean([e[window.key] for e in per_seed])) if window.fits(cfg.horizon) else None}
        if oracle is not None and abs(oracle) > 1e-9:
            mean["agent_over_oracle"] = mean["agent_reward"] / oracle
            mean["alld_over_oracle"] = alld / oracle
        out["opponents"][spec] = {"oracle_reward": oracle, "oracle_coop": oracle_coop, "alld_reward": alld,
                                  "per_seed": per_seed, "mean": mean}
    return out


def summary_table(result: dict) -> str:
    """A short human-readable table of a result of :func:`evaluate_run`."""
    w = ROUNDS_40_60
    lines = [f"{'opponent':>22} {'reward':>7} {'coop':>6} {'coop' + str(w.first) + '-' + str(w.last):>9} {'agent/oracle':>12} {'ALLD/oracle':>11}"]
    for spec, r in result["opponents"].items():
        m = r["mean"]
        f = lambda k: f"{m[k]:.3f}" if m.get(k) is not None else "-"
        lines.append(f"{spec[:22]:>22} {m['agent_reward']:7.3f} {m['agent_coop']:6.3f} {f(w.key):>9} "
                     f"{f('agent_over_oracle'):>12} {f('alld_over_oracle'):>11}")
    return "\n".join(lines)


def write_json(result: dict, path) -> None:
    Path(path).write_text(json.dumps(result) + "\n")
