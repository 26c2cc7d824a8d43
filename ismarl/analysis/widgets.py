"""Interactive widgets for the chapters (they need ``ipywidgets``, part of the ``book`` extra)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ismarl.analysis.replay import action_string, replay, run_seeds, snapshot_iterations


def episode_explorer(run_dir, coplayers, episodes: int = 64, title: str = ""):
    """A widget: pick a seed, a snapshot iteration and a co-player; shows the in-episode
    cooperation (mean over ``episodes`` episodes) and the actions of the first episode."""
    its = snapshot_iterations(run_dir)
    seeds = run_seeds(run_dir)
    seed_w = widgets.Dropdown(options=[(str(s), i) for i, s in enumerate(seeds)], value=0, description="seed")
    it_w = widgets.SelectionSlider(options=its, value=its[-1], description="iteration", continuous_update=False)
    opp_w = widgets.Dropdown(options=list(coplayers), value=list(coplayers)[0], description="co-player")

    def show(seed_index, iteration, coplayer):
        traj = replay(run_dir, seed_index, iteration, coplayer, episodes=episodes)
        coop = 1.0 - np.asarray(traj.actions, float)
        rew = np.asarray(traj.rewards, float)
        fig, ax = plt.subplots(figsize=(8, 3))
        rounds = np.arange(1, coop.shape[1] + 1)
        ax.plot(rounds, coop[0].mean(1), label=f"learner (reward {rew[0].mean():.2f})")
        ax.plot(rounds, coop[1].mean(1), label=f"{coplayer} (reward {rew[1].mean():.2f})", color="C7")
        ax.set(ylim=(-0.03, 1.03), xlabel="round", ylabel="coop. rate",
               title=f"{title} seed {seeds[seed_index]}, iteration {iteration}: mean of {episodes} episodes")
        ax.legend(fontsize=8)
        plt.show()
        print("episode 1, learner: ", action_string(traj, 0))
        print("episode 1, co-player:", action_string(traj, 1))

    out = widgets.interactive_output(show, {"seed_index": seed_w, "iteration": it_w, "coplayer": opp_w})
    return widgets.VBox([widgets.HBox([seed_w, opp_w]), it_w, out])
