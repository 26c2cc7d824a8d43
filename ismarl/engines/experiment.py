"""Typed experiment configs: learners, their co-player pools, the network and the A2C settings.

An experiment is an :class:`ExperimentConfig`: ``n_learners`` networks trained at the same time,
each with its own pool of co-players (:mod:`ismarl.agents.coplayers` specs with mixing weights), e.g.

* Step 1: one learner, pool ``(("random", 1.0),)``;
* Step 2: one learner against a frozen Step-1 agent: ``(("frozen:0", 1.0),)`` with
  ``frozen=("results/step1",)``;
* Step 3: two learners initialized from checkpoints (``init_from``), pools ``learner:1`` / ``learner:0``;
* Step 4: two learners, pools ``(("learner:1", .5), ("random", .5))`` and
  ``(("learner:0", .5), ("random", .5))``; the opponent-ID ablation sets ``network.use_z``,
  the no-tabular ablation drops ``random``.

A learner-vs-learner pairing is played once per iteration and trains both sides (the episodes
count towards both learners' batches). The presets of every experiment are in
:mod:`ismarl.experiments.presets`.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json

from ismarl._validate import check_finite_number, check_int
from ismarl.agents.coplayers import parse_spec
from ismarl.agents.network import NetworkConfig
from ismarl.engines.a2c.config import A2CConfig


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a training run (the seed list is given at run time)."""

    name: str
    pools: tuple[tuple[tuple[str, float], ...], ...]  # one pool per learner
    batch_size: int  # episodes per learner per update
    iterations: int
    network: NetworkConfig = NetworkConfig()
    a2c: A2CConfig = A2CConfig()
    horizon: int = 100
    frozen: tuple[str, ...] = ()  # run directories of frozen co-players ("frozen:j")
    init_from: tuple[str | None, ...] = ()  # per learner: run directory to start from, or None
    init_seed_offset: tuple[int, ...] = ()  # per learner: seed i starts from that run's seed i + offset
    # per learner: the init_from run's seed (by value) each of this run's seeds starts from, one per
    # seed in order; names the pairs outright (e.g. only warm-up agents that meet the Step-1 criterion)
    init_seeds: tuple[tuple[int, ...], ...] = ()
    init_iteration: int = 0  # start from the init_from runs' snapshot at this iteration; 0 = their final checkpoint
    chunk: int = 50  # iterations per compiled call (metrics are logged once per chunk)
    checkpoint_every: int = 500  # a multiple of chunk
    probe_every: int = 500  # behavioural probes (TFT/ALLC/ALLD); 0 = never
    snapshot_every: int = 0  # keep the parameters every this many iterations (snapshots.msgpack); 0 = never
    probe_episodes: int = 256
    probes: tuple[str, ...] = ("tft", "allc", "alld", "random")

    @property
    def n_learners(self) -> int:
        return len(self.pools)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        for f in ("batch_size", "iterations", "horizon", "chunk", "checkpoint_every", "probe_episodes"):
            check_int(getattr(self, f), f, minimum=1)
        for f in ("probe_every", "snapshot_every", "init_iteration"):
            check_int(getattr(self, f), f, minimum=0)
        if not isinstance(self.network, NetworkConfig):
            raise TypeError(f"network must be a NetworkConfig, got {self.network!r}")
        check_int(self.network.hidden, "network.hidden", minimum=1)
        check_int(self.network.embed, "network.embed", minimum=1)
        if not isinstance(self.network.use_z, bool):
            raise TypeError(f"network.use_z must be true or false, got {self.network.use_z!r}")
        if not isinstance(self.a2c, A2CConfig):
            raise TypeError(f"a2c must be an A2CConfig, got {self.a2c!r}")
        self._check_pools()
        for f in ("frozen", "init_from", "init_seed_offset", "init_seeds", "probes"):
            if not isinstance(getattr(self, f), (tuple, list)):
                raise TypeError(f"{f} must be a list, got {getattr(self, f)!r}")
        for path in self.frozen:
            if not isinstance(path, str) or not path:
                raise TypeError(f"frozen must list run directories (strings), got {path!r}")
        for path in self.init_from:
            if path is not None and (not isinstance(path, str) or not path):
                raise TypeError(f"init_from must list run directories (strings) or null, got {path!r}")
        if self.init_from and len(self.init_from) != len(self.pools):
            raise ValueError(f"init_from needs one entry per learner ({len(self.pools)}), got {len(self.init_from)}")
        for k in self.init_seed_offset:
            check_int(k, "init_seed_offset", minimum=None)
        if self.init_seed_offset and len(self.init_seed_offset) != len(self.pools):
            raise ValueError(f"init_seed_offset needs one entry per learner ({len(self.pools)}), got {len(self.init_seed_offset)}")
        for seeds in self.init_seeds:
            if not isinstance(seeds, (tuple, list)):
                raise TypeError(f"init_seeds must be one list of seeds per learner, got {seeds!r}")
            for k in seeds:
                check_int(k, "init_seeds", minimum=0)
        for spec in self.probes:
            if not isinstance(spec, str) or not parse_spec(spec).is_tabular:
                raise ValueError(f"probes must be tabular co-players (e.g. tft, allc, random), got {spec!r}")
        if self.init_seeds and self.init_seed_offset:
            raise ValueError("give init_seeds or init_seed_offset, not both")
        if self.init_seeds and not any(self.init_from):
            raise ValueError("init_seeds names seeds of the init_from runs, but init_from is empty")
        if self.init_seeds and len(self.init_seeds) != len(self.pools):
            raise ValueError(f"init_seeds needs one list per learner ({len(self.pools)}), got {len(self.init_seeds)}")
        if len({len(s) for s in self.init_seeds}) > 1:
            raise ValueError(f"init_seeds: every learner needs one source seed per seed, got lengths {[len(s) for s in self.init_seeds]}")
        for f in ("checkpoint_every", "probe_every", "snapshot_every"):
            if getattr(self, f) % self.chunk:
                raise ValueError(f"{f}={getattr(self, f)} must be a multiple of chunk={self.chunk} "
                                 "(checkpoint_every, probe_every and snapshot_every must be multiples of chunk)")

    def _check_pools(self):
        if not isinstance(self.pools, (tuple, list)) or not self.pools:
            raise ValueError(f"an experiment needs at least one learner (one pool), got pools={self.pools!r}")
        for i, pool in enumerate(self.pools):
            if not isinstance(pool, (tuple, list)) or not pool:
                raise ValueError(f"pool of learner {i} must be a non-empty list of [spec, weight] pairs, got {pool!r}")
            for entry in pool:
                if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                    raise ValueError(f"pool of learner {i}: each entry must be a [spec, weight] pair, got {entry!r}")
                spec, w = entry
                if not isinstance(spec, str):
                    raise TypeError(f"pool of learner {i}: co-player spec must be a string, got {spec!r}")
                co = parse_spec(spec)
                check_finite_number(w, f"pool of learner {i}: weight of {spec!r}")
                if w < 0:
                    raise ValueError(f"pool of learner {i}: weight of {spec!r} must be >= 0, got {w}")
                if co.kind == "learner" and not (0 <= co.index < len(self.pools)) or co.kind == "learner" and co.index == i:
                    raise ValueError(f"pool of learner {i} names {spec!r}, but the learners are "
                                     f"{list(range(len(self.pools)))} and a learner cannot play itself")
                if co.kind == "frozen" and not 0 <= co.index < len(self.frozen):
                    raise ValueError(f"pool of learner {i} names {spec!r}, but {len(self.frozen)} frozen run(s) are given "
                                     "(set frozen=[\"RUN_DIR\", ...])")
            if not sum(w for _, w in pool) > 0:
                raise ValueError(f"pool of learner {i}: the weights must not all be zero, got {[w for _, w in pool]}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """Short hash of everything that changes the trajectory of training (used to match
        checkpoints to configs). The number of iterations is not part of it, so a finished run
        can be extended with ``--resume --iterations N``."""
        d = self.to_dict()
        for k in ("iterations", "checkpoint_every", "probe_every", "probe_episodes", "probes", "snapshot_every"):
            d.pop(k)
        for k in ("init_seed_offset", "init_iteration", "init_seeds"):  # fields added later stay out of the hash at their default
            if not d[k]:
                d.pop(k)
        for k in ("entropy_decay_start", "lr_decay_start"):
            if not d["a2c"][k]:
                d["a2c"].pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **kw) -> "ExperimentConfig":
        return dataclasses.replace(self, **kw)


_SECTIONS = {"network": NetworkConfig, "a2c": A2CConfig}


def _known(cls) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}


def _check_keys(d, cls, where: str) -> None:
    if not isinstance(d, dict):
        raise TypeError(f"{where} must be a JSON object (dict), got {d!r}")
    fields = _known(cls)
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(fields)}")
    missing = sorted(k for k, f in fields.items() if k not in d
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}")


def from_dict(d: dict) -> ExperimentConfig:
    """An :class:`ExperimentConfig` from its :meth:`~ExperimentConfig.to_dict` form (e.g. a
    checkpoint sidecar's ``config``); unknown or missing keys and bad values raise ValueError or
    TypeError naming them."""
    _check_keys(d, ExperimentConfig, "config")
    d = dict(d)
    for k, cls in _SECTIONS.items():
        if k in d:
            _check_keys(d[k], cls, f"config section {k!r}")
            d[k] = cls(**d[k])
    pools = d["pools"]
    if not isinstance(pools, (list, tuple)) or not all(
            isinstance(pool, (list, tuple)) and all(isinstance(e, (list, tuple)) and len(e) == 2 for e in pool)
            for pool in pools):
        raise ValueError(f"pools must be one list of [spec, weight] pairs per learner, got {pools!r}")
    for pool in pools:
        for s, w in pool:
            if not isinstance(s, str):
                raise TypeError(f"pools: co-player spec must be a string, got {s!r}")
            check_finite_number(w, f"pools: weight of {s!r}")
    d["pools"] = tuple(tuple((str(s), float(w)) for s, w in pool) for pool in pools)
    for k in ("frozen", "init_from", "init_seed_offset", "probes"):
        d.setdefault(k, ())
        if not isinstance(d[k], (list, tuple)):
            raise TypeError(f"{k} must be a list, got {d[k]!r}")
        d[k] = tuple(d[k])
    init_seeds = d.get("init_seeds") or ()
    if not isinstance(init_seeds, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in init_seeds):
        raise TypeError(f"init_seeds must be one list of seeds per learner, got {init_seeds!r}")
    for s in init_seeds:
        for x in s:
            check_int(x, "init_seeds", minimum=0)
    d["init_seeds"] = tuple(tuple(int(x) for x in s) for s in init_seeds)
    return ExperimentConfig(**d)


def _parse_value(key: str, value: str, current):
    """The JSON value of ``--set key=value``; a bare word for a text field is taken as text."""
    if value.strip() in ("None", "none"):
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        if isinstance(current, str) and value.strip():
            return value.strip()
        raise ValueError(f"--set {key}={value}: {value!r} is not a JSON value (numbers as 1e-3 or 32, text in "
                         "double quotes, lists as [..], null, true/false)") from None


def _assign(d: dict, assignment) -> tuple[str, str]:
    if not isinstance(assignment, str) or "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not of the form key=value (e.g. a2c.learning_rate=1e-3)")
    key, value = assignment.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    node = d
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            raise ValueError(f"override {assignment!r}: {p!r} is not a config section")
        node = node[p]
    if parts[-1] not in node:
        raise ValueError(f"override {assignment!r}: unknown field {parts[-1]!r}; known: {sorted(node)}")
    if isinstance(node[parts[-1]], dict):
        raise ValueError(f"override {assignment!r}: {key!r} is a config section; set its fields, e.g. {key}.{sorted(node[parts[-1]])[0]}=...")
    node[parts[-1]] = _parse_value(key, value, node[parts[-1]])
    return key, value


def apply_overrides(cfg: ExperimentConfig, assignments) -> ExperimentConfig:
    """Apply ``["a2c.entropy_coef=0.05", "network.hidden=32", "batch_size=512"]`` to a config.

    A bad key or value raises ValueError naming the assignment (``--set KEY=VALUE: ...``)."""
    if isinstance(assignments, str):
        assignments = [assignments]
    base = cfg.to_dict()
    d = copy.deepcopy(base)
    pairs = [_assign(d, a) for a in assignments]
    try:
        return from_dict(d)
    except (TypeError, ValueError) as exc:
        # blame the assignment without which the rest is valid; else the first that fails on its own
        for k, (key, value) in enumerate(pairs):
            rest = copy.deepcopy(base)
            for j, a in enumerate(assignments):
                if j != k:
                    _assign(rest, a)
            try:
                from_dict(rest)
            except (TypeError, ValueError):
                continue
            raise ValueError(f"--set {key}={value}: {exc}") from None
        for a, (key, value) in zip(assignments, pairs):
            one = copy.deepcopy(base)
            _assign(one, a)
            try:
                from_dict(one)
            except (TypeError, ValueError) as exc1:
                raise ValueError(f"--set {key}={value}: {exc1}") from None
        raise ValueError(f"--set {' '.join(assignments)}: {exc}") from None
