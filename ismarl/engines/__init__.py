"""Training engines: pure functions that advance every seed of an experiment by a chunk of
iterations. The run layer (:mod:`ismarl.runs`) drives any of them through :class:`Engine`.

A new engine is a subpackage here (like :mod:`ismarl.engines.a2c` or :mod:`ismarl.engines.ppi`)
providing the functions of :class:`Engine`, registered in :data:`ENGINES`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ismarl.engines.a2c import engine as a2c
from ismarl.engines.experiment import ExperimentConfig
from ismarl.engines.ppi import engine as ppi


class Engine(NamedTuple):
    """What the run layer needs from an engine.

    ``validate(cfg)`` raises a ValueError naming what the engine cannot train (before anything is
    compiled or written); ``init_state(cfg, seed, params=None)`` -> one seed's state (a pytree with ``params`` and
    ``iteration``); ``make_chunk(cfg, length, frozen_agents)`` -> a jitted
    ``chunk(states, run_keys, frozen_params) -> (states, metrics)`` over a leading seed axis;
    ``agent(cfg)`` -> the static description of a trained learner as it plays
    (:func:`ismarl.agents.players.agent_player`); ``init_params(cfg, key)`` -> one learner's
    fresh parameters (the shapes a checkpoint's parameters are read into); ``inherit`` (or None:
    learners start from another run's parameters alone) -> ``inherit(cfg, states, learner,
    source_cfg, source_states, name)``: ``states`` with ``learner`` taken over from the source
    run's full states (learner 0, one per seed), for ``init_from``; ``extend`` (or None: the
    state's shapes do not depend on the iterations) -> ``extend(cfg, states)``: the states of a
    checkpoint trained for fewer iterations (leading seed axis), given room for ``cfg``'s, for a
    finished run continued with ``--resume --iterations N``.
    """

    name: str
    validate: Callable
    init_state: Callable
    make_chunk: Callable
    agent: Callable
    init_params: Callable
    inherit: Callable | None = None
    extend: Callable | None = None


ENGINES = {
    "a2c": Engine("a2c", a2c.build_matches, a2c.init_state, a2c.make_chunk, a2c.agent, a2c.learner_params),
    "ppi": Engine("ppi", ppi.validate, ppi.init_state, ppi.make_chunk, ppi.agent, ppi.init_params, ppi.inherit,
                  ppi.extend),
}


def engine_for(cfg: ExperimentConfig) -> Engine:
    """The engine that trains ``cfg`` (its ``engine`` field)."""
    if cfg.engine not in ENGINES:
        raise ValueError(f"engine {cfg.engine!r} is not one of {sorted(ENGINES)}")
    return ENGINES[cfg.engine]
