"""The experimental protocol's constants, each defined once: windows of rounds within an episode,
the Step-1 criterion for an in-context best-responder, and the names of the matches in metrics.

Probes during training, ``evaluate``, the summaries, the command-line help and the book all read
these names, so a threshold or a window changes here and nowhere else. The thresholds of
:data:`STEP1` are ours (the paper shows the behaviour in its Fig. 1 without a numeric criterion).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RoundWindow:
    """Rounds ``first`` to ``last`` of an episode (1-based, both included), with a name."""

    first: int
    last: int
    name: str = ""

    @property
    def slice(self) -> slice:
        """The 0-based slice of these rounds along a time axis."""
        return slice(self.first - 1, self.last)

    @property
    def key(self) -> str:
        """The JSON key of the cooperation rate within the window: ``coop_rounds_40_60``."""
        return f"coop_rounds_{self.first}_{self.last}"

    @property
    def label(self) -> str:
        """``rounds 40-60``."""
        return f"rounds {self.first}-{self.last}"

    def fits(self, horizon: int) -> bool:
        """Whether episodes of ``horizon`` rounds contain the window."""
        return horizon >= self.last


#: Mid-episode: far from the opening, where an in-context learner is still probing its co-player,
#: and from the end game, where defection pays whatever the co-player does.
ROUNDS_40_60 = RoundWindow(40, 60, "mid-episode")

#: Where in a 100-round episode a pair of learners falls short of cooperation: the opening, where
#: each probes the other; the middle; the approach to the end; and the end game.
EPISODE_PHASES = (RoundWindow(1, 10, "opening"), RoundWindow(11, 70, "middle"), RoundWindow(71, 90, "late"),
                  RoundWindow(91, 100, "end game"))


def match_name(learner: int, coplayer: str) -> str:
    """The metric key of learner ``learner``'s games against ``coplayer`` (a co-player spec):
    ``learner:0_vs_random``, ``learner:0_vs_learner:1``, ``learner:0_vs_frozen:0``."""
    return f"learner:{learner}_vs_{coplayer}"


#: The games of the two learners of a Step-3 or Step-4 run against each other.
LEARNER_VS_LEARNER = match_name(0, "learner:1")


@dataclasses.dataclass(frozen=True)
class Criterion:
    """An in-context best-responder: cooperation with TFT at least ``tft_min`` within ``window``,
    and with ALLC at most ``allc_max`` over the whole episode."""

    window: RoundWindow
    tft_min: float
    allc_max: float

    def met(self, tft_window_coop: float, allc_coop: float) -> bool:
        return tft_window_coop >= self.tft_min and allc_coop <= self.allc_max

    def describe(self) -> str:
        """``cooperation >= 0.9 with TFT in rounds 40-60, <= 0.05 with ALLC``."""
        return (f"cooperation >= {self.tft_min:g} with TFT in {self.window.label}, "
                f"<= {self.allc_max:g} with ALLC")


#: The Step-1 criterion (our thresholds): a warm-up agent that meets it reciprocates with TFT and
#: exploits ALLC.
STEP1 = Criterion(window=ROUNDS_40_60, tft_min=0.9, allc_max=0.05)
