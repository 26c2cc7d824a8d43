"""Plot helpers shared by the chapters: training curves over seeds and in-episode curves. They only
read runs (``results/`` or a live run) and draw; no numbers live here. Widgets are in
:mod:`ismarl.analysis.widgets`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from ismarl.analysis.replay import replay
from ismarl.protocol import LEARNER_VS_LEARNER, match_name
from ismarl.runs.metrics import read_metrics
from ismarl.runs.store import load_run


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


#: The four steps of the mechanism (Weis et al. 2026, section 3.2) as the diagram of
#: :func:`mechanism_diagram` draws them: (title, what happens, the book's chapter).
MECHANISM_STEPS = (
    ("Step 1\nin-context best response", "trained against many tabular\nco-players, a sequence agent\n"
     "infers its co-player within\nthe episode (an ICL)", "chapter 6"),
    ("Step 2\nextortion of an ICL", "a learner that updates its\nweights across episodes learns\n"
     "to extort the frozen ICL", "chapter 7"),
    ("Step 3\nmutual extortion", "two extortioners keep learning\nagainst each other and shape\n"
     "each other", "chapter 8"),
)


def mechanism_diagram(ax=None):
    """The mechanism in one picture: Steps 1-3 in a row leading to cooperation, and below them
    Step 4, the mixed pool, in which two learners go through all three at once. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 4.6))
    n = len(MECHANISM_STEPS)
    width, gap, top = 1.0, 0.35, 1.0
    box = dict(boxstyle="round,pad=0.02,rounding_size=0.05", lw=1.2)
    centers = []
    for k, (title, body, chapter) in enumerate(MECHANISM_STEPS):
        x = k * (width + gap)
        ax.add_patch(FancyBboxPatch((x, top), width, 1.0, fc=f"C{k}", ec=f"C{k}", alpha=0.15, **box))
        ax.text(x + width / 2, top + 0.93, title, ha="center", va="top", fontsize=10, weight="bold")
        ax.text(x + width / 2, top + 0.55, body, ha="center", va="top", fontsize=8.5)
        ax.text(x + width / 2, top + 0.04, chapter, ha="center", va="bottom", fontsize=8, style="italic")
        centers.append(x + width / 2)
    end = n * (width + gap)
    ax.add_patch(FancyBboxPatch((end, top + 0.25), 0.8, 0.5, fc="C2", ec="C2", alpha=0.35, **box))
    ax.text(end + 0.4, top + 0.5, "cooperation", ha="center", va="center", fontsize=10, weight="bold")
    arrow = dict(arrowstyle="-|>", lw=1.5, color="0.3")
    for k in range(n):
        ax.annotate("", xy=(centers[k] + width / 2 + gap, top + 0.5), xytext=(centers[k] + width / 2, top + 0.5),
                    arrowprops=arrow)
    ax.add_patch(FancyBboxPatch((0, 0), end - gap, 0.62, fc="C3", ec="C3", alpha=0.15, **box))
    ax.text((end - gap) / 2, 0.5, "Step 4: the mixed pool (chapter 9)", ha="center", va="top", fontsize=10,
            weight="bold")
    ax.text((end - gap) / 2, 0.36, "two learners play half of their episodes against each other and half against "
            "fresh tabular agents, never told which:\nthe tabular agents keep them in-context learners (Step 1), "
            "so each can extort the other (Step 2),\nand the mutual extortion ends in cooperation (Step 3)",
            ha="center", va="top", fontsize=8.5)
    ax.annotate("", xy=(end + 0.4, top + 0.22), xytext=(end - gap, 0.31),
                arrowprops=dict(arrow, connectionstyle="arc3,rad=0.3"))
    ax.set(xlim=(-0.05, end + 0.85), ylim=(-0.05, top + 1.05))
    ax.axis("off")
    return ax


def learner_cooperation_per_seed(ax, run_dir, paper_values=(), window: int = 4, match: str | None = None):
    """Learner-vs-learner cooperation over training, one line per seed (both learners' mean,
    smoothed over ``window`` points), with each of ``paper_values`` (:class:`ismarl.analysis.status.PaperValue`
    or anything with ``figure``, ``quantity`` and ``value``) drawn as a horizontal line or band."""
    match = match or LEARNER_VS_LEARNER
    rows = read_metrics(run_dir, "train")
    its, a = training_curve(run_dir, match, "coop", 0, rows=rows)
    _, b = training_curve(run_dir, match, "coop", 1, rows=rows)
    seeds = sorted({d["seed"] for d in rows})
    for k, (seed, y) in enumerate(zip(seeds, smooth((a + b) / 2, window))):
        ax.plot(its, y, color=f"C{k}", lw=1.2, label=f"seed {seed}")
    for v, ls in zip(paper_values, (":", "--", "-.")):
        label = f"paper, {v.figure}: {v.quantity}"
        if isinstance(v.value, tuple):
            ax.axhspan(*v.value, color="k", alpha=0.12, label=label)
        else:
            ax.axhline(v.value, color="k", ls=ls, lw=1.2, label=label)
    ax.set(xlabel="iteration", ylabel="learner-vs-learner coop. rate", ylim=(-0.03, 1.03))
    return ax


def pool_training_curves(axes, runs: dict, styles: dict | None = None, window: int = 4):
    """Reward (``axes[0]``) and cooperation (``axes[1]``) over training of the runs of a mixed pool
    (``{name: run_dir}``): learner vs learner (red) and learners vs U(0, 1)^5 agents (blue), mean ±
    std over seeds and both learners, one line style per run (``styles``: ``{name: linestyle}``)."""
    styles = styles or {}
    tabular = (match_name(0, "random"), match_name(1, "random"))
    for name, run in runs.items():
        rows = read_metrics(run, "train")
        for kind, color, parts in (("learner vs learner", "C3", ((LEARNER_VS_LEARNER, 0), (LEARNER_VS_LEARNER, 1))),
                                   ("vs tabular", "C0", ((tabular[0], 0), (tabular[1], 0)))):
            if not any(parts[0][0] in d["matches"] for d in rows):
                continue
            for ax, q in zip(axes, ("reward", "coop")):
                curves = [training_curve(run, m, q, side, rows=rows) for m, side in parts
                          if any(m in d["matches"] for d in rows)]
                band(ax, curves[0][0], np.concatenate([v for _, v in curves]), label=f"{kind} ({name})",
                     color=color, ls=styles.get(name, "-"), window=window)
    for ax, q in zip(axes, ("reward", "coop")):
        ax.set(xlabel="iteration", ylabel="avg. reward" if q == "reward" else "coop. rate")
    return axes


def in_episode_grid(run_dir, iteration: int, co_players, episodes: int = 256):
    """Cooperation and reward per round of the episode (rows) against each co-player (columns) of
    a run's learner 1 at a snapshot ``iteration``, mean ± std over the run's seeds (replayed with
    :func:`ismarl.analysis.replay.replay`); the co-player's side in grey. Returns the figure."""
    seeds = load_run(run_dir)[1]
    fig, axes = plt.subplots(2, len(co_players), figsize=(3.2 * len(co_players), 5), sharex=True, sharey="row",
                             squeeze=False)
    for j, opp in enumerate(co_players):
        trs = [replay(run_dir, k, iteration, opp, episodes=episodes) for k in range(len(seeds))]
        rounds = np.arange(1, np.asarray(trs[0].actions).shape[1] + 1)  # actions: (2 sides, rounds, episodes)
        for row, (value, label) in enumerate(((lambda t: 1.0 - np.asarray(t.actions, float), "coop. rate"),
                                              (lambda t: np.asarray(t.rewards, float), "avg. reward"))):
            for side, color, who in ((0, "C3" if opp == "co-learner" else "C0", "learner"), (1, "C7", opp)):
                band(axes[row, j], rounds, np.array([value(t)[side].mean(1) for t in trs]), label=who, color=color)
            axes[row, 0].set_ylabel(label)
        axes[0, j].set_title(f"vs {opp}")
        axes[0, j].legend(fontsize=7)
        axes[1, j].set_xlabel("round")
    fig.suptitle(f"iteration {iteration}, mean ± std over seeds {list(seeds)}")
    fig.tight_layout()
    return fig


def scaling_curves(points: list[dict], model=None, title: str = ""):
    """One panel per engine: seconds per iteration (A2C) or phase (PPI) against each size, relative
    to the smallest measured size, from ``bench_scaling``'s ``points`` (log-log; dashed: cost
    proportional to the size). With a :class:`ismarl.analysis.cost.ScalingModel`, its prediction
    along each axis is drawn thin, beyond the measurements up to 4x the largest size. Returns the
    figure."""
    engines = list(dict.fromkeys(p["engine"] for p in points))
    fig, panels = plt.subplots(1, len(engines), figsize=(5.2 * len(engines), 3.8), squeeze=False)
    for ax, engine in zip(panels[0], engines):
        top = 1.0
        for i, axis in enumerate(dict.fromkeys(p["axis"] for p in points if p["engine"] == engine)):
            pts = sorted((p for p in points if p["engine"] == engine and p["axis"] == axis), key=lambda p: p["value"])
            x0, y0 = pts[0]["value"], pts[0]["seconds"]
            ax.plot([p["value"] / x0 for p in pts], [p["seconds"] / y0 for p in pts], "o-", color=f"C{i}",
                    label=f"{axis} {x0}-{pts[-1]['value']}")
            if model is not None:
                xs = np.geomspace(x0, 4 * pts[-1]["value"], 30)
                at0 = model.predict(engine, **{axis: x0})
                ax.plot(xs / x0, [model.predict(engine, **{axis: float(v)}) / at0 for v in xs], color=f"C{i}", lw=0.7)
                top = max(top, xs[-1] / x0)
            top = max(top, pts[-1]["value"] / x0)
        ax.plot([1, top], [1, top], "k--", lw=0.8, label="proportional")
        ax.set(xscale="log", yscale="log", xlabel="size / smallest size", title=engine.upper(),
               ylabel=f"time per {'phase' if engine == 'ppi' else 'iteration'} / at the smallest size")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
