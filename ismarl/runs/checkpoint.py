"""Atomic, pickle-free checkpoints: msgpack bytes (``flax.serialization``) plus a JSON sidecar.

``checkpoint.msgpack`` holds the training state (parameters, optimizer state, iteration) of every
seed; ``checkpoint.json`` holds the format tag, the full config, its hash, the seeds, the
iteration and the SHA-256 of the msgpack file.

A save is atomic as a pair: both files are first written in full (and synced) as ``*.tmp``; then
the data is moved into place, then the sidecar (``os.replace``). A process killed between the two
moves leaves the new data next to the old sidecar and the complete new sidecar in
``checkpoint.json.tmp``: reading notices that the sidecar does not match the data but the pending
one does, and uses it (the save is rolled forward). A kill at any other instant leaves either the
old or the new pair. The same holds for ``snapshots.msgpack`` + ``snapshots.json``.

Loading checks, in order: both files exist, the sidecar parses and holds the expected keys, the
digest matches (corrupt or truncated data), the config hash and seeds match the run being resumed,
the data decodes, every array has the expected structure, shape and a numeric dtype, and every
floating-point value is finite -- each failure raises :class:`CheckpointError` naming the problem.
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


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = _pending(path)
    _write_synced(tmp, data)
    os.replace(tmp, path)


def _pending(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _commit_pair(data_path: Path, sidecar_path: Path, data: bytes, meta: dict) -> None:
    """Write ``data`` and its sidecar so that a kill at any instant leaves a readable pair (see the
    module docstring): both in full as ``.tmp`` first, then data, then sidecar moved into place."""
    side = (json.dumps(meta, indent=1) + "\n").encode()
    _write_synced(_pending(data_path), data)
    _write_synced(_pending(sidecar_path), side)
    os.replace(_pending(data_path), data_path)
    os.replace(_pending(sidecar_path), sidecar_path)
    try:  # make the renames durable where the platform allows it
        fd = os.open(sidecar_path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def exists(run_dir) -> bool:
    run_dir = Path(run_dir)
    return (run_dir / SIDECAR).exists() or (run_dir / DATA).exists() or _pending(run_dir / SIDECAR).exists()


def iteration(run_dir) -> int:
    """The iteration of the checkpoint in ``run_dir``; 0 when it holds none."""
    return int(read_sidecar(run_dir)["iteration"]) if exists(run_dir) else 0


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
    _commit_pair(run_dir / DATA, run_dir / SIDECAR, data, meta)


_REQUIRED = {FORMAT: ("iteration", "seeds", "config_hash", "sha256", "bytes", "config"),
             "ismarl-snapshots/1": ("iterations", "seeds", "config_hash", "sha256", "bytes")}


def _parse_sidecar(path: Path, fmt: str) -> dict:
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt (not valid JSON: {exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} is corrupt: it holds a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != fmt:
        raise CheckpointError(f"{path} has format {meta.get('format')!r}, expected {fmt!r}")
    missing = [k for k in _REQUIRED.get(fmt, ()) if k not in meta]
    if missing:
        raise CheckpointError(f"{path} is corrupt: it lacks {missing}")
    for k in ("bytes", "iteration"):
        if k in meta and (isinstance(meta[k], bool) or not isinstance(meta[k], int) or meta[k] < 0):
            raise CheckpointError(f"{path} is corrupt: {k} is {meta[k]!r}, not a count")
    if not isinstance(meta["sha256"], str):
        raise CheckpointError(f"{path} is corrupt: sha256 is {meta['sha256']!r}")
    if "config" in meta and not isinstance(meta["config"], dict):
        raise CheckpointError(f"{path} is corrupt: its config is a {type(meta['config']).__name__}, not an object")
    seeds = meta["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds):
        raise CheckpointError(f"{path} is corrupt: seeds is {seeds!r}, not a list of integers")
    if "iterations" in meta and (not isinstance(meta["iterations"], list)
                                 or not all(isinstance(x, int) and not isinstance(x, bool) for x in meta["iterations"])):
        raise CheckpointError(f"{path} is corrupt: iterations is {meta['iterations']!r}, not a list of integers")
    return meta


def _matches(path: Path, meta: dict) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return len(data) == meta.get("bytes") and hashlib.sha256(data).hexdigest() == meta.get("sha256")


def _read_json(path: Path, fmt: str, missing: str, data_path: Path | None = None) -> dict:
    """A JSON sidecar with format tag ``fmt``; ``missing`` is the error message if it is absent.

    With ``data_path``, a save interrupted between moving the data and the sidecar into place is
    rolled forward: when the sidecar is absent or does not match the data but the complete pending
    sidecar (``.tmp``) does, the pending one is returned."""
    pending = _pending(path)
    if data_path is not None and pending.exists():
        try:
            new = _parse_sidecar(pending, fmt)
        except CheckpointError:
            new = None  # killed while writing it: the old pair is intact
        if new is not None and _matches(data_path, new):
            try:
                old = _parse_sidecar(path, fmt) if path.exists() else None
            except CheckpointError:
                old = None
            if old is None or not _matches(data_path, old):
                return new
    if not path.exists():
        raise CheckpointError(missing)
    return _parse_sidecar(path, fmt)


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
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"no run directory {str(run_dir)!r} (it does not exist or is not a directory)")
    return _read_json(run_dir / SIDECAR, FORMAT, f"no checkpoint in {run_dir}: {SIDECAR} is missing", run_dir / DATA)


def _shapes(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_shapes(v, f"{prefix}/{k}"))
        return out
    return {prefix: tuple(np.shape(tree))}


def _numeric(tree, where) -> None:
    """Every leaf a numeric array (or number) and every floating-point value finite."""
    for path, x in jax.tree_util.tree_flatten_with_path(tree)[0]:
        arr = np.asarray(x)
        name = jax.tree_util.keystr(path)
        if arr.dtype.kind not in "biuf":
            raise CheckpointError(f"{where} is corrupt: {name} holds {arr.dtype} values, not numbers")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise CheckpointError(f"{where} holds non-finite values (NaN or infinity) in {name}: the run diverged; "
                                  "train it again with a smaller learning rate")


def load(run_dir, target, *, config_hash: str | None = None, seeds=None, part: str | None = None):
    """Restore a pytree shaped like ``target`` from ``run_dir``; returns ``(state, sidecar)``.

    With ``part`` (e.g. ``"params"``), only that entry of the saved state is restored, into a
    ``target`` shaped like it (evaluation needs the parameters, not the optimizer state)."""
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
        raise CheckpointError(f"{run_dir / DATA} is corrupt: msgpack decoding failed ({exc})") from None
    if part is not None:
        if not isinstance(raw, dict) or part not in raw:
            raise CheckpointError(f"checkpoint in {run_dir} has no {part!r} entry")
        raw = raw[part]
    if not isinstance(raw, dict):
        raise CheckpointError(f"checkpoint in {run_dir} has another structure: it holds a {type(raw).__name__}, not a dict")
    want, got = _shapes(serialization.to_state_dict(target)), _shapes(raw)
    if want.keys() != got.keys():
        missing = sorted(set(want) - set(got))[:3]
        unexpected = sorted(set(got) - set(want))[:3]
        raise CheckpointError(f"checkpoint in {run_dir} has another structure (missing {missing}, unexpected {unexpected})")
    bad = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    if bad:
        k, g, w = bad[0]
        raise CheckpointError(f"checkpoint in {run_dir} does not fit this network: {k} has shape {g}, expected {w}")
    _numeric(raw, f"the checkpoint in {run_dir}")
    try:
        return serialization.from_state_dict(target, raw), meta
    except Exception as exc:  # noqa: BLE001 - any mismatch flax finds means another structure
        raise CheckpointError(f"checkpoint in {run_dir} has another structure ({exc})") from None


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
    _commit_pair(run_dir / SNAP_DATA, run_dir / SNAP_SIDECAR, data, meta)


def snapshot_iterations(run_dir) -> list[int]:
    """Iterations at which ``run_dir`` holds parameter snapshots (empty if it has none)."""
    if not (Path(run_dir) / SNAP_SIDECAR).exists() and not _pending(Path(run_dir) / SNAP_SIDECAR).exists():
        return []
    return list(_snapshot_meta(run_dir)["iterations"])


def _snapshot_meta(run_dir) -> dict:
    run_dir = Path(run_dir)
    return _read_json(run_dir / SNAP_SIDECAR, SNAP_FORMAT, f"no snapshots in {run_dir}: {SNAP_SIDECAR} is missing",
                      run_dir / SNAP_DATA)


def load_snapshots(run_dir) -> dict:
    """All snapshots of ``run_dir`` as ``{iteration: params}`` (nested dicts of numpy arrays)."""
    run_dir = Path(run_dir)
    meta = _snapshot_meta(run_dir)
    data = _read_verified(run_dir / SNAP_DATA, meta)
    try:
        raw = serialization.msgpack_restore(data)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{run_dir / SNAP_DATA} is corrupt: msgpack decoding failed ({exc})") from None
    if not isinstance(raw, dict) or sorted(raw) != sorted(str(i) for i in meta["iterations"]):
        raise CheckpointError(f"{run_dir / SNAP_DATA} has another structure: it holds "
                              f"{sorted(raw) if isinstance(raw, dict) else type(raw).__name__}, its sidecar names iterations {meta['iterations']}")
    shapes = {k: _shapes(v) for k, v in raw.items()}
    if len({tuple(sorted(v.items())) for v in shapes.values()}) > 1:
        raise CheckpointError(f"{run_dir / SNAP_DATA} is corrupt: its snapshots have different structures or shapes")
    _numeric(raw, f"the snapshots in {run_dir}")
    return {int(k): v for k, v in raw.items()}
