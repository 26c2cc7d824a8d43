"""Command line: train with resume (bit-identical), checkpoint errors, evaluate's JSON layout."""

import json
import shutil

import numpy as np
import pytest
from flax import serialization

from ismarl.runs import checkpoint
from ismarl.cli import main

TINY = ["--scale", "fast", "--set", "horizon=10", "--set", "batch_size=8", "--set", "network.hidden=8",
        "--set", "network.embed=4", "--set", "chunk=2", "--set", "checkpoint_every=2", "--set", "probe_every=2",
        "--set", "probe_episodes=8", "--set", "iterations=4", "--no-progress"]


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
    assert main(["evaluate", str(full), "--opponents", "tft,random,0.9:0.8:0.1:0.7:0.2", "--episodes", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == [0, 1] and out["horizon"] == 10 and out["episodes"] == 16 and out["iteration"] == 4
    assert list(out["opponents"]) == ["tft", "random", "0.9:0.8:0.1:0.7:0.2"]
    for spec, r in out["opponents"].items():
        assert r["oracle_reward"] is not None and r["alld_reward"] is not None
        assert 0.0 <= r["oracle_coop"] <= 1.0
        assert [e["seed"] for e in r["per_seed"]] == [0, 1]
        for e in r["per_seed"]:
            for side in ("agent", "opponent"):
                assert len(e[side]["reward_curve"]) == 10 and len(e[side]["coop_curve"]) == 10
                assert e[side]["reward"] == pytest.approx(np.mean(e[side]["reward_curve"]), abs=1e-4)
            assert e["agent_over_oracle"] == pytest.approx(e["agent"]["reward"] / r["oracle_reward"])
    # learner against learner
    assert main(["evaluate", str(full), "--opponent-run", str(full), "--episodes", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (spec,) = out["opponents"]
    assert spec.startswith("run:") and out["opponents"][spec]["oracle_reward"] is None
    assert out["opponents"][spec]["oracle_coop"] is None
