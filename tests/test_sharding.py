"""Training sharded over several devices (ismarl.runs.sharding): the placement rule, its errors,
and a run on 4 host CPU devices that matches the same run on one device."""

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


@pytest.mark.parametrize("seeds, devices, expected", [(4, 4, 4), (8, 4, 4), (6, 4, 3), (5, 4, 1), (2, 4, 2), (3, 1, 1), (1, 8, 1)])
def test_devices_for_takes_the_largest_divisor(seeds, devices, expected):
    assert sharding.devices_for(seeds, devices) == expected


@pytest.mark.parametrize("seeds", [0, -2, 2.5, True, "4"])
def test_devices_for_rejects_a_bad_seed_count(seeds):
    with pytest.raises(ValueError, match="n_seeds must be a positive integer"):
        sharding.devices_for(seeds, 4)


def test_plan_needs_a_device():
    with pytest.raises(ValueError, match="give at least one device"):
        sharding.plan(2, devices=[])


def test_one_device_leaves_the_chunk_and_the_arrays_alone():
    placement = sharding.plan(3, devices=jax.devices()[:1])
    assert placement.mesh is None and placement.n_devices == 1
    fn = lambda x: x  # noqa: E731
    assert sharding.over_seeds(fn, placement) is fn
    tree = {"a": np.zeros((3, 2))}
    assert sharding.place(tree, placement) is tree
    assert "3 seed(s) on 1 device" in placement.describe()


SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    from ismarl.experiments.presets import get_config as preset
    from ismarl.runs.train import train
    out = sys.argv[1]
    lines = []
    assert jax.device_count() == int(sys.argv[2]), jax.devices()
    train(preset("step1", "fast").replace(iterations=4), [0, 1, 2, 3], out + "/a2c", progress=False, log=lines.append)
    train(preset("ppi_step1", "fast").replace(iterations=1), [5, 6], out + "/ppi", progress=False, log=lines.append)
    print(json.dumps(lines))
""")


def _train_on(n_devices: int, out: Path) -> list[str]:
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
    """The same runs (A2C: 4 seeds, one per device; PPI: 2 seeds on 2 of 4 devices) on 4 host
    devices and on one: parameters equal within float rounding, metrics within 1e-4."""
    log4 = _train_on(4, tmp_path / "four")
    log1 = _train_on(1, tmp_path / "one")
    assert log4 == ["4 seeds on 4 cpu devices (1 per device)", "2 seeds on 2 cpu devices (1 per device) of 4 visible"]
    assert log1 == []
    for name in ("a2c", "ppi"):
        seeds4, params4, metrics4 = _final(tmp_path / "four" / name)
        seeds1, params1, metrics1 = _final(tmp_path / "one" / name)
        assert seeds4 == seeds1
        diffs = jax.tree_util.tree_leaves(jax.tree_util.tree_map(
            lambda x, y: float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))), params4, params1))
        assert max(diffs) < 1e-4, (name, max(diffs))
        assert _close(metrics4, metrics1, 1e-4), name
