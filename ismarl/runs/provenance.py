"""Where a result came from: command, commit, device, wall time and package versions.

Every directory under ``results/`` carries a ``manifest.json`` written by :func:`write_manifest`;
the book's results appendix and the benchmarks read them back with :func:`read_manifest`.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import jax

PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "matplotlib")


def package_versions(names=PACKAGES) -> dict[str, str | None]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """The current commit, with ``+dirty`` when tracked files outside ``results/`` have uncommitted
    changes: what runs and benchmarks write there (``--out results/...``, one after another) is
    not the code they ran."""
    cwd = cwd or Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
                               cwd=top, capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_info() -> dict:
    """CPU, core count, memory and the JAX backend and devices."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["processor"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            info["memory_gib"] = round(kb / 2**20, 1)
    except OSError:
        pass
    try:
        info["jax_backend"] = jax.default_backend()
        info["devices"] = [str(d.device_kind) for d in jax.devices()]
    except Exception as exc:  # noqa: BLE001 - provenance must never break a run
        info["jax_backend"] = f"unavailable ({exc})"
    return info


def describe_machine() -> str:
    m = machine_info()
    devs = ", ".join(sorted(set(m.get("devices", [])))) or "?"
    return f"{m['processor']}, {m['cpu_count']} cores, {m.get('memory_gib', '?')} GiB; JAX {m.get('jax_backend')} ({devs})"


def current_command() -> str:
    """The command line of this process, with ``.../ismarl/__main__.py`` written as ``-m ismarl``."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name == "__main__.py" and Path(argv[0]).parent.name == "ismarl":
        argv = ["-m", "ismarl", *argv[1:]]
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *argv])


def write_manifest(directory, command: str | None = None, wall_time_s: float | None = None,
                   commit: str | None = None, **extra) -> Path:
    """Write ``manifest.json`` into ``directory`` atomically and return its path. ``commit`` is
    the code's commit when the run started (:func:`git_commit`; default: now)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {
        "command": command or current_command(),
        "commit": commit or git_commit(),
        "created_utc": utc_now(),
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 2),
        "machine": machine_info(),
        "versions": package_versions(),
        **extra,
    }
    path = directory / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def write_run_manifest(run_dir, *, started_utc: str, wall_time_s: float, commit: str | None, from_iteration: int,
                       to_iteration: int, finished: bool, **extra) -> Path:
    """``manifest.json`` of a training run after one piece of it (one command, from iteration
    ``from_iteration`` to ``to_iteration``): ``pieces`` lists this piece after the earlier ones
    the run's manifest recorded (those that end by ``from_iteration``; none when the run starts
    afresh), ``wall_time_s`` is their sum, ``resumed`` whether the run was carried out in more
    than one command (a piece starting from a checkpoint), ``iteration`` the one reached and
    ``finished`` whether it is the run's last."""
    piece = {"started_utc": started_utc, "wall_time_s": round(float(wall_time_s), 2), "from_iteration": int(from_iteration),
             "to_iteration": int(to_iteration), "commit": commit, "machine": describe_machine()}
    earlier = []
    if from_iteration > 0:
        try:
            old = read_manifest(run_dir).get("pieces") or []
        except (FileNotFoundError, ValueError):
            old = []
        earlier = [p for p in old if isinstance(p, dict) and isinstance(p.get("to_iteration"), int)
                   and p["to_iteration"] <= from_iteration]
    pieces = earlier + [piece]
    return write_manifest(run_dir, wall_time_s=sum(p.get("wall_time_s") or 0.0 for p in pieces), commit=commit,
                          **extra, resumed=any((p.get("from_iteration") or 0) > 0 for p in pieces), iteration=int(to_iteration),
                          finished=bool(finished), pieces=pieces)


def utc_now() -> str:
    """The current UTC time, to the second, as manifests and progress files write it."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def read_manifest(directory) -> dict:
    path = Path(directory) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no manifest.json in {directory}: results without provenance are not shown")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
