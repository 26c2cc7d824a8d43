"""Training sharded over several devices (ismarl.runs.sharding): the placement rule, its errors,
and runs on 4 host CPU devices (seeds split, and one seed's episodes split) that match the same
runs on one device."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

from ismarl.runs import sharding

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seeds, devices, expected", [
    (4, 4, (4, 1)), (8, 4, (4, 1)), (6, 4, (3, 1)), (5, 4, (3, 1)), (7, 4, (4, 1)), (1, 4, (1, 4)), (3, 4, (3, 1)),
    (2, 8, (2, 4)), (3, 1, (1, 1)), (1, 8, (1, 8)), (5, 2, (2, 1)), (10, 8, (5, 1))])
def test_split_devices_gives_each_group_the_lightest_load_with_the_fewest_groups(seeds, devices, expected):
    assert sharding.split_devices(seeds, devices) == expected


@pytest.mark.parametrize("seeds, devices, padded", [(5, 2, 6), (7, 4, 8), (5, 4, 6), (6, 4, 6), (1, 4, 1), (3, 1, 3)])
def test_placement_fills_the_groups_with_copies_of_the_last_seed(seeds, devices, padded):
    s, e = sharding.split_devices(seeds, devices)
    placement = sharding.Placement(seeds, s, e, None)
    assert placement.padded_seeds == padded and padded % s == 0 and padded - seeds < s


@pytest.mark.parametrize("seeds", [0, 1.0, None])
def test_split_devices_rejects_a_bad_seed_count(seeds):
    with pytest.raises(ValueError, match="n_seeds must be a positive integer"):
        sharding.split_devices(seeds, 4)


def test_plan_needs_a_device():
    with pytest.raises(ValueError, match="give at least one device"):
        sharding.plan(2, devices=[])


def test_one_device_leaves_the_chunk_and_the_arrays_alone():
    placement = sharding.plan(3, devices=jax.devices()[:1])
    assert placement.mesh is None and placement.n_devices == 1
    fn = lambda x: x  # noqa: E731
    assert sharding.over_devices(fn, placement) is fn
    tree = {"a": np.zeros((3, 2))}
    assert sharding.place(tree, placement) is tree
    assert "3 seed(s) on 1 device" in placement.describe()


def test_use_host_cores_sets_one_host_device_per_core_unless_the_flags_name_a_count(monkeypatch):
    monkeypatch.setattr(sharding, "host_cores", lambda: 6)
    env = {}
    assert sharding.use_host_cores(env) == 6 and env["XLA_FLAGS"] == "--xla_force_host_platform_device_count=6"
    env = {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    assert sharding.use_host_cores(env) == 6
    assert env["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=6"
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
    assert sharding.use_host_cores(env) == 0 and env["XLA_FLAGS"] == "--xla_force_host_platform_device_count=1"
    monkeypatch.setattr(sharding, "host_cores", lambda: 1)
    env = {}
    assert sharding.use_host_cores(env) == 1 and "XLA_FLAGS" not in env


def test_episodes_are_left_alone_without_a_mesh():
    from ismarl.agents.match import shard_episodes
    x = np.arange(6.0).reshape(2, 3)
    assert shard_episodes(x) is x
    assert jax.jit(shard_episodes)(x).tolist() == x.tolist()


SCRIPT = textwrap.dedent("""
    import json, re, sys
    import jax, jax.numpy as jnp
    from ismarl.engines.seeds import seed_keys
    from ismarl.experiments.presets import get_config as preset
    from ismarl.runs import sharding
    from ismarl.runs.train import engine_for, initial_states, train
    out = sys.argv[1]
    lines = []
    assert jax.device_count() == int(sys.argv[2]), jax.devices()
    step1 = preset("step1", "fast").replace(iterations=4)
    train(step1, [0, 1, 2, 3], out + "/a2c", progress=False, log=lines.append)
    train(step1, [7], out + "/a2c_one_seed", progress=False, log=lines.append)
    train(step1, [0, 1, 2, 3, 4], out + "/a2c_filled", progress=False, log=lines.append)
    train(preset("ppi_step1", "fast").replace(iterations=1), [5, 6], out + "/ppi", progress=False, log=lines.append)
    # the uniforms of one seed's rollout ((1,) rounds, 2 sides, episodes) as each device holds them
    placement = sharding.plan(1)
    states, keys = sharding.place((initial_states(step1, [7], None), jnp.stack([seed_keys(7)[1]])), placement)
    hlo = sharding.over_devices(engine_for(step1).make_chunk(step1, 1, ()), placement).lower(states, keys, ()).compile().as_text()
    shapes = sorted(set(re.findall(r"f32\\[(?:1,)?%d,2,(\\d+)\\]" % step1.horizon, hlo)))
    try:
        sharding.place({"a": jnp.zeros((3, 2))}, sharding.plan(4))
        place_error = None
    except ValueError as e:
        place_error = str(e)
    print(json.dumps({"log": lines, "episodes_per_device": shapes, "place_error": place_error}))
""")


def _train_on(n_devices: int, out: Path) -> dict:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT),
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={n_devices}"}
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(n_devices)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _final(run):
    from ismarl.runs.store import load_run
    _, seeds, params, _ = load_run(run)
    metrics = [json.loads(ln) for ln in open(Path(run) / "metrics.jsonl")]
    for m in metrics:
        m.pop("wall_s", None)
    return seeds, params, metrics


def _close(a, b, tol):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol
    return a == b


def test_four_devices_train_as_one(tmp_path):
    """The same runs on 4 host devices and on one (A2C: 4 seeds, one per device; one seed with
    its 32 episodes split 8 per device; 5 seeds in 3 groups of 2, the last seed repeated to fill
    them; PPI: 2 seeds, each on 2 devices): parameters equal within float rounding, metrics within
    1e-4."""
    four = _train_on(4, tmp_path / "four")
    one = _train_on(1, tmp_path / "one")
    assert four["log"] == ["4 seed(s) on 4 cpu devices: 4 seed group(s) of 1 seed(s)",
                           "1 seed(s) on 4 cpu devices: 1 seed group(s) of 1 seed(s), each group's episodes split over 4 devices",
                           "5 seed(s) on 3 cpu devices: 3 seed group(s) of 2 seed(s) (the last seed repeated 1 time(s) to fill "
                           "them, its copies dropped) of 4 visible",
                           "2 seed(s) on 4 cpu devices: 2 seed group(s) of 1 seed(s), each group's episodes split over 2 devices"]
    assert one["log"] == []
    assert four["place_error"] == "every leaf needs a leading seed axis of 4, got shape (3, 2)"
    assert four["episodes_per_device"] == ["8"] and one["episodes_per_device"] == ["32"]
    for name in ("a2c", "a2c_one_seed", "a2c_filled", "ppi"):
        seeds4, params4, metrics4 = _final(tmp_path / "four" / name)
        seeds1, params1, metrics1 = _final(tmp_path / "one" / name)
        assert seeds4 == seeds1
        diffs = jax.tree_util.tree_leaves(jax.tree_util.tree_map(
            lambda x, y: float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))), params4, params1))
        assert max(diffs) < 1e-4, (name, max(diffs))
        assert _close(metrics4, metrics1, 1e-4), name


@pytest.mark.parametrize("n", [0, -1, 2.0, True])
def test_train_on_host_devices_needs_a_device_count(tmp_path, n):
    with pytest.raises(ValueError, match="n_devices must be a positive integer"):
        sharding.train_on_host_devices("step1", tmp_path / "run", n_devices=n)


def test_train_on_host_devices_reports_a_failed_run(tmp_path):
    with pytest.raises(RuntimeError, match=r"training on 2 host devices failed \(exit 1\):\nerror: unknown experiment .step9."):
        sharding.train_on_host_devices("step9", tmp_path / "run", n_devices=2)
