"""The GRU policy, the shared co-player interface and the rollout's conventions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from ismarl import strategies
from ismarl.agents.network import NetworkConfig, init_params, sequence_outputs
from ismarl.agents.players import network_player, player_act, player_start, tabular_player
from ismarl.conventions import START, observation_index
from ismarl.sim.core import make_params
from ismarl.games import ipd
from ismarl.agents.coplayers import parse_spec, split_batch
from ismarl.agents.match import play_match
from ismarl.sim.simulate import play

def env(horizon: int):
    return make_params(horizon=horizon, dtype=jnp.float32)


def _flax_gru(params, hidden: int):
    """Flax's own ``GRUCell`` carrying our network's weights: an independent reference for the GRU.

    Flax computes r = sigma(W_ir x + b_ir + W_hr h), z = sigma(W_iz x + b_iz + W_hz h),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    p = params["params"]
    k_in, b_in = np.split(p["input_gates"]["kernel"], 3, axis=-1), np.split(p["input_gates"]["bias"], 3)
    k_h = np.split(p["hidden_gates"]["kernel"], 3, axis=-1)
    cell_params = {"params": {
        "ir": {"kernel": k_in[0], "bias": b_in[0]}, "iz": {"kernel": k_in[1], "bias": b_in[1]},
        "in": {"kernel": k_in[2], "bias": b_in[2]},
        "hr": {"kernel": k_h[0]}, "hz": {"kernel": k_h[1]}, "hn": {"kernel": k_h[2], "bias": p["hidden_bias_n"]}}}
    cell = nn.GRUCell(features=hidden)
    return lambda h, x: cell.apply(cell_params, h, x)[0]


@pytest.mark.parametrize("use_z", [False, True])
def test_the_gru_equals_flax_gru_cell(use_z):
    """Our one GRU (pure functions over the parameter dict) against Flax's GRUCell with the same
    weights, over a random observation sequence, with and without the opponent-ID step."""
    cfg = NetworkConfig(hidden=8, embed=4, use_z=use_z)
    params = init_params(cfg, jax.random.PRNGKey(0))
    obs = jax.random.randint(jax.random.PRNGKey(1), (7, 3), 0, 5)
    z = jax.random.normal(jax.random.PRNGKey(2), (3, 10)) if use_z else None
    logits, values = sequence_outputs(cfg, params, obs, z)
    step = _flax_gru(params, cfg.hidden)
    p = params["params"]
    h = jnp.zeros((3, cfg.hidden))
    if use_z:
        h = step(h, z @ p["z_embed"]["kernel"] + p["z_embed"]["bias"])
    hs = []
    for t in range(obs.shape[0]):
        h = step(h, p["obs_embed"]["embedding"][obs[t]])
        hs.append(h)
    f = jax.nn.swish(jnp.stack(hs))
    ref_logits = f @ p["policy_head"]["kernel"] + p["policy_head"]["bias"]
    ref_values = (f @ p["value_head"]["kernel"] + p["value_head"]["bias"])[..., 0]
    assert logits.shape == (7, 3, 2) and values.shape == (7, 3)
    np.testing.assert_allclose(logits, ref_logits, atol=1e-5)
    np.testing.assert_allclose(values, ref_values, atol=1e-5)
    assert float(jnp.abs(ref_logits).max()) > 0  # the comparison is not of zeros


def test_parameters_are_those_of_the_declared_layers():
    """init_params creates every layer the forward pass reads, with the paper's shapes."""
    cfg = NetworkConfig(hidden=8, embed=4, use_z=True)
    p = init_params(cfg, jax.random.PRNGKey(0))["params"]
    shapes = {k: {n: tuple(v.shape) for n, v in layer.items()} if isinstance(layer, dict) else tuple(layer.shape)
              for k, layer in p.items()}
    assert shapes == {"obs_embed": {"embedding": (5, 4)}, "input_gates": {"kernel": (4, 24), "bias": (24,)},
                      "z_embed": {"kernel": (10, 4), "bias": (4,)}, "hidden_gates": {"kernel": (8, 24)},
                      "hidden_bias_n": (8,), "policy_head": {"kernel": (8, 2), "bias": (2,)},
                      "value_head": {"kernel": (8, 1), "bias": (1,)}}


def test_tabular_rollout_equals_simulate_play():
    key = jax.random.PRNGKey(3)
    p = strategies.sample_uniform(jax.random.PRNGKey(4), (64,))
    q = jnp.broadcast_to(strategies.named("tft"), (64, 5))
    traj = play_match(key, tabular_player(p), tabular_player(q), 64, env(30))
    actions, rewards = play(p, q, ipd(), 30, 64, key)
    np.testing.assert_array_equal(np.asarray(traj.actions).transpose(2, 1, 0), np.asarray(actions))
    np.testing.assert_allclose(np.asarray(traj.rewards).transpose(2, 1, 0), np.asarray(rewards))


def test_rollout_observations_rewards_and_policy_are_consistent():
    cfg = NetworkConfig(hidden=8, embed=4)
    params = init_params(cfg, jax.random.PRNGKey(5))
    q = strategies.sample_uniform(jax.random.PRNGKey(6), (16,))
    traj = play_match(jax.random.PRNGKey(7), network_player(cfg, params), tabular_player(q), 16, env(12))
    obs, act, rew = (np.asarray(x) for x in (traj.obs, traj.actions, traj.rewards))
    assert (obs[:, 0] == START).all()
    np.testing.assert_array_equal(obs[0, 1:], observation_index(act[0, :-1], act[1, :-1]))
    np.testing.assert_array_equal(obs[1, 1:], observation_index(act[1, :-1], act[0, :-1]))
    pay = np.asarray(env(12).payoffs)
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
    params = init_params(cfg, jax.random.PRNGKey(0))
    table = jnp.tile(jnp.array([0.9, 0.7, 0.5, 0.3, 0.1]), (3, 1))
    obs = jnp.array([0, 1, 4])
    # the tabular player plays its table's entry for what it saw; the network its first-step policy
    first_step = jax.nn.softmax(sequence_outputs(cfg, params, obs[None])[0], axis=-1)[0, :, 0]
    for player, want in ((tabular_player(table), [0.9, 0.7, 0.1]), (network_player(cfg, params), first_step)):
        cache, carry = player_start(player, 3)
        carry, p = player_act(player, cache, carry, obs)
        assert p.shape == (3,)
        np.testing.assert_allclose(np.asarray(p), np.asarray(want), atol=1e-6)


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
