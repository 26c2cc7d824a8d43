"""Atomic, pickle-free checkpoints: msgpack bytes (``flax.serialization``) plus a JSON sidecar.

``checkpoint.msgpack`` holds the training state (parameters, optimizer state, iteration) of every
seed; ``checkpoint.json`` holds the format tag, the full config, its hash, the seeds, the
iteration and the SHA-256 of the msgpack file. Both are written to a temporary file first and
moved into place with ``os.replace``, so an interrupted write never leaves a half-written file.
Loading checks, in order: both files exist, the sidecar parses, the digest matches (corrupt or
truncated data), the config hash and seeds match the run being resumed, and every array has the
expected shape -- each failure raises :class:`CheckpointError` naming the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import jax
import numpy as np
from flax import serialization

FORMAT = "ismarl-checkpoint/1"
DATA = "checkpoint.msgpack"
SIDECAR = "checkpoint.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, truncated or made for another config."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def exists(run_dir) -> bool:
    return (Path(run_dir) / SIDECAR).exists() or (Path(run_dir) / DATA).exists()


def save(run_dir, state, *, config: dict, config_hash: str, seeds, iteration: int, extra: dict | None = None) -> None:
    """Write ``state`` (any pytree of arrays) and its sidecar atomically into ``run_dir``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = serialization.to_bytes(jax.device_get(state))
    meta = {
        "format": FORMAT,
        "iteration": int(iteration),
        "seeds": [int(s) for s in seeds],
        "config_hash": config_hash,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "config": config,
        **(extra or {}),
    }
    _atomic_write(run_dir / DATA, data)
    _atomic_write(run_dir / SIDECAR, (json.dumps(meta, indent=1) + "\n").encode())


def _read_json(path: Path, fmt: str, missing: str) -> dict:
    """A JSON sidecar with format tag ``fmt``; ``missing`` is the error message if it is absent."""
    if not path.exists():
        raise CheckpointError(missing)
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is corrupt (not valid JSON: {exc})") from None
    if meta.get("format") != fmt:
        raise CheckpointError(f"{path} has format {meta.get('format')!r}, expected {fmt!r}")
    return meta


def _read_verified(path: Path, meta: dict) -> bytes:
    """The bytes of ``path``, checked against the size and SHA-256 its sidecar recorded."""
    if not path.exists():
        raise CheckpointError(f"{path} is missing (its sidecar exists)")
    data = path.read_bytes()
    if len(data) != meta.get("bytes"):
        raise CheckpointError(f"{path} is truncated or was overwritten: {len(data)} bytes, the sidecar says {meta.get('bytes')}")
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"{path} is corrupt: its SHA-256 does not match the sidecar")
    return data


def read_sidecar(run_dir) -> dict:
    return _read_json(Path(run_dir) / SIDECAR, FORMAT, f"no checkpoint in {run_dir}: {SIDECAR} is missing")


def _shapes(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_shapes(v, f"{prefix}/{k}"))
        return out
    return {prefix: tuple(np.shape(tree))}


def load(run_dir, target, *, config_hash: str | None = None, seeds=None):
    """Restore a pytree shaped like ``target`` from ``run_dir``; returns ``(state, sidecar)``."""
    run_dir = Path(run_dir)
    meta = read_sidecar(run_dir)
    data = _read_verified(run_dir / DATA, meta)
    if config_hash is not None and meta.get("config_hash") != config_hash:
        raise CheckpointError(
            f"checkpoint in {run_dir} was made with another config (hash {meta.get('config_hash')}, "
            f"this run's is {config_hash}); use a new --out directory or the same settings"
        )
    if seeds is not None and list(meta.get("seeds", [])) != [int(s) for s in seeds]:
        raise CheckpointError(f"checkpoint in {run_dir} holds seeds {meta.get('seeds')}, this run asks for {list(seeds)}")
    try:
        raw = serialization.msgpack_restore(data)
    except Exception as exc:  # noqa: BLE001 - any decoding failure means corrupt data
        raise CheckpointError(f"{path} is corrupt: msgpack decoding failed ({exc})") from None
    want, got = _shapes(serialization.to_state_dict(target)), _shapes(raw)
    if want.keys() != got.keys():
        missing = sorted(set(want) - set(got))[:3]
        unexpected = sorted(set(got) - set(want))[:3]
        raise CheckpointError(f"checkpoint in {run_dir} has another structure (missing {missing}, unexpected {unexpected})")
    bad = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    if bad:
        k, g, w = bad[0]
        raise CheckpointError(f"checkpoint in {run_dir} does not fit this network: {k} has shape {g}, expected {w}")
    return serialization.from_state_dict(target, raw), meta


# -- parameter snapshots during training ----------------------------------------------------------
SNAP_FORMAT = "ismarl-snapshots/1"
SNAP_DATA = "snapshots.msgpack"
SNAP_SIDECAR = "snapshots.json"


def save_snapshots(run_dir, snapshots: dict, *, config_hash: str, seeds) -> None:
    """Write ``{iteration: params}`` (parameters only, leaves (n_seeds, n_learners, ...)) atomically."""
    run_dir = Path(run_dir)
    its = sorted(int(i) for i in snapshots)
    data = serialization.to_bytes({str(i): jax.device_get(snapshots[i]) for i in its})
    meta = {"format": SNAP_FORMAT, "iterations": its, "seeds": [int(s) for s in seeds], "config_hash": config_hash,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    _atomic_write(run_dir / SNAP_DATA, data)
    _atomic_write(run_dir / SNAP_SIDECAR, (json.dumps(meta) + "\n").encode())


def snapshot_iterations(run_dir) -> list[int]:
    """Iterations at which ``run_dir`` holds parameter snapshots (empty if it has none)."""
    if not (Path(run_dir) / SNAP_SIDECAR).exists():
        return []
    return list(_snapshot_meta(run_dir)["iterations"])


def _snapshot_meta(run_dir) -> dict:
    return _read_json(Path(run_dir) / SNAP_SIDECAR, SNAP_FORMAT, f"no snapshots in {run_dir}: {SNAP_SIDECAR} is missing")


def load_snapshots(run_dir) -> dict:
    """All snapshots of ``run_dir`` as ``{iteration: params}`` (nested dicts of numpy arrays)."""
    run_dir = Path(run_dir)
    data = _read_verified(run_dir / SNAP_DATA, _snapshot_meta(run_dir))
    try:
        raw = serialization.msgpack_restore(data)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{run_dir / SNAP_DATA} is corrupt: msgpack decoding failed ({exc})") from None
    return {int(k): v for k, v in raw.items()}
