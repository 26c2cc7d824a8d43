"""Steps 2-4 machinery: presets, frozen co-players, initialization from runs with seed offsets,
parameter snapshots (with resume), conditional cooperation rates and learner-vs-learner evaluation."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import readme_script

from ismarl.runs import checkpoint
from ismarl.agents.players import tabular_player
from ismarl.cli import main
from ismarl.runs.evaluate import FORMAT, conditional_cooperation, evaluate_run
from ismarl.agents.match import play_match
from ismarl.sim.core import make_params
from ismarl.strategies import named
from ismarl.engines.a2c import engine as a2c
from ismarl.experiments.presets import EXPERIMENTS, get_config
from ismarl.runs.train import initial_states

TINY = ["--scale", "fast", "--set", "horizon=10", "--set", "batch_size=8", "--set", "network.hidden=8",
        "--set", "network.embed=4", "--set", "run.chunk=2", "--set", "run.checkpoint_every=2", "--set", "run.probe_every=0",
        "--set", "iterations=4", "--no-progress"]


@pytest.mark.parametrize("step", sorted(EXPERIMENTS))
@pytest.mark.parametrize("preset", ["fast", "cpu", "paper"])
def test_every_preset_builds_valid_matches(step, preset):
    cfg = get_config(step, preset)
    matches = a2c.build_matches(cfg)
    assert matches and all(m.episodes > 0 for m in matches)
    assert sum(m.episodes for m in matches if m.learner == 0) <= cfg.batch_size
    if step.startswith("step4"):
        assert cfg.n_learners == 2
        ll = [m for m in matches if m.coplayer.startswith("learner:")]
        tabular = [m for m in matches if not m.coplayer.startswith("learner:")]
        frac = {"step4_no_tabular": 0.0, "step4_tabular25": 0.25, "step4_tabular75": 0.75}.get(step, 0.5)
        assert sum(m.episodes for m in tabular if m.learner == 0) == pytest.approx(frac * cfg.batch_size, abs=2)
        assert len(ll) == (0 if frac == 1.0 else 1)
        assert cfg.network.use_z == (step == "step4_opponent_id")


def test_snapshots_survive_resume_and_match_checkpoint(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    args = ["train", "step4", "--seeds", "2", *TINY, "--set", "run.snapshot_every=2"]
    assert main([*args, "--out", str(full)]) == 0
    assert main([*args, "--out", str(part), "--stop-at", "2"]) == 0
    assert checkpoint.snapshot_iterations(part) == [0, 2]
    assert main([*args, "--out", str(part), "--resume"]) == 0
    assert checkpoint.snapshot_iterations(full) == checkpoint.snapshot_iterations(part) == [0, 2, 4]
    assert (full / "snapshots.msgpack").read_bytes() == (part / "snapshots.msgpack").read_bytes()
    snaps = checkpoint.load_snapshots(full)
    state, _ = checkpoint.load(full, initial_states(get_config("step4", "fast").replace(
        horizon=10, batch_size=8, network=type(get_config("step4", "fast").network)(8, 4)), [0, 1]))
    for a, b in zip(jax.tree_util.tree_leaves(snaps[4]), jax.tree_util.tree_leaves(state.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # iteration 0 holds the initial parameters, which training then changes
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(snaps[0]), jax.tree_util.tree_leaves(snaps[4])))
    # corruption is named
    data = bytearray((full / "snapshots.msgpack").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (full / "snapshots.msgpack").write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError, match="snapshots.msgpack is corrupt: its SHA-256 does not match the sidecar"):
        checkpoint.load_snapshots(full)
    with pytest.raises(checkpoint.CheckpointError, match="no snapshots in .* is missing"):
        checkpoint.load_snapshots(tmp_path)


def test_frozen_and_init_from_with_seed_offset(tmp_path):
    src = tmp_path / "src"
    assert main(["train", "step1", "--seeds", "3", "--out", str(src), *TINY]) == 0
    # Step 2 against the frozen run, then Step 3 initialized from it with offsets (0, 1)
    s2 = tmp_path / "s2"
    assert main(["train", "step2", "--seeds", "3", "--out", str(s2), *TINY, "--set", f'frozen=["{src}"]']) == 0
    cfg = get_config("step3", "fast").replace(horizon=10, batch_size=8, iterations=2,
                                              network=type(get_config("step3", "fast").network)(8, 4),
                                              init_from=(str(s2), str(s2)), init_seed_offset=(0, 1))
    states = initial_states(cfg, [0, 1, 2])
    from ismarl.runs.store import load_run

    _, _, p2, _ = load_run(s2)
    for i in range(3):
        for learner, off in ((0, 0), (1, 1)):
            for a, b in zip(jax.tree_util.tree_leaves(states.params), jax.tree_util.tree_leaves(p2)):
                np.testing.assert_array_equal(np.asarray(a[i, learner]), np.asarray(b[(i + off) % 3, 0]))
    with pytest.raises(ValueError, match=r"init_seed_offset needs one entry per learner \(2\), got 1"):
        initial_states(cfg.replace(init_seed_offset=(0,)), [0])


def test_init_seeds_name_the_starting_agents(tmp_path):
    """``init_seeds`` loads, for each seed and learner, the named seed of the source run (by value),
    independently per learner; bad combinations and unknown seeds raise named errors."""
    from ismarl.runs.store import load_run
    from ismarl.experiments.warmup import starting_pairs

    src = tmp_path / "src"
    assert main(["train", "step1", "--seeds", "3,4,5", "--out", str(src), *TINY]) == 0
    base = get_config("step3", "fast").replace(horizon=10, batch_size=8, iterations=2,
                                               network=type(get_config("step3", "fast").network)(8, 4),
                                               init_from=(str(src), str(src)), init_seed_offset=())
    cfg = base.replace(init_seeds=((5, 3, 5), (4, 5, 3)))
    assert base.replace(init_seeds=()).hash() == base.hash() != cfg.hash()  # the default stays out of the hash
    states = initial_states(cfg, [0, 1, 2])
    _, _, p, _ = load_run(src)
    for i in range(3):
        for learner in (0, 1):
            j = (3, 4, 5).index(cfg.init_seeds[learner][i])
            for a, b in zip(jax.tree_util.tree_leaves(states.params), jax.tree_util.tree_leaves(p)):
                np.testing.assert_array_equal(np.asarray(a[i, learner]), np.asarray(b[j, 0]))
    with pytest.raises(ValueError, match="has no seed"):
        initial_states(base.replace(init_seeds=((5, 9, 5), (4, 5, 3))), [0, 1, 2])
    with pytest.raises(ValueError, match="init_seeds names 3 source seeds for learner 0, this run has 2 seeds"):
        initial_states(cfg, [0, 1])
    with pytest.raises(ValueError, match="give init_seeds or init_seed_offset, not both"):
        cfg.replace(init_seed_offset=(0, 1))
    with pytest.raises(ValueError, match="one list per learner"):
        base.replace(init_seeds=((5, 3),))
    with pytest.raises(ValueError, match="one source seed per seed"):
        base.replace(init_seeds=((5, 3), (4,)))
    with pytest.raises(ValueError, match="init_from is empty"):
        base.replace(init_from=(), init_seeds=((5,), (4,)))
    # through the command line, and read back by starting_pairs
    run = tmp_path / "s4"
    assert main(["train", "step4", "--seeds", "7,8", "--out", str(run), *TINY, "--set", f'init_from=["{src}","{src}"]',
                 "--set", "init_seed_offset=[]", "--set", "init_seeds=[[5,3],[4,5]]"]) == 0
    assert starting_pairs(run) == [(5, 4), (3, 5)]


def test_criterion_pairs_use_only_agents_that_meet_the_criterion(tmp_path, capsys):
    """Every unordered pair of criterion-meeting warm-up agents in turn, then with roles swapped;
    fewer than two such agents is an error that says so; the command prints the --set to use."""
    from ismarl.experiments.warmup import criterion_pairs

    def fake_warmup(d, tft, allc):
        d.mkdir()
        per = lambda vals, key: [{"seed": s, "coop_rounds_40_60": v if key == "tft" else 0.0, "learner": {"coop": v}}
                                 for s, v in vals.items()]
        (d / "evaluate.json").write_text(json.dumps({"format": FORMAT, "coplayers": {"tft": {"per_seed": per(tft, "tft")},
                                                                                     "allc": {"per_seed": per(allc, "allc")}}}))
        return d

    w = fake_warmup(tmp_path / "w", {7: 0.95, 8: 0.5, 9: 0.99, 11: 0.92}, {7: 0.0, 8: 0.0, 9: 0.01, 11: 0.2})
    assert criterion_pairs(w, 5) == ((7, 9, 7, 9, 7), (9, 7, 9, 7, 9))  # 8 misses TFT, 11 cooperates with ALLC
    assert criterion_pairs(w, 1) == ((7,), (9,))
    assert main(["warmup-pairs", str(w), "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert "--set 'init_seeds=[[7, 9, 7], [9, 7, 9]]'" in out
    with pytest.raises(ValueError, match="n_seeds must be >= 1, got 0"):
        criterion_pairs(w, 0)
    one = fake_warmup(tmp_path / "one", {0: 0.95, 1: 0.3}, {0: 0.0, 1: 0.0})
    with pytest.raises(ValueError, match="1 of its 2 agents meet"):
        criterion_pairs(one, 5)
    (one / "evaluate.json").write_text("{ cut short")
    with pytest.raises(ValueError, match="evaluate the warm-up again"):
        criterion_pairs(one, 5)


def test_init_from_a_snapshot_iteration(tmp_path):
    """``init_iteration`` starts from the source run's snapshot at that iteration, not its end."""
    s2 = tmp_path / "s2"
    assert main(["train", "step1", "--seeds", "2", "--out", str(s2), *TINY, "--set", "run.snapshot_every=2"]) == 0
    snaps = checkpoint.load_snapshots(s2)
    base = get_config("step3", "fast").replace(horizon=10, batch_size=8, iterations=2,
                                               network=type(get_config("step3", "fast").network)(8, 4),
                                               init_from=(str(s2), str(s2)), init_seed_offset=(0, 1))
    assert base.replace(init_iteration=0).hash() == base.hash()  # the default stays out of the hash
    assert base.replace(init_iteration=2).hash() != base.hash()
    states = initial_states(base.replace(init_iteration=2), [0, 1])
    end = initial_states(base, [0, 1])
    for i in range(2):
        for learner, off in ((0, 0), (1, 1)):
            for a, b in zip(jax.tree_util.tree_leaves(states.params), jax.tree_util.tree_leaves(snaps[2])):
                np.testing.assert_array_equal(np.asarray(a[i, learner]), np.asarray(b[(i + off) % 2, 0]))
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(states.params),
                                                        jax.tree_util.tree_leaves(end.params)))
    with pytest.raises(ValueError, match="init_iteration 3: .* snapshots at \\[0, 2, 4\\]"):
        initial_states(base.replace(init_iteration=3), [0, 1])
    with pytest.raises(ValueError, match="init_iteration must be an integer >= 0, got -1"):
        base.replace(init_iteration=-1)


def test_conditional_cooperation_recovers_tabular_strategies():
    """Against each other, two fixed memory-1 strategies' conditional rates are their own entries."""
    p = jnp.array([0.9, 0.8, 0.2, 0.6, 0.3])
    q = jnp.array([0.5, 0.7, 0.4, 0.1, 0.5])
    traj = play_match(jax.random.PRNGKey(0), tabular_player(jnp.tile(p, (64, 1))), tabular_player(jnp.tile(q, (64, 1))),
                      64, make_params(horizon=50, dtype=jnp.float32))
    for side, s in ((0, p), (1, q)):
        rates, visits = conditional_cooperation(traj, side)
        np.testing.assert_allclose(rates, np.asarray(s), atol=1e-6)  # p_coop is the policy's own probability
        assert visits.sum() == pytest.approx(1.0) and visits[0] == pytest.approx(1 / 50)
    # a state that is never reached is NaN: ALLD vs ALLD only sees Start and DD
    alld = tabular_player(jnp.tile(named("alld"), (8, 1)))
    rates, visits = conditional_cooperation(play_match(jax.random.PRNGKey(1), alld, alld, 8,
                                                       make_params(horizon=10, dtype=jnp.float32)), 0)
    assert np.isnan(rates[1:4]).all() and rates[4] == 0.0 and visits[4] == pytest.approx(0.9)


def test_learner_vs_learner_evaluation(tmp_path, capsys):
    run = tmp_path / "s4"
    assert main(["train", "step4", "--seeds", "2", "--out", str(run), *TINY]) == 0
    res = evaluate_run(run, [], episodes=16, learner=0, coplayer_run=run, coplayer_learner=1)
    assert res["coplayer_run"] == str(run) and res["coplayer_learner"] == 1
    (spec, r), = res["coplayers"].items()
    assert spec.endswith("#1") and len(r["per_seed"]) == 2
    # the two sides of a match are the two learners: rewards add up to the cooperation total
    for e in r["per_seed"]:
        assert e["learner"]["reward"] + e["coplayer"]["reward"] == pytest.approx(e["learner"]["coop"] + e["coplayer"]["coop"], abs=1e-5)
        assert len(e["learner"]["conditional_coop"]) == 5
    with pytest.raises(ValueError, match="--coplayer-learner 2 does not exist"):
        evaluate_run(run, [], episodes=4, coplayer_run=run, coplayer_learner=2)
    assert main(["evaluate", str(run), "--coplayer-run", str(run), "--coplayer-learner", "1", "--episodes", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["coplayers"][f"run:{run}#1"]["per_seed"][0]["seed"] == 0


def test_init_without_z_into_opponent_id_network(tmp_path):
    """A run without the z input can start an opponent-ID run: every layer is copied, z's embedding
    keeps its fresh initialization; the reverse is refused."""
    src = tmp_path / "src"
    assert main(["train", "step1", "--seeds", "2", "--out", str(src), *TINY]) == 0
    from ismarl.agents.network import NetworkConfig
    from ismarl.runs.store import load_run

    base = get_config("step4_opponent_id", "fast").replace(horizon=10, batch_size=8, network=NetworkConfig(8, 4, use_z=True),
                                                           init_from=(str(src), str(src)), init_seed_offset=(0, 1))
    states = initial_states(base, [0, 1])
    _, _, p, _ = load_run(src)
    fresh = initial_states(base.replace(init_from=(), init_seed_offset=()), [0, 1])
    for name, layer in p["params"].items():
        for a, b in zip(jax.tree_util.tree_leaves(states.params["params"][name]), jax.tree_util.tree_leaves(layer)):
            np.testing.assert_array_equal(np.asarray(a[1, 0]), np.asarray(b[1, 0]))  # seed 1, learner 0 <- src seed 1
            np.testing.assert_array_equal(np.asarray(a[1, 1]), np.asarray(b[0, 0]))  # seed 1, learner 1 <- src seed 0
    for a, b in zip(jax.tree_util.tree_leaves(states.params["params"]["z_embed"]),
                    jax.tree_util.tree_leaves(fresh.params["params"]["z_embed"])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    zsrc = tmp_path / "zsrc"
    assert main(["train", "step4_opponent_id", "--seeds", "1", "--out", str(zsrc), *TINY]) == 0
    with pytest.raises(ValueError, match="network .* differs from this run's"):
        initial_states(get_config("step3", "fast").replace(init_from=(str(zsrc), str(zsrc)),
                                                           network=NetworkConfig(8, 4)), [0])


def test_learner_cooperation_summary_and_search_table(tmp_path):
    from ismarl.analysis.summary import learner_cooperation, search_table

    run = tmp_path / "s4"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": get_config("step4", "cpu").to_dict()}))
    lines = []
    for it, coop in enumerate([0.1, 0.5, 0.9, 0.85, 0.95, 0.7, 0.9, 0.92, 0.95, 0.9]):
        lines.append({"kind": "train", "iteration": 50 * (it + 1), "seed": 0, "wall_s": 1.0, "entropy_coef": 0.01,
                      "matches": {"learner:0_vs_learner:1": {"reward": [coop, coop], "coop": [coop, coop]},
                                  "learner:0_vs_random": {"reward": [1.0, -0.5], "coop": [0.05, 0.5]},
                                  "learner:1_vs_random": {"reward": [0.9, -0.4], "coop": [0.15, 0.4]}},
                      "learners": {}})
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (e,) = learner_cooperation(run, tail=0.2)
    assert e["final"] == pytest.approx(0.925) and e["max"] == pytest.approx(0.95) and e["argmax"] == 250
    assert e["held"] == 1.0 and e["tabular_coop"] == pytest.approx(0.05) and e["rise"] == 100
    assert e["tabular_coop_2"] == pytest.approx(0.15) and e["tabular_reward_2"] == pytest.approx(0.9)
    from ismarl.analysis.summary import cooperation_by_phase

    by_phase = cooperation_by_phase(run)
    assert sorted(by_phase) == [50 * (i + 1) for i in range(10)] and by_phase[150] == {0: pytest.approx(0.9)}
    assert cooperation_by_phase(run, "learner:0_vs_random")[50] == {0: pytest.approx(0.275)}
    with pytest.raises(ValueError, match="no training metrics of the match 'learner:0_vs_frozen:0'"):
        cooperation_by_phase(run, "learner:0_vs_frozen:0")
    from ismarl.analysis.summary import phase_table

    assert phase_table(run, every=200).splitlines()[2:] == ["| 50 | 0.10 |", "| 200 | 0.85 |", "| 400 | 0.92 |",
                                                             "| 500 | 0.90 |"]
    # beside another run: its values in the same phase on the seeds both have, a dash where it has none
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.jsonl").write_text("".join(json.dumps({**x, "iteration": x["iteration"] * 2}) + "\n" for x in lines[:3]))
    beside = phase_table(run, every=200, beside=("other", other)).splitlines()
    assert beside[0] == "| phase | seed 0 | other |" and beside[1] == "|---|---|---|"
    assert beside[2:] == ["| 50 | 0.10 | — |", "| 200 | 0.85 | 0.50 |", "| 400 | 0.92 | — |", "| 500 | 0.90 | — |"]
    assert phase_table(run, every=50, beside=("other", other)).splitlines()[3] == "| 100 | 0.50 | 0.10 |"
    (e,) = learner_cooperation(run, tail=0.5)  # the last five points: 0.7, 0.9, 0.92, 0.95, 0.9
    assert e["held"] == pytest.approx(0.8) and e["final"] == pytest.approx(0.874)
    table = search_table([run])
    assert "| s4 | 1 | 500 | 32 / 256 | step1 |" in table and "| 0.90 | 0.95 |" in table
    # a run whose learners start from other seeds of the warm-up than i and i + 1 says so
    cfg = get_config("step4", "cpu").to_dict()
    (run / "config.json").write_text(json.dumps({"config": dict(cfg, init_seed_offset=[0, 2])}))
    assert "| step1 (seed i + 0 / i + 2) |" in search_table([run])
    # the discount is shown beside lambda, so a run that differs only in gamma is told apart
    assert "| 0.99 / 1 |" in table
    (run / "config.json").write_text(json.dumps({"config": dict(cfg, a2c=dict(cfg["a2c"], gamma=1.0))}))
    assert "| 1 / 1 |" in search_table([run])
    (run / "config.json").write_text(json.dumps({"config": cfg}))
    # two runs trained alike: every training metric equal, wall time aside
    from ismarl.analysis.summary import same_training

    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "metrics.jsonl").write_text("".join(json.dumps(dict(x, wall_s=2.0)) + "\n" for x in lines))
    assert same_training(run, twin)
    lines[-1]["matches"]["learner:0_vs_learner:1"]["coop"] = [0.9, 0.91]
    (twin / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert not same_training(run, twin)
    (twin / "metrics.jsonl").write_text("")
    assert not same_training(twin, twin)  # no training metrics: nothing to compare
    # another match of the run: the learner against its tabular co-players (both sides averaged)
    (e,) = learner_cooperation(run, tail=0.2, match="learner:0_vs_random")
    assert e["final"] == pytest.approx(0.275) and e["held"] == 0.0 and e["rise"] is None
    assert "| 0.28 | 0.28 |" in search_table([run], match="learner:0_vs_random")
    with pytest.raises(ValueError, match="has no match 'learner:0_vs_frozen:0'"):
        learner_cooperation(run, match="learner:0_vs_frozen:0")
    with pytest.raises(ValueError, match="has no training metrics"):
        learner_cooperation(run, rows=[])
    # the outcome table adds fresh-episode evaluations where they exist
    from ismarl.analysis.summary import outcome_table

    assert outcome_table([run]).splitlines()[-1] == "| s4 | 0 | 0.90 | 1.00 | — | — |"
    per_seed = {"seed": 0, "learner": {"coop": 0.93, "reward": 2.9}, "coplayer": {"coop": 0.91, "reward": 2.95}}
    ev = lambda coplayers: json.dumps({"format": FORMAT, "coplayers": coplayers})  # cut-down evaluation files
    (run / "evaluate_learners.json").write_text(ev({"run:s4#1": {"per_seed": [per_seed]}}))
    (run / "evaluate.json").write_text(ev({"random": {"per_seed": [{"seed": 0, "learner": {"coop": 0.05, "reward": 1.01}}]}}))
    assert outcome_table([run]).splitlines()[-1] == "| s4 | 0 | 0.90 | 1.00 | 0.93 / 0.91 | 0.050 / 1.010 |"
    from ismarl.analysis.summary import round_windows_table

    with pytest.raises(ValueError, match="no per-round cooperation curves"):
        round_windows_table([run])
    # one row per run: seeds held, fresh learner-vs-learner cooperation, first rise, tabular cooperation
    from ismarl.analysis.summary import held_count, pairs_table

    assert held_count(run) == 1 and held_count(run, threshold=0.95) == 0
    assert pairs_table([run]).splitlines()[-1] == "| `s4` | 1 of 1 | 0.92 | 100 | 0.050 / — / — |"
    (run / "evaluate_learner2.json").write_text(ev({"random": {"per_seed": [{"seed": 0, "learner": {"coop": 0.15, "reward": 0.9}}]}}))
    assert pairs_table([run]).splitlines()[-1] == "| `s4` | 1 of 1 | 0.92 | 100 | 0.050 / 0.150 / 0.100 |"
    # the one reader of the evaluation files behind both tables
    from ismarl.analysis.summary import fresh_cooperation, mean_tabular_coop

    f = fresh_cooperation(run)
    assert f["learners"][0]["coop"] == (0.93, 0.91) and f["learners"][0]["both"] == pytest.approx(0.92)
    assert f["tabular"] == {0: {"coop": 0.05, "reward": 1.01}} and f["tabular_2"][0]["coop"] == 0.15
    assert mean_tabular_coop(run) == pytest.approx((0.05, 0.15))
    (run / "evaluate_learner2.json").write_text(ev({"tft": {"per_seed": []}}))
    assert "tabular_2" not in fresh_cooperation(run) and mean_tabular_coop(run) == (0.05, None)
    assert fresh_cooperation(tmp_path) == {}  # no evaluation files at all
    (run / "evaluate_learners.json").write_text(ev({"run:a#1": {}, "run:b#1": {}}))
    with pytest.raises(ValueError, match="should hold one learner co-player"):
        fresh_cooperation(run)
    # pooled over runs, and the table of settings that changed the outcome (chapter 9)
    from ismarl.analysis.summary import levers_table, pooled_outcome

    (run / "evaluate_learners.json").write_text(ev({"run:s4#1": {"per_seed": [per_seed]}}))
    low = tmp_path / "low"
    low.mkdir()
    flat = [dict(x, matches=dict(x["matches"], **{"learner:0_vs_learner:1": {"reward": [0.1, 0.1], "coop": [0.1, 0.1]}}))
            for x in lines]
    (low / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in flat))
    o = pooled_outcome([run, low])
    assert (o["held"], o["n"], o["peak"], o["rise"]) == (1, 2, pytest.approx(0.95), 100)
    assert o["end"] == pytest.approx((0.9 + 0.1) / 2) and o["tab"] == pytest.approx(0.05)  # learner 1 only: 2 has none
    assert pooled_outcome([low])["rise"] is None and pooled_outcome([low])["tab"] is None
    lever = {"setting": "start", "before": "scratch", "after": "warm-up", "before_runs": ["low"], "after_runs": ["s4"],
             "why": "because"}
    md, out = levers_table(tmp_path, [lever])
    assert md.splitlines()[-1] == ("| start | scratch | warm-up | held 0 of 1, end 0.10, peak 0.10, last rise None "
                                   "| held 1 of 1, end 0.90, peak 0.95, last rise 100; with U(0, 1)^5 0.05 | because |")
    assert out["start"][1]["held"] == 1
    with pytest.raises(ValueError, match=r"lever 'start' lacks \['why'\]"):
        levers_table(tmp_path, [{k: v for k, v in lever.items() if k != "why"}])
    with pytest.raises(ValueError, match="pooled_outcome needs at least one run"):
        pooled_outcome([])
    # chapter 9's training curves of a pool: learner vs learner and vs tabular, one style per run
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ismarl.analysis.figures import pool_training_curves

    fig, axes = plt.subplots(1, 2)
    pool_training_curves(axes, {"mixed": run, "flat": low}, {"flat": ":"})
    lines_ = {ln.get_label(): ln for ln in axes[1].lines}
    assert list(lines_) == ["learner vs learner (mixed)", "vs tabular (mixed)", "learner vs learner (flat)", "vs tabular (flat)"]
    assert lines_["vs tabular (mixed)"].get_ydata()[0] == pytest.approx(0.1)  # both learners vs U(0, 1)^5: 0.05, 0.15
    assert lines_["learner vs learner (flat)"].get_linestyle() == ":" and axes[0].get_ylabel() == "avg. reward"
    plt.close(fig)


def test_replay_errors_name_the_problem(tmp_path):
    from ismarl.analysis.replay import replay

    run = tmp_path / "s4"
    assert main(["train", "step4", "--seeds", "2", "--out", str(run), *TINY, "--set", "run.snapshot_every=2"]) == 0
    traj = replay(run, 1, 2, "co-learner", episodes=4)
    assert traj.actions.shape == (2, 10, 4)
    with pytest.raises(ValueError, match="no snapshot at iteration 3"):
        replay(run, 0, 3)
    with pytest.raises(ValueError, match="seed index 5"):
        replay(run, 5, 2)
    with pytest.raises(ValueError, match="no frozen co-player"):
        replay(run, 0, 2, "frozen")


def test_step4_readme_names_a_missing_run(tmp_path):
    step4_readme = readme_script().step4_readme

    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        step4_readme(tmp_path)


def test_schedules_in_words():
    from ismarl.engines.schedule import Schedule

    assert Schedule(3e-4, None, 1000, 1500).words() == "0.0003 throughout"
    assert Schedule(0.01, 0.003, 0, 0).words() == "0.01 throughout"
    assert Schedule(0.1, 0.003, 1000, 0).words() == "0.1, linearly down to 0.003 by 1000"
    assert Schedule(3e-4, 3e-5, 1000, 1500).words() == "0.0003 until iteration 1500, then linearly down to 3e-05 by 2500"
    assert Schedule(0.01, 0.02, 10).words() == "0.01, linearly up to 0.02 by 10"


def test_starting_pairs_follow_the_loaded_seeds(tmp_path):
    """``starting_pairs`` names the warm-up seeds each seed's learners were loaded from (by position
    among the run's seeds, with the offsets), and groups held/not held by unordered pair."""
    from ismarl.analysis.summary import held_by_starting_pair, starting_pairs_table
    from ismarl.experiments.warmup import starting_pairs, warmup_best_responders

    src = tmp_path / "src"
    assert main(["train", "step1", "--seeds", "3", "--out", str(src), *TINY]) == 0
    run = tmp_path / "s4"
    assert main(["train", "step4", "--seeds", "5,6,7", "--out", str(run), *TINY,
                 "--set", f'init_from=["{src}","{src}"]', "--set", "init_seed_offset=[0,2]"]) == 0
    assert starting_pairs(run) == [(0, 2), (1, 0), (2, 1)]
    held = held_by_starting_pair([run])
    assert sorted(held) == [(0, 1), (0, 2), (1, 2)] and all(len(v) == 1 for v in held.values())
    with pytest.raises(ValueError, match="did not start every learner"):
        starting_pairs(src)
    cfg = json.loads((run / "config.json").read_text())
    cfg["config"]["init_from"] = [str(tmp_path / "gone"), str(tmp_path / "gone")]
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FileNotFoundError, match="have no config.json"):
        starting_pairs(run)
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: .*evaluate\.json"):
        warmup_best_responders(src)  # no evaluate.json yet
    assert main(["evaluate", str(src), "--coplayers", "tft,allc", "--episodes", "4", "--out", str(src / "evaluate.json")]) == 0
    with pytest.raises(ValueError, match="rounds 40-60"):
        warmup_best_responders(src)  # 10-round episodes
    with pytest.raises(ValueError, match="rounds 40-60"):
        starting_pairs_table([run], src)


def test_readme_main_prints_or_writes_the_readme(tmp_path, capsys):
    from ismarl.analysis.summary import readme_main

    readme_main("The report.\n\nMore.", lambda: "# text\n", tmp_path, [])
    assert capsys.readouterr().out == "# text\n\n" and not (tmp_path / "README.md").exists()
    readme_main("The report.", lambda: "# text\n", tmp_path, ["--write"])
    assert (tmp_path / "README.md").read_text() == "# text\n"


def test_ppi_rate_table_counts_held_seeds_per_run(tmp_path):
    """One row per PPI run: K from its config, its seeds, phases reached of the configured ones,
    seeds held >= 0.8 over the last 10 % and the mean there."""
    from ismarl.analysis.summary import ppi_rate_table

    def run(name, k, curves):
        d = tmp_path / name
        d.mkdir()
        cfg = get_config("ppi_step4", "cpu").to_dict()
        (d / "config.json").write_text(json.dumps({"config": dict(cfg, ppi=dict(cfg["ppi"], k=k))}))
        rows = [{"kind": "train", "iteration": it + 1, "seed": seed, "wall_s": 1.0,
                 "matches": {"learner:0_vs_learner:1": {"reward": [c, c], "coop": [c, c]}}, "learners": {}}
                for seed, curve in curves.items() for it, c in enumerate(curve)]
        (d / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
        return d

    held, fell = [0.2] * 9 + [0.9], [0.9] * 9 + [0.5]
    table = ppi_rate_table({"a": run("a", 8, {0: held, 1: fell}), "b": run("b", 16, {7: fell})})
    assert table.splitlines()[2:] == ["| a | 8 | 0, 1 | 10 of 30 | 1 of 2 | 0.70 |",
                                      "| b | 16 | 7 | 10 of 30 | 0 of 1 | 0.50 |"]
