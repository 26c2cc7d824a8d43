"""``metrics.jsonl``: one JSON line per seed per chunk (``"kind": "train"``) and per probe
(``"kind": "probe"``), appended while a run trains.

A train line is ``{"kind": "train", "iteration", "seed", "wall_s", "entropy_coef", "matches":
{MATCH: {"reward": [A, B], "coop": [A, B]}}, "learners": {"entropy", "value_loss", "grad_norm"}}``
where ``MATCH`` is ``learner:i_vs_CO-PLAYER`` (:func:`ismarl.protocol.match_name`). A probe line is ``{"kind":
"probe", "iteration", "seed", "probe": {CO-PLAYER: {"reward", "coop", "coop_rounds_40_60"}}}``
(learner 0 against each probe co-player; the window is :data:`ismarl.protocol.ROUNDS_40_60`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ismarl.protocol import ROUNDS_40_60
from ismarl.runs.layout import METRICS

#: Probe lines written before the window's key had one name used their own; read under the new one.
_RENAMED_PROBE_KEYS = {"coop_40_60": ROUNDS_40_60.key}


def _normalized(line: dict) -> dict:
    if line.get("kind") == "probe":
        line["probe"] = {k: {_RENAMED_PROBE_KEYS.get(q, q): v for q, v in r.items()} for k, r in line["probe"].items()}
    return line


def _parse(text: str, path) -> list[dict]:
    lines = []
    for k, ln in enumerate(text.splitlines(), 1):
        if not ln.strip():
            continue
        try:
            lines.append(_normalized(json.loads(ln)))
        except json.JSONDecodeError:
            raise ValueError(f"{path}: line {k} is not valid JSON (a torn write?): {ln[:60]!r}") from None
    return lines


def read_metrics(run_dir, kind: str = "train") -> list[dict]:
    """Every line of ``kind`` (``"train"`` or ``"probe"``) in the run's ``metrics.jsonl``."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no {METRICS}: not a run directory, or training has not started")
    return [d for d in _parse(path.read_text(), path) if d.get("kind") == kind]


def keep_until(run_dir, iteration: int) -> None:
    """Drop the lines written after ``iteration`` (a resumed run writes them again), and a torn last
    line left by a process killed while writing it."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return
    text = path.read_text()
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines = lines[:-1]  # the last line was cut off mid-write
    kept = []
    for k, ln in enumerate(lines, 1):
        if not ln.strip():
            continue
        try:
            it = json.loads(ln)["iteration"]
            keep = it <= iteration
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ValueError(f"{path}: line {k} is not a metrics line (corrupt?): {ln[:60]!r}; "
                             f"remove it (or every line after iteration {iteration}) and resume again") from None
        if keep:
            kept.append(ln)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(ln + "\n" for ln in kept))
    tmp.replace(path)
