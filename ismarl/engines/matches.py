"""Who plays whom in one training iteration of any engine: each learner against the co-players of
its pool, with a static number of episodes per co-player (:func:`build_matches`)."""

from __future__ import annotations

import dataclasses

from ismarl.agents.coplayers import parse_spec, split_batch
from ismarl.engines.experiment import ExperimentConfig
from ismarl.protocol import match_name


@dataclasses.dataclass(frozen=True)
class Match:
    """Side A (always a learner) against side B (any co-player) for ``episodes`` episodes."""

    learner: int
    coplayer: str
    episodes: int

    @property
    def name(self) -> str:
        return match_name(self.learner, self.coplayer)


def build_matches(cfg: ExperimentConfig) -> tuple[Match, ...]:
    """Static list of matches per iteration. A learner-vs-learner pairing listed in both pools is
    played once and trains both learners; its episode counts must agree."""
    matches, seen = [], {}
    for i, pool in enumerate(cfg.pools):
        for spec, n in split_batch(pool, cfg.batch_size):
            co = parse_spec(spec)
            if co.kind == "learner":
                if co.index == i:
                    raise ValueError(f"learner {i} cannot be its own co-player")
                if co.index >= cfg.n_learners:
                    raise ValueError(f"learner {i}'s pool names {spec!r}, but there are {cfg.n_learners} learners")
                pair = (min(i, co.index), max(i, co.index))
                if pair in seen:
                    if seen[pair] != n:
                        raise ValueError(f"learners {pair} give their pairing different episode counts ({seen[pair]} and {n})")
                    continue
                seen[pair] = n
            if co.kind == "frozen" and co.index >= len(cfg.frozen):
                raise ValueError(f"learner {i}'s pool names {spec!r}, but only {len(cfg.frozen)} frozen runs are given")
            matches.append(Match(i, spec, n))
    return tuple(matches)
