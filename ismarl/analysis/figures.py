"""Plot helpers shared by the chapters: training curves over seeds and in-episode curves. They only
read runs (``results/`` or a live run) and draw; no numbers live here. Widgets are in
:mod:`ismarl.analysis.widgets`."""

from __future__ import annotations

import numpy as np

from ismarl.runs.metrics import read_metrics


def training_curve(run_dir, match: str, quantity: str = "coop", side: int = 0, rows=None):
    """``(iterations, values (n_seeds, n_points))`` of one side of one match, from ``metrics.jsonl``."""
    rows = read_metrics(run_dir, "train") if rows is None else rows
    seeds = sorted({d["seed"] for d in rows})
    per_seed = [[d for d in rows if d["seed"] == s and match in d["matches"]] for s in seeds]
    n = min(len(r) for r in per_seed)
    its = np.array([d["iteration"] for d in per_seed[0][:n]])
    vals = np.array([[d["matches"][match][quantity][side] for d in r[:n]] for r in per_seed])
    return its, vals


def smooth(y, window: int):
    """Trailing moving average along the last axis (``window`` points; 1 = unchanged)."""
    if window <= 1:
        return np.asarray(y)
    y = np.asarray(y, float)
    c = np.cumsum(np.pad(y, [(0, 0)] * (y.ndim - 1) + [(1, 0)]), axis=-1)
    out = np.empty_like(y)
    out[..., window:] = (c[..., window + 1:] - c[..., 1:-window]) / window
    for k in range(min(window, y.shape[-1])):
        out[..., k] = c[..., k + 1] / (k + 1)
    return out


def band(ax, x, values, label=None, color=None, window: int = 1, individual: bool = False, **kw):
    """Mean ± std over the first axis of ``values`` (seeds), optionally each seed thinly too."""
    v = smooth(values, window)
    m, s = v.mean(0), v.std(0)
    (line,) = ax.plot(x, m, label=label, color=color, **kw)
    ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2, lw=0)
    if individual:
        for row in v:
            ax.plot(x, row, color=line.get_color(), alpha=0.3, lw=0.6)
    return line


def in_episode(ax, per_seed, who: str, key: str, label=None, color=None):
    """Mean ± std over seeds of an in-episode curve from an ``evaluate`` result's ``per_seed`` list."""
    curves = np.array([e[who][key] for e in per_seed])
    return band(ax, np.arange(1, curves.shape[1] + 1), curves, label=label, color=color)
