"""Checkpoints under damage: every kind of corruption is a CheckpointError (library and command
line), a save killed at any instant leaves a resumable run, a torn metrics line does not block
--resume, a run trained in commands of a time budget ends as one uninterrupted run, and a run that
diverges stops without saving the bad state."""

import hashlib
import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

from ismarl.cli import main
from ismarl.engines.experiment import from_dict
from ismarl.runs import checkpoint, store
from ismarl.runs import train as train_mod
from ismarl.runs.budget import STOPPED
from ismarl.runs.checkpoint import CheckpointError

TINY = ["--scale", "fast", "--set", "horizon=10", "--set", "batch_size=8", "--set", "network.hidden=8",
        "--set", "network.embed=4", "--set", "run.chunk=2", "--set", "run.checkpoint_every=2", "--set", "run.probe_every=0",
        "--set", "iterations=4", "--set", "run.snapshot_every=2", "--no-progress"]
ARGS = ["train", "step1", "--seeds", "2", *TINY]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = tmp_path_factory.mktemp("ck") / "full"
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


def _strip(run):
    return [{k: v for k, v in json.loads(ln).items() if k != "wall_s"} for ln in (run / "metrics.jsonl").read_text().splitlines()]


def _same_run(a, b):
    assert (a / "checkpoint.msgpack").read_bytes() == (b / "checkpoint.msgpack").read_bytes()
    assert (a / "snapshots.msgpack").read_bytes() == (b / "snapshots.msgpack").read_bytes()
    assert _strip(a) == _strip(b)


def _rewrite(run, raw, data="checkpoint.msgpack", side="checkpoint.json"):
    """Replace the data with ``raw`` (bytes or a pytree) and make the sidecar's digest match it."""
    blob = raw if isinstance(raw, bytes) else serialization.msgpack_serialize(raw)
    meta = json.loads((run / side).read_text())
    meta.update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    (run / data).write_bytes(blob)
    (run / side).write_text(json.dumps(meta))


def _edit_sidecar(fn, side="checkpoint.json"):
    def go(run):
        meta = json.loads((run / side).read_text())
        (run / side).write_text(json.dumps(fn(meta)))
    return go


def _raw(run, data="checkpoint.msgpack"):
    return serialization.msgpack_restore((run / data).read_bytes())


def _nan_params(run):
    raw = _raw(run)
    raw["params"]["params"]["hidden_bias_n"] = np.full_like(raw["params"]["params"]["hidden_bias_n"], np.nan)
    _rewrite(run, raw)


def _wrong_shape(run):
    raw = _raw(run)
    raw["params"]["params"]["hidden_bias_n"] = np.zeros((2, 1, 3), np.float32)
    _rewrite(run, raw)


def _flip(run, name="checkpoint.msgpack"):
    data = bytearray((run / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / name).write_bytes(bytes(data))


CORRUPTIONS = {
    "missing data": (lambda r: (r / "checkpoint.msgpack").unlink(), r"checkpoint\.msgpack is missing"),
    "missing sidecar": (lambda r: (r / "checkpoint.json").unlink(), r"checkpoint\.json is missing"),
    "sidecar not JSON": (lambda r: (r / "checkpoint.json").write_text("{not json"), "not valid JSON"),
    "sidecar a list": (lambda r: (r / "checkpoint.json").write_text("[]"), "JSON list, not an object"),
    "sidecar not UTF-8": (lambda r: (r / "checkpoint.json").write_bytes(b"\xff\xfe\x00"), "not valid JSON"),
    "sidecar without config": (_edit_sidecar(lambda m: {k: v for k, v in m.items() if k != "config"}), r"lacks \['config'\]"),
    "sidecar without sha256": (_edit_sidecar(lambda m: {k: v for k, v in m.items() if k != "sha256"}), r"lacks \['sha256'\]"),
    "config a list": (_edit_sidecar(lambda m: {**m, "config": []}), "config is a list, not an object"),
    "bad seeds": (_edit_sidecar(lambda m: {**m, "seeds": "0,1"}), "seeds is '0,1'"),
    "wrong format": (_edit_sidecar(lambda m: {**m, "format": "ismarl-checkpoint/99"}), "has format 'ismarl-checkpoint/99'"),
    "truncated data": (lambda r: (r / "checkpoint.msgpack").write_bytes((r / "checkpoint.msgpack").read_bytes()[:100]), "truncated"),
    "sha mismatch": (_flip, "SHA-256 does not match"),
    "undecodable msgpack": (lambda r: _rewrite(r, b"\xc1" * 64), "msgpack decoding failed"),
    "wrong structure": (lambda r: _rewrite(r, {"foo": np.zeros(3)}), r"another structure|no 'params' entry"),
    "not a dict": (lambda r: _rewrite(r, np.zeros(3)), r"another structure|no 'params' entry"),
    "wrong shapes": (_wrong_shape, "hidden_bias_n has shape"),
    "non-finite params": (_nan_params, "non-finite"),
}


@pytest.fixture
def damaged(full, tmp_path, request):
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    damage, match = CORRUPTIONS[request.param]
    damage(bad)
    return bad, match


@pytest.mark.parametrize("damaged", sorted(CORRUPTIONS), indirect=True)
def test_every_corruption_is_a_checkpoint_error(damaged, full, capsys):
    bad, match = damaged
    cfg = from_dict(json.loads((full / "checkpoint.json").read_text())["config"])
    with pytest.raises(CheckpointError, match=match):
        checkpoint.load(bad, train_mod.state_template(cfg, [0, 1]), config_hash=cfg.hash(), seeds=[0, 1])
    with pytest.raises(CheckpointError, match=match):
        store.load_run(bad)
    capsys.readouterr()
    assert main(["evaluate", str(bad), "--coplayers", "tft", "--episodes", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert __import__("re").search(match, err)
    # and resuming refuses it too, leaving the files as they were
    if (bad / "checkpoint.json").exists() and (bad / "checkpoint.msgpack").exists():
        before = sorted(p.name for p in bad.iterdir())
        assert main([*ARGS, "--out", str(bad), "--resume"]) == 1
        assert sorted(p.name for p in bad.iterdir()) == before


def _nan_snapshot(run):
    raw = _raw(run, "snapshots.msgpack")
    leaf = raw["2"]["params"]["hidden_bias_n"]
    raw["2"]["params"]["hidden_bias_n"] = np.full_like(leaf, np.inf)
    _rewrite(run, raw, "snapshots.msgpack", "snapshots.json")


SNAPSHOT_CORRUPTIONS = {
    "missing data": (lambda r: (r / "snapshots.msgpack").unlink(), r"snapshots\.msgpack is missing"),
    "sidecar a list": (lambda r: (r / "snapshots.json").write_text("[]"), "not an object"),
    "sidecar without iterations": (_edit_sidecar(lambda m: {k: v for k, v in m.items() if k != "iterations"}, "snapshots.json"),
                                   r"lacks \['iterations'\]"),
    "truncated": (lambda r: (r / "snapshots.msgpack").write_bytes(b"\x80"), "truncated"),
    "sha mismatch": (lambda r: _flip(r, "snapshots.msgpack"), "SHA-256 does not match"),
    "undecodable": (lambda r: _rewrite(r, b"\xc1" * 32, "snapshots.msgpack", "snapshots.json"), "msgpack decoding failed"),
    "other iterations": (lambda r: _rewrite(r, {"7": {"a": np.zeros(2)}}, "snapshots.msgpack", "snapshots.json"), "another structure"),
    "non-finite": (_nan_snapshot, "non-finite"),
}


@pytest.mark.parametrize("name", sorted(SNAPSHOT_CORRUPTIONS))
def test_every_snapshot_corruption_is_a_checkpoint_error(full, tmp_path, name):
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    damage, match = SNAPSHOT_CORRUPTIONS[name]
    damage(bad)
    with pytest.raises(CheckpointError, match=match):
        checkpoint.load_snapshots(bad)
    with pytest.raises(CheckpointError, match=match):
        store.load_snapshots(bad)


def test_undecodable_msgpack_is_a_checkpoint_error_not_a_name_error(full, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    _rewrite(bad, b"\xc1\xc1\xc1 not msgpack at all")
    with pytest.raises(CheckpointError, match=r"checkpoint\.msgpack is corrupt: msgpack decoding failed"):
        checkpoint.load(bad, {"x": np.zeros(1)})


def _kill_at(monkeypatch, target: str, nth: int):
    """Make the ``nth`` os.replace onto ``target`` die like a killed process."""
    real, seen = checkpoint.os.replace, []

    def replace(src, dst):
        if str(dst).endswith("/" + target):
            seen.append(dst)
            if len(seen) == nth:
                raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", replace)


@pytest.mark.parametrize("target", ["checkpoint.json", "checkpoint.msgpack", "snapshots.json", "checkpoint.json.tmp"])
def test_a_save_killed_at_any_instant_resumes_exactly(full, tmp_path, monkeypatch, capsys, target):
    run = tmp_path / "run"
    if target == "checkpoint.json.tmp":  # killed while writing the pending sidecar
        real = checkpoint._write_synced
        calls = []

        def write(path, data):
            if path.name == target:
                calls.append(path)
                if len(calls) == 2:
                    path.write_bytes(data[: len(data) // 2])
                    raise KeyboardInterrupt
            return real(path, data)

        monkeypatch.setattr(checkpoint, "_write_synced", write)
    else:
        _kill_at(monkeypatch, target, 2)  # the second save (iteration 4) dies there
    assert main([*ARGS, "--out", str(run)]) == 130
    assert "--resume" in capsys.readouterr().err
    monkeypatch.undo()
    if target == "checkpoint.json":  # new data, old sidecar: the pending sidecar is rolled forward
        assert json.loads((run / "checkpoint.json").read_text())["iteration"] == 2
        assert checkpoint.read_sidecar(run)["iteration"] == 4
    assert main([*ARGS, "--out", str(run), "--resume"]) == 0
    _same_run(full, run)


def test_a_torn_metrics_line_does_not_block_resume(full, tmp_path):
    run = tmp_path / "run"
    assert main([*ARGS, "--out", str(run), "--stop-at", "2"]) == 0
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"kind": "train", "iteration": 4, "se')  # killed mid-line
    assert main([*ARGS, "--out", str(run), "--resume"]) == 0
    _same_run(full, run)


def test_training_in_commands_of_a_time_budget_resumes_exactly(full, tmp_path, capsys):
    """``train --resume --time-budget``: every command stops at the budget (exit status 3) after
    its first chunk, the same command continues, and the run ends as one uninterrupted run, its
    manifest listing the commands as pieces."""
    run = tmp_path / "run"
    command = [*ARGS, "--out", str(run), "--resume", "--time-budget", "0.001", "--manifest"]
    assert main(command) == STOPPED
    assert checkpoint.read_sidecar(run)["iteration"] == 2
    assert "stopped at the time budget at iteration 2 of 4" in capsys.readouterr().out
    manifest = json.loads((run / "manifest.json").read_text())
    assert not manifest["finished"] and not manifest["resumed"] and manifest["iteration"] == 2
    assert main(command) == 0
    _same_run(full, run)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["finished"] and manifest["resumed"]
    assert [(p["from_iteration"], p["to_iteration"]) for p in manifest["pieces"]] == [(0, 2), (2, 4)]


def test_an_interrupted_piece_is_recorded_in_the_manifest(full, tmp_path, monkeypatch, capsys):
    """Ctrl-C after a checkpoint: the command exits 130, the manifest lists the iterations that
    piece saved, and ``--resume`` finishes the run as one uninterrupted run, its manifest listing
    both pieces."""
    run = tmp_path / "run"
    command = [*ARGS, "--out", str(run), "--resume", "--manifest"]
    real_save = train_mod.checkpoint.save

    def save_then_interrupt(*args, **kw):
        real_save(*args, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod.checkpoint, "save", save_then_interrupt)
    assert main(command) == 130
    assert "interrupted (the last checkpoint is kept" in capsys.readouterr().err
    manifest = json.loads((run / "manifest.json").read_text())
    assert not manifest["finished"] and manifest["iteration"] == 2
    assert [(p["from_iteration"], p["to_iteration"]) for p in manifest["pieces"]] == [(0, 2)]
    monkeypatch.setattr(train_mod.checkpoint, "save", real_save)
    assert main(command) == 0
    _same_run(full, run)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["finished"] and [(p["from_iteration"], p["to_iteration"]) for p in manifest["pieces"]] == [(0, 2), (2, 4)]


def test_divergence_stops_without_saving_the_bad_state(tmp_path, monkeypatch, capsys):
    real = train_mod.engine_for

    def engine_for(cfg):
        e = real(cfg)

        def make_chunk(cfg, n, frozen):
            f = e.make_chunk(cfg, n, frozen)

            def chunk(states, keys, fparams):
                states, m = f(states, keys, fparams)
                if int(np.asarray(states.iteration).max()) > 2:  # the second chunk blows up
                    states = states.replace(params=jax.tree_util.tree_map(lambda x: x * jnp.nan, states.params))
                return states, m
            return chunk
        return e._replace(make_chunk=make_chunk)

    monkeypatch.setattr(train_mod, "engine_for", engine_for)
    run = tmp_path / "run"
    capsys.readouterr()
    assert main([*ARGS, "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert "diverged in iterations 3..4" in err and "learning_rate" in err and err.count("\n") == 1
    assert checkpoint.read_sidecar(run)["iteration"] == 2
    assert checkpoint.snapshot_iterations(run) == [0, 2]
    store.load_run(run)  # the kept checkpoint is finite and loads
    with pytest.raises(ValueError, match=r"diverged in iterations 3\.\.4.*smaller learning rate \(--set a2c\.learning_rate"):
        main([*ARGS, "--out", str(run), "--resume", "--debug"])
    # diverging before the first checkpoint leaves no run directory behind
    fresh = tmp_path / "fresh"
    capsys.readouterr()
    assert main(["train", "step1", "--out", str(fresh), *TINY, "--set", "run.chunk=4", "--set", "run.checkpoint_every=4",
                 "--set", "run.snapshot_every=4"]) == 1  # one chunk of four iterations: it blows up
    err = capsys.readouterr().err
    assert "diverged in iterations 1..4" in err and "no checkpoint yet" in err and not fresh.exists()


def test_git_commit_is_dirty_for_code_changes_not_for_results(tmp_path):
    """A manifest's commit names the code that ran: a changed tracked file marks it ``+dirty``, a
    changed file under ``results/`` (what a benchmark run just before wrote there) does not."""
    import subprocess

    from ismarl.runs.provenance import git_commit

    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()
    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "table.md").write_text("old\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    sha = git("rev-parse", "HEAD")
    assert git_commit(tmp_path) == sha
    (tmp_path / "results" / "table.md").write_text("new\n")
    (tmp_path / "untracked.py").write_text("")
    assert git_commit(tmp_path) == sha
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == sha + "+dirty"
    assert git_commit(tmp_path / "results") == sha + "+dirty"  # asked from a subfolder: the whole tree
