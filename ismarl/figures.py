"""Plot helpers shared by the chapters: training curves over seeds, in-episode curves, an
episode explorer widget. They only read ``results/`` (or a live run) and draw; no numbers live here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ismarl.train.loop import read_metrics


def find_results(name: str) -> Path:
    """``results/NAME`` of the repository that holds the working directory."""
    for d in [Path.cwd(), *Path.cwd().parents]:
        if (d / "results" / name).is_dir():
            return d / "results" / name
    raise FileNotFoundError(f"results/{name} not found above {Path.cwd()}: run from a clone of ismarl")


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


def episode_explorer(run_dir, opponents, episodes: int = 64, title: str = ""):
    """A widget: pick a seed, a snapshot iteration and a co-player; shows the in-episode
    cooperation (mean over ``episodes`` episodes) and the actions of the first episode."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ismarl.replay import action_string, replay, run_seeds, snapshot_iterations

    its = snapshot_iterations(run_dir)
    seeds = run_seeds(run_dir)
    seed_w = widgets.Dropdown(options=[(str(s), i) for i, s in enumerate(seeds)], value=0, description="seed")
    it_w = widgets.SelectionSlider(options=its, value=its[-1], description="iteration", continuous_update=False)
    opp_w = widgets.Dropdown(options=list(opponents), value=list(opponents)[0], description="co-player")

    def show(seed_index, iteration, opponent):
        traj = replay(run_dir, seed_index, iteration, opponent, episodes=episodes)
        coop = 1.0 - np.asarray(traj.actions, float)
        rew = np.asarray(traj.rewards, float)
        fig, ax = plt.subplots(figsize=(8, 3))
        rounds = np.arange(1, coop.shape[1] + 1)
        ax.plot(rounds, coop[0].mean(1), label=f"learner (reward {rew[0].mean():.2f})")
        ax.plot(rounds, coop[1].mean(1), label=f"{opponent} (reward {rew[1].mean():.2f})", color="C7")
        ax.set(ylim=(-0.03, 1.03), xlabel="round", ylabel="coop. rate",
               title=f"{title} seed {seeds[seed_index]}, iteration {iteration}: mean of {episodes} episodes")
        ax.legend(fontsize=8)
        plt.show()
        print("episode 1, learner: ", action_string(traj, 0))
        print("episode 1, co-player:", action_string(traj, 1))

    out = widgets.interactive_output(show, {"seed_index": seed_w, "iteration": it_w, "opponent": opp_w})
    return widgets.VBox([widgets.HBox([seed_w, opp_w]), it_w, out])
