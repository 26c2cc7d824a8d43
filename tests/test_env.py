"""The functional environment: first-person observations, rewards, episode end, vmapping, and a
rollout of memory-1 strategies that agrees with simulate.play."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl import analytic, games, strategies
from ismarl.conventions import CC, CD, DC, DD, START
from ismarl.sim import simulate
from ismarl.sim.core import EnvParams, make_params
from ismarl.sim.env import IteratedMatrixGame

IPD = games.ipd()


def test_reset_shows_start_to_both_players():
    env = IteratedMatrixGame()
    obs, state = env.reset(jax.random.key(0), env.default_params(horizon=5))
    assert obs.shape == (2, 5)
    assert np.asarray(obs).argmax(-1).tolist() == [START, START] and float(obs.sum()) == 2
    assert int(state.t) == 0


@pytest.mark.parametrize(
    "actions, x_sees, y_sees",
    [((0, 0), CC, CC), ((0, 1), CD, DC), ((1, 0), DC, CD), ((1, 1), DD, DD)],
)
def test_observations_are_first_person_on_both_sides(actions, x_sees, y_sees):
    """What X sees as CD (X cooperated, Y defected), Y sees as DC."""
    env = IteratedMatrixGame()
    params = env.default_params(horizon=5)
    _, state = env.reset(jax.random.key(0), params)
    obs, state, rewards, done, _ = env.step(jax.random.key(1), state, jnp.array(actions), params)
    assert np.asarray(obs).argmax(-1).tolist() == [x_sees, y_sees]
    assert np.asarray(state.obs_index).tolist() == [x_sees, y_sees]
    own, other = actions
    table = IPD.payoff_table()
    assert np.asarray(rewards).tolist() == [table[own, other], table[other, own]]
    assert not bool(done)


def test_rewards_of_an_asymmetric_game():
    g = games.matching_pennies()
    env = IteratedMatrixGame()
    params = make_params(g, horizon=3)
    _, state = env.reset(jax.random.key(0), params)
    for a in ((0, 0), (0, 1), (1, 0), (1, 1)):
        _, _, rewards, _, _ = env.step(jax.random.key(1), state, jnp.array(a), params)
        assert np.asarray(rewards).tolist() == [g.A[a], g.B[a]]


def test_done_exactly_at_the_horizon():
    env = IteratedMatrixGame()
    params = env.default_params(horizon=4)
    _, state = env.reset(jax.random.key(0), params)
    dones = []
    for _ in range(4):
        _, state, _, done, info = env.step(jax.random.key(0), state, jnp.array([0, 1]), params)
        dones.append(bool(done))
    assert dones == [False, False, False, True] and int(info["t"]) == 4


def test_bad_horizon():
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        make_params(horizon=0)
    with pytest.raises(TypeError, match="expected a MatrixGame"):
        make_params("ipd")


# -- rollouts of memory-1 strategies --------------------------------------------------------------
def rollout(env, params, p, q, key):
    """One episode of X (p) against Y (q) through the environment; returns actions, rewards (T, 2)."""
    obs, state = env.reset(key, params)

    def step(carry, key_t):
        obs, state = carry
        k_act, k_env = jax.random.split(key_t)
        coop_prob = jnp.stack([p @ obs[0], q @ obs[1]])  # p[observation] via the one-hot
        actions = (jax.random.uniform(k_act, (2,)) >= coop_prob).astype(jnp.int32)
        obs, state, rewards, _, _ = env.step(k_env, state, actions, params)
        return (obs, state), (actions, rewards)

    _, (actions, rewards) = jax.lax.scan(step, (obs, state), jax.random.split(key, params.horizon))
    return actions, rewards


def test_vmap_over_episodes_and_over_games():
    """A batch of episodes in each of three games at once, matching the exact payoffs per game."""
    env = IteratedMatrixGame()
    game_list = [IPD, games.classic_pd(), games.matching_pennies()]
    params = EnvParams(payoffs=jnp.stack([make_params(g).payoffs for g in game_list]), horizon=20)  # (3, 2, 2, 2)
    p, q = strategies.sample_uniform(jax.random.key(0), (2,))
    n = 2048
    keys = jax.random.split(jax.random.key(1), (len(game_list), n))
    over_episodes = jax.vmap(rollout, in_axes=(None, None, None, None, 0))
    over_games = jax.vmap(over_episodes, in_axes=(None, 0, None, None, 0))
    actions, rewards = jax.jit(over_games, static_argnums=0)(env, params, p, q, keys)
    assert actions.shape == rewards.shape == (3, n, 20, 2)
    per_episode = np.asarray(rewards, np.float64).mean(2)  # (3, n, 2)
    for i, g in enumerate(game_list):
        exact = np.array(analytic.expected_payoffs(p, q, g, horizon=20))
        se = per_episode[i].std(0, ddof=1) / np.sqrt(n)
        assert np.all(np.abs(per_episode[i].mean(0) - exact) < 4 * se), g.name


def test_env_rollout_matches_simulate_play():
    """The environment and simulate.play are two implementations of the same process: their mean
    rewards and cooperation rates agree within 4 standard errors of the difference."""
    env = IteratedMatrixGame()
    params = env.default_params(horizon=30)
    p, q = strategies.zd_extortion(IPD, 2.0), strategies.sample_uniform(jax.random.key(2))
    n = 2048
    keys = jax.random.split(jax.random.key(3), n)
    a_env, r_env = jax.jit(jax.vmap(rollout, in_axes=(None, None, None, None, 0)), static_argnums=0)(env, params, p, q, keys)
    a_sim, r_sim = simulate.play(p, q, IPD, 30, n, jax.random.key(4))
    for env_values, sim_values in ((r_env, r_sim), (1 - a_env, 1 - a_sim)):
        e = np.asarray(env_values, np.float64).mean(1)
        s = np.asarray(sim_values, np.float64).mean(1)
        se = np.sqrt(e.var(0, ddof=1) / n + s.var(0, ddof=1) / n)
        assert np.all(np.abs(e.mean(0) - s.mean(0)) < 4 * se)
