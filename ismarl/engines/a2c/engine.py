"""Advantage actor-critic for any number of learners and their co-player pools, as pure functions.

Data flow of one iteration (:func:`make_iteration`), for every seed (:func:`make_chunk`):

1. the iteration key is ``fold_in(run_key(seed), iteration)``, so the random stream depends
   only on (seed, iteration) and a resumed run repeats an uninterrupted one exactly;
2. each *match* of the experiment (a learner against one co-player of its pool, with a static
   number of episodes) is played by :func:`ismarl.agents.match.play_match`;
3. each learner's loss re-runs its GRU over the observations it saw (all its matches
   concatenated), computes GAE advantages and TD(lambda) targets on rescaled rewards (V = 0 after
   the last round), centres (optionally standardizes) the advantages per co-player, and adds
   the value loss and an entropy bonus;
4. gradients of all learners come from one ``grad`` of the summed losses; the optimizer
   (``optax.chain(clip_by_global_norm, adam(eps))``) is ``vmap``-ed over learners so each
   learner's gradient is clipped by its own norm.

``K`` iterations are fused into one compiled call with ``lax.scan`` (:func:`make_chunk`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from ismarl import games
from ismarl.agents.coplayers import make_player, parse_spec
from ismarl.agents.match import play_match
from ismarl.agents.network import init_params, sequence_outputs
from ismarl.agents.players import network_player
from ismarl.engines.a2c.config import A2CConfig
from ismarl.engines.experiment import ExperimentConfig
from ismarl.engines.matches import Match, build_matches  # noqa: F401 (Match: part of this engine's API)
from ismarl.engines.metrics import IterationMetrics, MatchMetrics
from ismarl.engines.seeds import map_replicas, seed_keys
from ismarl.sim.core import make_params


@struct.dataclass
class TrainState:
    params: dict  # leaves (n_learners, ...)
    opt_state: tuple
    iteration: jnp.ndarray  # int32 scalar: iterations completed


class LearnerBatch(NamedTuple):
    """One learner's side of one match: observations, actions and rewards (T, N), the opponent-ID
    input ``z`` (N, 10) it received, and the index of the match it came from."""

    obs: jnp.ndarray
    actions: jnp.ndarray
    rewards: jnp.ndarray
    z: jnp.ndarray
    match: int


class LossTerms(NamedTuple):
    """The parts of one learner's A2C loss (its diagnostics)."""

    policy_loss: jnp.ndarray
    value_loss: jnp.ndarray
    entropy: jnp.ndarray


def gae_and_targets(rewards, values, gamma: float, gae_lambda: float, td_lambda: float):
    """GAE advantages and TD(lambda) value targets along axis 0 (time) with V = 0 after the end.

    ``rewards`` and ``values`` have shape (T, ...). delta_t = r_t + gamma V_{t+1} - V_t;
    A_t = delta_t + gamma lambda_gae A_{t+1};
    G_t = r_t + gamma ((1 - lambda_td) V_{t+1} + lambda_td G_{t+1}), with A_T = G_T = V_T = 0.
    """
    next_values = jnp.concatenate([values[1:], jnp.zeros_like(values[:1])], axis=0)
    deltas = rewards + gamma * next_values - values

    def body(carry, x):
        adv_next, ret_next = carry
        delta, r, v_next = x
        adv = delta + gamma * gae_lambda * adv_next
        ret = r + gamma * ((1.0 - td_lambda) * v_next + td_lambda * ret_next)
        return (adv, ret), (adv, ret)

    zeros = jnp.zeros_like(values[0])
    _, (adv, ret) = jax.lax.scan(body, (zeros, zeros), (deltas, rewards, next_values), reverse=True)
    return adv, ret


def normalize_advantages(adv, segments, mode: str, per_segment: bool):
    """Centre (``"center"``) or standardize advantages (T, N) over time and episodes, separately
    for each episode slice in ``segments`` (one per co-player) when ``per_segment``."""
    if mode == "none":
        return adv
    if not per_segment:
        segments = ((0, adv.shape[1]),)
    parts = []
    for lo, hi in segments:
        a = adv[:, lo:hi]
        a = a - a.mean()
        if mode == "standardize":
            a = a / (a.std() + 1e-8)
        parts.append(a)
    return jnp.concatenate(parts, axis=1)


def a2c_loss(params, net, a2c: A2CConfig, obs, actions, rewards, z, segments, entropy_coef):
    """A2C loss of one learner over its episodes (T, N); returns ``(loss, diagnostics)``."""
    logits, values = sequence_outputs(net, params, obs, z, a2c.scan_unroll)
    logp = jax.nn.log_softmax(logits, axis=-1)
    logp_a = jnp.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]
    adv, targets = gae_and_targets(rewards * a2c.reward_scale, jax.lax.stop_gradient(values),
                                   a2c.gamma, a2c.gae_lambda, a2c.td_lambda)
    adv = normalize_advantages(adv, segments, a2c.advantage_norm, a2c.per_coplayer_norm)
    policy_loss = -jnp.mean(logp_a * jax.lax.stop_gradient(adv))
    value_loss = jnp.mean((jax.lax.stop_gradient(targets) - values) ** 2)
    entropy = -jnp.mean(jnp.sum(jnp.exp(logp) * logp, axis=-1))
    loss = policy_loss + a2c.value_coef * value_loss - entropy_coef * entropy
    return loss, LossTerms(policy_loss=policy_loss, value_loss=value_loss, entropy=entropy)


def _global_norm(tree):
    return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree_util.tree_leaves(tree)))


def make_optimizer(a2c: A2CConfig):
    return optax.chain(optax.clip_by_global_norm(a2c.max_grad_norm), optax.adam(a2c.learning_rate.for_optax(), eps=a2c.adam_eps))


def agent(cfg: ExperimentConfig):
    """A trained learner as it plays: its network (:func:`ismarl.agents.players.agent_player`)."""
    return cfg.network


def learner_params(cfg: ExperimentConfig, key: jax.Array):
    """One learner's fresh network parameters."""
    return init_params(cfg.network, key)


def init_state(cfg: ExperimentConfig, seed: int, init_params_override=None) -> TrainState:
    """Training state of one seed: fresh parameters per learner (or the given ones)."""
    init_key, _ = seed_keys(seed)
    if init_params_override is None:
        keys = jax.random.split(init_key, cfg.n_learners)
        params = jax.vmap(lambda k: init_params(cfg.network, k))(keys)
    else:
        params = init_params_override
    opt_state = jax.vmap(make_optimizer(cfg.a2c).init)(params)
    return TrainState(params=params, opt_state=opt_state, iteration=jnp.zeros((), jnp.int32))


def make_iteration(cfg: ExperimentConfig, frozen_agents=()):
    """``iteration(state, run_key, frozen_params) -> (state, metrics)`` for one seed (pure)."""
    matches = build_matches(cfg)
    env = make_params(games.get(cfg.game), horizon=cfg.horizon, dtype=jnp.float32)
    opt = make_optimizer(cfg.a2c)
    net, a2c = cfg.network, cfg.a2c
    coplayers = [parse_spec(m.coplayer) for m in matches]  # parsed once, before tracing

    def iteration(state: TrainState, run_key, frozen_params):
        key = jax.random.fold_in(run_key, state.iteration)
        keys = jax.random.split(key, 2 * len(matches))
        data: list[list[LearnerBatch]] = [[] for _ in range(cfg.n_learners)]
        match_metrics = {}
        for m, (match, co) in enumerate(zip(matches, coplayers)):
            side_b, z_b = make_player(co, keys[2 * m], match.episodes, learners=state.params, frozen=frozen_params,
                                      agent=net, frozen_agents=frozen_agents)
            own = jax.tree_util.tree_map(lambda x: x[match.learner], state.params)
            side_a = network_player(net, own, z_b if net.use_z else None)
            if side_b.kind == "network" and net.use_z and co.kind == "learner":
                side_b = side_b.replace(z=jnp.zeros_like(z_b))
            traj = play_match(keys[2 * m + 1], side_a, side_b, match.episodes, env)
            data[match.learner].append(LearnerBatch(traj.obs[0], traj.actions[0], traj.rewards[0], z_b, m))
            if co.kind == "learner":  # the co-learner trains on its side too (it sees zeros as z)
                data[co.index].append(LearnerBatch(traj.obs[1], traj.actions[1], traj.rewards[1], jnp.zeros_like(z_b), m))
            coop = 1.0 - traj.actions.astype(jnp.float32)
            match_metrics[match.name] = MatchMetrics(reward=traj.rewards.mean(axis=(1, 2)), coop=coop.mean(axis=(1, 2)))

        ent_coef = a2c.entropy_coef(state.iteration)

        def total_loss(params):
            total, diags = 0.0, []
            for i in range(cfg.n_learners):
                if not data[i]:
                    diags.append(LossTerms(0.0, 0.0, 0.0))
                    continue
                obs = jnp.concatenate([d.obs for d in data[i]], axis=1)
                actions = jnp.concatenate([d.actions for d in data[i]], axis=1)
                rewards = jnp.concatenate([d.rewards for d in data[i]], axis=1)
                z = jnp.concatenate([d.z for d in data[i]], axis=0) if net.use_z else None
                bounds, lo = [], 0
                for d in data[i]:
                    bounds.append((lo, lo + d.obs.shape[1]))
                    lo += d.obs.shape[1]
                p_i = jax.tree_util.tree_map(lambda x: x[i], params)
                loss, diag = a2c_loss(p_i, net, a2c, obs, actions, rewards, z, tuple(bounds), ent_coef)
                total = total + loss
                diags.append(diag)
            return total, diags

        grads, diags = jax.grad(total_loss, has_aux=True)(state.params)
        grad_norm = jax.vmap(_global_norm)(grads)
        updates, opt_state = jax.vmap(opt.update)(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        learners = {
            "entropy": jnp.stack([jnp.asarray(d.entropy, jnp.float32) for d in diags]),
            "value_loss": jnp.stack([jnp.asarray(d.value_loss, jnp.float32) for d in diags]),
            "grad_norm": grad_norm,
        }
        metrics = IterationMetrics(matches=match_metrics, learners=learners, scalars={"entropy_coef": ent_coef})
        return TrainState(params=params, opt_state=opt_state, iteration=state.iteration + 1), metrics

    return iteration


@functools.lru_cache(maxsize=16)
def make_chunk(cfg: ExperimentConfig, length: int, frozen_agents=()):
    """Jitted ``chunk(states, run_keys, frozen) -> (states, metrics)``: ``length`` iterations
    for every seed (leading axis of ``states``, ``run_keys`` and ``frozen`` leaves; the seeds
    side by side as :func:`ismarl.engines.seeds.map_replicas` runs them)."""
    it = make_iteration(cfg, frozen_agents)

    def one_seed(state, run_key, frozen):
        return jax.lax.scan(lambda s, _: it(s, run_key, frozen), state, None, length=length)

    return jax.jit(map_replicas(one_seed))
