"""A2C pieces against reference loops, the generic learner/pool config, and a tiny training run."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl.engines.a2c import engine as a2c
from ismarl.engines.a2c.config import A2CConfig
from ismarl.engines.experiment import (CONFIG_FORMAT, HASHED, ExperimentConfig, NetworkConfig, RunOptions, apply_overrides,
                                       from_dict)
from ismarl.engines.schedule import Schedule
from ismarl.engines.seeds import map_replicas, seed_keys
from ismarl.experiments.presets import get_config


def advantages_by_definition(r, v, gamma, lam):
    """A_t = sum_k (gamma lam)^k delta_{t+k}, delta_t = r_t + gamma V_{t+1} - V_t, V_T = 0: an explicit
    double loop over the definition, not the backward recursion the engine uses."""
    T = len(r)
    v_ext = np.append(np.asarray(v, np.float64), 0.0)
    delta = [r[t] + gamma * v_ext[t + 1] - v_ext[t] for t in range(T)]
    adv = np.zeros(T)
    for t in range(T):
        for k in range(T - t):
            adv[t] += (gamma * lam) ** k * delta[t + k]
    return adv


def lambda_return_by_definition(r, v, gamma, lam):
    """The forward-view lambda-return: a (1 - lam) lam^(n-1)-weighted mix of the n-step returns
    G_t^(n) = sum_{k<n} gamma^k r_{t+k} + gamma^n V_{t+n}, the Monte Carlo return taking the remaining
    weight lam^(N-1) (N = T - t steps left, V_T = 0)."""
    T = len(r)
    v_ext = np.append(np.asarray(v, np.float64), 0.0)
    out = np.zeros(T)
    for t in range(T):
        N = T - t
        n_step = [sum(gamma**k * r[t + k] for k in range(n)) + gamma**n * v_ext[t + n] for n in range(1, N + 1)]
        weights = [(1 - lam) * lam ** (n - 1) for n in range(1, N)] + [lam ** (N - 1)]
        assert sum(weights) == pytest.approx(1.0)
        out[t] = sum(w * g for w, g in zip(weights, n_step))
    return out


# a 3-step example worked by hand: gamma = 1/2, so every number below is exact in binary
R3, V3, GAMMA3 = np.array([1.0, 0.0, 2.0]), np.array([0.5, 1.0, -1.0]), 0.5
# delta = r + gamma V_next - V = [1 + 0.5 - 0.5, 0 - 0.5 - 1, 2 + 0 + 1] = [1, -1.5, 3]
# discounted returns G = [1 + 0.25 * 2, 0.5 * 2, 2] = [1.5, 1, 2]; one-step targets r + gamma V_next = [1.5, -0.5, 2]
HAND = {
    # lam: (advantages, TD(lam) targets)
    0.0: ([1.0, -1.5, 3.0], [1.5, -0.5, 2.0]),  # one-step TD: A = delta, target = r + gamma V_next
    1.0: ([1.0, 0.0, 3.0], [1.5, 1.0, 2.0]),  # Monte Carlo: target = G, A = G - V
    0.5: ([0.8125, -0.75, 3.0], [1.3125, 0.25, 2.0]),  # gamma lam = 1/4: A_1 = -1.5 + 3/4, A_0 = 1 - 3/16
}


@pytest.mark.parametrize("lam", sorted(HAND))
def test_gae_and_td_lambda_on_a_three_step_example_by_hand(lam):
    want_adv, want_ret = HAND[lam]
    adv, ret = a2c.gae_and_targets(jnp.asarray(R3)[:, None], jnp.asarray(V3)[:, None], GAMMA3, lam, lam)
    np.testing.assert_allclose(np.asarray(adv)[:, 0], want_adv, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ret)[:, 0], want_ret, rtol=0, atol=1e-6)
    # the references agree with the hand computation too
    np.testing.assert_allclose(advantages_by_definition(R3, V3, GAMMA3, lam), want_adv, atol=1e-12)
    np.testing.assert_allclose(lambda_return_by_definition(R3, V3, GAMMA3, lam), want_ret, atol=1e-12)


@pytest.mark.parametrize("gamma,lam_gae,lam_td", [(0.99, 0.95, 0.95), (0.99, 1.0, 1.0), (0.9, 0.5, 0.0), (0.8, 0.0, 0.7)])
def test_gae_and_td_lambda_match_their_definitions(gamma, lam_gae, lam_td):
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    adv, ret = a2c.gae_and_targets(jnp.asarray(r), jnp.asarray(v), gamma, lam_gae, lam_td)
    adv, ret = np.asarray(adv), np.asarray(ret)
    for n in range(4):
        np.testing.assert_allclose(adv[:, n], advantages_by_definition(r[:, n], v[:, n], gamma, lam_gae), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ret[:, n], lambda_return_by_definition(r[:, n], v[:, n], gamma, lam_td), rtol=1e-4, atol=1e-4)
        disc = np.array([sum(gamma**k * r[t + k, n] for k in range(30 - t)) for t in range(30)])
        one_step = r[:, n] + gamma * np.append(v[1:, n], 0.0)
        if lam_gae == 1.0:  # advantage = discounted Monte Carlo return minus the value
            np.testing.assert_allclose(adv[:, n], disc - v[:, n], rtol=1e-4, atol=1e-4)
        if lam_gae == 0.0:  # advantage = one-step TD error
            np.testing.assert_allclose(adv[:, n], one_step - v[:, n], rtol=1e-4, atol=1e-4)
        if lam_td == 1.0:  # the TD(1) target is the discounted Monte Carlo return
            np.testing.assert_allclose(ret[:, n], disc, rtol=1e-4, atol=1e-4)
        if lam_td == 0.0:  # the TD(0) target bootstraps after one step
            np.testing.assert_allclose(ret[:, n], one_step, rtol=1e-4, atol=1e-4)
        if lam_gae == lam_td:  # GAE(lam) + V is the lambda-return
            np.testing.assert_allclose(adv[:, n] + v[:, n], ret[:, n], rtol=1e-4, atol=1e-4)


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
        batch_size=8, iterations=2, network=NetworkConfig(8, 4, use_z=kw.pop("use_z", False)), horizon=6,
        run=RunOptions(chunk=1, checkpoint_every=1, probe_every=0), **kw)


def test_matches_play_learner_pairings_once():
    matches = a2c.build_matches(step4_like())
    assert [(m.learner, m.coplayer, m.episodes) for m in matches] == [(0, "learner:1", 4), (0, "random", 4), (1, "tft", 4)]
    with pytest.raises(ValueError, match=r"pool of learner 0 names 'frozen:0', but 0 frozen run\(s\) are given"):
        a2c.build_matches(ExperimentConfig(name="x", pools=((("frozen:0", 1.0),),), batch_size=4, iterations=1))
    with pytest.raises(ValueError, match=r"pool of learner 0 names 'learner:0', but the learners are \[0\] and a learner cannot play itself"):
        a2c.build_matches(ExperimentConfig(name="x", pools=((("learner:0", 1.0),),), batch_size=4, iterations=1))


def test_two_learners_update_simultaneously():
    cfg = step4_like(use_z=True)  # the opponent-ID ablation's network
    state = a2c.init_state(cfg, 0)
    it = jax.jit(a2c.make_iteration(cfg))
    new, metrics = it(state, seed_keys(0)[1], ())
    assert int(new.iteration) == 1
    changed = jax.tree_util.tree_map(lambda a, b: np.abs(np.asarray(a - b)).max(axis=tuple(range(1, a.ndim))), new.params, state.params)
    assert all(np.all(x > 0) for x in jax.tree_util.tree_leaves(changed))  # both learners moved
    assert set(metrics.matches) == {"learner:0_vs_learner:1", "learner:0_vs_random", "learner:1_vs_tft"}
    assert metrics.scalars["entropy_coef"] == pytest.approx(float(cfg.a2c.entropy_coef(0)))
    assert metrics.learners["grad_norm"].shape == (2,)


def test_presets_and_overrides():
    paper = get_config("step1", "paper")
    assert (paper.batch_size, paper.iterations, paper.network.hidden) == (2048, 50_000, 128)
    assert paper.a2c == A2CConfig(learning_rate=5e-3, gae_lambda=0.99, td_lambda=0.99, entropy_coef=0.001, reward_scale=0.2)
    cfg = apply_overrides(get_config("step1", "fast"), ["a2c.entropy_coef=0.1", "network.hidden=4", "batch_size=16"])
    assert (cfg.a2c.entropy_coef, cfg.network.hidden, cfg.batch_size) == (Schedule(0.1), 4, 16)
    assert cfg.hash() != get_config("step1", "fast").hash()
    with pytest.raises(ValueError, match="unknown field 'entropy'"):
        apply_overrides(cfg, ["a2c.entropy=0.1"])


def test_a_whole_number_for_a_real_field_keeps_the_config_hash():
    """``--set ppi.beta=100`` is the preset's 100.0 (same config, same hash, so ``--resume`` accepts
    it); an integer field stays an integer and a schedule of reals takes a whole number as real."""
    ppi = get_config("ppi_step4", "cpu")
    for text in ("100", "100.0", "1e2"):
        same = apply_overrides(ppi, [f"ppi.beta={text}"])
        assert type(same.ppi.beta) is float and same.hash() == ppi.hash()
    assert apply_overrides(ppi, [f"ppi.k={ppi.ppi.k}"]).hash() == ppi.hash()
    step1 = get_config("step1", "fast")
    one = apply_overrides(step1, ["a2c.learning_rate=1"])
    assert one.a2c.learning_rate == Schedule(1.0) and type(one.a2c.learning_rate.start) is float
    assert apply_overrides(step1, ["network.hidden=8"]).network.hidden == 8


def test_a_schedule_holds_then_falls_linearly():
    """``start`` until ``begin``, then linear to ``end`` over ``steps`` iterations, then ``end``; a
    number is a constant schedule, and so is one without an end."""
    schedule = Schedule(0.01, end=0.002, steps=100, begin=150)
    ts = np.array([0, 100, 150, 200, 250, 1000])
    np.testing.assert_allclose([float(schedule(t)) for t in ts], [0.01, 0.01, 0.01, 0.006, 0.002, 0.002], rtol=1e-6)
    assert float(Schedule(0.01, steps=100)(500)) == pytest.approx(0.01) and Schedule.of(0.5) == Schedule(0.5)
    assert schedule.words() == "0.01 until iteration 150, then linearly down to 0.002 by 250"
    assert Schedule(0.1, 0.003, 1000).words() == "0.1, linearly down to 0.003 by 1000"
    assert Schedule(3e-4).words() == "0.0003 throughout" and schedule.short() == "0.01→0.002/100 from 150"
    assert A2CConfig(entropy_coef={"start": 0.1, "end": 0.003, "steps": 1000}).entropy_coef == Schedule(0.1, 0.003, 1000)
    with pytest.raises(ValueError, match=r"a2c.entropy_coef.begin must be an integer >= 0, got -1"):
        A2CConfig(entropy_coef={"start": 0.1, "end": 0.003, "steps": 10, "begin": -1})
    with pytest.raises(ValueError, match=r"a2c.learning_rate must be a number or \{"):
        A2CConfig(learning_rate={"begin": 3})
    with pytest.raises(TypeError, match="a2c.entropy_coef must be a number or a schedule"):
        A2CConfig(entropy_coef="0.1")


def test_learning_rate_schedule_with_a_delayed_start():
    """The step size stays at its start until ``begin``, then decays linearly to ``end``: with a
    constant gradient Adam's step is the learning rate itself."""
    cfg = A2CConfig(learning_rate=Schedule(1e-2, end=2e-3, steps=4, begin=3), adam_eps=0.0)
    opt = a2c.make_optimizer(cfg)
    params = {"w": jnp.zeros(())}
    state = opt.init(params)
    steps = []
    for _ in range(9):
        upd, state = opt.update({"w": jnp.ones(())}, state, params)
        steps.append(-float(upd["w"]))
    np.testing.assert_allclose(steps, [1e-2, 1e-2, 1e-2, 1e-2, 8e-3, 6e-3, 4e-3, 2e-3, 2e-3], rtol=1e-5)


def test_the_hash_covers_what_changes_training_and_nothing_else():
    """Every hashed field changes the hash; the run options, the name and the length do not (a
    finished run can be extended); the format version is part of it."""
    base = get_config("step4", "cpu")
    changed = {"engine": None, "game": "classic_pd", "horizon": 50, "pools": ((("random", 1.0),), (("tft", 1.0),)),
               "batch_size": 128, "network": NetworkConfig(16, 8), "a2c": dataclasses.replace(base.a2c, gamma=0.9),
               "frozen": ("step1",), "init_from": ("runs/a", "runs/a"), "init_seed_offset": (0, 2),
               "init_seeds": None, "init_iteration": 250}
    assert set(changed) == set(HASHED)
    for field, value in changed.items():
        if value is not None:
            assert base.replace(**{field: value}).hash() != base.hash(), field
    assert base.replace(init_seed_offset=(), init_seeds=((0, 1), (1, 0))).hash() != base.hash()
    same = [base.replace(name="other"), base.replace(iterations=9000), base.with_run(chunk=25, probe_every=0)]
    assert all(c.hash() == base.hash() for c in same)
    assert base.to_dict()["config_format"] == CONFIG_FORMAT == 2
    assert from_dict(base.to_dict()) == base


def test_a_format_1_config_reads_as_format_2():
    """Configs written before the format had a version (the shipped runs') read as the same
    experiment: flat schedule fields become schedules, top-level run options a run section."""
    old = {"name": "s", "pools": [[["random", 1.0]]], "batch_size": 8, "iterations": 4,
           "network": {"hidden": 8, "embed": 4, "use_z": False},
           "a2c": {**{k: v for k, v in dataclasses.asdict(A2CConfig()).items() if k not in ("learning_rate", "entropy_coef")},
                   "learning_rate": 3e-4, "learning_rate_end": 3e-5, "lr_decay_iterations": 1000, "lr_decay_start": 1500,
                   "entropy_coef": 0.1, "entropy_coef_end": 0.003, "entropy_decay_iterations": 1000},
           "horizon": 100, "frozen": ["results/step1"], "init_from": [], "init_seed_offset": [], "init_seeds": [],
           "init_iteration": 0, "chunk": 2, "checkpoint_every": 4, "probe_every": 0, "snapshot_every": 0,
           "probe_episodes": 8, "probes": ["tft"]}
    cfg = from_dict(old)
    assert cfg.a2c.learning_rate == Schedule(3e-4, 3e-5, 1000, 1500) and cfg.a2c.entropy_coef == Schedule(0.1, 0.003, 1000)
    assert cfg.run == RunOptions(chunk=2, checkpoint_every=4, probe_every=0, probe_episodes=8, probes=("tft",))
    assert (cfg.game, cfg.engine, cfg.frozen) == ("ipd", "a2c", ("results/step1",))
    with pytest.raises(ValueError, match="config_format 3 is not one this version of ismarl reads"):
        from_dict({**cfg.to_dict(), "config_format": 3})


def test_a_run_option_set_at_the_top_level_is_named():
    with pytest.raises(ValueError, match="'chunk' is a run option; use --set run.chunk=5"):
        apply_overrides(get_config("step1", "fast"), ["chunk=5"])
    cfg = apply_overrides(get_config("step1", "fast"), ["a2c.learning_rate.end=1e-4", "a2c.learning_rate.steps=10"])
    assert cfg.a2c.learning_rate == Schedule(3e-3, 1e-4, 10)
    assert apply_overrides(cfg, ["a2c.learning_rate=0.01"]).a2c.learning_rate == Schedule(0.01)



def test_map_replicas_runs_one_replica_at_a_time_on_the_cpu_with_vmaps_values():
    f = lambda a, b: (jnp.tanh(a @ b), a.sum())  # noqa: E731
    a = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 5))
    b = jax.random.normal(jax.random.PRNGKey(1), (3, 5, 2))
    got, want = jax.jit(map_replicas(f))(a, b), jax.vmap(f)(a, b)
    for x, y in zip(got, want):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    assert jax.default_backend() != "cpu" or "scan" in str(jax.make_jaxpr(map_replicas(f))(a, b))
