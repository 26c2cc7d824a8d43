"""Starting pairs for a two-learner run (Step 4) from a warm-up run: which warm-up agents meet the
Step-1 criterion (:data:`ismarl.protocol.STEP1`) in fresh episodes, pairs made only of them, and
which agents each seed of a run started from."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from ismarl.protocol import STEP1
from ismarl.runs.evaluate import read_evaluation
from ismarl.runs.layout import CONFIG, resolve_reference
from ismarl.runs.store import config_of, source_seeds


def starting_pairs(run_dir) -> list[tuple[int, ...]]:
    """Per seed of a run, the seeds of the runs its learners started from (``init_from``), one per
    learner, as the training loop loads them (:func:`ismarl.runs.store.source_seeds`)."""
    d = json.loads((Path(run_dir) / CONFIG).read_text())
    cfg = config_of(d, run_dir)
    if not cfg.init_from or not all(cfg.init_from):
        raise ValueError(f"{run_dir} did not start every learner from another run (init_from: {list(cfg.init_from)})")
    try:
        sources = [resolve_reference(src, run_dir, marker=CONFIG) for src in cfg.init_from]
    except FileNotFoundError:
        sources = []
    if not sources or not all((src / CONFIG).is_file() for src in sources):
        raise FileNotFoundError(f"{run_dir}: the runs it started from ({list(cfg.init_from)}) have no {CONFIG} here")
    per_learner = [source_seeds(cfg, j, d["seeds"], json.loads((src / CONFIG).read_text())["seeds"])
                   for j, src in enumerate(sources)]
    return [tuple(int(x) for x in seeds) for seeds in zip(*per_learner)]


def warmup_best_responders(warmup_dir) -> dict[int, bool]:
    """Per seed of a warm-up run, whether its agent meets the Step-1 criterion
    (:data:`ismarl.protocol.STEP1`) in the fresh episodes of its ``evaluate.json``."""
    path = Path(warmup_dir) / "evaluate.json"
    try:
        ev = read_evaluation(path)["coplayers"]
    except (ValueError, KeyError) as e:
        raise ValueError(f"{path} is not an evaluation written by `python -m ismarl evaluate` ({e!r}); evaluate the warm-up again") from e
    if "tft" not in ev or "allc" not in ev:
        raise ValueError(f"{warmup_dir}/evaluate.json has no evaluation against TFT and ALLC")
    if any(s.get(STEP1.window.key) is None for s in ev["tft"]["per_seed"]):
        raise ValueError(f"{warmup_dir}/evaluate.json: episodes shorter than {STEP1.window.last} rounds, "
                         f"the Step-1 criterion needs {STEP1.window.label}")
    return {s["seed"]: STEP1.met(s[STEP1.window.key], a["learner"]["coop"])
            for s, a in zip(ev["tft"]["per_seed"], ev["allc"]["per_seed"])}


def criterion_pairs(warmup_dir, n_seeds: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Starting pairs for ``n_seeds`` seeds of a two-learner run from a warm-up run, made only of its
    agents that meet the Step-1 criterion (:func:`warmup_best_responders`): every unordered pair of
    them in turn, then the same pairs with the roles swapped, and so on. Returns ``init_seeds``
    (learner 0's warm-up seeds, learner 1's warm-up seeds) for the run's config."""
    if n_seeds < 1:
        raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
    ok = warmup_best_responders(warmup_dir)
    good = sorted(s for s, meets in ok.items() if meets)
    if len(good) < 2:
        raise ValueError(f"{warmup_dir}: {len(good)} of its {len(ok)} agents meet the Step-1 criterion, "
                         f"a pair needs two; train the warm-up with more seeds")
    pairs = list(itertools.combinations(good, 2))
    chosen = [pairs[k % len(pairs)][::(-1 if (k // len(pairs)) % 2 else 1)] for k in range(n_seeds)]
    return tuple(p[0] for p in chosen), tuple(p[1] for p in chosen)
