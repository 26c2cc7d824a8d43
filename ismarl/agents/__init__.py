"""Networks and co-players: the GRU (``network``), one interface for every player (``players``),
co-player specs and pools (``coplayers``), a rollout between any two players (``match``), PPI's
sequence model over o/r/a tokens (``world_model``) and its improved policy from rollouts inside that
model (``ppi_policy``). A new kind of co-player goes into ``coplayers`` (its spec) and ``players``
(how it acts)."""
