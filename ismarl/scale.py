"""One switch for every size in the book and the experiments: ``ISMARL_SCALE=fast|cpu|gpu``.

* ``fast``: CI smoke, seconds per chapter, asserts still meaningful;
* ``cpu`` (default): what ``make book`` builds and a laptop or CPU Colab runs in minutes;
* ``gpu``: the paper's sizes (alias ``paper``).
"""

from __future__ import annotations

import os

SCALES = ("fast", "cpu", "gpu")
_ALIASES = {"paper": "gpu", "default": "cpu"}


def current_scale(default: str = "cpu") -> str:
    """The scale named by ``ISMARL_SCALE`` (default ``cpu``); raises on an unknown name."""
    raw = os.environ.get("ISMARL_SCALE", default).strip().lower() or default
    name = _ALIASES.get(raw, raw)
    if name not in SCALES:
        raise ValueError(f"ISMARL_SCALE={raw!r} is not one of {SCALES} (or 'paper')")
    return name


def preset_name(scale: str | None = None) -> str:
    """Name of the config preset for a scale: ``fast``, ``cpu`` or ``paper``."""
    s = current_scale() if scale is None else _ALIASES.get(scale, scale)
    if s not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {SCALES} (or 'paper')")
    return "paper" if s == "gpu" else s


def pick(fast, cpu, gpu, scale: str | None = None):
    """Choose a value by scale: ``pick(fast=10, cpu=1000, gpu=100_000)``."""
    s = current_scale() if scale is None else _ALIASES.get(scale, scale)
    return {"fast": fast, "cpu": cpu, "gpu": gpu}[s]
