"""Predictive Policy Improvement (SPEC §4) as pure functions over every seed at once.

Each learner has its own sequence model (:mod:`ismarl.agents.world_model`) and its own dataset of
episodes, stored compactly as one 2-bit outcome code per round, four rounds to a byte
(:func:`ismarl.agents.world_model.outcome_codes`, :func:`~ismarl.agents.world_model.pack_codes`)
in a buffer of fixed capacity (D0 plus ``iterations × batch_size`` episodes) inside the
training state, so a checkpoint holds everything a resumed run needs. With an opponent-ID input
(``network.use_z``, the ablation) each stored game also keeps the identity ``z`` its learner was
shown (:func:`ismarl.agents.world_model.pack_z`, after the codes): the model is fitted and deployed
with it.

One iteration is one *phase* ``k`` (1-based), for every seed (``vmap``; each seed's learners are
fitted side by side as :func:`ismarl.engines.seeds.map_replicas` runs them):

1. the phase key is ``fold_in(run_key(seed), k - 1)`` (a resumed run repeats an uninterrupted one);
2. every learner's model is re-initialized (``ppi.reinit``; else the previous phase's model is kept)
   and fitted on all its episodes so far, D0 included: ``ppi.epochs`` passes (at most
   ``ppi.max_fit_steps`` steps) of AdamW on minibatches drawn with replacement;
3. the matches of the experiment (:func:`ismarl.engines.matches.build_matches`) are played with the
   fitted models deployed as the improved policy π (``ppi.collect = "pi"``) or as their prior
   p_φ (``"prior"``), every round one step of :func:`ismarl.agents.ppi_policy.agent_step`;
4. each learner's side of its matches is appended to its dataset (a learner-vs-learner match counts
   for both learners, as in the A2C engine);
5. the metrics: the matches' rewards and cooperation, the fit's final losses, and the fitted
   model's co-player inference gap on held-out D0-kind games (:data:`GAP_EPISODES`).

The state's ``params`` after phase ``k`` are the model that played phase ``k``: evaluating a run
deploys them as π (:func:`agent`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from ismarl import games, strategies
from ismarl.agents import world_model as wm
from ismarl.agents.coplayers import make_player, parse_spec
from ismarl.agents.match import play_match
from ismarl.agents.players import ppi_player, tabular_player
from ismarl.agents.ppi_policy import PPIAgent, own_payoffs
from ismarl.engines.experiment import ExperimentConfig
from ismarl.engines.matches import build_matches
from ismarl.engines.metrics import IterationMetrics, MatchMetrics
from ismarl.engines.seeds import map_replicas, seed_keys
from ismarl.sim.core import make_params

#: The fold of a seed's run key that draws its held-out diagnostic games (never trained on).
HELDOUT_FOLD = 2**31 - 1
#: Fit steps at the end of a phase's fit whose losses are averaged into the logged metrics.
LOSS_WINDOW = 50


@struct.dataclass
class PPIState:
    params: dict  # (n_learners, ...) the sequence models: after phase k, the model that played phase k
    data: jnp.ndarray  # (n_learners, capacity, ceil(T / 4)) packed outcome codes, the first ``count`` filled
    count: jnp.ndarray  # int32 scalar: episodes stored per learner (D0 included)
    iteration: jnp.ndarray  # int32 scalar: phases completed


def world_config(cfg: ExperimentConfig) -> wm.WorldModelConfig:
    """The sequence model's sizes: the experiment's ``network`` section."""
    return wm.WorldModelConfig(hidden=cfg.network.hidden, embed=cfg.network.embed, use_z=cfg.network.use_z)


def agent(cfg: ExperimentConfig, collect: bool = False) -> PPIAgent:
    """The deployed agent of a PPI run: its model deployed as π (with ``collect``, as the policy
    that collects the run's episodes: π, or p_φ when ``ppi.collect`` is ``"prior"``)."""
    p = cfg.ppi
    beta = 0.0 if collect and p.collect == "prior" else p.beta
    return PPIAgent(world=world_config(cfg), beta=beta, k=p.k, horizon=p.rollout_horizon, q=p.q,
                    discount=p.discount, episode_horizon=cfg.horizon, payoffs=own_payoffs(games.get(cfg.game)),
                    reward=p.rollout_reward)


def init_params(cfg: ExperimentConfig, key: jax.Array):
    """One learner's fresh model parameters."""
    return world_config(cfg).init(key)


def capacity(cfg: ExperimentConfig) -> int:
    """Episodes a learner's dataset holds at the end of the run: D0 and every phase's."""
    return cfg.ppi.pretrain_episodes + cfg.iterations * cfg.batch_size


def extend(cfg: ExperimentConfig, states: PPIState) -> PPIState:
    """``states`` (leading seed axis) of a checkpoint trained for fewer phases, with a dataset buffer
    that holds ``cfg``'s (:func:`capacity`; zeros after the stored games). Nothing reads past a
    learner's ``count``, so a run extended with ``--resume --iterations N`` equals one trained for
    ``N`` phases from the start."""
    extra = capacity(cfg) - states.data.shape[2]
    if extra <= 0:
        return states
    return states.replace(data=jnp.pad(states.data, ((0, 0), (0, 0), (0, extra), (0, 0))))


def validate(cfg: ExperimentConfig) -> None:
    """A ValueError naming what this engine cannot train."""
    build_matches(cfg)


def _table(cfg: ExperimentConfig) -> jnp.ndarray:
    return jnp.asarray(own_payoffs(games.get(cfg.game)), jnp.float32)


def _env(cfg: ExperimentConfig):
    return make_params(games.get(cfg.game), horizon=cfg.horizon, dtype=jnp.float32)


def pretrain_games(cfg: ExperimentConfig, key: jax.Array, n: int, kind: str | None = None):
    """``(codes (n, T), z (n, Z_DIM))``: ``n`` episodes of D0 as outcome codes, both sides fresh
    U(0, 1)^5 tabular agents (``kind="tabular"``), or both playing each round's action by a fair
    coin (``"random_actions"``); ``kind`` defaults to ``cfg.ppi.pretrain``. ``z`` is the
    co-player's identity (its log-probabilities), what a model with an opponent-ID input sees."""
    kind = cfg.ppi.pretrain if kind is None else kind
    k_a, k_b, k_play = jax.random.split(key, 3)
    if kind == "tabular":
        a, b = strategies.sample_uniform(k_a, (n,)), strategies.sample_uniform(k_b, (n,))
    else:
        a = b = jnp.full((n, 5), 0.5, jnp.float32)
    traj = play_match(k_play, tabular_player(a), tabular_player(b), n, _env(cfg))
    codes = wm.outcome_codes(jnp.stack([traj.actions[0].T, traj.actions[1].T], axis=-1))
    return codes, strategies.log_probs(b).astype(jnp.float32)


def _code_width(cfg: ExperimentConfig) -> int:
    return -(-cfg.horizon // wm.CODES_PER_BYTE)


def _width(cfg: ExperimentConfig) -> int:
    """Bytes per stored game: its packed codes, then its ``z`` when the model has an opponent-ID input."""
    return _code_width(cfg) + (wm.Z_BYTES if cfg.network.use_z else 0)


def pack_games(cfg: ExperimentConfig, codes, z) -> jnp.ndarray:
    """Games as stored rows (n, :func:`_width`) uint8: packed codes (and ``z`` with ``use_z``)."""
    rows = wm.pack_codes(codes)
    return jnp.concatenate([rows, wm.pack_z(z)], axis=-1) if cfg.network.use_z else rows


def unpack_games(cfg: ExperimentConfig, rows):
    """``(codes (n, T), z (n, Z_DIM) or None)`` of stored rows (:func:`pack_games`). Traceable."""
    w = _code_width(cfg)
    codes = wm.unpack_codes(rows[..., :w], cfg.horizon)
    return codes, (wm.unpack_z(rows[..., w:]) if cfg.network.use_z else None)


def init_state(cfg: ExperimentConfig, seed: int, init_params_override=None) -> PPIState:
    """One seed's state before phase 1: fresh models (or the given ones) and each learner's D0."""
    init_key, _ = seed_keys(seed)
    keys = jax.random.split(init_key, cfg.n_learners)
    if init_params_override is None:
        params = jax.vmap(lambda k: init_params(cfg, k))(keys)
    else:
        params = init_params_override
    d0 = jnp.stack([pack_games(cfg, *pretrain_games(cfg, jax.random.fold_in(k, 1), cfg.ppi.pretrain_episodes))
                    for k in keys])
    data = jnp.zeros((cfg.n_learners, capacity(cfg), _width(cfg)), jnp.uint8)
    data = data.at[:, :cfg.ppi.pretrain_episodes].set(d0)
    return PPIState(params=params, data=data, count=jnp.asarray(cfg.ppi.pretrain_episodes, jnp.int32),
                    iteration=jnp.zeros((), jnp.int32))


def inherit(cfg: ExperimentConfig, states: PPIState, learner: int, source_cfg: ExperimentConfig,
            source: PPIState, name: str = "init_from") -> PPIState:
    """``states`` (leading seed axis) with learner ``learner`` started from another PPI run's
    learner 0 (``source``, one per seed): its model and its whole dataset, which becomes this run's
    starting data in place of D0 (so ``ppi.pretrain_episodes`` must equal its size). This is how a
    PPI learner carries what it learned into a later step (Step 3 from Step-2 extorters): a phase
    refits the model on all its data."""
    count = int(np.asarray(source.count).reshape(-1)[0])
    if count != cfg.ppi.pretrain_episodes:
        raise ValueError(f"{name}: its learners hold {count} episodes, which start this run's datasets; "
                         f"set ppi.pretrain_episodes={count} (now {cfg.ppi.pretrain_episodes})")
    if source_cfg.network != cfg.network:
        raise ValueError(f"{name}: its model (network {source_cfg.network}) differs from this run's {cfg.network}")
    if (source_cfg.horizon, source_cfg.game) != (cfg.horizon, cfg.game):
        raise ValueError(f"{name}: it played {source_cfg.game} for {source_cfg.horizon} rounds, this run "
                         f"{cfg.game} for {cfg.horizon}")
    src = jax.tree_util.tree_map(lambda x: x[:, 0], (source.params, source.data))
    params = jax.tree_util.tree_map(lambda full, new: full.at[:, learner].set(new), states.params, src[0])
    data = states.data.at[:, learner, :count].set(src[1][:, :count])
    return states.replace(params=params, data=data)


def fit_steps(cfg: ExperimentConfig, count, iteration=0):
    """Fit steps of phase ``iteration + 1`` whose dataset holds ``count`` episodes: ``ppi.epochs``
    passes of ``ppi.fit_batch``, at most ``ppi.max_fit_steps`` (0 = no cap); a warm-started phase
    (no ``ppi.reinit``, after the first) fits ``ppi.finetune_steps`` when that is set."""
    p = cfg.ppi
    steps = jnp.ceil(p.epochs * count / p.fit_batch).astype(jnp.int32)
    if p.max_fit_steps:
        steps = jnp.minimum(steps, p.max_fit_steps)
    if not p.reinit and p.finetune_steps:
        steps = jnp.where(iteration > 0, p.finetune_steps, steps)
    return steps


def _fit(cfg: ExperimentConfig, params, data, count, iteration, key):
    """Fit one learner's model on its first ``count`` episodes in phase ``iteration + 1``;
    returns ``(params, LossParts)`` (the losses averaged over the last :data:`LOSS_WINDOW` steps)."""
    world, table = world_config(cfg), _table(cfg)
    p = cfg.ppi
    lr = p.learning_rate
    if not p.reinit and p.finetune_learning_rate:
        lr = jnp.where(iteration > 0, p.finetune_learning_rate, p.learning_rate)
    opt = wm.make_optimizer(lr, p.weight_decay)
    steps = fit_steps(cfg, count, iteration)

    def body(i, carry):
        params, opt_state, acc = carry
        idx = jax.random.randint(jax.random.fold_in(key, i), (cfg.ppi.fit_batch,), 0, count)
        codes, z = unpack_games(cfg, data[idx])
        tokens = wm.codes_tokens(codes, table)
        grads, parts = jax.grad(lambda q: wm.traced_loss(world, q, tokens, z), has_aux=True)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        last = (i >= steps - LOSS_WINDOW).astype(jnp.float32)
        acc = jax.tree_util.tree_map(lambda a, x: a + last * x, acc, wm.LossParts(*parts))
        return optax.apply_updates(params, updates), opt_state, acc

    zero = wm.LossParts(*(jnp.zeros((), jnp.float32) for _ in range(3)))
    params, _, acc = jax.lax.fori_loop(0, steps, body, (params, opt.init(params), zero))
    n = jnp.maximum(jnp.minimum(steps, LOSS_WINDOW), 1).astype(jnp.float32)
    return params, jax.tree_util.tree_map(lambda a: a / n, acc)


def inference_losses(cfg: ExperimentConfig, params, games) -> wm.InferenceLosses:
    """The model's and the Bayes-optimal co-player predictions on ``games`` (``(codes, z)``, as
    :func:`heldout_games`; ``z`` reaches a model with an opponent-ID input)."""
    codes, z = games
    return wm.traced_inference_losses(world_config(cfg), params, wm.codes_tokens(codes, _table(cfg)),
                                      z if cfg.network.use_z else None)


def _inference_gap(cfg: ExperimentConfig, params, games):
    """Mean per-round log-loss of the model's co-player predictions on held-out ``games`` minus
    that of the exact Bayes-optimal prediction for the U(0, 1)^5 pool (nats)."""
    losses = inference_losses(cfg, params, games)
    return (losses.model - losses.bayes).mean()


def heldout_games(cfg: ExperimentConfig, run_key: jax.Array):
    """A seed's held-out diagnostic games ``(codes, z)`` (``ppi.heldout_episodes`` of tabular D0
    kind) from its run key (:func:`ismarl.engines.seeds.seed_keys`), folded by
    :data:`HELDOUT_FOLD`, which no phase's key uses: no training data is drawn from it."""
    return pretrain_games(cfg, jax.random.fold_in(run_key, HELDOUT_FOLD), cfg.ppi.heldout_episodes, "tabular")


def make_iteration(cfg: ExperimentConfig, frozen_agents=()):
    """``phase(state, run_key, frozen_params) -> (state, metrics)`` for one seed (pure)."""
    matches = build_matches(cfg)
    coplayers = [parse_spec(m.coplayer) for m in matches]
    env = _env(cfg)
    player = agent(cfg, collect=True)
    n_learners = cfg.n_learners

    def phase(state: PPIState, run_key, frozen_params):
        heldout = heldout_games(cfg, run_key)
        key = jax.random.fold_in(run_key, state.iteration)
        k_init, k_fit, k_play = jax.random.split(key, 3)
        if cfg.ppi.reinit:
            start = jax.vmap(lambda k: init_params(cfg, k))(jax.random.split(k_init, n_learners))
        else:
            start = state.params
        params, parts = map_replicas(lambda p, d, k: _fit(cfg, p, d, state.count, state.iteration, k))(
            start, state.data, jax.random.split(k_fit, n_learners))

        keys = jax.random.split(k_play, 2 * len(matches))
        new = [[] for _ in range(n_learners)]
        match_metrics = {}
        for m, (match, co) in enumerate(zip(matches, coplayers)):
            own = jax.tree_util.tree_map(lambda x: x[match.learner], params)
            side_b, z_b = make_player(co, keys[2 * m], match.episodes, learners=params, frozen=frozen_params,
                                      agent=player, frozen_agents=frozen_agents)
            side_a = ppi_player(player, own, jax.random.fold_in(keys[2 * m], 1), z_b if cfg.network.use_z else None)
            traj = play_match(keys[2 * m + 1], side_a, side_b, match.episodes, env)
            both = jnp.stack([traj.actions[0].T, traj.actions[1].T], axis=-1)  # (n, T, 2), the learner first
            new[match.learner].append(pack_games(cfg, wm.outcome_codes(both), z_b))
            if co.kind == "learner":  # the co-learner keeps its side of the match too (it saw z = 0)
                new[co.index].append(pack_games(cfg, wm.outcome_codes(both[..., ::-1]), jnp.zeros_like(z_b)))
            coop = 1.0 - traj.actions.astype(jnp.float32)
            match_metrics[match.name] = MatchMetrics(reward=traj.rewards.mean(axis=(1, 2)), coop=coop.mean(axis=(1, 2)))
        data = jnp.stack([jax.lax.dynamic_update_slice(state.data[i], jnp.concatenate(new[i]), (state.count, 0))
                          for i in range(n_learners)])
        gap = map_replicas(lambda p: _inference_gap(cfg, p, heldout))(params)
        learners = {"obs_ce": parts.obs_ce, "reward_se": parts.reward_se, "action_ce": parts.action_ce,
                    "inference_gap": gap}
        scalars = {"fit_steps": fit_steps(cfg, state.count, state.iteration).astype(jnp.float32)}
        state = PPIState(params=params, data=data, count=state.count + cfg.batch_size, iteration=state.iteration + 1)
        return state, IterationMetrics(matches=match_metrics, learners=learners, scalars=scalars)

    return phase


@functools.lru_cache(maxsize=16)
def make_chunk(cfg: ExperimentConfig, length: int, frozen_agents=()):
    """Jitted ``chunk(states, run_keys, frozen) -> (states, metrics)``: ``length`` phases for every
    seed (leading axis of ``states``, ``run_keys`` and ``frozen`` leaves)."""
    phase = make_iteration(cfg, frozen_agents)

    def one_seed(state, run_key, frozen):
        return jax.lax.scan(lambda s, _: phase(s, run_key, frozen), state, None, length=length)

    # the seeds vmap-ed on every backend: a phase's time goes mostly to playing, whose rollouts
    # batch well (on 2 CPU cores one vmap-ed program played 5 seeds' games 1.7x faster than one
    # seed after another); each seed's learners are fitted one after another (map_replicas)
    return jax.jit(jax.vmap(one_seed))
