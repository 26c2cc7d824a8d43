"""PPI's improved policy (ismarl.agents.ppi_policy): the model state at a history, Monte Carlo Q̂
with common random numbers, the Boltzmann tilt of the prior, and its direction against fixed
co-players (ALLD, ALLC: defect; TFT after mutual cooperation: cooperate)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl import games, strategies
from ismarl.agents import ppi_policy as pp
from ismarl.agents import world_model as wm
from ismarl.conventions import CC, START
from ismarl.sim.simulate import play

CFG = wm.WorldModelConfig(hidden=16, embed=8)
IPD = games.ipd()


def episodes(q, n, horizon, seed):
    """Random tabular learners (side 0) against ``q`` (None: random tabular) on the paper's IPD."""
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    q = strategies.sample_uniform(k3, (n,)) if q is None else q
    return play(strategies.sample_uniform(k1, (n,)), q, IPD, horizon, n, k2)


def prefix(tokens, t):
    """The history of ``tokens`` up to r_t (before a_t)."""
    return wm.Tokens(tokens.obs[:, : t + 1], tokens.rewards[:, : t + 1], tokens.actions[:, :t])


def start_prefix(n):
    return wm.Tokens(jnp.full((n, 1), START, jnp.int32), jnp.zeros((n, 1)), jnp.zeros((n, 0), jnp.int32))


def mutual_cooperation_prefix(n, rounds):
    obs = jnp.concatenate([jnp.full((n, 1), START), jnp.full((n, rounds), CC)], axis=1).astype(jnp.int32)
    rew = jnp.concatenate([jnp.zeros((n, 1)), jnp.ones((n, rounds))], axis=1)  # R = 1
    return wm.Tokens(obs, rew, jnp.zeros((n, rounds), jnp.int32))


@pytest.fixture(scope="module")
def params():
    return CFG.init(jax.random.PRNGKey(0))


@pytest.fixture(scope="module")
def fitted():
    """One model per co-player, fitted on 200 episodes of 20 rounds against it (lr 1e-2)."""
    out = {}
    for i, name in enumerate(["alld", "allc", "tft"]):
        tok = wm.episode_tokens(*episodes(strategies.named(name), 200, 20, seed=10 + i))
        out[name], _ = wm.fit(CFG, CFG.init(jax.random.PRNGKey(1)), tok, steps=150, batch=64,
                              key=jax.random.PRNGKey(20 + i), lr=1e-2)
    return out


# 1. the state at a history ------------------------------------------------------------------------
def test_state_after_prefix_gives_the_models_action_prediction(params):
    tok = wm.episode_tokens(*episodes(strategies.named("tft"), 5, 6, seed=1))
    logits = wm.model_outputs(CFG, params, tok).action_logits
    for t in range(6):
        h = pp.model_state_after(CFG, params, prefix(tok, t))
        assert h.shape == (5, CFG.hidden)
        np.testing.assert_allclose(wm.head_outputs(params, h)[2], logits[:, t], atol=1e-5)
    # the first round (t = 0) is the state after o_0 = Start, r_0 = 0
    h0 = pp.model_state_after(CFG, params, start_prefix(5))
    np.testing.assert_allclose(wm.head_outputs(params, h0)[2], logits[:, 0], atol=1e-5)


# 2. common random numbers -------------------------------------------------------------------------
def test_common_random_numbers_remove_the_noise_of_the_difference(params):
    # a model whose co-player prediction ignores the own action and whose policy is fixed: heads
    # read only their biases, P(co-player C) = sigmoid(0.6) after C or D, P(own C) = sigmoid(0.4)
    p = jax.tree_util.tree_map(lambda x: x, params)
    p["params"] = dict(p["params"])
    p["params"]["obs_head"] = {"kernel": jnp.zeros((CFG.hidden, 5)),
                               "bias": jnp.array([0.0, 0.3, -0.3, 0.3, -0.3])}
    p["params"]["action_head"] = {"kernel": jnp.zeros((CFG.hidden, 2)), "bias": jnp.array([0.2, -0.2])}
    h = pp.model_state_after(CFG, p, start_prefix(1))
    crn, independent = [], []
    for seed in range(30):
        k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
        q_c = pp.rollout_q(CFG, p, h, 0, k1, 15, 100, 8, IPD)[0]
        q_d = pp.rollout_q(CFG, p, h, 1, k1, 15, 100, 8, IPD)[0]
        q_d_other = pp.rollout_q(CFG, p, h, 1, k2, 15, 100, 8, IPD)[0]
        crn.append(float(q_c[0] - q_d[0]))
        independent.append(float(q_c[0] - q_d_other[0]))
        _, q_hat, _ = pp.improved_policy(CFG, p, h, k1, 1.0, 15, 100, 8, IPD)
        np.testing.assert_allclose(q_hat[0], [q_c[0], q_d[0]], atol=1e-5)  # the same uniforms
    crn, independent = np.array(crn), np.array(independent)
    # with the same draws only the first round differs: R - T = S - P = -1 on the IPD
    np.testing.assert_allclose(crn, -1.0, atol=1e-5)
    assert independent.std() > 1.0 and crn.std() < 0.01 * independent.std()
    assert abs(independent.mean() + 1.0) < 3 * independent.std() / np.sqrt(30)


# 3. the tilt ----------------------------------------------------------------------------------------
def test_beta_zero_is_the_prior_and_large_beta_is_greedy(params):
    tok = wm.episode_tokens(*episodes(strategies.named("tft"), 6, 4, seed=2))
    h = pp.model_state_after(CFG, params, prefix(tok, 3))
    key = jax.random.PRNGKey(5)
    prior, q_hat, pi = pp.improved_policy(CFG, params, h, key, 0.0, 15, 30, 8, IPD)
    assert prior.shape == q_hat.shape == pi.shape == (6, 2)
    np.testing.assert_array_equal(pi, prior)
    np.testing.assert_allclose(prior, jax.nn.softmax(wm.head_outputs(params, h)[2]), rtol=1e-6)
    _, q_same, greedy = pp.improved_policy(CFG, params, h, key, 1e4, 15, 30, 8, IPD)
    np.testing.assert_array_equal(q_same, q_hat)
    clear = np.abs(np.asarray(q_hat[:, 0] - q_hat[:, 1])) > 1e-2
    assert clear.sum() >= 3
    best = np.asarray(q_hat).argmax(axis=1)
    np.testing.assert_allclose(np.asarray(greedy)[clear, best[clear]], 1.0, atol=1e-6)
    # β = 1 lies in between, and follows the formula π ∝ p_prior · exp(β Q̂)
    _, _, pi1 = pp.improved_policy(CFG, params, h, key, 1.0, 15, 30, 8, IPD)
    w = np.asarray(prior) * np.exp(np.asarray(q_hat))
    np.testing.assert_allclose(pi1, w / w.sum(axis=1, keepdims=True), rtol=1e-5)


def test_mean_returns_divide_by_the_rounds_rolled_out(params):
    h = pp.model_state_after(CFG, params, start_prefix(4))
    key = jax.random.PRNGKey(6)
    rounds_left = np.array([1, 5, 15, 40])
    q_sum, q_mean = pp.rollout_q(CFG, params, h, np.array([0, 1, 0, 1]), key, 15, rounds_left, 8, IPD)
    np.testing.assert_allclose(q_mean, q_sum / np.minimum(rounds_left, 15), rtol=1e-6)
    _, s, _ = pp.improved_policy(CFG, params, h, key, 1.0, 15, rounds_left, 8, IPD, q="sum")
    _, m, _ = pp.improved_policy(CFG, params, h, key, 1.0, 15, rounds_left, 8, IPD, q="mean")
    np.testing.assert_allclose(m, s / np.minimum(rounds_left, 15)[:, None], rtol=1e-6)
    # a payoff table gives the same as the game
    np.testing.assert_array_equal(
        pp.rollout_q(CFG, params, h, 0, key, 15, rounds_left, 8, games.to_bimatrix_array(IPD)[..., 0])[0],
        pp.rollout_q(CFG, params, h, 0, key, 15, rounds_left, 8, IPD)[0])


# 4. the episode's end ---------------------------------------------------------------------------------
def test_one_round_left_gives_the_immediate_expected_reward(params):
    tok = wm.episode_tokens(*episodes(None, 3, 4, seed=3))
    t, k = 3, 20000
    h = pp.model_state_after(CFG, params, prefix(tok, t))
    table = np.asarray(games.to_bimatrix_array(IPD)[..., 0])
    for a in (0, 1):
        q_sum, q_mean = pp.rollout_q(CFG, params, h, a, jax.random.PRNGKey(7 + a), 15, 1, k, IPD)
        np.testing.assert_array_equal(q_sum, q_mean)
        # the model's own P(co-player C | history, a_t = a), read through coplayer_cooperation
        ext = wm.Tokens(tok.obs[:, : t + 2].at[:, t + 1].set(1 + 2 * a), tok.rewards[:, : t + 2],
                        tok.actions[:, : t + 1].at[:, t].set(a))
        p_c = np.asarray(wm.coplayer_cooperation(CFG, params, ext)[:, t])
        expected = p_c * table[a, 0] + (1 - p_c) * table[a, 1]
        se = np.abs(table[a, 0] - table[a, 1]) * np.sqrt(p_c * (1 - p_c) / k)
        assert np.all(np.abs(np.asarray(q_sum) - expected) < 4 * se + 1e-6), (q_sum, expected)


def test_expected_rewards_give_the_same_q_with_less_noise(params):
    """``reward="expected"`` counts each rolled-out round's expected payoff under the co-player head
    (a Rao-Blackwellization): the same Q̂ in expectation as the drawn outcomes' payoffs, with less
    variance, for both actions and both return readings; with one round left it is the exact
    expected reward, with no noise at all."""
    tok = wm.episode_tokens(*episodes(None, 3, 6, seed=4))
    h = pp.model_state_after(CFG, params, prefix(tok, 5))
    k, reps = 64, 100
    for a in (0, 1):
        est = {r: np.stack([np.asarray(pp.rollout_q(CFG, params, h, a, jax.random.PRNGKey(100 + i), 15, 40, k, IPD,
                                                    reward=r)[0]) for i in range(reps)])
               for r in pp.REWARD_MODES}  # (reps, B): Q̂ from k rollouts, reps independent keys
        sampled, expected = est["sampled"], est["expected"]
        se = np.sqrt(sampled.var(axis=0) / reps + expected.var(axis=0) / reps)
        assert np.all(np.abs(sampled.mean(axis=0) - expected.mean(axis=0)) < 4 * se), (sampled.mean(0), expected.mean(0))
        assert np.all(expected.var(axis=0) < 0.8 * sampled.var(axis=0)), (expected.var(0), sampled.var(0))
    # one round left: the expectation itself (test_one_round_left_gives_the_immediate_expected_reward)
    table = np.asarray(games.to_bimatrix_array(IPD)[..., 0])
    ext = wm.Tokens(tok.obs[:, :7].at[:, 6].set(1), tok.rewards[:, :7], tok.actions[:, :6].at[:, 5].set(0))
    p_c = np.asarray(wm.coplayer_cooperation(CFG, params, ext)[:, 5])
    q_sum, q_mean = pp.rollout_q(CFG, params, h, 0, jax.random.PRNGKey(9), 15, 1, 3, IPD, reward="expected")
    np.testing.assert_allclose(q_sum, p_c * table[0, 0] + (1 - p_c) * table[0, 1], rtol=1e-5)
    # the improved policy and the deployed agent use the same rollouts as rollout_q
    key = jax.random.PRNGKey(11)
    _, q_hat, _ = pp.improved_policy(CFG, params, h, key, 1.0, 15, 40, 8, IPD, reward="expected")
    for a in (0, 1):
        np.testing.assert_allclose(q_hat[:, a], pp.rollout_q(CFG, params, h, a, key, 15, 40, 8, IPD, reward="expected")[0],
                                   rtol=1e-5, atol=1e-6)
    sampled_agent = pp.PPIAgent(CFG, 1.0, 8, 15, "sum", 1.0, 40, ((1.0, -1.0), (2.0, 0.0)))
    assert sampled_agent.reward == "sampled"
    expected_agent = pp.PPIAgent(CFG, 1.0, 8, 15, "sum", 1.0, 40, ((1.0, -1.0), (2.0, 0.0)), reward="expected")
    rows, carry = pp.agent_start(expected_agent, params, jax.random.PRNGKey(3), 2)
    outs = {agent.reward: pp.agent_step(agent, params, rows, carry, jnp.zeros(2, jnp.int32))[1]
            for agent in (sampled_agent, expected_agent)}
    assert not np.allclose(outs["sampled"], outs["expected"])


# 5. against fixed co-players (fitted models) ----------------------------------------------------------
@pytest.mark.parametrize("name", ["alld", "allc"])
def test_improvement_defects_against_unconditional_coplayers(fitted, name):
    params = fitted[name]
    h = pp.model_state_after(CFG, params, start_prefix(4))
    prior, q_hat, pi = pp.improved_policy(CFG, params, h, jax.random.PRNGKey(8), 1.0, 15, 20, 64, IPD)
    assert np.all(q_hat[:, 1] > q_hat[:, 0] + 0.5), q_hat
    assert np.all(pi[:, 1] > prior[:, 1]), (pi, prior)


def test_improvement_cooperates_with_tft_after_mutual_cooperation(fitted):
    params = fitted["tft"]
    h = pp.model_state_after(CFG, params, mutual_cooperation_prefix(4, 5))
    prior, q_hat, pi = pp.improved_policy(CFG, params, h, jax.random.PRNGKey(9), 1.0, 15, 100, 64, IPD)
    assert np.all(q_hat[:, 0] > q_hat[:, 1] + 0.3), q_hat
    assert np.all(pi[:, 0] > prior[:, 0])
    # with one round left, defecting pays (TFT cannot answer)
    _, q_last, _ = pp.improved_policy(CFG, params, h, jax.random.PRNGKey(9), 1.0, 15, 1, 64, IPD)
    assert np.all(q_last[:, 1] > q_last[:, 0])


# 6. errors ------------------------------------------------------------------------------------------------
def test_errors(params):
    h = pp.model_state_after(CFG, params, start_prefix(2))
    key = jax.random.PRNGKey(0)

    def policy(**kw):
        args = dict(h=h, key=key, beta=1.0, horizon=15, rounds_left=10, k=4, payoffs=IPD)
        args.update(kw)
        return pp.improved_policy(CFG, params, **args)

    with pytest.raises(ValueError, match="beta must be >= 0"):
        policy(beta=-1.0)
    with pytest.raises(ValueError, match="beta must be finite"):
        policy(beta=float("inf"))
    with pytest.raises(TypeError, match="k must be a positive integer"):
        policy(k=2.0)
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        policy(k=0)
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        policy(horizon=0)
    with pytest.raises(ValueError, match="rounds_left must be an integer >= 1, got 0"):
        policy(rounds_left=0)
    with pytest.raises(ValueError, match=r"rounds_left must be >= 1, got 0"):
        policy(rounds_left=np.array([3, 0]))
    with pytest.raises(ValueError, match=r"rounds_left must be a scalar or have shape \(2,\)"):
        policy(rounds_left=np.array([3, 4, 5]))
    with pytest.raises(ValueError, match=r"h must have shape \(B, 16\)"):
        policy(h=h[:, :8])
    with pytest.raises(ValueError, match="h contains NaN"):
        policy(h=h.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match=r"q must be one of \('sum', 'mean'\)"):
        policy(q="median")
    with pytest.raises(ValueError, match=r"reward must be one of \('sampled', 'expected'\), got 'mean'"):
        policy(reward="mean")
    with pytest.raises(ValueError, match=r"reward must be one of \('sampled', 'expected'\), got 'drawn'"):
        pp.rollout_q(CFG, params, h, 0, key, 15, 10, 4, IPD, reward="drawn")
    with pytest.raises(ValueError, match=r"reward must be one of \('sampled', 'expected'\), got None"):
        pp.PPIAgent(CFG, 1.0, 8, 15, "sum", 1.0, 40, IPD, reward=None)
    with pytest.raises(ValueError, match=r"payoffs must be a game or the learner's \(2, 2\) payoff table"):
        policy(payoffs=np.zeros(4))
    with pytest.raises(TypeError, match="key must be a single JAX PRNG key"):
        policy(key=0)
    with pytest.raises(ValueError, match="first_action must hold only 0 or 1"):
        pp.rollout_q(CFG, params, h, 2, key, 15, 10, 4, IPD)
    with pytest.raises(ValueError, match="params do not match config.hidden = 32"):
        pp.model_state_after(wm.WorldModelConfig(32, 8), params, start_prefix(2))
    with pytest.raises(TypeError, match="tokens_prefix must be a Tokens"):
        pp.model_state_after(CFG, params, (1, 2, 3))
    bad = start_prefix(2)
    with pytest.raises(ValueError, match=r"tokens_prefix.obs\[:, 0\] must be Start"):
        pp.model_state_after(CFG, params, bad._replace(obs=bad.obs + 1))
    with pytest.raises(ValueError, match=r"tokens_prefix.rewards must have shape \(2, 1\)"):
        pp.model_state_after(CFG, params, bad._replace(rewards=jnp.zeros((2, 2))))
    with pytest.raises(ValueError, match=r"tokens.obs\[:, 1:\] must be outcomes"):
        pp.model_state_after(CFG, params, mutual_cooperation_prefix(2, 2)._replace(obs=jnp.zeros((2, 3), jnp.int32)))
