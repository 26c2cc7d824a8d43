"""One command for a whole chain of experiments: order, relocation, skip, resume, commands of bounded
wall time (--time-budget) and errors."""

import json

import pytest
from pathlib import Path

from ismarl.runs import checkpoint
from ismarl.runs.budget import STOPPED, Budget
from ismarl.cli import main
from ismarl.experiments import reproduce as chain
from ismarl.experiments import warmup
from ismarl.runs.layout import resolve_reference
from ismarl.experiments.presets import EXPERIMENTS, ORDER, get_config

TINY = ["horizon=10", "batch_size=8", "network.hidden=8", "network.embed=4", "run.chunk=2", "run.checkpoint_every=2",
        "run.probe_every=2", "run.probe_episodes=8", "iterations=4"]


@pytest.mark.parametrize("preset", ["fast", "cpu", "paper"])
def test_every_experiment_comes_after_what_it_builds_on(preset):
    for step in EXPERIMENTS:
        deps = chain.dependencies(get_config(step, preset))
        assert all(ORDER.index(d) < ORDER.index(step) for d in deps), (step, deps)
    assert chain.resolve(["step3"], preset) == ["step1", "step2", "step3"]
    cpu_step4 = chain.resolve(["step4_opponent_id"], "cpu")
    assert cpu_step4 == ["step1_opponent_id", "step4_opponent_id"]


def test_experiments_name_the_runs_they_build_on():
    """A chain's runs name each other by experiment: each resolves to the run beside it; a path is
    a run outside the chain, which a chain cannot place."""
    assert get_config("step3", "cpu").init_from == ("step2", "step2")
    assert get_config("step2", "paper").frozen == ("step1",)
    assert resolve_reference("step1", "chain/step2") == Path("chain/step1")
    assert chain.dependencies(get_config("step4", "cpu")) == ["step1"]
    assert chain.dependencies(get_config("step4", "fast")) == []  # the fast Step 4 has no warm-up
    outside = get_config("step2", "cpu").replace(frozen=("runs/elsewhere",))
    with pytest.raises(ValueError, match="cannot place 'runs/elsewhere' in a chain"):
        chain.dependencies(outside)


def test_chain_trains_skips_and_resumes(tmp_path, capsys):
    out = tmp_path / "chain"
    args = ["reproduce", "--scale", "fast", "--seeds", "2", "--out", str(out), "--steps", "step3", "--no-progress"]
    for a in TINY:
        args += ["--set", a]
    assert main(args) == 0
    for step in ("step1", "step2", "step3"):
        meta = checkpoint.read_sidecar(out / step)
        assert meta["iteration"] == 4 and meta["seeds"] == [0, 1]
        assert json.loads((out / step / "manifest.json").read_text())["experiment"] == step
    assert checkpoint.read_sidecar(out / "step2")["config"]["frozen"] == ["step1"]  # the run beside it
    assert checkpoint.read_sidecar(out / "step3")["config"]["init_from"] == ["step2"] * 2
    step3_bytes = (out / "step3" / "checkpoint.msgpack").read_bytes()
    capsys.readouterr()
    # a second call skips every finished run
    assert main(args) == 0
    assert capsys.readouterr().out.count("skipped") == 3
    # an interrupted run is resumed to the same result
    (out / "step3" / "checkpoint.msgpack").unlink()
    (out / "step3" / "checkpoint.json").unlink()
    overrides = TINY
    cfg = chain.plan(["step3"], "fast", out, overrides)[0][1]
    from ismarl.runs.train import train

    train(cfg, [0, 1], out / "step3", resume=True, stop_at=2, progress=False)
    assert checkpoint.read_sidecar(out / "step3")["iteration"] == 2
    done = chain.run_chain(["step3"], "fast", [0, 1], out, overrides=overrides, progress=False, log=lambda *a: None)
    assert done == [("step3", "resumed")]
    assert (out / "step3" / "checkpoint.msgpack").read_bytes() == step3_bytes
    # the dry run shows the plan without training
    capsys.readouterr()
    assert main(["reproduce", "--scale", "fast", "--out", str(out), "--steps", "step3", "--dry-run"] +
                sum([["--set", a] for a in TINY], [])) == 0
    assert capsys.readouterr().out.count("finished") == 3


def test_chain_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown experiment"):
        chain.resolve(["step9"])
    with pytest.raises(ValueError, match="builds on step2"):
        chain.plan(["step3"], "fast", tmp_path)
    with pytest.raises(ValueError, match="cannot place"):
        chain.dependencies(get_config("step2", "fast").replace(frozen=("elsewhere/run",)))
    out = tmp_path / "c"
    assert main(["reproduce", "--scale", "fast", "--seeds", "1", "--out", str(out), "--steps", "step1", "--no-progress"]
                + sum([["--set", a] for a in TINY], [])) == 0
    with pytest.raises(ValueError, match="holds seeds"):
        chain.run_chain(["step1"], "fast", [0, 1], out, overrides=TINY, progress=False, log=lambda *a: None)


def test_chain_starts_step4_from_criterion_meeting_warmup_agents(tmp_path, monkeypatch):
    """At cpu scale the chain evaluates its warm-up and pairs only agents that meet the Step-1
    criterion; with all meeting it (or fewer than two) the positional pairs stay, the latter with
    a warning; the paired run is skipped as finished when the chain runs again."""
    out = tmp_path / "chain"
    tiny = [a for a in TINY if not a.startswith("horizon")] + ["horizon=60"]
    logs = []
    chain.run_chain(["step1"], "cpu", [0, 1, 2], out, overrides=tiny, progress=False, log=logs.append)
    cfg = chain.plan(["step4"], "cpu", out, tiny)[0][1]
    assert cfg.init_seed_offset == (0, 1) and not cfg.init_seeds
    # no evaluation yet, and not allowed to make one: unchanged
    assert chain.pair_warmup_agents(cfg, 3, out, evaluate=False, log=logs.append) == cfg
    assert not (out / "step1" / "evaluate.json").exists()
    # the tiny warm-up's agents do not meet the criterion: unchanged, with a warning
    assert chain.pair_warmup_agents(cfg, 3, out, log=logs.append) == cfg
    assert json.loads((out / "step1" / "evaluate.json").read_text())["iteration"] == 4
    assert sum(warmup.warmup_best_responders(out / "step1").values()) < 2 and "only" in logs[-1]
    (out / "step1" / "evaluate.json").write_text("{ cut short")  # unreadable: evaluated again
    assert chain.pair_warmup_agents(cfg, 3, out, log=logs.append) == cfg
    assert json.loads((out / "step1" / "evaluate.json").read_text())["iteration"] == 4
    for module in (chain, warmup):  # the chain's own reference and the one criterion_pairs reads
        monkeypatch.setattr(module, "warmup_best_responders", lambda d: {0: True, 1: True, 2: True})
    assert chain.pair_warmup_agents(cfg, 3, out, log=logs.append) == cfg
    for module in (chain, warmup):
        monkeypatch.setattr(module, "warmup_best_responders", lambda d: {0: True, 1: False, 2: True})
    paired = chain.pair_warmup_agents(cfg, 3, out, log=logs.append)
    assert paired.init_seeds == ((0, 2, 0), (2, 0, 2)) and paired.init_seed_offset == ()
    assert "[1] miss" in logs[-1]
    # the chain trains Step 4 from these pairs, and skips it the next time
    assert chain.run_chain(["step4"], "cpu", [0, 1, 2], out, overrides=tiny, progress=False,
                           log=logs.append) == [("step4", "trained")]
    assert checkpoint.read_sidecar(out / "step4")["config"]["init_seeds"] == [[0, 2, 0], [2, 0, 2]]
    assert chain.run_chain(["step4"], "cpu", [0, 1, 2], out, overrides=tiny, progress=False,
                           log=logs.append) == [("step4", "skipped (finished)")]
    # other experiments, and runs from outside the chain, are left alone
    outside = cfg.replace(init_from=(str(tmp_path / "elsewhere" / "step1"),) * 2)
    assert chain.pair_warmup_agents(outside, 3, out, log=logs.append) == outside


def _run_in_pieces(args):
    """Exit statuses of the same command run until it stops returning 'stopped at the time budget'."""
    statuses = [main(args)]
    while statuses[-1] == STOPPED and len(statuses) < 10:
        statuses.append(main(args))
    return statuses


def test_chain_in_pieces_equals_one_uninterrupted_chain(tmp_path, capsys):
    """With a budget smaller than any chunk every command trains one chunk (the first of a command
    always runs) and stops; the same command, repeated, skips finished runs, resumes the partial
    one and ends where one uninterrupted chain ends, bit for bit; progress.json and the manifests
    say what each command did."""
    base = ["reproduce", "--scale", "fast", "--seeds", "2", "--steps", "step2", "--no-progress"] + sum([["--set", a] for a in TINY], [])
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    assert main(base + ["--out", str(whole)]) == 0
    args = base + ["--out", str(pieces), "--time-budget", "0.001"]
    assert main(args) == STOPPED
    progress = json.loads((pieces / chain.PROGRESS).read_text())
    assert progress["status"] == "stopped at the time budget"
    assert [(r["experiment"], r["state"], r["iteration"]) for r in progress["runs"]] == [("step1", "partial", 2), ("step2", "to train", 0)]
    assert "stopped at the time budget" in capsys.readouterr().out
    # step1 finishes, then step2 does not start; step2's two chunks; done
    assert _run_in_pieces(args) == [STOPPED, STOPPED, 0]
    progress = json.loads((pieces / chain.PROGRESS).read_text())
    assert progress["status"] == "complete" and {r["state"] for r in progress["runs"]} == {"finished"}
    assert progress["timing"]["step2"]["first_chunk_s"] > 0
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if k != "wall_s"} for ln in (p / "metrics.jsonl").read_text().splitlines()]
    for step in ("step1", "step2"):
        assert (pieces / step / "checkpoint.msgpack").read_bytes() == (whole / step / "checkpoint.msgpack").read_bytes()
        assert strip(pieces / step) == strip(whole / step)
        once, twice = (json.loads((d / step / "manifest.json").read_text()) for d in (whole, pieces))
        assert not once["resumed"] and [(p["from_iteration"], p["to_iteration"]) for p in once["pieces"]] == [(0, 4)]
        assert twice["resumed"] and twice["finished"] and twice["iteration"] == 4
        assert [(p["from_iteration"], p["to_iteration"]) for p in twice["pieces"]] == [(0, 2), (2, 4)]
        assert twice["wall_time_s"] == pytest.approx(sum(p["wall_time_s"] for p in twice["pieces"]), abs=0.02)
    # the plan in pieces: from the times the uninterrupted chain measured, extended to 8 iterations
    # (not part of the config hash), or not known where no later chunk was measured
    capsys.readouterr()
    longer = base + ["--set", "iterations=8", "--dry-run", "--time-budget", "540"]
    assert main(longer + ["--out", str(whole)]) == 0
    out = capsys.readouterr().out
    assert "(partial: 4 done)" in out and "about 1 command(s)" in out and "step1: iterations 4-8 in command 1" in out
    assert main(longer + ["--out", str(pieces)]) == 0
    assert "the time per iteration of step1 is not measured yet" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "ten"])
def test_a_bad_time_budget_is_refused(value, tmp_path, capsys):
    for command in (["reproduce", "--steps", "step1"], ["train", "step1"]):
        assert main([*command, "--scale", "fast", "--out", str(tmp_path / "x"), "--time-budget", value]) == 2
        assert f"--time-budget: {value!r}: give a finite number of seconds > 0" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    if value == "ten":
        with pytest.raises(ValueError, match="give a number of seconds"):
            Budget(value)
    else:
        with pytest.raises(ValueError, match="give a finite number of seconds > 0"):
            Budget(float(value))
