"""The GRU policy, the shared co-player interface and the rollout's conventions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl import strategies
from ismarl.agents import NetworkConfig, init_params, network_player, player_act, player_start, sequence_outputs, tabular_player
from ismarl.conventions import START, observation_index
from ismarl.env import make_params
from ismarl.games import ipd
from ismarl.pools import parse_spec, split_batch
from ismarl.rollout import play_match
from ismarl.simulate import play

PAYOFFS = make_params().payoffs.astype(jnp.float32)


@pytest.mark.parametrize("use_z", [False, True])
def test_fast_functions_match_the_flax_module(use_z):
    cfg = NetworkConfig(hidden=8, embed=4, use_z=use_z)
    params = init_params(cfg, jax.random.PRNGKey(0))
    obs = jax.random.randint(jax.random.PRNGKey(1), (7, 3), 0, 5)
    z = jax.random.normal(jax.random.PRNGKey(2), (3, 10)) if use_z else None
    logits, values = sequence_outputs(cfg, params, obs, z)
    ref_logits, ref_values = cfg.module().apply(params, obs, z)
    np.testing.assert_allclose(logits, ref_logits, atol=1e-5)
    np.testing.assert_allclose(values, ref_values, atol=1e-5)
    assert logits.shape == (7, 3, 2) and values.shape == (7, 3)


def test_tabular_rollout_equals_simulate_play():
    key = jax.random.PRNGKey(3)
    p = strategies.sample_uniform(jax.random.PRNGKey(4), (64,))
    q = jnp.broadcast_to(strategies.named("tft"), (64, 5))
    traj = play_match(key, tabular_player(p), tabular_player(q), 64, 30, PAYOFFS)
    actions, rewards = play(p, q, ipd(), 30, 64, key)
    np.testing.assert_array_equal(np.asarray(traj.actions).transpose(2, 1, 0), np.asarray(actions))
    np.testing.assert_allclose(np.asarray(traj.rewards).transpose(2, 1, 0), np.asarray(rewards))


def test_rollout_observations_rewards_and_policy_are_consistent():
    cfg = NetworkConfig(hidden=8, embed=4)
    params = init_params(cfg, jax.random.PRNGKey(5))
    q = strategies.sample_uniform(jax.random.PRNGKey(6), (16,))
    traj = play_match(jax.random.PRNGKey(7), network_player(cfg, params), tabular_player(q), 16, 12, PAYOFFS)
    obs, act, rew = (np.asarray(x) for x in (traj.obs, traj.actions, traj.rewards))
    assert (obs[:, 0] == START).all()
    np.testing.assert_array_equal(obs[0, 1:], observation_index(act[0, :-1], act[1, :-1]))
    np.testing.assert_array_equal(obs[1, 1:], observation_index(act[1, :-1], act[0, :-1]))
    pay = np.asarray(PAYOFFS)
    np.testing.assert_allclose(rew[0], pay[act[0], act[1], 0])
    np.testing.assert_allclose(rew[1], pay[act[0], act[1], 1])
    np.testing.assert_allclose(rew[0] + rew[1], (1 - act[0]) + (1 - act[1]))  # r1 + r2 = c1 + c2
    # the network's probabilities in the rollout are those of a full pass over what it saw
    logits, _ = sequence_outputs(cfg, params, jnp.asarray(obs[0]))
    np.testing.assert_allclose(traj.p_coop[0], jax.nn.softmax(logits)[..., 0], atol=1e-5)
    # the tabular side played its table
    np.testing.assert_allclose(traj.p_coop[1], np.take_along_axis(np.asarray(q).T, obs[1], axis=0), atol=1e-6)


def test_player_interface_is_uniform():
    cfg = NetworkConfig(hidden=4, embed=2)
    for player in (tabular_player(jnp.full((3, 5), 0.3)), network_player(cfg, init_params(cfg, jax.random.PRNGKey(0)))):
        cache, carry = player_start(player, 3)
        carry, p = player_act(player, cache, carry, jnp.array([0, 1, 4]))
        assert p.shape == (3,) and np.all((0 <= p) & (p <= 1))


def test_specs_and_mixing_weights():
    assert parse_spec("random").kind == "random"
    assert parse_spec("TFT").vector == (1.0, 1.0, 0.0, 1.0, 0.0)
    assert parse_spec("0.9:0.8:0.1:0.7:0.2").vector == (0.9, 0.8, 0.1, 0.7, 0.2)
    assert parse_spec("learner:1").index == 1 and parse_spec("frozen:0").kind == "frozen"
    with pytest.raises(ValueError, match="five probabilities"):
        parse_spec("0.9:0.8:0.1:0.7:1.2")
    with pytest.raises(ValueError, match="unknown co-player"):
        parse_spec("titfortat")
    assert split_batch((("learner:1", 0.5), ("random", 0.5)), 7) in ((("learner:1", 4), ("random", 3)), (("learner:1", 3), ("random", 4)))
    assert sum(n for _, n in split_batch((("a", 1), ("b", 1), ("c", 1)), 256)) == 256
