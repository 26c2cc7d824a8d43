"""The PPI sequence model (ismarl.agents.world_model): token layout, causality, fitting, the
co-player prediction read from the observation head, and its gap to exact Bayesian inference."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl import games, strategies
from ismarl.agents import world_model as wm
from ismarl.conventions import CC, CD, DC, DD, START
from ismarl.inference import coplayer_predictions, log_loss
from ismarl.sim.simulate import play

CFG = wm.WorldModelConfig(hidden=16, embed=8)


def episodes(q, n, horizon, seed):
    """``n`` episodes of random tabular learners (side 0) against ``q`` (a strategy or None for
    random tabular co-players), on the paper's IPD."""
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    p = strategies.sample_uniform(k1, (n,))
    q = strategies.sample_uniform(k2, (n,)) if q is None else q
    return play(p, q, games.ipd(), horizon, n, k3)


def tokens_of(q, n, horizon, seed):
    return wm.episode_tokens(*episodes(q, n, horizon, seed))


@pytest.fixture(scope="module")
def params():
    return CFG.init(jax.random.PRNGKey(0))


# 1. token layout and shapes -----------------------------------------------------------------------
def test_token_layout_on_a_hand_made_episode(params):
    actions = np.array([[[0, 1], [1, 1], [1, 0]]])  # (C, D), (D, D), (D, C) with X = the learner
    rewards = np.array([[[-1.0, 2.0], [0.0, 0.0], [2.0, -1.0]]])
    tok = wm.episode_tokens(actions, rewards)
    np.testing.assert_array_equal(tok.obs, [[START, CD, DD, DC]])
    np.testing.assert_array_equal(tok.rewards, [[0.0, -1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(tok.actions, [[0, 1, 1]])
    np.testing.assert_array_equal(wm.token_actions(tok), actions)
    pred = wm.model_outputs(CFG, params, tok)
    assert pred.obs_logits.shape == (1, 4, 5)
    assert pred.reward_mean.shape == (1, 4)
    assert pred.action_logits.shape == (1, 3, 2)
    assert wm.coplayer_cooperation(CFG, params, tok).shape == (1, 3)
    total, parts = wm.loss(CFG, params, tok)
    assert np.isclose(float(total), float(sum(parts)))


def test_shapes_on_simulated_episodes(params):
    a, r = episodes(None, 7, 5, seed=1)
    tok = wm.episode_tokens(a, r)
    assert tok.obs.shape == (7, 6) and tok.rewards.shape == (7, 6) and tok.actions.shape == (7, 5)
    np.testing.assert_array_equal(wm.token_actions(tok), a)
    pred = wm.model_outputs(CFG, params, tok)
    assert [x.shape for x in pred] == [(7, 6, 5), (7, 6), (7, 5, 2)]
    assert all(np.all(np.isfinite(x)) for x in pred)


# 2. causality ------------------------------------------------------------------------------------
def test_outputs_do_not_depend_on_later_tokens(params):
    tok = tokens_of(None, 4, 8, seed=2)
    base = wm.model_outputs(CFG, params, tok)
    k = 4

    def same_before(pred, n_obs, n_rew, n_act):
        np.testing.assert_array_equal(pred.obs_logits[:, :n_obs], base.obs_logits[:, :n_obs])
        np.testing.assert_array_equal(pred.reward_mean[:, :n_rew], base.reward_mean[:, :n_rew])
        np.testing.assert_array_equal(pred.action_logits[:, :n_act], base.action_logits[:, :n_act])

    # the reward r_k: everything read before it is unchanged, the action head right after it moves
    pred = wm.model_outputs(CFG, params, tok._replace(rewards=tok.rewards.at[:, k].add(3.0)))
    same_before(pred, k + 1, k + 1, k)
    assert not np.allclose(pred.action_logits[:, k], base.action_logits[:, k])
    # the observation o_k (flip the co-player's half): the reward head right after it moves
    obs = tok.obs.at[:, k].set(1 + 2 * ((tok.obs[:, k] - 1) // 2) + (tok.obs[:, k] % 2))
    pred = wm.model_outputs(CFG, params, tok._replace(obs=obs))
    same_before(pred, k + 1, k, k)
    assert not np.allclose(pred.reward_mean[:, k], base.reward_mean[:, k])
    # the action a_k (and its half of o_{k+1}): the observation head right after it moves
    act = 1 - tok.actions[:, k]
    obs = tok.obs.at[:, k + 1].set(1 + 2 * act + (tok.obs[:, k + 1] - 1) % 2)
    pred = wm.model_outputs(CFG, params, tok._replace(actions=tok.actions.at[:, k].set(act), obs=obs))
    same_before(pred, k + 1, k + 1, k + 1)
    assert not np.allclose(pred.obs_logits[:, k + 1], base.obs_logits[:, k + 1])


# 3. fitting ---------------------------------------------------------------------------------------
def test_fit_lowers_every_loss_part_on_d0(params):
    tok = tokens_of(None, 300, 20, seed=3)
    _, before = wm.loss(CFG, params, tok)
    fitted, history = wm.fit(CFG, params, tok, steps=150, batch=64, key=jax.random.PRNGKey(4), lr=1e-2)
    assert len(history) == 150 and all(isinstance(h, wm.LossParts) for h in history)
    _, after = wm.loss(CFG, fitted, tok)
    for name in wm.LossParts._fields:
        assert float(getattr(after, name)) < float(getattr(before, name)), name
    assert float(after.obs_ce) < 0.9 * float(before.obs_ce)
    assert float(after.reward_se) < 0.5 * float(before.reward_se)
    # the first observation prediction, read from the zero state before any token, comes from the
    # observation head's bias alone (1 token in 21, weight-decayed): it learns Start, but slowly
    first = np.asarray(jax.nn.softmax(wm.model_outputs(CFG, fitted, tok).obs_logits[0, 0]))
    assert first.argmax() == START and first[START] > 0.3


def test_fit_step_is_pure_and_matches_loss(params):
    tok = tokens_of(None, 8, 6, seed=5)
    opt = wm.make_optimizer(1e-3)
    step = wm.fit_step(CFG, opt)
    state = opt.init(params)
    p1, s1, parts1 = step(params, state, tok)
    p2, _, parts2 = step(params, state, tok)
    jax.tree_util.tree_map(np.testing.assert_array_equal, p1, p2)
    _, parts = wm.loss(CFG, params, tok)
    np.testing.assert_allclose(parts1, parts, rtol=1e-5)
    assert not np.array_equal(p1["params"]["obs_head"]["kernel"], params["params"]["obs_head"]["kernel"])


@pytest.mark.parametrize("name", ["alld", "tft"])
def test_fit_learns_a_deterministic_coplayer(params, name):
    q = strategies.named(name)
    tok = tokens_of(q, 200, 20, seed=6)
    fitted, _ = wm.fit(CFG, params, tok, steps=150, batch=64, key=jax.random.PRNGKey(7), lr=1e-2)
    test = tokens_of(q, 100, 20, seed=8)
    p = np.asarray(wm.coplayer_cooperation(CFG, fitted, test))
    if name == "alld":
        assert p[:, 1:].mean() < 0.1 and np.quantile(p[:, 1:], 0.95) < 0.1
    else:  # TFT cooperates in round t exactly when the learner cooperated in round t-1
        learner_cooperated = np.asarray(test.actions[:, :-1]) == 0
        p_repeat = np.where(learner_cooperated, p[:, 1:], 1.0 - p[:, 1:])
        assert p_repeat.mean() > 0.8 and np.quantile(p_repeat, 0.05) > 0.5


# 4. the gap to Bayes-optimal inference --------------------------------------------------------------
def test_inference_gap_untrained_on_d0(params):
    tok = tokens_of(None, 500, 30, seed=9)
    assert wm.inference_gap(CFG, params, tok) >= -0.02


def test_coplayer_cooperation_renormalizes_the_observation_head(params):
    tok = tokens_of(None, 5, 6, seed=10)
    probs = np.asarray(jax.nn.softmax(wm.model_outputs(CFG, params, tok).obs_logits[:, 1:]))
    own = np.asarray(tok.actions)
    c = np.take_along_axis(probs, (1 + 2 * own)[..., None], -1)[..., 0]
    d = np.take_along_axis(probs, (2 + 2 * own)[..., None], -1)[..., 0]
    np.testing.assert_allclose(wm.coplayer_cooperation(CFG, params, tok), c / (c + d), rtol=1e-5)


def test_inference_gap_by_hand(params):
    # the co-player defects three times: it sees Start, then DC twice (learner C, itself D)
    actions = np.array([[[0, 1], [0, 1], [0, 1]]])
    rewards = np.array([[[-1.0, 2.0]] * 3])
    tok = wm.episode_tokens(actions, rewards)
    p = np.asarray(wm.coplayer_cooperation(CFG, params, tok), dtype=float)[0]
    model = np.mean(-np.log(1.0 - p))  # every move was D
    bayes = np.mean([np.log(2.0), np.log(2.0), -np.log(2.0 / 3.0)])  # Beta(1, 2) mean 1/3 before round 3
    np.testing.assert_allclose(coplayer_predictions(actions)[0], [0.5, 0.5, 1.0 / 3.0], rtol=1e-6)
    assert np.isclose(wm.inference_gap(CFG, params, tok), model - bayes, atol=1e-5)
    assert np.isclose(float(log_loss(jnp.asarray(p[None]), actions).mean()), model, atol=1e-5)


# 5. errors ----------------------------------------------------------------------------------------
def test_episode_tokens_errors():
    a = np.zeros((2, 3, 2), int)
    r = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match=r"actions must have shape \(N, T, 2\)"):
        wm.episode_tokens(a[0], r[0])
    with pytest.raises(ValueError, match=r"rewards must have the shape of actions \(2, 3, 2\)"):
        wm.episode_tokens(a, r[:, :2])
    with pytest.raises(TypeError, match="actions must be an integer array, got dtype float64"):
        wm.episode_tokens(a.astype(float), r)
    with pytest.raises(ValueError, match=r"actions must hold only 0 \(C\) and 1 \(D\), got \[2\]"):
        wm.episode_tokens(a + 2 * (np.arange(2)[:, None, None] == 1), r)
    with pytest.raises(ValueError, match="rewards contains NaN or infinite values"):
        wm.episode_tokens(a, r + np.nan)
    with pytest.raises(TypeError, match="rewards must be a real numeric array"):
        wm.episode_tokens(a, r.astype(complex))


def test_token_errors(params):
    tok = tokens_of(None, 3, 4, seed=11)
    with pytest.raises(TypeError, match="tokens must be a Tokens"):
        wm.model_outputs(CFG, params, tuple(tok))
    with pytest.raises(ValueError, match=r"tokens.obs must have shape \(3, 5\)"):
        wm.loss(CFG, params, tok._replace(obs=tok.obs[:, :-1]))
    with pytest.raises(ValueError, match=r"tokens.rewards must have shape \(3, 5\)"):
        wm.loss(CFG, params, tok._replace(rewards=tok.rewards[:2]))
    with pytest.raises(ValueError, match=r"tokens.obs\[:, 0\] must be Start \(0\), got \[1\]"):
        wm.model_outputs(CFG, params, tok._replace(obs=tok.obs.at[:, 0].set(CC)))
    with pytest.raises(ValueError, match=r"tokens.obs\[:, 1:\] must be outcomes CC..DD \(1..4\), got \[0\]"):
        wm.model_outputs(CFG, params, tok._replace(obs=tok.obs.at[0, 2].set(START)))
    with pytest.raises(ValueError, match=r"tokens.obs\[:, t\+1\] must hold the learner's own action"):
        wm.model_outputs(CFG, params, tok._replace(actions=1 - tok.actions))
    with pytest.raises(ValueError, match=r"tokens.rewards\[:, 0\] must be 0"):
        wm.model_outputs(CFG, params, tok._replace(rewards=tok.rewards.at[:, 0].set(1.0)))
    with pytest.raises(TypeError, match="tokens.actions must be an integer array"):
        wm.model_outputs(CFG, params, tok._replace(actions=tok.actions.astype(float)))
    assert DD == 4 and DC == 3  # the layout the messages above name


def test_model_and_fit_errors(params):
    tok = tokens_of(None, 3, 4, seed=12)
    with pytest.raises(ValueError, match="WorldModelConfig.hidden must be a positive integer, got 0"):
        wm.WorldModelConfig(hidden=0)
    with pytest.raises(TypeError, match="config must be a WorldModelConfig, got dict"):
        wm.model_outputs({}, params, tok)
    with pytest.raises(ValueError, match=r"params do not match config.hidden = 32: hidden_gates kernel has shape \(16, 48\)"):
        wm.model_outputs(wm.WorldModelConfig(), params, tok)
    with pytest.raises(ValueError, match="params must be a world-model parameter dict"):
        wm.loss(CFG, {"params": {}}, tok)
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        wm.make_optimizer(0)
    with pytest.raises(ValueError, match="batch must be at most the number of episodes 3, got 4"):
        wm.fit(CFG, params, tok, steps=1, batch=4, key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="steps must be an integer"):
        wm.fit(CFG, params, tok, steps=1.5, batch=2, key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="config must be a WorldModelConfig"):
        wm.fit_step(None, wm.make_optimizer())
    same, history = wm.fit(CFG, params, tok, steps=0, batch=2, key=jax.random.PRNGKey(0))
    assert history == [] and same is params


# 5. the opponent-ID input (the ablation) ----------------------------------------------------------
ZCFG = wm.WorldModelConfig(hidden=16, embed=8, use_z=True)


def test_opponent_id_enters_as_one_step_before_the_first_token():
    p = ZCFG.init(jax.random.PRNGKey(3))
    assert "z_embed" in p["params"] and "z_embed" not in CFG.init(jax.random.PRNGKey(3))["params"]
    tok = tokens_of(None, 4, 6, seed=20)
    z = strategies.log_probs(strategies.sample_uniform(jax.random.PRNGKey(4), (4,)))
    with_z = wm.model_outputs(ZCFG, p, tok, z)
    none, zeros = wm.model_outputs(ZCFG, p, tok), wm.model_outputs(ZCFG, p, tok, jnp.zeros((4, 10)))
    for a, b in zip(none, zeros):  # no z is the learner's z: zeros
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(with_z.obs_logits), np.asarray(zeros.obs_logits))
    # the step on z is the A2C network's (one GRU step on the embedded z from a zero state)
    from ismarl.agents.network import gru_cell
    q = p["params"]
    e = z @ q["z_embed"]["kernel"] + q["z_embed"]["bias"]
    h0 = gru_cell(p, e @ q["input_gates"]["kernel"] + q["input_gates"]["bias"], jnp.zeros((4, 16)))
    obs0 = jax.nn.swish(h0) @ q["obs_head"]["kernel"] + q["obs_head"]["bias"]
    np.testing.assert_allclose(np.asarray(with_z.obs_logits[:, 0]), np.asarray(obs0), rtol=1e-5, atol=1e-6)
    total, _ = wm.loss(ZCFG, p, tok, z)
    assert np.isfinite(float(total)) and wm.coplayer_cooperation(ZCFG, p, tok, z).shape == (4, 6)


def test_stored_z_is_exact():
    z = jnp.concatenate([strategies.log_probs(strategies.sample_uniform(jax.random.PRNGKey(5), (7,))),
                         jnp.zeros((1, 10))])
    packed = wm.pack_z(z)
    assert packed.dtype == jnp.uint8 and packed.shape == (8, wm.Z_BYTES)
    np.testing.assert_array_equal(np.asarray(wm.unpack_z(packed)), np.asarray(z, np.float32))


def test_opponent_id_errors(params):
    tok = tokens_of(None, 3, 4, seed=21)
    p = ZCFG.init(jax.random.PRNGKey(3))
    with pytest.raises(ValueError, match="z was given, but the model has no opponent-ID input"):
        wm.model_outputs(CFG, params, tok, jnp.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"z must have shape \(3, 10\) \(one opponent-ID vector per episode\), got shape \(3, 5\)"):
        wm.loss(ZCFG, p, tok, jnp.zeros((3, 5)))
    with pytest.raises(ValueError, match="z contains NaN or infinite values"):
        wm.coplayer_cooperation(ZCFG, p, tok, jnp.full((3, 10), jnp.nan))
    with pytest.raises(ValueError, match="params do not match config.use_z = True: they have no opponent-ID embedding"):
        wm.model_outputs(ZCFG, params, tok)
    with pytest.raises(ValueError, match="params do not match config.use_z = False: they have an opponent-ID embedding"):
        wm.model_outputs(CFG, p, tok)
    with pytest.raises(TypeError, match="WorldModelConfig.use_z must be a bool, got 1"):
        wm.WorldModelConfig(use_z=1)
