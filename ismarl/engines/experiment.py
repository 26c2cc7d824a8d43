"""Typed experiment configs: the game, learners, their co-player pools, the network, the engine's
settings, what the run builds on, and how the run is carried out.

An experiment is an :class:`ExperimentConfig`: ``n_learners`` networks trained at the same time,
each with its own pool of co-players (:mod:`ismarl.agents.coplayers` specs with mixing weights), e.g.

* Step 1: one learner, pool ``(("random", 1.0),)``;
* Step 2: one learner against a frozen Step-1 agent: ``(("frozen:0", 1.0),)`` with
  ``frozen=("step1",)``;
* Step 3: two learners initialized from checkpoints (``init_from``), pools ``learner:1`` / ``learner:0``;
* Step 4: two learners, pools ``(("learner:1", .5), ("random", .5))`` and
  ``(("learner:0", .5), ("random", .5))``; the opponent-ID ablation sets ``network.use_z``,
  the no-tabular ablation drops ``random``.

A learner-vs-learner pairing is played once per iteration and trains both sides (the episodes
count towards both learners' batches). The presets of every experiment are in
:mod:`ismarl.experiments.presets`.

Another run is named in ``frozen`` and ``init_from`` either by its experiment (``"step1"``: the
run of that name beside this one, :func:`ismarl.runs.layout.resolve_reference`) or by a path
(``"runs/warmup"``, anything with a ``/``).

The config splits in two. What changes the trajectory of training is hashed
(:data:`HASHED`, with :data:`CONFIG_FORMAT`): a checkpoint is resumed only by a config with the same
hash. How the run is carried out (:class:`RunOptions`: chunking, checkpoint, probe and snapshot
cadences), its name and its length are not: a finished run can be extended with
``--resume --iterations N``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json

from ismarl import games
from ismarl._validate import check_finite_number, check_int
from ismarl.agents.coplayers import parse_spec
from ismarl.agents.network import NetworkConfig
from ismarl.engines.a2c.config import A2CConfig
from ismarl.engines.ppi.config import HASHED_WHEN_SET, PPIConfig
from ismarl.engines.schedule import Schedule

#: The version of the config's JSON form; configs written without one are format 1 (:func:`from_dict`).
CONFIG_FORMAT = 2
#: The fields that change the trajectory of training, hashed by :meth:`ExperimentConfig.hash`.
HASHED = ("engine", "game", "horizon", "pools", "batch_size", "network", "a2c", "frozen", "init_from",
          "init_seed_offset", "init_seeds", "init_iteration")
#: Engine sections hashed only for their engine (so configs of other engines keep their hash).
HASHED_FOR_ENGINE = {"ppi": ("ppi",)}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a run is carried out, without changing its trajectory: iterations per compiled call
    (``chunk``; metrics are logged once per chunk), and the cadences of checkpoints, behavioural
    probes (against ``probes``, ``probe_episodes`` episodes each; 0 = never) and parameter
    snapshots (0 = never), each a multiple of ``chunk``."""

    chunk: int = 50
    checkpoint_every: int = 500
    probe_every: int = 500
    snapshot_every: int = 0
    probe_episodes: int = 256
    probes: tuple[str, ...] = ("tft", "allc", "alld", "random")

    def __post_init__(self):
        for f in ("chunk", "checkpoint_every", "probe_episodes"):
            check_int(getattr(self, f), f"run.{f}", minimum=1)
        for f in ("probe_every", "snapshot_every"):
            check_int(getattr(self, f), f"run.{f}", minimum=0)
        if not isinstance(self.probes, (tuple, list)):
            raise TypeError(f"run.probes must be a list, got {self.probes!r}")
        object.__setattr__(self, "probes", tuple(self.probes))
        for spec in self.probes:
            if not isinstance(spec, str) or not parse_spec(spec).is_tabular:
                raise ValueError(f"run.probes must be tabular co-players (e.g. tft, allc, random), got {spec!r}")
        for f in ("checkpoint_every", "probe_every", "snapshot_every"):
            if getattr(self, f) % self.chunk:
                raise ValueError(f"run.{f}={getattr(self, f)} must be a multiple of run.chunk={self.chunk} "
                                 "(checkpoint_every, probe_every and snapshot_every must be multiples of chunk)")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a training run (the seed list is given at run time)."""

    name: str
    pools: tuple[tuple[tuple[str, float], ...], ...]  # one pool per learner
    batch_size: int  # episodes per learner per update
    iterations: int
    network: NetworkConfig = NetworkConfig()
    a2c: A2CConfig = A2CConfig()
    ppi: PPIConfig = PPIConfig()  # the PPI engine's settings (used when engine is "ppi")
    engine: str = "a2c"  # the training engine (ismarl.engines)
    game: str = "ipd"  # a preset of ismarl.games (the paper's donation-game IPD)
    horizon: int = 100
    frozen: tuple[str, ...] = ()  # runs of frozen co-players ("frozen:j"): experiment names or paths
    init_from: tuple[str | None, ...] = ()  # per learner: the run to start from (name or path), or None
    init_seed_offset: tuple[int, ...] = ()  # per learner: seed i starts from that run's seed i + offset
    # per learner: the init_from run's seed (by value) each of this run's seeds starts from, one per
    # seed in order; names the pairs outright (e.g. only warm-up agents that meet the Step-1 criterion)
    init_seeds: tuple[tuple[int, ...], ...] = ()
    init_iteration: int = 0  # start from the init_from runs' snapshot at this iteration; 0 = their final checkpoint
    run: RunOptions = RunOptions()  # not hashed

    @property
    def n_learners(self) -> int:
        return len(self.pools)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        for f in ("batch_size", "iterations", "horizon"):
            check_int(getattr(self, f), f, minimum=1)
        check_int(self.init_iteration, "init_iteration", minimum=0)
        if not isinstance(self.engine, str) or not self.engine:
            raise TypeError(f"engine must be the name of a training engine, got {self.engine!r}")
        if not isinstance(self.game, str):
            raise TypeError(f"game must be the name of a game, got {self.game!r}")
        games.get(self.game)  # an unknown name raises, listing the known ones
        if not isinstance(self.run, RunOptions):
            raise TypeError(f"run must be a RunOptions, got {self.run!r}")
        if not isinstance(self.network, NetworkConfig):
            raise TypeError(f"network must be a NetworkConfig, got {self.network!r}")
        check_int(self.network.hidden, "network.hidden", minimum=1)
        check_int(self.network.embed, "network.embed", minimum=1)
        if not isinstance(self.network.use_z, bool):
            raise TypeError(f"network.use_z must be true or false, got {self.network.use_z!r}")
        if not isinstance(self.a2c, A2CConfig):
            raise TypeError(f"a2c must be an A2CConfig, got {self.a2c!r}")
        if not isinstance(self.ppi, PPIConfig):
            raise TypeError(f"ppi must be a PPIConfig, got {self.ppi!r}")
        self._check_pools()
        for f in ("frozen", "init_from", "init_seed_offset", "init_seeds"):
            if not isinstance(getattr(self, f), (tuple, list)):
                raise TypeError(f"{f} must be a list, got {getattr(self, f)!r}")
        for path in self.frozen:
            if not isinstance(path, str) or not path:
                raise TypeError(f"frozen must list runs (experiment names or paths), got {path!r}")
        for path in self.init_from:
            if path is not None and (not isinstance(path, str) or not path):
                raise TypeError(f"init_from must list runs (experiment names or paths) or null, got {path!r}")
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
        if (self.init_iteration or self.init_seed_offset) and not any(self.init_from):
            raise ValueError("init_iteration and init_seed_offset say where the init_from runs start this run's "
                             "learners, but init_from is empty")
        if self.init_seeds and self.init_seed_offset:
            raise ValueError("give init_seeds or init_seed_offset, not both")
        if self.init_seeds and not any(self.init_from):
            raise ValueError("init_seeds names seeds of the init_from runs, but init_from is empty")
        if self.init_seeds and len(self.init_seeds) != len(self.pools):
            raise ValueError(f"init_seeds needs one list per learner ({len(self.pools)}), got {len(self.init_seeds)}")
        if len({len(s) for s in self.init_seeds}) > 1:
            raise ValueError(f"init_seeds: every learner needs one source seed per seed, got lengths {[len(s) for s in self.init_seeds]}")

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
        """The JSON form (format :data:`CONFIG_FORMAT`), as written into ``config.json`` and checkpoints."""
        return {"config_format": CONFIG_FORMAT, **dataclasses.asdict(self)}

    def hash(self) -> str:
        """Short hash of the fields that change the trajectory of training (:data:`HASHED`, and the
        engine's own section, :data:`HASHED_FOR_ENGINE`) and the format, used to match checkpoints
        to configs."""
        d = self.to_dict()
        fields = HASHED + HASHED_FOR_ENGINE.get(self.engine, ())
        hashed = {"config_format": CONFIG_FORMAT, **{k: d[k] for k in fields}}
        if "ppi" in hashed:  # fields added later enter the hash only when set (HASHED_WHEN_SET)
            hashed["ppi"] = {k: v for k, v in hashed["ppi"].items() if HASHED_WHEN_SET.get(k, object()) != v}
        return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **kw) -> "ExperimentConfig":
        return dataclasses.replace(self, **kw)

    def with_run(self, **kw) -> "ExperimentConfig":
        """The same config with some :class:`RunOptions` changed."""
        return dataclasses.replace(self, run=dataclasses.replace(self.run, **kw))


def _format1_to_2(d: dict) -> dict:
    """A config written before :data:`CONFIG_FORMAT` 2 (no ``config_format`` key): its schedules
    were four flat fields each and its run options top-level fields; the game was the IPD and the
    engine A2C. The one place that reads the old form."""
    d = copy.deepcopy(d)
    a = d.get("a2c")
    if isinstance(a, dict):
        for name, end, steps, begin in (("learning_rate", "learning_rate_end", "lr_decay_iterations", "lr_decay_start"),
                                        ("entropy_coef", "entropy_coef_end", "entropy_decay_iterations", "entropy_decay_start")):
            if name in a and not isinstance(a[name], dict):
                a[name] = {"start": a[name], "end": a.pop(end, None), "steps": a.pop(steps, 0), "begin": a.pop(begin, 0)}
    run = {k: d.pop(k) for k in ("chunk", "checkpoint_every", "probe_every", "snapshot_every", "probe_episodes", "probes")
           if k in d}
    d["run"] = run
    return d


_SECTIONS = {"network": NetworkConfig, "a2c": A2CConfig, "ppi": PPIConfig, "run": RunOptions}


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
    if not isinstance(d, dict):
        raise TypeError(f"config must be a JSON object (dict), got {d!r}")
    d = dict(d)
    fmt = d.pop("config_format", 1)
    if fmt == 1:
        d = _format1_to_2(d)
    elif fmt != CONFIG_FORMAT:
        raise ValueError(f"config_format {fmt!r} is not one this version of ismarl reads (1 or {CONFIG_FORMAT})")
    _check_keys(d, ExperimentConfig, "config")
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
    for k in ("frozen", "init_from", "init_seed_offset"):
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
    """The JSON value of ``--set key=value``; a bare word for a text field is taken as text. A whole
    number given for a field that holds a real number (or for a schedule of one) is that real
    number, so that ``--set ppi.beta=100`` makes the same config, and the same hash, as the preset's
    100.0."""
    if value.strip() in ("None", "none"):
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        if isinstance(current, str) and value.strip():
            return value.strip()
        raise ValueError(f"--set {key}={value}: {value!r} is not a JSON value (numbers as 1e-3 or 32, text in "
                         "double quotes, lists as [..], null, true/false)") from None
    real = current.get("start") if isinstance(current, dict) else current
    if type(parsed) is int and type(real) is float:
        return float(parsed)
    return parsed


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
        if node is d and parts[-1] in _known(RunOptions):
            raise ValueError(f"override {assignment!r}: {parts[-1]!r} is a run option; use --set run.{parts[-1]}={value}")
        raise ValueError(f"override {assignment!r}: unknown field {parts[-1]!r}; known: {sorted(node)}")
    if isinstance(node[parts[-1]], dict) and set(node[parts[-1]]) != {"start", "end", "steps", "begin"}:
        raise ValueError(f"override {assignment!r}: {key!r} is a config section; set its fields, e.g. {key}.{sorted(node[parts[-1]])[0]}=...")
    node[parts[-1]] = _parse_value(key, value, node[parts[-1]])
    return key, value


def apply_overrides(cfg: ExperimentConfig, assignments) -> ExperimentConfig:
    """Apply ``["a2c.entropy_coef=0.05", "a2c.learning_rate.end=1e-4", "network.hidden=32",
    "run.chunk=10"]`` to a config (a number sets a schedule constant).

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
