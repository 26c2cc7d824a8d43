"""The one place where ismarl's state, action and strategy conventions are defined.

Everything else imports these names; nothing else hard-codes an index.

* Actions: ``COOPERATE = 0``, ``DEFECT = 1``.
* Observations / memory-1 states, first person (own action first):
  ``0 = Start, 1 = CC, 2 = CD, 3 = DC, 4 = DD``; index ``1 + 2*own + other``.
* A memory-1 strategy is the vector ``[p0, pCC, pCD, pDC, pDD]`` of cooperation
  probabilities, indexed by the observation above, so ``p[obs]`` is the chance of
  playing C after seeing ``obs``.
* The Markov chain of a pair (X, Y) runs over X's four states ``(CC, CD, DC, DD)``;
  Y sees the same round with the middle two swapped (X's CD is Y's DC).
"""

from __future__ import annotations

import numpy as np

COOPERATE: int = 0
DEFECT: int = 1
ACTION_NAMES: tuple[str, str] = ("C", "D")

START: int = 0
CC: int = 1
CD: int = 2
DC: int = 3
DD: int = 4
OBSERVATION_NAMES: tuple[str, ...] = ("Start", "CC", "CD", "DC", "DD")
N_OBSERVATIONS: int = 5
STRATEGY_LENGTH: int = 5
STATE_NAMES: tuple[str, ...] = ("CC", "CD", "DC", "DD")  # the four chain states

#: Permutation taking an observation (or strategy entry) from one player's side to
#: the other's: Start, CC and DD are shared, CD and DC swap.
SWAP_PERSPECTIVE = np.array([0, 1, 3, 2, 4])


def observation_index(own_action, other_action):
    """First-person observation index of a round: ``1 + 2*own + other``.

    Works on Python ints and on (JAX or NumPy) integer arrays alike.
    """
    return 1 + 2 * own_action + other_action
