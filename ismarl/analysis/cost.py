"""What compute the book's runs used and what the paper's would cost (chapter 11).

* :func:`episodes_per_learner` and :func:`compute_table`: the games of play each learner of a run
  saw, against the same experiment's ``paper`` preset.
* :class:`ScalingModel`: the cost of one training iteration (A2C) or phase (PPI) as a product of
  one factor per size (episodes per update, GRU units, rounds, seeds), each interpolated in log-log
  from the one-size-at-a-time measurements of ``bench/bench_scaling.py``
  (``results/bench_scaling/scaling.json``), extrapolated along the last measured segment.
* :func:`ppi_fit_steps_total`: the fitting steps of a whole PPI run, phase by phase, as the engine
  counts them (:func:`ismarl.engines.ppi.engine.fit_steps`); :func:`projected_hours`: a run's time
  from a measured cost per iteration or per phase's parts (``bench/bench_paper.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ismarl.experiments.presets import EXPERIMENTS, get_config
from ismarl.runs.provenance import read_manifest
from ismarl.runs.store import read_config

#: The sizes a :class:`ScalingModel` takes, in ``scaling.json``'s names.
SIZES = ("batch", "hidden", "horizon", "seeds")


def episodes_per_learner(cfg) -> int:
    """Games of play one learner of one seed sees in a run of ``cfg``: ``iterations x batch_size``
    (A2C: episodes per update; PPI: new games per phase), plus D0 for PPI."""
    n = int(cfg.iterations) * int(cfg.batch_size)
    return n + int(cfg.ppi.pretrain_episodes) if cfg.engine == "ppi" else n


def compute_table(results) -> list[dict]:
    """One row per shipped run of ``results`` trained from a registered experiment: its engine,
    seeds, GRU units, episodes per learner and wall time, beside the paper preset's GRU units and
    episodes per learner, and the fraction of the paper's episodes it saw."""
    rows = []
    for run in sorted(Path(results).iterdir()):
        if not (run / "config.json").is_file() or not (run / "manifest.json").is_file():
            continue
        cfg = read_config(run)
        if cfg.name not in EXPERIMENTS:
            continue
        paper = get_config(cfg.name, "paper")
        seeds = json.loads((run / "config.json").read_text())["seeds"]
        ours, theirs = episodes_per_learner(cfg), episodes_per_learner(paper)
        wall = read_manifest(run).get("wall_time_s")
        rows.append({"run": run.name, "experiment": cfg.name, "engine": cfg.engine, "seeds": len(seeds),
                     "hidden": cfg.network.hidden, "paper_hidden": paper.network.hidden, "episodes": ours,
                     "paper_episodes": theirs, "fraction": ours / theirs,
                     "wall_min": None if wall is None else wall / 60})
    return rows


def ppi_fit_steps_total(cfg) -> list[int]:
    """The fitting steps of each phase of a PPI run of ``cfg`` (phase p fits on D0 and the
    ``p - 1`` phases before it), as :func:`ismarl.engines.ppi.engine.fit_steps` counts them."""
    if cfg.engine != "ppi":
        raise ValueError(f"ppi_fit_steps_total: {cfg.name} is an {cfg.engine} experiment, not a PPI one")
    p = cfg.ppi
    out = []
    for phase in range(int(cfg.iterations)):
        count = p.pretrain_episodes + phase * cfg.batch_size
        steps = math.ceil(p.epochs * count / p.fit_batch)
        if p.max_fit_steps:
            steps = min(steps, p.max_fit_steps)
        if not p.reinit and p.finetune_steps and phase > 0:
            steps = p.finetune_steps
        out.append(int(steps))
    return out


def _loglog(lx: np.ndarray, ly: np.ndarray, u: float) -> float:
    """log time at log size ``u``: linear between the measured points, and along the first or
    last segment beyond them."""
    i = int(np.clip(np.searchsorted(lx, u) - 1, 0, len(lx) - 2))
    return float(ly[i] + (ly[i + 1] - ly[i]) / (lx[i + 1] - lx[i]) * (u - lx[i]))


def projected_hours(cfg, measured: dict) -> float:
    """Hours per seed of a run of ``cfg`` at the cost ``measured`` (a row of
    ``results/bench_paper/paper.json``, possibly another experiment's program): A2C seconds per
    iteration times ``cfg``'s iterations; PPI ``fixed + per game x games + per fit step x steps``
    summed over ``cfg``'s phases, with its own games per phase and fit steps."""
    if measured["engine"] != cfg.engine:
        raise ValueError(f"projected_hours: {cfg.name} is {cfg.engine}, the measurement is {measured['engine']}")
    if cfg.engine == "a2c":
        return measured["seconds"] * cfg.iterations / 3600
    return sum(measured["fixed_s"] + measured["per_game_s"] * cfg.batch_size + measured["per_fit_step_s"] * s
               for s in ppi_fit_steps_total(cfg)) / 3600


class ScalingModel:
    """Seconds per iteration (A2C) or phase (PPI) predicted from one-size-at-a-time measurements.

    ``points`` are ``scaling.json``'s: ``{"engine", "axis", "value", "sizes", "seconds"}``, where
    each axis varies one size from the engine's base configuration. The prediction at ``sizes`` is
    the base time times, for each size, the measured ratio along its axis, interpolated linearly in
    log(size)-log(time) and extrapolated along the nearest measured segment; sizes without an axis
    must equal the base. It assumes the sizes act independently (checked against direct
    measurements in chapter 11)."""

    def __init__(self, points: list[dict]):
        if not points:
            raise ValueError("ScalingModel: no measurements given")
        self.curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self.base: dict[str, tuple[dict, float]] = {}
        for engine in dict.fromkeys(p["engine"] for p in points):
            curves = {}
            for axis in dict.fromkeys(p["axis"] for p in points if p["engine"] == engine):
                pts = sorted((p for p in points if p["engine"] == engine and p["axis"] == axis), key=lambda p: p["value"])
                x = np.array([p["value"] for p in pts], float)
                y = np.array([p["seconds"] for p in pts], float)
                if len(x) < 2 or np.any(x <= 0) or np.any(y <= 0) or len(set(x)) < len(x):
                    raise ValueError(f"ScalingModel: {engine} axis {axis!r} needs two or more distinct positive "
                                     f"sizes with positive times, got {list(zip(x, y))}")
                curves[axis] = (np.log(x), np.log(y))
            # the base configuration is the point every axis passes through: the most frequent sizes
            mine = [p for p in points if p["engine"] == engine]
            keys = [tuple(sorted(p["sizes"].items())) for p in mine]
            base_sizes = dict(max(set(keys), key=keys.count))
            base = [p for p in mine if p["sizes"] == base_sizes]
            missing = [a for a in curves if base_sizes[a] not in {p["value"] for p in mine if p["axis"] == a}]
            if missing:
                raise ValueError(f"ScalingModel: {engine} axes {missing} do not pass through the base {base_sizes}")
            self.curves[engine] = curves
            self.base[engine] = ({k: v for k, v in base_sizes.items()}, float(np.median([p["seconds"] for p in base])))

    @classmethod
    def from_file(cls, path) -> "ScalingModel":
        """The model of ``scaling.json`` at ``path`` (a file or the directory holding it)."""
        path = Path(path)
        path = path / "scaling.json" if path.is_dir() else path
        return cls(json.loads(path.read_text())["points"])

    def _factor(self, engine: str, axis: str, value: float) -> float:
        """The measured time ratio along ``axis`` from the base size to ``value``."""
        lx, ly = self.curves[engine][axis]
        return math.exp(_loglog(lx, ly, math.log(value)) - _loglog(lx, ly, math.log(self.base[engine][0][axis])))

    def predict(self, engine: str, **sizes) -> float:
        """Predicted seconds per iteration (A2C) or phase (PPI) of ``engine`` at ``sizes`` (any of
        ``batch``, ``hidden``, ``horizon``, ``seeds``, ``k``; the others stay at the base)."""
        if engine not in self.curves:
            raise ValueError(f"ScalingModel: no measurements for engine {engine!r}; have {sorted(self.curves)}")
        base_sizes, seconds = self.base[engine]
        for name, value in sizes.items():
            if name not in base_sizes:
                raise ValueError(f"ScalingModel: unknown size {name!r} for {engine}; known: {sorted(base_sizes)}")
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"ScalingModel: {name} must be a positive number, got {value!r}")
            if name not in self.curves[engine]:
                if value != base_sizes[name]:
                    raise ValueError(f"ScalingModel: {engine} has no measurements along {name!r}; only "
                                     f"{name} = {base_sizes[name]} can be predicted")
                continue
            seconds *= self._factor(engine, name, float(value))
        return seconds
