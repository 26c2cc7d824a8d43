"""A2C pieces against reference loops, the generic learner/pool config, and a tiny training run."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl.train import a2c
from ismarl.train.configs import A2CConfig, ExperimentConfig, NetworkConfig, apply_overrides, get_config


def reference_gae(r, v, gamma, lam_gae, lam_td):
    T = len(r)
    adv, ret = np.zeros(T), np.zeros(T)
    next_adv = next_ret = 0.0
    for t in reversed(range(T)):
        v_next = v[t + 1] if t + 1 < T else 0.0
        delta = r[t] + gamma * v_next - v[t]
        next_adv = delta + gamma * lam_gae * next_adv
        next_ret = r[t] + gamma * ((1 - lam_gae * 0 - lam_td) * v_next + lam_td * next_ret)
        adv[t], ret[t] = next_adv, next_ret
    return adv, ret


@pytest.mark.parametrize("gamma,lam_gae,lam_td", [(0.99, 0.95, 0.95), (0.99, 1.0, 1.0), (0.9, 0.5, 0.0)])
def test_gae_and_td_lambda_match_reference_loop(gamma, lam_gae, lam_td):
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    adv, ret = a2c.gae_and_targets(jnp.asarray(r), jnp.asarray(v), gamma, lam_gae, lam_td)
    for n in range(4):
        ref_adv, ref_ret = reference_gae(r[:, n], v[:, n], gamma, lam_gae, lam_td)
        np.testing.assert_allclose(adv[:, n], ref_adv, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ret[:, n], ref_ret, rtol=1e-4, atol=1e-4)
    # with lambda = 1 the TD(lambda) target is the discounted return; with lambda_td = 0 it is TD(0)
    if lam_td == 1.0:
        disc = np.array([sum(gamma**k * r[t + k, 0] for k in range(30 - t)) for t in range(30)])
        np.testing.assert_allclose(ret[:, 0], disc, rtol=1e-4, atol=1e-4)


def test_advantage_normalization_per_coplayer():
    adv = jnp.asarray(np.random.default_rng(1).normal(size=(5, 10)) + np.r_[np.zeros(4), 3 * np.ones(6)])
    out = a2c.normalize_advantages(adv, ((0, 4), (4, 10)), "center", True)
    assert abs(float(out[:, :4].mean())) < 1e-5 and abs(float(out[:, 4:].mean())) < 1e-5
    out = a2c.normalize_advantages(adv, ((0, 4), (4, 10)), "standardize", True)
    assert float(out[:, 4:].std()) == pytest.approx(1.0, abs=1e-4)
    out = a2c.normalize_advantages(adv, ((0, 4), (4, 10)), "center", False)
    assert abs(float(out.mean())) < 1e-5 and abs(float(out[:, 4:].mean())) > 0.5


def step4_like(**kw):
    return ExperimentConfig(
        name="mixed", pools=((("learner:1", 0.5), ("random", 0.5)), (("learner:0", 0.5), ("tft", 0.5))),
        batch_size=8, iterations=2, network=NetworkConfig(8, 4, use_z=kw.pop("use_z", False)), horizon=6, chunk=1,
        checkpoint_every=1, probe_every=0, **kw)


def test_matches_play_learner_pairings_once():
    matches = a2c.build_matches(step4_like())
    assert [(m.learner, m.coplayer, m.episodes) for m in matches] == [(0, "learner:1", 4), (0, "random", 4), (1, "tft", 4)]
    with pytest.raises(ValueError, match="frozen"):
        a2c.build_matches(ExperimentConfig(name="x", pools=((("frozen:0", 1.0),),), batch_size=4, iterations=1))
    with pytest.raises(ValueError, match="own co-player"):
        a2c.build_matches(ExperimentConfig(name="x", pools=((("learner:0", 1.0),),), batch_size=4, iterations=1))


def test_two_learners_update_simultaneously():
    cfg = step4_like(use_z=True)  # the opponent-ID ablation's network
    state = a2c.init_state(cfg, 0)
    it = jax.jit(a2c.make_iteration(cfg))
    new, metrics = it(state, a2c.seed_keys(0)[1], ())
    assert int(new.iteration) == 1
    changed = jax.tree_util.tree_map(lambda a, b: np.abs(np.asarray(a - b)).max(axis=tuple(range(1, a.ndim))), new.params, state.params)
    assert all(np.all(x > 0) for x in jax.tree_util.tree_leaves(changed))  # both learners moved
    assert set(metrics) >= {"learner:0_vs_learner:1", "learner:0_vs_random", "learner:1_vs_tft", "learners"}
    assert metrics["learners"]["grad_norm"].shape == (2,)


def test_presets_and_overrides():
    paper = get_config("step1", "paper")
    assert (paper.batch_size, paper.iterations, paper.network.hidden) == (2048, 50_000, 128)
    assert paper.a2c == A2CConfig(learning_rate=5e-3, gae_lambda=0.99, td_lambda=0.99, entropy_coef=0.001, reward_scale=0.2)
    cfg = apply_overrides(get_config("step1", "fast"), ["a2c.entropy_coef=0.1", "network.hidden=4", "batch_size=16"])
    assert (cfg.a2c.entropy_coef, cfg.network.hidden, cfg.batch_size) == (0.1, 4, 16)
    assert cfg.hash() != get_config("step1", "fast").hash()
    with pytest.raises(ValueError, match="unknown field"):
        apply_overrides(cfg, ["a2c.entropy=0.1"])


def test_entropy_schedule_with_a_delayed_start():
    """The bonus stays at its start value until ``entropy_decay_start``, then decays linearly; the
    delay's default stays out of the config hash (runs made before it keep their hash)."""
    ts = np.array([0, 100, 150, 200, 250, 1000])
    got = np.array([float(a2c.linear_schedule(0.01, 0.002, 100, t, 150)) for t in ts])
    np.testing.assert_allclose(got, [0.01, 0.01, 0.01, 0.006, 0.002, 0.002], rtol=1e-6)
    np.testing.assert_allclose(float(a2c.linear_schedule(0.01, None, 100, 500, 150)), 0.01)
    base = get_config("step4", "fast")
    assert base.replace(a2c=dataclasses.replace(base.a2c, entropy_decay_start=0)).hash() == base.hash()
    assert base.replace(a2c=dataclasses.replace(base.a2c, entropy_decay_start=5)).hash() != base.hash()
    with pytest.raises(ValueError, match="entropy_decay_start"):
        A2CConfig(entropy_decay_start=-1)


def test_learning_rate_schedule_with_a_delayed_start():
    """The step size stays at ``learning_rate`` until ``lr_decay_start``, then decays linearly to
    ``learning_rate_end``: with a constant gradient Adam's step is the learning rate itself."""
    import jax.numpy as jnp

    cfg = A2CConfig(learning_rate=1e-2, learning_rate_end=2e-3, lr_decay_iterations=4, lr_decay_start=3, adam_eps=0.0)
    opt = a2c.make_optimizer(cfg)
    params = {"w": jnp.zeros(())}
    state = opt.init(params)
    steps = []
    for _ in range(9):
        upd, state = opt.update({"w": jnp.ones(())}, state, params)
        steps.append(-float(upd["w"]))
    np.testing.assert_allclose(steps, [1e-2, 1e-2, 1e-2, 1e-2, 8e-3, 6e-3, 4e-3, 2e-3, 2e-3], rtol=1e-5)
    base = get_config("step4", "fast")
    assert base.replace(a2c=dataclasses.replace(base.a2c, lr_decay_start=0)).hash() == base.hash()
    assert base.replace(a2c=dataclasses.replace(base.a2c, lr_decay_start=5)).hash() != base.hash()
    with pytest.raises(ValueError, match="lr_decay_start"):
        A2CConfig(lr_decay_start=-1)
