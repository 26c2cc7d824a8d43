"""Every ``paper``-scale experiment trains one iteration on CPU with the paper's shapes (network,
batch, pools, dataset capacity), so that a shape, memory or configuration mistake shows here and
not on a lent GPU. The chain is trained in order, each run beside the runs it builds on.

PPI phases are shortened where a CPU cannot do a paper phase in a test: 32 new games instead of
20,000 and at most 2 fitting steps; D0 keeps its paper size (200,000 games) and the datasets their
paper capacity. Probes are off (they only evaluate)."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ismarl.experiments.presets import EXPERIMENTS, ORDER, get_config
from ismarl.runs import checkpoint
from ismarl.runs.train import train

PPI_GAMES, PPI_FIT_STEPS = 32, 2


def smoke_config(name: str):
    """The ``paper`` config of ``name`` cut to one iteration (and short PPI phases)."""
    cfg = get_config(name, "paper")
    cfg = cfg.replace(iterations=1).with_run(probe_every=0)
    if cfg.engine == "ppi":
        ppi = dataclasses.replace(cfg.ppi, max_fit_steps=PPI_FIT_STEPS)
        if cfg.init_from:  # takes over a run's whole dataset: D0 and that run's single short phase
            src = smoke_config(cfg.init_from[0])
            ppi = dataclasses.replace(ppi, pretrain_episodes=src.ppi.pretrain_episodes + src.iterations * src.batch_size)
        cfg = cfg.replace(batch_size=PPI_GAMES, ppi=ppi)
    return cfg


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    for name in ORDER:
        train(smoke_config(name), [0], out / name, progress=False, log=lambda *_: None)
    return out


def test_the_smoke_covers_every_experiment():
    assert set(ORDER) == set(EXPERIMENTS)


@pytest.mark.parametrize("name", ORDER)
def test_paper_experiment_trains_an_iteration(chain, name):
    run = chain / name
    meta = checkpoint.read_sidecar(run)
    assert meta["iteration"] == 1
    cfg, paper = smoke_config(name), get_config(name, "paper")
    assert meta["config_hash"] == cfg.hash()
    assert (cfg.network, cfg.pools, cfg.horizon) == (paper.network, paper.pools, paper.horizon)
    if cfg.engine == "a2c":
        assert cfg.batch_size == paper.batch_size
    lines = [json.loads(ln) for ln in open(run / "metrics.jsonl")]
    train_lines = [ln for ln in lines if ln["kind"] == "train"]
    assert len(train_lines) == 1
    values = [v for m in train_lines[0]["matches"].values() for v in m["reward"] + m["coop"]]
    values += [x for v in train_lines[0]["learners"].values() for x in np.ravel(v)]
    assert values and all(math.isfinite(v) for v in values)
    assert all(0.0 <= c <= 1.0 for m in train_lines[0]["matches"].values() for c in m["coop"])
    assert Path(run / "checkpoint.msgpack").stat().st_size > 0
