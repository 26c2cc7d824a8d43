"""What a run directory holds, and the one way to find a run directory named in a config or a book.

A run directory (``--out``) holds:

* ``config.json`` -- the :class:`~ismarl.engines.experiment.ExperimentConfig`, its hash and the seeds;
* ``metrics.jsonl`` -- one JSON line per seed per chunk and per probe (:mod:`ismarl.runs.metrics`);
* ``checkpoint.msgpack`` + ``checkpoint.json`` -- the training state (:mod:`ismarl.runs.checkpoint`);
* ``snapshots.msgpack`` + ``snapshots.json`` -- with ``snapshot_every``, the parameters of every
  seed at iteration 0 and every ``snapshot_every`` iterations (to replay training afterwards);
* ``manifest.json`` -- provenance (:mod:`ismarl.runs.provenance`);
* ``evaluate*.json`` -- evaluations written by ``python -m ismarl evaluate --out``.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.json"
METRICS = "metrics.jsonl"
MANIFEST = "manifest.json"
CHECKPOINT_SIDECAR = "checkpoint.json"


def resolve_run(path, near=None, marker: str = CHECKPOINT_SIDECAR) -> Path:
    """A run directory named in a config or a chapter (e.g. ``results/step1``, relative to the
    repository the run was trained in): as given if it holds ``marker`` (default: a checkpoint),
    else relative to the nearest ancestor of ``near`` (default: the working directory) where it does."""
    p = Path(path)
    if (p / marker).exists():
        return p
    if p.is_absolute():
        raise FileNotFoundError(f"run directory {str(path)!r} holds no {marker}")
    start = Path.cwd() if near is None else Path(near).resolve()
    for d in (start, *start.parents):
        if (d / p / marker).exists():
            return d / p
    raise FileNotFoundError(f"run directory {str(path)!r} not found (looked in {start} and every folder above it); "
                            "run from a clone of ismarl or pass the full path")


def resolve_reference(ref: str, run_dir, marker: str = CHECKPOINT_SIDECAR) -> Path:
    """The run that the config of the run in ``run_dir`` names as ``ref`` (in ``frozen`` or
    ``init_from``): an experiment name (``"step1"``) is the run of that name beside it,
    ``run_dir/../step1``; a path (anything with a ``/``) is found as :func:`resolve_run` finds it,
    from the working directory or above ``run_dir``."""
    if "/" not in ref and "\\" not in ref:
        return Path(run_dir).parent / ref
    return resolve_run(ref, near=run_dir, marker=marker)


def find_results(name: str, near=None) -> Path:
    """``results/NAME`` of the repository that holds ``near`` (default: the working directory)."""
    start = Path.cwd() if near is None else Path(near).resolve()
    for d in (start, *start.parents):
        if (d / "results" / name).is_dir():
            return d / "results" / name
    raise FileNotFoundError(f"results/{name} not found above {start}: run from a clone of ismarl")
