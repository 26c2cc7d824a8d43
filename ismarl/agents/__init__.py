"""Networks and co-players: the GRU (``network``), one interface for every player (``players``),
co-player specs and pools (``coplayers``) and a rollout between any two players (``match``).
A new kind of co-player goes into ``coplayers`` (its spec) and ``players`` (how it acts)."""
