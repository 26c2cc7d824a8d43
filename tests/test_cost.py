"""What compute costs (ismarl.analysis.cost, bench/bench_paper.py): episodes per learner, the
shipped runs against the paper's, PPI fit steps as the engine counts them, the separable scaling
model (exact on its measurements, log-log between them, its errors), and the paper bench's
arithmetic on a small preset."""

import importlib.util
import json
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from ismarl.analysis.cost import ScalingModel, compute_table, episodes_per_learner, ppi_fit_steps_total, projected_hours
from ismarl.engines.ppi.engine import fit_steps
from ismarl.experiments.presets import get_config

ROOT = Path(__file__).resolve().parents[1]


def points():
    """A two-axis A2C measurement through the base (batch 256, hidden 32): time ~ batch x hidden^2."""
    base = {"batch": 256, "hidden": 32, "horizon": 100, "seeds": 1}
    out = []
    for b in (64, 256, 1024):
        out.append({"engine": "a2c", "axis": "batch", "value": b, "sizes": dict(base, batch=b), "seconds": 0.01 * b / 256})
    for h in (16, 32, 128):
        out.append({"engine": "a2c", "axis": "hidden", "value": h, "sizes": dict(base, hidden=h), "seconds": 0.01 * (h / 32) ** 2})
    return out


def test_episodes_per_learner_counts_d0_for_ppi_only():
    a2c, ppi = get_config("step4", "paper"), get_config("ppi_step4", "paper")
    assert episodes_per_learner(a2c) == 200_000 * 4096
    assert episodes_per_learner(ppi) == 200_000 + 30 * 20_000


def test_compute_table_reads_the_shipped_runs():
    rows = {r["run"]: r for r in compute_table(ROOT / "results")}
    step4 = rows["step4"]
    assert step4["experiment"] == "step4" and step4["seeds"] == 5 and step4["hidden"] == 32 and step4["paper_hidden"] == 128
    assert step4["fraction"] == pytest.approx(3000 * 256 / (200_000 * 4096))
    assert rows["ppi_step4_b500"]["experiment"] == "ppi_step4"
    assert all(0 < r["fraction"] < 1 and r["wall_min"] > 0 for r in rows.values())
    assert "bench_scaling" not in rows  # benches have no config: not runs


@pytest.mark.parametrize("name, scale", [("ppi_step4", "paper"), ("ppi_step4", "cpu"), ("ppi_step1", "fast")])
def test_ppi_fit_steps_total_is_the_engines_count(name, scale):
    cfg = get_config(name, scale)
    steps = ppi_fit_steps_total(cfg)
    assert len(steps) == cfg.iterations
    for phase, s in enumerate(steps):
        count = cfg.ppi.pretrain_episodes + phase * cfg.batch_size
        assert s == int(fit_steps(cfg, jnp.asarray(count), jnp.asarray(phase)))


def test_ppi_fit_steps_total_refuses_a2c():
    with pytest.raises(ValueError, match="step1 is an a2c experiment, not a PPI one"):
        ppi_fit_steps_total(get_config("step1", "fast"))


def test_scaling_model_is_exact_on_its_measurements_and_log_log_between():
    model = ScalingModel(points())
    assert model.base["a2c"] == ({"batch": 256, "hidden": 32, "horizon": 100, "seeds": 1}, pytest.approx(0.01))
    for p in points():
        assert model.predict("a2c", **{p["axis"]: p["value"]}) == pytest.approx(p["seconds"])
    assert model.predict("a2c", batch=512) == pytest.approx(0.02)  # between points: the power law
    assert model.predict("a2c", batch=4096, hidden=64) == pytest.approx(0.01 * 16 * 4)  # beyond: the last segment
    assert model.predict("a2c", horizon=100) == pytest.approx(0.01)


def test_scaling_model_reads_the_shipped_measurements(tmp_path):
    model = ScalingModel.from_file(ROOT / "results" / "bench_scaling")
    data = json.loads((ROOT / "results" / "bench_scaling" / "scaling.json").read_text())
    assert model.base["a2c"][0] == data["a2c_base"] and model.base["ppi"][0] == data["ppi_base"]
    # the base configuration is measured once per axis; the model's base time is their median, and
    # along an axis it scales that median by the axis's own ratios
    p = data["points"][-1]
    base_sizes, base_seconds = model.base[p["engine"]]
    axis_base = next(q for q in data["points"] if (q["engine"], q["axis"]) == (p["engine"], p["axis"]) and q["sizes"] == base_sizes)
    assert base_seconds == pytest.approx(np.median([q["seconds"] for q in data["points"]
                                                    if q["engine"] == p["engine"] and q["sizes"] == base_sizes]))
    assert model.predict(p["engine"], **{p["axis"]: p["value"]}) == pytest.approx(
        base_seconds * p["seconds"] / axis_base["seconds"], rel=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda m: m.predict("dqn"), "no measurements for engine 'dqn'"),
    (lambda m: m.predict("a2c", width=3), "unknown size 'width'"),
    (lambda m: m.predict("a2c", batch=0), "batch must be a positive number"),
    (lambda m: m.predict("a2c", batch=math.nan), "batch must be a positive number"),
    (lambda m: m.predict("a2c", batch=True), "batch must be a positive number"),
    (lambda m: m.predict("a2c", horizon=200), "no measurements along 'horizon'"),
])
def test_scaling_model_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(ScalingModel(points()))


def test_scaling_model_refuses_bad_measurements():
    with pytest.raises(ValueError, match="no measurements given"):
        ScalingModel([])
    one = [p for p in points() if not (p["axis"] == "hidden" and p["value"] != 32)]
    with pytest.raises(ValueError, match="axis 'hidden' needs two or more distinct positive sizes"):
        ScalingModel(one)
    bad = [dict(p, seconds=0.0) if p["value"] == 64 else p for p in points()]
    with pytest.raises(ValueError, match="axis 'batch' needs two or more"):
        ScalingModel(bad)


def test_bench_paper_fits_the_ppi_phase_exactly_through_its_points(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_paper", ROOT / "bench" / "bench_paper.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "get_config", lambda name, scale: get_config(name, "fast"))
    monkeypatch.setattr(bench, "PPI_POINTS", ((4, 1), (8, 1), (4, 3)))
    row = bench.measure_ppi("ppi_step1", repeats=1)
    for p in row["points"]:
        assert row["fixed_s"] + row["per_game_s"] * p["games"] + row["per_fit_step_s"] * p["steps"] == pytest.approx(p["seconds"])
    cfg = get_config("ppi_step1", "fast")
    assert row["fit_steps"] == ppi_fit_steps_total(cfg) and len(row["phase_seconds"]) == cfg.iterations
    assert row["hours_per_seed"] == pytest.approx(sum(row["phase_seconds"]) / 3600)
    a2c = bench.measure_a2c("step1", repeats=1)
    assert a2c["seconds"] > 0 and a2c["hours_per_seed"] == pytest.approx(a2c["seconds"] * cfg_iterations("step1") / 3600)
    assert a2c["memory"]["temp"] > 0 and a2c["memory"]["argument"] > 0
    text = bench.table([a2c, row])
    assert "`step1` | a2c" in text and "`ppi_step1` | ppi" in text and "as `step1`" in text
    assert projected_hours(get_config("ppi_step1", "fast"), row) == pytest.approx(row["hours_per_seed"])
    assert projected_hours(get_config("step1", "fast"), a2c) == pytest.approx(a2c["hours_per_seed"])
    with pytest.raises(ValueError, match="ppi_step1 is ppi, the measurement is a2c"):
        projected_hours(get_config("ppi_step1", "fast"), a2c)


def cfg_iterations(name):
    return get_config(name, "fast").iterations
