"""Command line: train with resume (bit-identical), checkpoint errors, evaluate's JSON layout."""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from flax import serialization

from ismarl.runs import checkpoint
from ismarl.cli import main
from ismarl.runs.evaluate import FORMAT, read_evaluation, summary_table

TINY = ["--scale", "fast", "--set", "horizon=10", "--set", "batch_size=8", "--set", "network.hidden=8",
        "--set", "network.embed=4", "--set", "run.chunk=2", "--set", "run.checkpoint_every=2", "--set", "run.probe_every=2",
        "--set", "run.probe_episodes=8", "--set", "iterations=4", "--no-progress"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    full, part = root / "full", root / "part"
    assert main(["train", "step1", "--seeds", "2", "--out", str(full), *TINY, "--debug"]) == 0
    assert main(["train", "step1", "--seeds", "2", "--out", str(part), "--stop-at", "2", *TINY]) == 0
    assert checkpoint.read_sidecar(part)["iteration"] == 2
    assert main(["train", "step1", "--seeds", "2", "--out", str(part), "--resume", *TINY]) == 0
    return full, part


def test_resume_is_bit_identical_and_deterministic(runs):
    full, part = runs
    assert (full / "checkpoint.msgpack").read_bytes() == (part / "checkpoint.msgpack").read_bytes()
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if k != "wall_s"} for ln in (p / "metrics.jsonl").read_text().splitlines()]
    assert strip(full) == strip(part)
    assert [d["iteration"] for d in strip(full)] == [2, 2, 4, 4]  # one line per seed per chunk


def test_existing_run_needs_resume(runs, tmp_path):
    full, _ = runs
    with pytest.raises(FileExistsError, match="--resume"):
        main(["train", "step1", "--seeds", "2", "--out", str(full), *TINY, "--debug"])


def test_corrupt_truncated_and_mismatched_checkpoints(runs, tmp_path):
    full, _ = runs
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    data = bytearray((bad / "checkpoint.msgpack").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "checkpoint.msgpack").write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError, match="corrupt"):
        main(["train", "step1", "--seeds", "2", "--out", str(bad), "--resume", *TINY, "--debug"])
    (bad / "checkpoint.msgpack").write_bytes(bytes(data[:100]))
    with pytest.raises(checkpoint.CheckpointError, match="truncated"):
        main(["evaluate", str(bad), "--debug"])
    shutil.copy(full / "checkpoint.msgpack", bad / "checkpoint.msgpack")
    with pytest.raises(checkpoint.CheckpointError, match="another config"):
        main(["train", "step1", "--seeds", "2", "--out", str(bad), "--resume", *TINY, "--set", "network.hidden=16", "--debug"])
    with pytest.raises(checkpoint.CheckpointError, match="seeds"):
        main(["train", "step1", "--seeds", "3", "--out", str(bad), "--resume", *TINY, "--debug"])
    # a sidecar consistent with its data but arrays of another shape: named as a shape mismatch
    meta = json.loads((bad / "checkpoint.json").read_text())
    raw = serialization.msgpack_restore((bad / "checkpoint.msgpack").read_bytes())
    raw["params"]["params"]["hidden_bias_n"] = np.zeros((2, 1, 3), np.float32)
    blob = serialization.msgpack_serialize(raw)
    import hashlib
    meta.update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    (bad / "checkpoint.msgpack").write_bytes(blob)
    (bad / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(checkpoint.CheckpointError, match="hidden_bias_n has shape"):
        main(["evaluate", str(bad), "--debug"])
    (bad / "checkpoint.json").write_text("{not json")
    with pytest.raises(checkpoint.CheckpointError, match="not valid JSON"):
        main(["evaluate", str(bad), "--debug"])


def test_errors_are_one_line_without_debug(runs, tmp_path, capsys):
    full, _ = runs
    capsys.readouterr()
    assert main(["train", "step1", "--seeds", "2", "--out", str(full), *TINY]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err and "Traceback" not in err
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    (bad / "checkpoint.json").write_text("[]")
    assert main(["evaluate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not an object" in err and err.count("\n") == 1


def test_evaluate_json_layout(runs, capsys):
    full, _ = runs
    capsys.readouterr()
    assert main(["evaluate", str(full), "--coplayers", "tft,random,0.9:0.8:0.1:0.7:0.2", "--episodes", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == FORMAT == "ismarl-evaluation/2"
    assert out["seeds"] == [0, 1] and out["horizon"] == 10 and out["episodes"] == 16 and out["iteration"] == 4
    assert out["learner"] == 0 and out["coplayer_run"] is None and out["coplayer_learner"] is None
    assert list(out["coplayers"]) == ["tft", "random", "0.9:0.8:0.1:0.7:0.2"]
    for spec, r in out["coplayers"].items():
        assert r["oracle_reward"] is not None and r["alld_reward"] is not None
        assert 0.0 <= r["oracle_coop"] <= 1.0
        assert [e["seed"] for e in r["per_seed"]] == [0, 1]
        for e in r["per_seed"]:
            for side in ("learner", "coplayer"):
                assert len(e[side]["reward_curve"]) == 10 and len(e[side]["coop_curve"]) == 10
                assert e[side]["reward"] == pytest.approx(np.mean(e[side]["reward_curve"]), abs=1e-4)
            assert e["learner_over_oracle"] == pytest.approx(e["learner"]["reward"] / r["oracle_reward"])
        assert set(r["mean"]) == {"learner_reward", "learner_coop", "coplayer_reward", "coplayer_coop",
                                  "coop_rounds_40_60", "learner_over_oracle", "alld_over_oracle"}
    # learner against learner
    assert main(["evaluate", str(full), "--coplayer-run", str(full), "--coplayer-learner", "0", "--episodes", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (spec,) = out["coplayers"]
    assert out["coplayer_run"] == str(full) and out["coplayer_learner"] == 0
    assert spec.startswith("run:") and out["coplayers"][spec]["oracle_reward"] is None
    assert out["coplayers"][spec]["oracle_coop"] is None
    # the help shows the layout and the new flags only
    assert main(["evaluate", "--help"]) == 0
    helptext = capsys.readouterr().out
    assert "--coplayer-run" in helptext and '"format": "ismarl-evaluation/2"' in helptext
    assert "--opponent" not in helptext  # the deprecated names work (below) but are not shown


def test_evaluate_some_seeds_gives_their_entries_of_the_whole_evaluation(runs, capsys):
    """``--seeds`` evaluates a subset of a run's seeds: each entry equals the whole run's entry for
    that seed (same co-players and dice), also against another run's learner (seed i keeps
    co-player seed i); ``seeds`` and ``mean`` cover the subset; an unknown seed is named."""
    full, _ = runs
    capsys.readouterr()
    for extra in (["--coplayers", "tft,random"], ["--coplayer-run", str(full), "--coplayer-learner", "0"]):
        assert main(["evaluate", str(full), *extra, "--episodes", "8", "--json"]) == 0
        whole = json.loads(capsys.readouterr().out)
        assert main(["evaluate", str(full), *extra, "--episodes", "8", "--seeds", "1", "--json"]) == 0
        part = json.loads(capsys.readouterr().out)
        assert whole["seeds"] == [0, 1] and part["seeds"] == [1]
        for spec, r in part["coplayers"].items():
            assert r["per_seed"] == [whole["coplayers"][spec]["per_seed"][1]]
            assert r["mean"]["learner_reward"] == r["per_seed"][0]["learner"]["reward"]
            assert r["oracle_reward"] == whole["coplayers"][spec]["oracle_reward"]
    with pytest.raises(ValueError, match=r"--seeds 1,7: run .* has seeds 0,1, not 7"):
        main(["evaluate", str(full), "--seeds", "1,7", "--debug"])
    assert main(["evaluate", str(full), "--seeds", "1,1"]) == 2  # argparse: a repeated seed
    assert "appear more than once" in capsys.readouterr().err
    assert main(["evaluate", str(full), "--seeds", "a"]) == 2
    assert "'a' is not a comma list of the run's seeds" in capsys.readouterr().err


def test_deprecated_evaluate_flags_still_work(runs, capsys, tmp_path):
    """Old commands (committed manifests and READMEs) use --opponents, --opponent-run and
    --opponent-learner: they give the same result as the new flags, with a warning on stderr."""
    full, _ = runs
    capsys.readouterr()
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    assert main(["evaluate", str(full), "--coplayers", "tft,alld", "--episodes", "4", "--out", str(new)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["evaluate", str(full), "--opponents", "tft,alld", "--episodes", "4", "--out", str(old)]) == 0
    assert "--opponents is deprecated, use --coplayers" in capsys.readouterr().err
    assert read_evaluation(old) == read_evaluation(new) and list(read_evaluation(new)["coplayers"]) == ["tft", "alld"]
    args = ["evaluate", str(full), "--episodes", "4", "--json"]
    assert main([*args, "--coplayer-run", str(full), "--coplayer-learner", "0"]) == 0
    by_new = json.loads(capsys.readouterr().out)
    assert main([*args, "--opponent-run", str(full), "--opponent-learner", "0"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == by_new
    assert "--opponent-run is deprecated" in captured.err and "--opponent-learner is deprecated" in captured.err
    assert main([*args, "--opponent-run", str(full), "--opponent-learner", "-1"]) == 1
    assert "--coplayer-learner -1: learners are numbered from 0" in capsys.readouterr().err


#: a format-1 evaluation file (no "format"; "agent"/"opponent" for learner/co-player), cut down
FORMAT1 = {"run": "r", "iteration": 4, "learner": 0, "episodes": 2, "horizon": 10, "seeds": [0],
           "opponent_run": "r",
           "opponents": {"run:r#1": {"oracle_reward": None, "oracle_coop": None, "alld_reward": None, "per_seed": [
               {"seed": 0, "agent": {"reward": 1.5, "coop": 0.25}, "opponent": {"reward": 0.5, "coop": 0.75},
                "coop_rounds_40_60": None, "agent_over_oracle": None, "alld_over_oracle": None, "normalized_gain": None}],
               "mean": {"agent_reward": 1.5, "agent_coop": 0.25, "opponent_reward": 0.5, "opponent_coop": 0.75,
                        "coop_rounds_40_60": None}}}}


def test_read_evaluation_upgrades_format_1(tmp_path):
    f = tmp_path / "evaluate.json"
    f.write_text(json.dumps(FORMAT1))
    d = read_evaluation(f)
    assert list(d) == ["format", "run", "iteration", "learner", "episodes", "horizon", "seeds", "coplayer_run",
                       "coplayer_learner", "coplayers"]
    assert d["format"] == FORMAT and d["coplayer_run"] == "r" and d["coplayer_learner"] == 1 and d["learner"] == 0
    r = d["coplayers"]["run:r#1"]
    assert r["per_seed"] == [{"seed": 0, "learner": {"reward": 1.5, "coop": 0.25}, "coplayer": {"reward": 0.5, "coop": 0.75},
                              "coop_rounds_40_60": None, "learner_over_oracle": None, "alld_over_oracle": None,
                              "normalized_gain": None}]
    assert r["mean"] == {"learner_reward": 1.5, "learner_coop": 0.25, "coplayer_reward": 0.5, "coplayer_coop": 0.75,
                         "coop_rounds_40_60": None}
    assert "co-player" in summary_table(d) and "run:r#1" in summary_table(d)
    # tabular co-players: no co-player run, so no co-player learner
    f.write_text(json.dumps({**FORMAT1, "opponent_run": None, "opponents": {"tft": FORMAT1["opponents"]["run:r#1"]}}))
    d = read_evaluation(f)
    assert d["coplayer_run"] is None and d["coplayer_learner"] is None and list(d["coplayers"]) == ["tft"]
    # a format-2 file is read as written; anything else is refused, naming the file
    f.write_text(json.dumps(d))
    assert read_evaluation(f) == d
    f.write_text(json.dumps({**d, "format": "ismarl-evaluation/9"}))
    with pytest.raises(ValueError, match=r"evaluate\.json: unknown evaluation format 'ismarl-evaluation/9'"):
        read_evaluation(f)
    f.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"evaluate\.json is not an evaluation .* \(a JSON list\)"):
        read_evaluation(f)
    f.write_text("{ cut")
    with pytest.raises(ValueError, match=r"evaluate\.json is not JSON"):
        read_evaluation(f)


def test_an_interrupted_command_ends_at_once_and_others_exit_normally(monkeypatch):
    import ismarl.cli as cli

    class Ended(Exception):  # neither way of ending returns
        pass

    def ending(how):
        def end(status):
            calls.append((how, status))
            raise Ended
        return end

    calls = []
    monkeypatch.setattr(cli.os, "_exit", ending("os._exit"))
    monkeypatch.setattr(cli.sys, "exit", ending("sys.exit"))
    for status in (cli.INTERRUPTED, 0, 1, 3):
        with pytest.raises(Ended):
            cli.exit_with(status)
    assert calls == [("os._exit", 130), ("sys.exit", 0), ("sys.exit", 1), ("sys.exit", 3)]


_IN_FLIGHT = """
import sys, time
import jax, jax.numpy as jnp
from ismarl.cli import exit_with

@jax.jit
def slow(x):
    return jax.lax.scan(lambda c, _: (jnp.tanh(c @ c.T / 1000.0), None), x, None, length=400)[0]

x = jnp.ones((1000, 1000))
slow.lower(x).compile()
slow(x)  # dispatched, not finished
print(time.time(), flush=True)
exit_with(int(sys.argv[1]))
"""


def test_exit_with_does_not_wait_for_dispatched_computations_when_interrupted():
    """What ``python -m ismarl`` does at Ctrl-C: after the command has kept what it keeps, the
    process ends without waiting for computations JAX dispatched but has not finished (a normal
    exit waits for them: the control)."""
    def seconds_to_exit(status: int) -> float:
        proc = subprocess.run([sys.executable, "-c", _IN_FLIGHT, str(status)], capture_output=True, text=True,
                              env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=300)
        assert proc.returncode == status, proc.stderr
        return time.time() - float(proc.stdout.split()[-1])

    waited, interrupted = seconds_to_exit(0), seconds_to_exit(130)
    assert waited > 3.0 and interrupted < waited / 3, (waited, interrupted)
