"""Hostile but fair input to the command line: every bad value is refused before anything is
written or compiled, as one line on stderr naming the value, with a non-zero exit status, no
traceback, and no --out left behind."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from flax import serialization

from ismarl.cli import main

TINY = ["--scale", "fast", "--set", "horizon=10", "--set", "batch_size=8", "--set", "network.hidden=8",
        "--set", "network.embed=4", "--set", "run.chunk=2", "--set", "run.checkpoint_every=2", "--set", "run.probe_every=0",
        "--set", "iterations=4", "--no-progress"]
T = ["train", "step1", "--out", "{out}", *TINY]

# (argv, a fragment stderr must contain); {out} is a path that must not exist afterwards,
# {run} a trained tiny run, {nan} a copy of it whose parameters are NaN
CASES = {
    "nan learning rate": ([*T, "--set", "a2c.learning_rate=NaN"], "a2c.learning_rate=NaN"),
    "unknown game": ([*T, "--set", "game=nosuch"], "unknown game 'nosuch'; choose one of"),
    "unknown engine": ([*T, "--set", "engine=nosuch"], "engine 'nosuch' is not one of ['a2c', 'ppi']"),
    "schedule with negative steps": ([*T, "--set", 'a2c.learning_rate={{"start": 0.01, "steps": -3}}'],
                                     "a2c.learning_rate.steps must be an integer >= 0, got -3"),
    "schedule ending below zero": ([*T, "--set", "a2c.entropy_coef.end=-1", "--set", "a2c.entropy_coef.steps=3"],
                                   "a2c.entropy_coef.end must be >= 0, got -1"),
    "schedule with an unknown field": ([*T, "--set", 'a2c.learning_rate={{"start": 0.01, "stop": 3}}'],
                                       "a2c.learning_rate must be a number or"),
    "a learner as a probe": ([*T, "--set", 'run.probes=["learner:0"]'], "run.probes must be tabular co-players"),
    "a run option at the top level": ([*T, "--set", "chunk=2"], "'chunk' is a run option; use --set run.chunk=2"),
    "a snapshot of no run": ([*T, "--set", "init_iteration=3"], "but init_from is empty"),
    "a config format from the future": ([*T, "--set", "config_format=3"], "config_format 3 is not one this version"),
    "a frozen experiment not beside it": (["train", "step2", "--out", "{out}", *TINY], "no run directory"),
    "infinite grad norm": ([*T, "--set", "a2c.max_grad_norm=Infinity"], "inf"),
    "negative learning rate": ([*T, "--set", "a2c.learning_rate=-1"], "a2c.learning_rate must be > 0, got -1"),
    "gamma above 1": ([*T, "--set", "a2c.gamma=1.5"], "a2c.gamma must be <= 1, got 1.5"),
    "gamma a string": ([*T, "--set", 'a2c.gamma="x"'], "'x'"),
    "zero batch": ([*T, "--set", "batch_size=0"], "batch_size must be an integer >= 1, got 0"),
    "batch not a number": ([*T, "--set", "batch_size=abc"], "'abc' is not a JSON value"),
    "hidden a float": ([*T, "--set", "network.hidden=1.5"], "network.hidden must be an integer, got float: 1.5"),
    "use_z a number": ([*T, "--set", "network.use_z=1"], "network.use_z must be true or false, got 1"),
    "zero horizon": ([*T, "--set", "horizon=0"], "horizon must be an integer >= 1, got 0"),
    "iterations a bool": ([*T, "--set", "iterations=true"], "iterations must be an integer, got bool"),
    "chunk not dividing": ([*T, "--set", "run.chunk=3"], "run.chunk=3"),
    "zero checkpoint_every": ([*T, "--set", "run.checkpoint_every=0"], "checkpoint_every must be an integer >= 1, got 0"),
    "zero probe episodes": ([*T, "--set", "run.probe_episodes=0"], "probe_episodes must be an integer >= 1, got 0"),
    "bad advantage norm": ([*T, "--set", "a2c.advantage_norm=bogus"], "'bogus'"),
    "unknown key": ([*T, "--set", "nosuchkey=1"], "unknown field 'nosuchkey'"),
    "unknown a2c key": ([*T, "--set", "a2c.nosuch=1"], "unknown field 'nosuch'"),
    "override without =": ([*T, "--set", "batch_size"], "'batch_size' is not of the form KEY=VALUE"),
    "section overwritten": ([*T, "--set", "network=3"], "'network' is a config section"),
    "unknown co-player": ([*T, "--set", 'pools=[[["foo",1.0]]]'], "unknown co-player 'foo'"),
    "negative pool weight": ([*T, "--set", 'pools=[[["random",-1]]]'], "must be >= 0, got -1"),
    "nan pool weight": ([*T, "--set", 'pools=[[["random",NaN]]]'], "must be finite, got nan"),
    "empty pools": ([*T, "--set", "pools=[]"], "at least one learner"),
    "missing learner": ([*T, "--set", 'pools=[[["learner:3",1]]]'], "'learner:3'"),
    "missing frozen run": ([*T, "--set", 'pools=[[["frozen:0",1]]]'], "'frozen:0'"),
    "unknown experiment": (["train", "step99", "--out", "{out}", *TINY], "unknown experiment 'step99'"),
    "nonsense scale": (["train", "step1", "--out", "{out}", *TINY, "--scale", "nonsense"], "unknown scale 'nonsense'"),
    "negative iterations": ([*T, "--iterations", "-5"], "--iterations -5"),
    "zero iterations": ([*T, "--iterations", "0"], "--iterations 0"),
    "iterations not int": ([*T, "--iterations", "ten"], "'ten'"),
    "negative stop-at": ([*T, "--stop-at", "-3"], "--stop-at -3"),
    "repeated seeds": ([*T, "--seeds", "0,0"], "seed(s) [0] appear more than once"),
    "negative seed count": ([*T, "--seeds", "-2"], "'-2'"),
    "negative seed": ([*T, "--seeds", "0,-1"], "seed must be an integer >= 0, got -1"),
    "seeds not numbers": ([*T, "--seeds", "abc"], "'abc'"),
    "empty seed entry": ([*T, "--seeds", "0,,1"], "'0,,1' has an empty entry"),
    "frozen run missing": (["train", "step2", "--out", "{out}", *TINY, "--set", 'frozen=["/nonexistent/run"]'],
                           "/nonexistent/run"),
    "init_from run missing": (["train", "step3", "--out", "{out}", *TINY, "--set", 'init_from=["/no/such","/no/such"]'],
                              "/no/such"),
    "init_from one entry for two learners": (["train", "step3", "--out", "{out}", *TINY, "--set", 'init_from=["{run}"]'],
                                             "init_from needs one entry per learner (2), got 1"),
    "evaluate negative learner": (["evaluate", "{run}", "--learner", "-5", "--out", "{out}"], "--learner -5"),
    "evaluate missing learner": (["evaluate", "{run}", "--learner", "5", "--episodes", "4", "--out", "{out}"], "--learner 5 does not exist"),
    "evaluate negative co-player learner": (["evaluate", "{run}", "--coplayer-run", "{run}", "--coplayer-learner", "-1",
                                             "--out", "{out}"], "--coplayer-learner -1"),
    "evaluate missing co-player learner": (["evaluate", "{run}", "--coplayer-run", "{run}", "--coplayer-learner", "3",
                                            "--episodes", "4", "--out", "{out}"], "--coplayer-learner 3 does not exist"),
    "evaluate no co-players": (["evaluate", "{run}", "--coplayers", "", "--out", "{out}"], "--coplayers '' names no co-player"),
    "evaluate only commas": (["evaluate", "{run}", "--coplayers", " , ", "--out", "{out}"], "names no co-player"),
    "evaluate zero episodes": (["evaluate", "{run}", "--episodes", "0", "--out", "{out}"], "--episodes 0"),
    "evaluate episodes not int": (["evaluate", "{run}", "--episodes", "1e3", "--out", "{out}"], "'1e3'"),
    "evaluate unknown co-player": (["evaluate", "{run}", "--coplayers", "tft,foo", "--episodes", "4", "--out", "{out}"], "'foo'"),
    "evaluate learner spec": (["evaluate", "{run}", "--coplayers", "learner:1", "--episodes", "4", "--out", "{out}"],
                              "'learner:1'"),
    "evaluate bad strategy": (["evaluate", "{run}", "--coplayers", "0.9:2:0:0:0", "--out", "{out}"], "0.9:2:0:0:0"),
    "evaluate missing run": (["evaluate", "/no/such/run", "--out", "{out}"], "/no/such/run"),
    "evaluate missing co-player run": (["evaluate", "{run}", "--coplayer-run", "/no/such/other", "--episodes", "4",
                                        "--out", "{out}"], "/no/such/other"),
    "evaluate diverged run": (["evaluate", "{nan}", "--episodes", "4", "--out", "{out}"], "non-finite"),
    "evaluate out in missing folder": (["evaluate", "{run}", "--episodes", "4", "--out", "{out}/x/evaluate.json"], "does not exist"),
    "reproduce unknown step": (["reproduce", "--out", "{out}", "--steps", "nosuch", "--scale", "fast"], "'nosuch'"),
    "reproduce bad override": (["reproduce", "--out", "{out}", "--steps", "step1", "--scale", "fast", "--set", "batch_size=-1"],
                               "batch_size must be an integer >= 1, got -1"),
    "reproduce no steps": (["reproduce", "--out", "{out}", "--steps", ",", "--scale", "fast"], "names no experiment"),
    "warmup-pairs missing run": (["warmup-pairs", "/no/such/warmup"], "/no/such/warmup"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    run = root / "run"
    assert main(["train", "step1", "--out", str(run), *TINY]) == 0
    nan = root / "nan"
    shutil.copytree(run, nan)
    raw = serialization.msgpack_restore((nan / "checkpoint.msgpack").read_bytes())
    raw["params"]["params"]["hidden_bias_n"] = np.full_like(raw["params"]["params"]["hidden_bias_n"], np.nan)
    blob = serialization.msgpack_serialize(raw)
    meta = json.loads((nan / "checkpoint.json").read_text())
    import hashlib
    meta.update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    (nan / "checkpoint.msgpack").write_bytes(blob)
    (nan / "checkpoint.json").write_text(json.dumps(meta))
    return {"run": str(run), "nan": str(nan)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_one_line_and_leaves_nothing(name, runs, tmp_path, capsys):
    argv, fragment = CASES[name]
    out = tmp_path / "out"
    argv = [a.format(out=out, **runs) for a in argv]
    capsys.readouterr()
    rc = main(argv)
    captured = capsys.readouterr()
    err = captured.err
    assert rc != 0, (name, captured.out)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match=r"--set a2c\.learning_rate=NaN: a2c\.learning_rate must be finite"):
        main(["train", "step1", "--out", str(tmp_path / "out"), *TINY, "--set", "a2c.learning_rate=NaN", "--debug"])
    assert not (tmp_path / "out").exists()


def test_the_real_exit_code_and_no_traceback(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "ismarl", "train", "step1", "--out", str(out), *TINY, "--set", "batch_size=0"],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=300,
                       env={**__import__("os").environ, "JAX_PLATFORMS": "cpu"})
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == ["error: --set batch_size=0: batch_size must be an integer >= 1, got 0"]
    assert not out.exists()
    p = subprocess.run([sys.executable, "-m", "ismarl", "evaluate", str(tmp_path), "--episodes", "x"],
                       capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "JAX_PLATFORMS": "cpu"})
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "'x'" in p.stderr
