"""One switch for every size in the book and the experiments: ``ISMARL_SCALE=fast|cpu|gpu``.

* ``fast``: CI smoke, seconds per chapter, asserts still meaningful;
* ``cpu`` (default): what ``make book`` builds and a laptop or CPU Colab runs in minutes;
* ``gpu``: the paper's sizes (alias ``paper``).
"""

from __future__ import annotations

import os
import sys

import jax

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


GPU_HINT = ("No GPU in this Colab runtime: choose Runtime > Change runtime type > a GPU, then run all "
            "cells again (the default cpu scale also runs without one).")


def describe_runtime(colab: bool | None = None) -> str:
    """What a chapter runs on: scale, JAX backend and devices, and on Colab without a GPU
    (``"google.colab" in sys.modules``, or ``colab=True``) a second line saying how to get one."""
    colab = "google.colab" in sys.modules if colab is None else colab
    backend = jax.default_backend()
    devices = ", ".join(str(d) if d.platform == "cpu" else f"{d} ({d.device_kind})" for d in jax.devices())
    line = f"ismarl scale: {current_scale()} | JAX backend: {backend} | devices: {devices}"
    return f"{line}\n{GPU_HINT}" if colab and backend != "gpu" else line
