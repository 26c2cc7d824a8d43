"""Looking inside a PPI run: how close its sequence models come to the exact Bayes-optimal
prediction of the co-player (:mod:`ismarl.inference`), and how its improved policy depends on β.

* :func:`inference_report` -- per seed, the model's co-player predictions on held-out games of
  U(0, 1)^5 co-players (the seed's diagnostic games, never trained on) against the Bayes-optimal
  ones: the log-loss gap and a calibration table (predicted probability bins against the
  observed frequency of cooperation), for the model a run held after any phase.
* :func:`beta_sweep` -- the deployed policy π ∝ p_φ exp(β Q̂) of a run's models replayed with
  other β (and Q̂ readings), against tabular co-players: cooperation and reward per β.
* :func:`q_noise` -- the spread of Q̂(C) − Q̂(D) where a run's two learners meet, with each
  rolled-out round's reward sampled or expected (``ppi.rollout_reward``).
* :func:`pair_cooperation` -- a run's two learners against each other in fresh games, deployed with
  other improvement settings (e.g. expected rollout rewards, another K).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ismarl.agents import ppi_policy as pp
from ismarl.agents import world_model as wm
from ismarl.conventions import COOPERATE, DEFECT, observation_index
from ismarl.engines.ppi import engine as ppi
from ismarl.engines.seeds import seed_keys
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs.evaluate import play_learner
from ismarl.runs.store import load_run, load_snapshots


def _params_at(run_dir, iteration: int | None):
    """``(cfg, seeds, params)`` of a PPI run after phase ``iteration`` (its snapshot; None = final)."""
    if iteration is None:
        cfg, seeds, params, _ = load_run(run_dir)
    else:
        cfg, seeds, snaps = load_snapshots(run_dir)
        if iteration not in snaps:
            raise ValueError(f"{run_dir} has snapshots after phases {sorted(snaps)}; {iteration} is not one of them")
        params = snaps[iteration]
    if cfg.engine != "ppi":
        raise ValueError(f"{run_dir} was trained by the {cfg.engine!r} engine; this looks inside PPI runs")
    return cfg, seeds, params


def calibration(p_pred, coop, bins: int = 10) -> dict:
    """Calibration table of predictions ``p_pred`` of events ``coop`` (1 = the co-player
    cooperated), both flat: per equal-width bin of the prediction, its mean prediction, the
    observed frequency and the number of rounds (empty bins are left out)."""
    p_pred, coop = np.asarray(p_pred, np.float64).ravel(), np.asarray(coop, np.float64).ravel()
    idx = np.minimum((p_pred * bins).astype(int), bins - 1)
    rows = {"predicted": [], "observed": [], "count": []}
    for b in range(bins):
        m = idx == b
        if m.any():
            rows["predicted"].append(float(p_pred[m].mean()))
            rows["observed"].append(float(coop[m].mean()))
            rows["count"].append(int(m.sum()))
    return rows


def inference_report(run_dir, iteration: int | None = None, learner: int = 0, episodes: int | None = None,
                     bins: int = 10) -> dict:
    """The models of a PPI run (after phase ``iteration``; None = the final ones) against the exact
    Bayes-optimal co-player prediction on each seed's held-out games (``episodes`` of them; default
    the run's ``ppi.heldout_episodes``), from round 2 on (round 1 has no evidence).

    Returns ``{"seeds", "gap" (per seed, nats), "model_nll", "bayes_nll", "calibration": {"model",
    "bayes"}}`` (calibration over all seeds' rounds, :func:`calibration`)."""
    cfg, seeds, params = _params_at(run_dir, iteration)
    if not 0 <= learner < cfg.n_learners:
        raise ValueError(f"{run_dir} has {cfg.n_learners} learner(s); learner {learner} does not exist")
    if episodes is not None:
        cfg = cfg.replace(ppi=dataclasses.replace(cfg.ppi, heldout_episodes=episodes))
    world = ppi.world_config(cfg)
    out = {"seeds": list(seeds), "gap": [], "model_nll": [], "bayes_nll": []}
    preds, bayes_preds, events = [], [], []
    for si, seed in enumerate(seeds):
        heldout = ppi.heldout_games(cfg, seed_keys(seed)[1])
        p = jax.tree_util.tree_map(lambda x: x[si, learner], params)
        wm.check_model(world, p)
        losses = jax.tree_util.tree_map(lambda x: np.asarray(x)[:, 1:],  # from round 2 on
                                        ppi.inference_losses(cfg, p, heldout))
        p_model, p_bayes, later = losses.p_model, losses.p_bayes, losses.actions
        model_nll, bayes_nll = float(losses.model.mean()), float(losses.bayes.mean())
        out["model_nll"].append(model_nll)
        out["bayes_nll"].append(bayes_nll)
        out["gap"].append(model_nll - bayes_nll)
        preds.append(p_model.ravel())
        bayes_preds.append(p_bayes.ravel())
        events.append((later[..., 1] == 0).ravel())
    events = np.concatenate(events)
    out["calibration"] = {"model": calibration(np.concatenate(preds), events, bins),
                          "bayes": calibration(np.concatenate(bayes_preds), events, bins)}
    return out


def beta_sweep(run_dir, betas, coplayers=("tft", "allc", "random"), episodes: int = 128, iteration: int | None = None,
               learner: int = 0, q: str | None = None, k: int | None = None, seed: int = 0) -> dict:
    """The deployed π of a PPI run's models (after phase ``iteration``; None = final) replayed
    with each β of ``betas`` (and, if given, another Q̂ reading ``q`` or rollout count ``k``)
    against each tabular co-player: ``{spec: {"coop": (n_betas, n_seeds), "reward": ...,
    "coop_40_60": ...}}`` (cooperation in the window :data:`ismarl.protocol.ROUNDS_40_60`)."""
    cfg, seeds, params = _params_at(run_dir, iteration)
    betas = [float(b) for b in betas]
    out = {}
    for j, spec in enumerate(coplayers):
        res = {"coop": np.zeros((len(betas), len(seeds))), "reward": np.zeros((len(betas), len(seeds))),
               ROUNDS_40_60.key: np.zeros((len(betas), len(seeds)))}
        for bi, beta in enumerate(betas):
            changes = {"beta": beta, **({"q": q} if q else {}), **({"k": k} if k else {})}
            c = cfg.replace(ppi=dataclasses.replace(cfg.ppi, **changes))
            for si in range(len(seeds)):
                p = jax.tree_util.tree_map(lambda x: x[si, learner], params)
                traj, _ = play_learner(c, p, spec, episodes, jax.random.fold_in(jax.random.PRNGKey(seed), j))
                coop = 1.0 - np.asarray(traj.actions[0], np.float64)
                res["coop"][bi, si] = coop.mean()
                res["reward"][bi, si] = float(np.asarray(traj.rewards[0]).mean())
                res[ROUNDS_40_60.key][bi, si] = coop[ROUNDS_40_60.slice].mean() if ROUNDS_40_60.fits(cfg.horizon) else np.nan
        out[spec] = res
    return out


def q_noise(run_dir, rounds=(20, 50, 80), episodes: int = 32, repeats: int = 100, seed_indices=None,
            iteration: int | None = None, seed: int = 0) -> list[dict]:
    """How noisy a run's Q̂(C) − Q̂(D) is where its learners meet, with each rolled-out round's reward
    sampled (the drawn outcome's payoff) or expected (its mean under the model's co-player
    prediction; :data:`ismarl.agents.ppi_policy.REWARD_MODES`).

    For each seed (``seed_indices``: positions in the run's seed list; None = all), learner 0 and
    learner 1 deployed as the run deploys them (π with the run's β, K, horizon and reward mode) play
    ``episodes`` games; at each round of ``rounds`` (0-based, before learner 0's move) learner 0's
    Q̂(C) − Q̂(D) is estimated ``repeats`` times with independent keys, K rollouts each, in either
    mode from the same states. Returns one dict per (seed, round): ``seed``, ``round``,
    ``mean_gap`` (the mean over repeats and games, sampled mode), ``abs_gap`` (the median over
    games of |mean over repeats|), and per mode ``std_<mode>`` (the spread over repeats, averaged
    over games) and ``var_ratio`` (sampled variance / expected variance, averaged over games)."""
    cfg, seeds, params = _params_at(run_dir, iteration)
    if cfg.n_learners != 2:
        raise ValueError(f"{run_dir} has {cfg.n_learners} learner(s); q_noise plays learner 0 against learner 1")
    base = ppi.agent(cfg)
    rounds = sorted(int(t) for t in rounds)
    if not rounds or rounds[0] < 0 or rounds[-1] >= cfg.horizon:
        raise ValueError(f"rounds must lie in 0..{cfg.horizon - 1}, got {rounds}")
    indices = range(len(seeds)) if seed_indices is None else list(seed_indices)
    step = jax.jit(pp.agent_step, static_argnums=0)
    out = []
    for si in indices:
        p = [jax.tree_util.tree_map(lambda x: x[si, i], params) for i in range(2)]
        key = jax.random.fold_in(jax.random.PRNGKey(seed), seeds[si])
        k_play, k_q = jax.random.split(key)
        starts = [pp.agent_start(base, p[i], jax.random.fold_in(k_play, i), episodes) for i in range(2)]
        rows, carry = [s[0] for s in starts], [s[1] for s in starts]
        obs = [jnp.zeros(episodes, jnp.int32)] * 2
        states = {}
        for t in range(rounds[-1] + 1):
            (carry[0], pc0), (carry[1], pc1) = (step(base, p[i], rows[i], carry[i], obs[i]) for i in range(2))
            if t in rounds:
                states[t] = carry[0][0]  # learner 0's GRU state where it decides round t
            u = jax.random.uniform(jax.random.fold_in(k_play, 1000 + t), (2, episodes))
            a0, a1 = jnp.where(u[0] < pc0, COOPERATE, DEFECT), jnp.where(u[1] < pc1, COOPERATE, DEFECT)
            obs = [observation_index(a0, a1), observation_index(a1, a0)]
        for t in rounds:
            gaps = {}
            for mode in pp.REWARD_MODES:
                g = [pp.improved_policy(base.world, p[0], states[t], jax.random.fold_in(k_q, 10_000 * t + r), base.beta,
                                        base.horizon, cfg.horizon - t, base.k, base.payoffs, q=base.q,
                                        discount=base.discount, reward=mode)[1] for r in range(repeats)]
                g = np.stack([np.asarray(x[:, 0] - x[:, 1], np.float64) for x in g])  # (repeats, episodes)
                gaps[mode] = g
            s, e = gaps["sampled"], gaps["expected"]
            out.append({"seed": seeds[si], "round": t, "mean_gap": float(s.mean()),
                        "abs_gap": float(np.median(np.abs(s.mean(axis=0)))),
                        "std_sampled": float(s.std(axis=0).mean()), "std_expected": float(e.std(axis=0).mean()),
                        "var_ratio": float(np.mean(s.var(axis=0) / np.maximum(e.var(axis=0), 1e-12)))})
    return out


def pair_cooperation(run_dir, episodes: int = 100, iteration: int | None = None, seed: int = 12345, **ppi_changes) -> dict:
    """Learner 0 against learner 1 of a two-learner PPI run, each deployed as the run deploys it but
    with the ``ppi`` fields ``ppi_changes`` changed (e.g. ``rollout_reward="expected"``, ``k=64``):
    ``{"seeds": [...], "coop": [...], "coop_0": [...], "coop_1": [...]}``, the share of cooperative
    moves per seed over ``episodes`` fresh games (both learners, then each). With no change, the
    games are those of ``python -m ismarl evaluate RUN --coplayer-run RUN --coplayer-learner 1``
    with ``--episodes episodes`` (the same keys)."""
    cfg, seeds, params = _params_at(run_dir, iteration)
    if cfg.n_learners != 2:
        raise ValueError(f"{run_dir} has {cfg.n_learners} learner(s); pair_cooperation plays learner 0 against learner 1")
    c = cfg.replace(ppi=dataclasses.replace(cfg.ppi, **ppi_changes))
    out = {"seeds": list(seeds), "coop": [], "coop_0": [], "coop_1": []}
    for si in range(len(seeds)):
        p0, p1 = (jax.tree_util.tree_map(lambda x: x[si, i], params) for i in range(2))
        traj, _ = play_learner(c, p0, "", episodes, jax.random.fold_in(jax.random.PRNGKey(seed), 0),
                               coplayer=(ppi.agent(c), p1))
        coop = 1.0 - np.asarray(traj.actions, np.float64)  # (2, T, episodes)
        out["coop"].append(float(coop.mean()))
        out["coop_0"].append(float(coop[0].mean()))
        out["coop_1"].append(float(coop[1].mean()))
    return out
