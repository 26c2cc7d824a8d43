"""The PPI engine (ismarl.engines.ppi): PPI as a player round by round (the same decision as the
batch functions of ismarl.agents.ppi_policy), the compact dataset, the phase loop, resume, the
engine's place in the run layer (evaluate plays the deployed π) and its config errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ismarl import games, strategies
from ismarl.agents import ppi_policy as pp
from ismarl.agents import world_model as wm
from ismarl.agents.match import play_match
from ismarl.agents.network import NetworkConfig
from ismarl.agents.players import agent_player, ppi_player, tabular_player
from ismarl.engines import engine_for
from ismarl.engines.experiment import HASHED, ExperimentConfig, RunOptions, apply_overrides, from_dict
from ismarl.engines.ppi import engine as ppi
from ismarl.engines.ppi.config import PPIConfig
from ismarl.protocol import ROUNDS_40_60
from ismarl.runs import checkpoint
from ismarl.runs.evaluate import evaluate_run, play_learner
from ismarl.runs.train import make_probe, train
from ismarl.sim.core import make_params
from ismarl.sim.simulate import play

IPD = games.ipd()


def tiny(**kw) -> ExperimentConfig:
    base = dict(name="ppi_tiny", engine="ppi", pools=((("random", 1.0),),), batch_size=8, iterations=2,
                network=NetworkConfig(hidden=8, embed=4), horizon=12,
                ppi=PPIConfig(pretrain_episodes=32, epochs=1.0, fit_batch=8, learning_rate=3e-3, k=2,
                              rollout_horizon=4, heldout_episodes=8),
                run=RunOptions(chunk=1, checkpoint_every=1, probe_every=0, probe_episodes=8))
    base.update(kw)
    return ExperimentConfig(**base)


@pytest.fixture(scope="module")
def one_phase(tmp_path_factory):
    """A tiny PPI run of one phase, seeds 0 and 1, with snapshots, shared by the tests that read a run."""
    cfg = tiny(iterations=1, run=RunOptions(chunk=1, checkpoint_every=1, probe_every=0, snapshot_every=1))
    out = tmp_path_factory.mktemp("ppi") / "run"
    train(cfg, [0, 1], out, progress=False, log=lambda *a: None)
    return cfg, out


# 1. the compact dataset ---------------------------------------------------------------------------
def test_outcome_codes_give_back_the_tokens():
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    actions, rewards = play(strategies.sample_uniform(k1, (50,)), strategies.sample_uniform(k2, (50,)), IPD, 30, 50, k3)
    codes = wm.outcome_codes(actions)
    assert codes.dtype == jnp.uint8 and codes.shape == (50, 30) and int(codes.max()) <= 3
    for t in (30, 29, 1):  # any length packs and unpacks exactly
        packed = wm.pack_codes(codes[:, :t])
        assert packed.dtype == jnp.uint8 and packed.shape == (50, -(-t // 4))
        np.testing.assert_array_equal(np.asarray(wm.unpack_codes(packed, t)), np.asarray(codes[:, :t]))
    back = wm.codes_tokens(codes, pp.own_payoffs(IPD))
    want = wm.episode_tokens(actions, rewards)
    for a, b in zip(back, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


# 2. PPI as a player: the same decision as the batch functions -------------------------------------
def test_agent_step_is_improved_policy_at_the_history():
    cfg = wm.WorldModelConfig(hidden=8, embed=4)
    params = cfg.init(jax.random.PRNGKey(1))
    agent = pp.PPIAgent(world=cfg, beta=3.0, k=4, horizon=5, q="mean", discount=0.9, episode_horizon=10, payoffs=IPD)
    n = 6
    traj = play_match(jax.random.PRNGKey(2), ppi_player(agent, params, jax.random.PRNGKey(3)),
                      tabular_player(strategies.sample_uniform(jax.random.PRNGKey(4), (n,))), n,
                      make_params(IPD, horizon=10, dtype=jnp.float32))
    # replay round t's decision with the batch functions on the history so far and the same key
    both = jnp.stack([traj.actions[0].T, traj.actions[1].T], axis=-1)
    tokens = wm.episode_tokens(both, jnp.stack([traj.rewards[0].T, traj.rewards[1].T], axis=-1))
    key = jax.random.PRNGKey(3)
    for t in range(10):
        key, sub = jax.random.split(key)
        h = pp.model_state_after(cfg, params, wm.Tokens(tokens.obs[:, :t + 1], tokens.rewards[:, :t + 1], tokens.actions[:, :t]))
        _, _, pi = pp.improved_policy(cfg, params, h, sub, 3.0, 5, 10 - t, 4, IPD, q="mean", discount=0.9)
        np.testing.assert_allclose(np.asarray(traj.p_coop[0, t]), np.asarray(pi[:, 0]), atol=2e-5)


def test_beta_zero_plays_the_prior():
    cfg = wm.WorldModelConfig(hidden=8, embed=4)
    params = cfg.init(jax.random.PRNGKey(1))
    agent = pp.PPIAgent(world=cfg, beta=0.0, k=4, horizon=5, q="sum", discount=1.0, episode_horizon=6, payoffs=IPD)
    traj = play_match(jax.random.PRNGKey(2), ppi_player(agent, params, jax.random.PRNGKey(3)),
                      tabular_player(jnp.full((4, 5), 0.5)), 4, make_params(IPD, horizon=6, dtype=jnp.float32))
    both = jnp.stack([traj.actions[0].T, traj.actions[1].T], axis=-1)
    tokens = wm.episode_tokens(both, jnp.stack([traj.rewards[0].T, traj.rewards[1].T], axis=-1))
    prior = jax.nn.softmax(wm.model_outputs(cfg, params, tokens).action_logits, axis=-1)[..., 0]  # (N, T)
    np.testing.assert_allclose(np.asarray(traj.p_coop[0]).T, np.asarray(prior), atol=2e-5)


def test_ppi_agent_errors():
    cfg = wm.WorldModelConfig(hidden=8, embed=4)
    good = dict(world=cfg, beta=1.0, k=2, horizon=3, q="sum", discount=1.0, episode_horizon=5, payoffs=IPD)
    with pytest.raises(ValueError, match="q must be one of"):
        pp.PPIAgent(**{**good, "q": "median"})
    with pytest.raises(ValueError, match="discount must be"):
        pp.PPIAgent(**{**good, "discount": 1.5})
    with pytest.raises(TypeError, match="world must be a WorldModelConfig"):
        pp.PPIAgent(**{**good, "world": NetworkConfig()})
    with pytest.raises(ValueError, match="a PPI player needs a key"):
        agent_player(pp.PPIAgent(**good), cfg.init(jax.random.PRNGKey(0)))
    with pytest.raises(TypeError, match="agent must be a NetworkConfig or a PPIAgent"):
        agent_player("gru", {})


# 3. the phase loop --------------------------------------------------------------------------------
def test_d0_kinds():
    cfg = tiny(horizon=60)
    tab, _ = ppi.pretrain_games(cfg, jax.random.PRNGKey(0), 400)
    coin, _ = ppi.pretrain_games(cfg, jax.random.PRNGKey(0), 400, "random_actions")
    assert tab.shape == coin.shape == (400, 60)
    own = np.asarray(coin) // 2
    assert abs(own.mean() - 0.5) < 0.02  # fair coins
    # tabular agents are memory-1 with heterogeneous strategies: per-episode rates spread far more
    spread = lambda c: np.std((np.asarray(c) // 2).mean(axis=1))
    assert spread(tab) > 2 * spread(coin)


def test_state_holds_d0_then_each_phase_appends_the_learners_episodes():
    cfg = tiny(pools=((("learner:1", 0.5), ("random", 0.5)), (("learner:0", 0.5), ("tft", 0.5))))
    state = jax.tree_util.tree_map(lambda x: x[None], ppi.init_state(cfg, 0))
    assert state.data.shape == (1, 2, ppi.capacity(cfg), 3) and state.data.dtype == jnp.uint8  # 12 rounds in 3 bytes
    assert int(state.count[0]) == 32
    chunk = ppi.make_chunk(cfg, 1)
    new, metrics = chunk(state, jnp.stack([jax.random.PRNGKey(9)]), ())
    assert int(new.count[0]) == 40
    np.testing.assert_array_equal(np.asarray(new.data[0, :, :32]), np.asarray(state.data[0, :, :32]))
    added = np.asarray(wm.unpack_codes(new.data[0, :, 32:40], 12))  # (learners, 8, T): 4 against each other, then 4 others
    # the shared match is stored from both sides: learner 1's codes are learner 0's with roles swapped
    swap = {0: 0, 1: 2, 2: 1, 3: 3}
    np.testing.assert_array_equal(np.vectorize(swap.get)(added[0, :4]), added[1, :4])
    # against TFT the co-player's move repeats the learner's previous one
    tft_rounds = added[1, 4:]
    np.testing.assert_array_equal(tft_rounds[:, 1:] % 2, tft_rounds[:, :-1] // 2)
    assert set(metrics.matches) == {"learner:0_vs_learner:1", "learner:0_vs_random", "learner:1_vs_tft"}
    gap = np.asarray(metrics.learners["inference_gap"])
    assert gap.shape == (1, 1, 2) and np.all(np.isfinite(gap))
    assert float(metrics.scalars["fit_steps"][0, 0]) == 4.0  # ceil(1 epoch * 32 / 8)


def test_fit_steps_follow_epochs_and_cap():
    cfg = tiny(ppi=PPIConfig(pretrain_episodes=32, epochs=2.5, fit_batch=10, max_fit_steps=0))
    assert int(ppi.fit_steps(cfg, 32)) == 8
    cfg = tiny(ppi=PPIConfig(pretrain_episodes=32, epochs=2.5, fit_batch=10, max_fit_steps=5))
    assert int(ppi.fit_steps(cfg, 32)) == 5
    warm = tiny(ppi=PPIConfig(pretrain_episodes=32, epochs=2.5, fit_batch=10, reinit=False, finetune_steps=3))
    assert [int(ppi.fit_steps(warm, 32, it)) for it in (0, 1, 5)] == [8, 3, 3]


def test_resume_and_extension_repeat_an_uninterrupted_run(tmp_path):
    """An interrupted run resumed, and a finished one-phase run continued to three phases
    (``--resume --iterations 3``: its dataset grows to hold the new phases), both end exactly as
    the run trained for three phases at once."""
    cfg = tiny(iterations=3)
    whole = train(cfg, [0, 1], tmp_path / "whole", progress=False, log=lambda *a: None)
    train(cfg, [0, 1], tmp_path / "part", progress=False, stop_at=1, log=lambda *a: None)
    assert checkpoint.read_sidecar(tmp_path / "part")["iteration"] == 1
    resumed = train(cfg, [0, 1], tmp_path / "part", resume=True, progress=False, log=lambda *a: None)
    short = train(cfg.replace(iterations=1), [0, 1], tmp_path / "short", progress=False, log=lambda *a: None)
    assert short.data.shape[2] == ppi.capacity(cfg.replace(iterations=1)) < ppi.capacity(cfg)
    extended = train(cfg, [0, 1], tmp_path / "short", resume=True, progress=False, log=lambda *a: None)
    lines = lambda d: [ln for ln in (d / "metrics.jsonl").read_text().splitlines()]
    strip = lambda ln: {k: v for k, v in json.loads(ln).items() if k != "wall_s"}
    for run, states in [("part", resumed), ("short", extended)]:
        for a, b in zip(jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(states)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert [strip(x) for x in lines(tmp_path / "whole")] == [strip(x) for x in lines(tmp_path / run)]


def test_evaluate_plays_the_deployed_improved_policy(one_phase):
    cfg, run = one_phase
    result = evaluate_run(run, ["tft"], episodes=6)
    from ismarl.runs.store import load_run
    rcfg, _, params, _ = load_run(run)
    assert engine_for(rcfg).agent(rcfg).beta == cfg.ppi.beta
    p = jax.tree_util.tree_map(lambda x: x[0, 0], params)
    traj, _ = play_learner(rcfg, p, "tft", 6, jax.random.fold_in(jax.random.PRNGKey(12345), 0))
    assert result["coplayers"]["tft"]["per_seed"][0]["learner"]["coop"] == pytest.approx(
        float(1 - np.asarray(traj.actions[0]).mean()))
    # learner-vs-learner evaluation across two PPI runs works too
    both = evaluate_run(run, [], episodes=4, coplayer_run=run)
    assert len(both["coplayers"]) == 1


def test_probes_play_every_seed_as_it_would_alone():
    """The training probes play all seeds in one program; each seed's line is what playing its
    learner 0 alone against each probe co-player gives (the probes' fixed dice)."""
    cfg = tiny(horizon=60, run=RunOptions(chunk=1, checkpoint_every=1, probe_every=1, probe_episodes=6,
                                          probes=("tft", "random")))
    keys = jax.random.split(jax.random.PRNGKey(3), 6)
    params = jax.vmap(lambda k: ppi.init_params(cfg, k))(keys)
    params = jax.tree_util.tree_map(lambda x: x.reshape((3, 2) + x.shape[1:]), params)  # 3 seeds, 2 learners
    lines = make_probe(cfg)(ppi.PPIState(params=params, data=None, count=None, iteration=None), [4, 5, 6], 3)
    assert [(ln["kind"], ln["iteration"], ln["seed"]) for ln in lines] == [("probe", 3, s) for s in (4, 5, 6)]
    for si, line in enumerate(lines):
        assert list(line["probe"]) == ["tft", "random"]
        for j, spec in enumerate(("tft", "random")):
            p = jax.tree_util.tree_map(lambda x: x[si, 0], params)
            traj, _ = play_learner(cfg, p, spec, 6, jax.random.fold_in(jax.random.PRNGKey(777), j))
            coop = 1.0 - np.asarray(traj.actions[0], np.float64)
            assert line["probe"][spec] == pytest.approx({"reward": float(np.asarray(traj.rewards[0]).mean()),
                                                         "coop": coop.mean(), ROUNDS_40_60.key: coop[ROUNDS_40_60.slice].mean()},
                                                        abs=1e-4)

# 4. config errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("assignment, message", [
    ("ppi.q=\"median\"", "ppi.q must be 'mean' or 'sum'"),
    ("ppi.collect=\"greedy\"", "ppi.collect must be one of"),
    ("ppi.pretrain=\"humans\"", "ppi.pretrain must be one of"),
    ("ppi.k=0", "ppi.k must be"),
    ("ppi.discount=2", "ppi.discount must be"),
    ("ppi.rollout_reward=\"mean\"", r"ppi.rollout_reward must be one of \('sampled', 'expected'\), got 'mean'"),
    ("ppi.learning_rate=0", "ppi.learning_rate must be"),
    ("ppi.reinit=1", "ppi.reinit must be true or false"),
    ("ppi.nosuch=1", "unknown field 'nosuch'"),
])
def test_ppi_config_errors(assignment, message):
    with pytest.raises((ValueError, TypeError), match=message):
        apply_overrides(tiny(), [assignment])


def test_opponent_id_stores_each_games_z_and_deploys_with_it(tmp_path):
    cfg = tiny(network=NetworkConfig(hidden=8, embed=4, use_z=True),
               pools=((("learner:1", 0.5), ("random", 0.5)), (("learner:0", 0.5), ("tft", 0.5))))
    state = jax.tree_util.tree_map(lambda x: x[None], ppi.init_state(cfg, 0))
    assert state.data.shape == (1, 2, ppi.capacity(cfg), 3 + wm.Z_BYTES)  # codes, then z
    assert "z_embed" in state.params["params"]
    # D0: each game keeps its tabular co-player's identity (log-probabilities: p(C) + p(D) = 1)
    codes, z = ppi.unpack_games(cfg, state.data[0, 0, :32])
    assert codes.shape == (32, 12) and int(codes.max()) <= 3
    np.testing.assert_allclose(np.exp(np.asarray(z)).reshape(32, 5, 2).sum(-1), 1.0, atol=1e-5)
    assert np.unique(np.asarray(z), axis=0).shape[0] == 32  # a fresh agent per game
    new, _ = ppi.make_chunk(cfg, 1)(state, jnp.stack([jax.random.PRNGKey(9)]), ())
    _, z0 = ppi.unpack_games(cfg, new.data[0, 0, 32:40])  # learner 0: 4 games against learner 1, 4 against U(0,1)^5
    _, z1 = ppi.unpack_games(cfg, new.data[0, 1, 32:40])  # learner 1: the same 4, then 4 against TFT
    assert np.all(np.asarray(z0[:4]) == 0) and np.all(np.asarray(z1[:4]) == 0)  # a learner shows zeros
    np.testing.assert_array_equal(np.asarray(z1[4:]), np.broadcast_to(
        np.asarray(strategies.log_probs(strategies.named("tft")), np.float32), (4, 10)))
    assert np.all(np.asarray(z0[4:]) < 0) and np.unique(np.asarray(z0[4:]), axis=0).shape[0] == 4
    # the deployed agent is told who it meets: the same model plays TFT differently with TFT's z than with zeros
    p = jax.tree_util.tree_map(lambda x: x[0, 0], new.params)
    agent = ppi.agent(cfg)
    z_tft = jnp.broadcast_to(strategies.log_probs(strategies.named("tft")), (16, 10))
    traj = lambda z: play_match(jax.random.PRNGKey(2), ppi_player(agent, p, jax.random.PRNGKey(3), z),
                                tabular_player(jnp.broadcast_to(strategies.named("tft"), (16, 5))), 16, ppi._env(cfg))
    assert not np.allclose(np.asarray(traj(z_tft).p_coop[0]), np.asarray(traj(None).p_coop[0]))
    np.testing.assert_array_equal(np.asarray(traj(None).p_coop), np.asarray(traj(jnp.zeros((16, 10))).p_coop))
    train(cfg.replace(iterations=1), [0], tmp_path / "z", progress=False, log=lambda *a: None)
    assert evaluate_run(tmp_path / "z", ["tft"], episodes=4)["coplayers"]["tft"]["per_seed"]


def test_ppi_section_is_hashed_only_for_ppi():
    a2c = ExperimentConfig(name="x", pools=((("random", 1.0),),), batch_size=4, iterations=1)
    assert a2c.hash() == a2c.replace(ppi=PPIConfig(beta=1.0)).hash()
    assert tiny().hash() != tiny(ppi=PPIConfig(beta=1.0)).hash()


def test_a_field_added_later_enters_the_hash_only_when_set():
    """``ppi.rollout_reward`` came after PPI runs were shipped: at its default the hash is the one
    those runs' checkpoints record (the field left out, as before it existed); set, it changes."""
    cfg = tiny()
    before = {k: v for k, v in cfg.to_dict()["ppi"].items() if k != "rollout_reward"}
    hashed = {"config_format": 2, **{k: cfg.to_dict()[k] for k in HASHED}, "ppi": before}
    assert cfg.hash() == hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16]
    expected = cfg.replace(ppi=dataclasses.replace(cfg.ppi, rollout_reward="expected"))
    assert expected.hash() != cfg.hash()
    assert from_dict(expected.to_dict()) == expected and from_dict(expected.to_dict()).hash() == expected.hash()
    old = cfg.to_dict()
    del old["ppi"]["rollout_reward"]  # a config.json written before the field existed
    assert from_dict(old) == cfg and ppi.agent(from_dict(old)).reward == "sampled"
    assert ppi.agent(expected).reward == "expected"


def test_init_from_carries_the_model_and_the_whole_dataset(one_phase):
    src_cfg, src_dir = one_phase
    from ismarl.runs.train import initial_states
    size = src_cfg.ppi.pretrain_episodes + src_cfg.batch_size
    cfg = tiny(pools=((("learner:1", 1.0),), (("learner:0", 1.0),)), init_from=(str(src_dir),) * 2,
               init_seed_offset=(0, 1), ppi=PPIConfig(**{**tiny().ppi.__dict__, "pretrain_episodes": size}))
    states = initial_states(cfg, [5, 6])
    src, _ = checkpoint.load(src_dir, initial_states(src_cfg, [0, 1]))
    # seed 5's learners are the source's seeds 0 and 1, seed 6's its seeds 1 and 0
    for k, (a, b) in enumerate(((0, 1), (1, 0))):
        np.testing.assert_array_equal(np.asarray(states.data[k, 0, :size]), np.asarray(src.data[a, 0, :size]))
        np.testing.assert_array_equal(np.asarray(states.data[k, 1, :size]), np.asarray(src.data[b, 0, :size]))
        for x, y in zip(jax.tree_util.tree_leaves(states.params), jax.tree_util.tree_leaves(src.params)):
            np.testing.assert_array_equal(np.asarray(x[k, 1]), np.asarray(y[b, 0]))
    assert int(states.count[0]) == size
    wrong = cfg.replace(ppi=PPIConfig(**{**cfg.ppi.__dict__, "pretrain_episodes": size - 1}))
    with pytest.raises(ValueError, match=f"its learners hold {size} episodes.*set ppi.pretrain_episodes={size}"):
        initial_states(wrong, [5, 6])
    with pytest.raises(ValueError, match="init_iteration: the ppi engine starts from a run's final checkpoint only"):
        initial_states(cfg.replace(init_iteration=1), [5, 6])


# 5. looking inside a PPI run (ismarl.analysis.ppi) -------------------------------------------------
def test_calibration_table():
    from ismarl.analysis.ppi import calibration
    cal = calibration([0.05, 0.05, 0.95, 0.95, 0.5], [0, 0, 1, 0, 1], bins=10)
    assert cal["predicted"] == pytest.approx([0.05, 0.5, 0.95])
    assert cal["observed"] == pytest.approx([0.0, 1.0, 0.5]) and cal["count"] == [2, 1, 2]


def test_inference_report_and_beta_sweep(one_phase):
    from ismarl.analysis.ppi import beta_sweep, inference_report
    _, run = one_phase
    rep = inference_report(run, iteration=1, episodes=16)
    assert rep["seeds"] == [0, 1] and len(rep["gap"]) == 2
    np.testing.assert_allclose(rep["gap"], np.array(rep["model_nll"]) - np.array(rep["bayes_nll"]))
    assert sum(rep["calibration"]["model"]["count"]) == 2 * 16 * 11  # rounds 2..12 of every game
    with pytest.raises(ValueError, match="has snapshots after phases \\[0, 1\\]; 5 is not one of them"):
        inference_report(run, iteration=5)
    sweep = beta_sweep(run, [0.0, 1e4], coplayers=("allc",), episodes=4)
    assert sweep["allc"]["coop"].shape == (2, 2)
    # β = 0 plays the prior of an almost untrained model (about half C); a huge β defects against ALLC
    assert np.all(sweep["allc"]["coop"][1] < sweep["allc"]["coop"][0])


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory):
    """A tiny two-learner PPI run (learner against learner), one phase, seed 3."""
    out = tmp_path_factory.mktemp("ppi_pair") / "pair"
    train(tiny(iterations=1, pools=((("learner:1", 1.0),), (("learner:0", 1.0),))), [3], out, progress=False,
          log=lambda *a: None)
    return out


def test_q_noise_measures_both_reward_modes_from_the_same_states(pair_run, one_phase):
    from ismarl.analysis.ppi import q_noise
    rows = q_noise(pair_run, rounds=(6, 2), episodes=6, repeats=24)
    assert [(r["seed"], r["round"]) for r in rows] == [(3, 2), (3, 6)]
    for r in rows:
        assert all(np.isfinite(v) for v in r.values())
        assert r["std_sampled"] > 0 and r["var_ratio"] > 0 and r["abs_gap"] >= 0
    # the expected rewards' estimates spread less than the sampled ones' (same states, same keys)
    assert np.mean([r["var_ratio"] for r in rows]) > 1.0
    assert np.mean([r["std_expected"] for r in rows]) < np.mean([r["std_sampled"] for r in rows])
    assert q_noise(pair_run, rounds=(6, 2), episodes=6, repeats=24) == rows  # seeded
    with pytest.raises(ValueError, match=r"rounds must lie in 0..11, got \[12\]"):
        q_noise(pair_run, rounds=(12,))
    with pytest.raises(ValueError, match="has 1 learner\\(s\\); q_noise plays learner 0 against learner 1"):
        q_noise(one_phase[1])


def test_pair_cooperation_replays_the_learner_evaluation_and_deploys_changes(pair_run, one_phase):
    from ismarl.analysis.ppi import pair_cooperation
    same = pair_cooperation(pair_run, episodes=6)
    ev = evaluate_run(pair_run, [], episodes=6, coplayer_run=pair_run, coplayer_learner=1)
    entry = ev["coplayers"][f"run:{pair_run}#1"]["per_seed"][0]
    assert same["seeds"] == [3]
    assert same["coop_0"][0] == pytest.approx(entry["learner"]["coop"], abs=1e-4)
    assert same["coop_1"][0] == pytest.approx(entry["coplayer"]["coop"], abs=1e-4)
    assert same["coop"][0] == pytest.approx((same["coop_0"][0] + same["coop_1"][0]) / 2)
    prior = pair_cooperation(pair_run, episodes=6, beta=0.0)  # a change is deployed: β = 0 plays p_φ
    assert prior != same and pair_cooperation(pair_run, episodes=6, beta=0.0) == prior
    with pytest.raises(ValueError, match="ppi.rollout_reward must be one of"):
        pair_cooperation(pair_run, episodes=6, rollout_reward="mean")
    with pytest.raises(ValueError, match="has 1 learner\\(s\\); pair_cooperation plays learner 0 against learner 1"):
        pair_cooperation(one_phase[1])


def test_analysis_refuses_a2c_runs(tmp_path):
    from ismarl.analysis.ppi import inference_report
    a2c = ExperimentConfig(name="a", pools=((("random", 1.0),),), batch_size=4, iterations=1, horizon=6,
                           network=NetworkConfig(hidden=4, embed=4), run=RunOptions(chunk=1, checkpoint_every=1, probe_every=0))
    train(a2c, [0], tmp_path / "a2c", progress=False, log=lambda *a: None)
    with pytest.raises(ValueError, match="trained by the 'a2c' engine; this looks inside PPI runs"):
        inference_report(tmp_path / "a2c")


def test_collect_with_the_prior_deploys_beta_zero_only_for_collection():
    cfg = tiny(ppi=PPIConfig(**{**tiny().ppi.__dict__, "collect": "prior"}))
    assert ppi.agent(cfg, collect=True).beta == 0.0
    assert ppi.agent(cfg).beta == cfg.ppi.beta  # evaluation deploys π
    assert ppi.agent(tiny(), collect=True).beta == tiny().ppi.beta
