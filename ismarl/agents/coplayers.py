"""Co-player specifications and pools: who a learner plays against, and how often.

A co-player is named by a short string (a *spec*), parsed by :func:`parse_spec`:

* ``"random"`` -- a fresh tabular agent per episode, entries i.i.d. U(0, 1) (the paper's pool);
* ``"beta:a"`` -- a fresh tabular agent per episode with entries i.i.d. Beta(a, a): for a < 1 the
  pool holds more nearly deterministic agents (reciprocators, unconditional players) than U(0, 1);
* ``"tft"``, ``"allc"``, ... -- a named memory-1 strategy (:mod:`ismarl.strategies`);
* ``"0.9:0.8:0.1:0.7:0.2"`` -- an explicit strategy ``[p0, pCC, pCD, pDC, pDD]``;
* ``"learner:i"`` -- learner i of the same training run (its current parameters);
* ``"frozen:j"`` -- frozen network j (a checkpoint loaded before training; never updated).

A *pool* is a tuple of ``(spec, weight)``; :func:`split_batch` turns it into a static number of
episodes per co-player for a batch (the mixing weights), each becoming one match of the rollout.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ismarl import strategies
from ismarl.agents.network import Z_DIM
from ismarl.agents.players import Player, agent_player, tabular_player

TABULAR_KINDS = ("random", "beta", "named", "fixed")


@dataclasses.dataclass(frozen=True)
class CoPlayer:
    """A parsed spec: ``kind`` in random/named/fixed/learner/frozen, plus its name, vector or index."""

    kind: str
    name: str = ""
    vector: tuple[float, ...] = ()
    index: int = -1

    @property
    def is_tabular(self) -> bool:
        return self.kind in TABULAR_KINDS


def parse_spec(spec: str) -> CoPlayer:
    """Parse a co-player spec (see the module docstring); raises ValueError with the accepted forms."""
    s = spec.strip().lower()
    if s == "random":
        return CoPlayer("random", name="random")
    if s.startswith("beta:"):
        try:
            a = float(s.split(":", 1)[1])
        except ValueError:
            a = -1.0
        if not a > 0:
            raise ValueError(f"co-player {spec!r}: 'beta:a' needs a positive shape a, e.g. beta:0.5")
        return CoPlayer("beta", name=s, vector=(a,))
    if s in strategies.NAMED_STRATEGIES:
        vector = tuple(float(x) for x in np.asarray(strategies.named(s)))
        return CoPlayer("named", name=s, vector=vector)
    for kind in ("learner", "frozen"):
        if s.startswith(kind + ":"):
            try:
                return CoPlayer(kind, name=s, index=int(s.split(":", 1)[1]))
            except ValueError:
                break
    parts = s.split(":")
    if len(parts) == 5:
        try:
            v = tuple(float(x) for x in parts)
        except ValueError:
            v = ()
        if v and all(0.0 <= x <= 1.0 for x in v):
            return CoPlayer("fixed", name=spec.strip(), vector=v)
        raise ValueError(f"co-player {spec!r}: an explicit strategy needs five probabilities in [0, 1], e.g. 0.9:0.8:0.1:0.7:0.2")
    raise ValueError(
        f"unknown co-player {spec!r}; use 'random', a named strategy {list(strategies.NAMED_STRATEGIES)}, "
        "five probabilities 'p0:pCC:pCD:pDC:pDD', 'learner:i' or 'frozen:j'"
    )


def split_batch(pool: tuple[tuple[str, float], ...], batch: int) -> tuple[tuple[str, int], ...]:
    """Episodes per co-player for one batch, proportional to the weights (largest remainder)."""
    if not pool:
        raise ValueError("a pool needs at least one co-player")
    w = np.asarray([float(x) for _, x in pool])
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"pool weights must be non-negative and not all zero, got {w.tolist()}")
    raw = batch * w / w.sum()
    n = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - n))[: batch - n.sum()]:
        n[i] += 1
    return tuple((spec, int(k)) for (spec, _), k in zip(pool, n) if k > 0)


def tabular_strategies(co: CoPlayer, key, n: int) -> jnp.ndarray:
    """(n, 5) strategies of a tabular co-player: fresh U(0,1)^5 draws, or a fixed vector repeated."""
    if co.kind == "random":
        return strategies.sample_uniform(key, (n,))
    if co.kind == "beta":
        return jax.random.beta(key, co.vector[0], co.vector[0], (n, 5))
    if co.kind in ("named", "fixed"):
        return jnp.broadcast_to(jnp.asarray(co.vector, jnp.float32), (n, 5))
    raise ValueError(f"{co.name!r} is not a tabular co-player")


def make_player(co: CoPlayer, key, n: int, learners=None, frozen=None, agent=None,
                frozen_agents: tuple = ()) -> tuple[Player, jnp.ndarray]:
    """Build a :class:`Player` for ``n`` games, and the (n, 10) opponent-ID vector ``z`` it
    presents to the other side (log-probabilities for tabular agents, zeros for networks).

    ``agent`` describes the run's learners and ``frozen_agents`` the frozen ones (each a
    :class:`~ismarl.agents.network.NetworkConfig` or :class:`~ismarl.agents.ppi_policy.PPIAgent`,
    :func:`ismarl.agents.players.agent_player`); ``key`` also seeds a PPI co-player's rollouts."""
    if co.is_tabular:
        p = tabular_strategies(co, key, n)
        return tabular_player(p), strategies.log_probs(p).astype(jnp.float32)
    zeros = jnp.zeros((n, Z_DIM), jnp.float32)
    if co.kind == "learner":
        if learners is None or co.index >= jax.tree_util.tree_leaves(learners)[0].shape[0]:
            raise ValueError(f"co-player {co.name!r}: no such learner")
        params = jax.tree_util.tree_map(lambda x: x[co.index], learners)
        return agent_player(agent, params, key=key), zeros
    if co.kind == "frozen":
        if frozen is None or co.index >= len(frozen):
            raise ValueError(f"co-player {co.name!r}: no such frozen network (load it with frozen=...)")
        return agent_player(frozen_agents[co.index], frozen[co.index], key=key), zeros
    raise ValueError(f"unknown co-player kind {co.kind!r}")
