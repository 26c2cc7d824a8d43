"""What reproduces: one row per figure panel of the papers that the book addresses, with the
paper's value, ours (read from the shipped ``results/`` runs), the scale and a status.

* :data:`PAPER_VALUES` -- the papers' published numbers, each labelled with its figure: the one
  place in the package that holds them.
* :func:`status_rows` -- the table's rows from a ``results/`` directory; :func:`status_markdown`
  renders them. :func:`background_results` computes the rows that no shipped run holds (the
  exact-gradient mixed group of the shaping chapter, Press and Dyson's extortion payoffs).
* The status of a row follows :data:`CRITERIA`, which are ours, not the papers'.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from ismarl import strategies
from ismarl.analysis.replay import replay, snapshot_iterations
from ismarl.analysis.summary import fresh_cooperation, held_count, learner_cooperation
from ismarl.analytic import press_dyson_payoffs
from ismarl.experiments.presets import PRESETS, get_config
from ismarl.games import ipd
from ismarl.learning import MixedGroupConfig, ShapingConfig, train_mixed_group
from ismarl.protocol import ROUNDS_40_60, STEP1
from ismarl.runs.checkpoint import CheckpointError
from ismarl.runs.evaluate import read_evaluation
from ismarl.runs.store import read_config
from ismarl.scale import pick


@dataclasses.dataclass(frozen=True)
class PaperValue:
    """A number published in a paper: ``figure`` names where (``"Weis Fig 1B"``), ``value`` is a
    number or a ``(low, high)`` range read off the figure (about ±0.05), None where the paper
    states the result in words only (``words`` then says it)."""

    figure: str
    quantity: str
    value: float | tuple[float, float] | None
    words: str = ""

    def distance(self, x: float) -> float:
        """How far ``x`` lies from the value (0 inside a range); NaN for a value in words."""
        if self.value is None:
            return float("nan")
        lo, hi = self.value if isinstance(self.value, tuple) else (self.value, self.value)
        return float(max(lo - x, x - hi, 0.0))

    def text(self) -> str:
        if self.value is None:
            return self.words
        if isinstance(self.value, tuple):
            return f"{self.value[0]:.3g}–{self.value[1]:.3g}"
        return f"{self.value:.3g}"


_W = "Weis Fig "
#: The papers' values: Weis et al. (2026) read off its figures (SPEC's [fig] readings), Press and
#: Dyson (2012) from its formula, Meulemans et al. (2025) in words (its text gives no number).
PAPER_VALUES: dict[str, PaperValue] = {v.figure + ": " + v.quantity: v for v in (
    PaperValue(_W + "1A", "PPI vs PPI cooperation, phase 30", (0.85, 0.9)),
    PaperValue(_W + "1A", "PPI vs tabular cooperation", 0.08),
    PaperValue(_W + "1A", "opponent-ID ablation: PPI vs PPI cooperation", (0.05, 0.1)),
    PaperValue(_W + "1A", "no-tabular ablation: PPI vs PPI cooperation", (0.15, 0.2)),
    PaperValue(_W + "1B", "A2C vs A2C cooperation, end of training", 0.95),
    PaperValue(_W + "1B", "A2C vs A2C reward, end of training", (0.95, 1.0)),
    PaperValue(_W + "1B", "A2C vs tabular cooperation", 0.05),
    PaperValue(_W + "1B", "opponent-ID ablation: A2C vs A2C cooperation", 0.0),
    PaperValue(_W + "1B", "opponent-ID ablation: A2C vs tabular reward", (1.0, 1.05)),
    PaperValue(_W + "1B", "no-tabular ablation: A2C vs A2C cooperation", 0.0),
    PaperValue(_W + "2A", "PPI vs tabular reward", 1.0),
    PaperValue(_W + "2A", "PPI vs tabular cooperation", 0.07),
    PaperValue(_W + "2B", "PPI vs TFT cooperation, round 50", 0.97),
    PaperValue(_W + "2B", "PPI vs ALLC reward", 2.0),
    PaperValue(_W + "2B", "PPI vs ALLD cooperation, late rounds", 0.08),
    PaperValue(_W + "2C", "PPI learner reward vs Fixed-ICL", 0.88),
    PaperValue(_W + "2C", "Fixed-ICL reward", 0.23),
    PaperValue(_W + "2C", "PPI learner cooperation", 0.45),
    PaperValue(_W + "2C", "Fixed-ICL cooperation", 0.67),
    PaperValue(_W + "2E", "PPI vs PPI cooperation, phase 10-12", 0.95),
    PaperValue(_W + "3A", "PPI vs PPI cooperation by round 50, phase 8 of Step 4", 0.45),
    PaperValue(_W + "3A", "PPI vs tabular cooperation, phase 8 of Step 4", 0.08),
    PaperValue(_W + "3B", "A2C vs A2C cooperation after round 10, iteration 70k of Step 4", 0.8),
    PaperValue(_W + "3B", "A2C vs tabular cooperation, iteration 70k of Step 4", 0.03),
    PaperValue(_W + "4A", "A2C vs tabular reward", 1.02),
    PaperValue(_W + "4A", "A2C vs tabular cooperation", 0.03),
    PaperValue(_W + "4B", "A2C vs TFT cooperation, after round 25", 1.0),
    PaperValue(_W + "4B", "A2C vs ALLC reward", 2.0),
    PaperValue(_W + "4B", "A2C vs ALLD cooperation, late rounds", 0.0),
    PaperValue(_W + "4C", "A2C learner reward vs Fixed-ICL", 1.32),
    PaperValue(_W + "4C", "Fixed-ICL reward", -0.03),
    PaperValue(_W + "4C", "A2C learner cooperation", 0.42),
    PaperValue(_W + "4C", "Fixed-ICL cooperation", 0.87),
    PaperValue(_W + "4E", "A2C vs A2C cooperation, peak", 0.95),
    PaperValue(_W + "4E", "A2C vs A2C cooperation, mean at 10k steps", 0.57),
    PaperValue("Press & Dyson 2012", "ZD extortioner (chi = 3) vs ALLC: extortioner's payoff", 9 / 7),
    PaperValue("Press & Dyson 2012", "ZD extortioner (chi = 3) vs ALLC: ALLC's payoff", 3 / 7),
    PaperValue("Meulemans Fig 3C", "aware vs aware payoff, mixed group (p_naive = 0.75)", None,
               "mutual cooperation (shown, no number in the text)"),
)}


def paper(figure: str, quantity: str) -> PaperValue:
    """The paper's value of ``quantity`` in ``figure`` (a key of :data:`PAPER_VALUES`)."""
    key = f"{figure}: {quantity}"
    if key not in PAPER_VALUES:
        known = sorted(v.quantity for v in PAPER_VALUES.values() if v.figure == figure)
        raise ValueError(f"no paper value {key!r}; " + (f"{figure} has {known}" if known else
                         f"the figures are {sorted({v.figure for v in PAPER_VALUES.values()})}"))
    return PAPER_VALUES[key]


#: The chapter (its label) that shows each panel, by the figure's name.
CHAPTERS = {_W + "4A": "ch-in-context", _W + "4B": "ch-in-context", _W + "4C": "ch-extorting-icl",
            _W + "4E": "ch-mutual-extortion-seq", _W + "1B": "ch-mixed-pool", _W + "3B": "ch-mixed-pool",
            _W + "1A": "ch-ppi", _W + "2": "ch-ppi", _W + "3A": "ch-ppi", "Press & Dyson": "ch-iterated-games",
            "Meulemans": "ch-mutual-extortion"}

REPRODUCED = "reproduced"
QUALITATIVE = "qualitative at reduced scale"
NOT_REPRODUCED = "not reproduced"
NOT_ATTEMPTED = "not yet attempted"
STATUSES = (REPRODUCED, QUALITATIVE, NOT_REPRODUCED, NOT_ATTEMPTED)

#: Our tolerance between our number and the paper's: twice the accuracy of a reading off a figure.
TOLERANCE = 0.1
#: Our share of seeds that must hold learner-vs-learner cooperation (4 of 5).
HELD_SHARE = 0.8
#: Our ceiling on a best responder's cooperation with U(0, 1)^5 agents (the book's 0.05-0.15 range).
TABULAR_COOP_MAX = 0.15

#: How a row's status is decided (our criteria; the papers give curves, not thresholds).
CRITERIA = {
    NOT_ATTEMPTED: "no shipped run (or computation) holds the panel",
    NOT_REPRODUCED: "the panel's claim, checked on our numbers as the row states it, fails",
    QUALITATIVE: f"the claim holds, but a number lies more than {TOLERANCE:g} from the paper's, or our run "
                 "departs from the paper's protocol (a warm-up, another co-player pool)",
    REPRODUCED: f"the claim holds, every number lies within {TOLERANCE:g} of the paper's, and the protocol is the "
                "paper's (at the row's scale)",
}


def judge(claim: bool | None, distances=(), departure: str = "") -> str:
    """The status of a row (:data:`CRITERIA`): ``claim`` None means nothing was measured."""
    if claim is None:
        return NOT_ATTEMPTED
    if not claim:
        return NOT_REPRODUCED
    far = any(d > TOLERANCE for d in distances if not np.isnan(d))
    return QUALITATIVE if far or departure else REPRODUCED


@dataclasses.dataclass(frozen=True)
class StatusRow:
    """One row of the table: ``comparisons`` are ``(PaperValue, ours or None)`` pairs."""

    figure: str
    measured: str
    comparisons: tuple
    scale: str
    status: str
    claim: str
    ours_note: str = ""
    departure: str = ""

    @property
    def chapter(self) -> str:
        """The label of the chapter that shows the panel (:data:`CHAPTERS`)."""
        return next(label for prefix, label in CHAPTERS.items() if self.figure.startswith(prefix))

    @property
    def paper_text(self) -> str:
        return "; ".join(v.text() for v, _ in self.comparisons)

    @property
    def ours_text(self) -> str:
        cells = "; ".join("—" if x is None else f"{x:.2f}" for _, x in self.comparisons)
        return "; ".join(filter(None, (cells, self.ours_note)))


def _row(figure, measured, pairs, claim, claim_text, scale, note="", departure="") -> StatusRow:
    status = judge(claim, [v.distance(x) for v, x in pairs if x is not None], departure)
    return StatusRow(figure, measured, tuple(pairs), scale, status, claim_text, note, departure)


def _missing(figure, measured, values, where, claim_text, why: str = "not shipped") -> StatusRow:
    return StatusRow(figure, measured, tuple((v, None) for v in values), "—", NOT_ATTEMPTED, claim_text,
                     f"{why} ({where})")


def scale_of(run_dir) -> str:
    """``cpu, 0.094 % (3000 × 256 of 200000 × 4096 updates × episodes)``: the run's preset (the one
    whose sizes it has) and its share of the paper's episodes (iterations times episodes per
    iteration, per learner, against the ``paper`` preset's)."""
    cfg = read_config(run_dir)
    ref = get_config(cfg.name, "paper")
    size = lambda c: (c.iterations, c.batch_size, c.network)
    preset = next((p for p in PRESETS if size(get_config(cfg.name, p)) == size(cfg)), "custom size")
    ours, theirs = cfg.iterations * cfg.batch_size, ref.iterations * ref.batch_size
    unit = "phases × games" if cfg.engine == "ppi" else "updates × episodes"
    return (f"{preset}, {100 * ours / theirs:.2g} % ({cfg.iterations} × {cfg.batch_size} of "
            f"{ref.iterations} × {ref.batch_size} {unit})")


def _means(path, spec=None) -> dict:
    """``{co-player spec: mean dict}`` of an evaluation file, or the one co-player's mean."""
    cop = read_evaluation(path)["coplayers"]
    if spec is None:
        (res,) = cop.values()
        return res
    return cop[spec]


#: What reading a run that is not there raises (a missing directory, file or checkpoint).
_UNREAD = (FileNotFoundError, CheckpointError)


def _step1_rows(results: Path, name: str, engine: str, figs: tuple[str, str]) -> list[StatusRow]:
    """The Step-1 rows (vs U(0, 1)^5 agents; vs TFT, ALLC, ALLD) of an A2C or PPI run."""
    fa, fb = figs
    rows = []
    va = [paper(fa, f"{engine} vs tabular reward"), paper(fa, f"{engine} vs tabular cooperation")]
    vb = [paper(fb, f"{engine} vs TFT cooperation, " + ("after round 25" if engine == "A2C" else "round 50")),
          paper(fb, f"{engine} vs ALLC reward"), paper(fb, f"{engine} vs ALLD cooperation, late rounds")]
    claim_a = f"cooperation with U(0,1)^5 agents <= {TABULAR_COOP_MAX:g}, reward at least always-defect's - 0.03"
    claim_b = f"{STEP1.describe()} (our Step-1 criterion), <= 0.1 with ALLD in {ROUNDS_40_60.label}"
    try:
        ev = read_evaluation(results / name / "evaluate.json")["coplayers"]
        scale = scale_of(results / name)
    except _UNREAD:
        return [_missing(fa, "vs U(0,1)^5 agents: reward; cooperation", va, f"results/{name}", claim_a),
                _missing(fb, f"vs TFT ({ROUNDS_40_60.label}); vs ALLC reward; vs ALLD", vb, f"results/{name}", claim_b)]
    cpu = read_config(results / name)
    departure = ("its pool mixes U(0,1)^5 agents with nearly deterministic ones"
                 if any(spec != "random" for pool in cpu.pools for spec, _ in pool) else "")
    rnd = ev["random"]
    m = rnd["mean"]
    ok_a = m["learner_coop"] <= TABULAR_COOP_MAX and m["learner_reward"] >= rnd["alld_reward"] - 0.03
    rows.append(_row(fa, "vs U(0,1)^5 agents: reward; cooperation",
                     [(va[0], m["learner_reward"]), (va[1], m["learner_coop"])], ok_a, claim_a, scale,
                     departure=departure))
    tft, allc, alld = (ev[s]["mean"] for s in ("tft", "allc", "alld"))
    w = ROUNDS_40_60.key
    ok_b = STEP1.met(tft[w], allc["learner_coop"]) and alld[w] <= 0.1
    rows.append(_row(fb, f"cooperation vs TFT, {ROUNDS_40_60.label}; reward vs ALLC; cooperation vs ALLD, "
                         f"{ROUNDS_40_60.label}", [(vb[0], tft[w]), (vb[1], allc["learner_reward"]), (vb[2], alld[w])],
                     ok_b, claim_b, scale, departure=departure))
    return rows


def _step2_row(results: Path, name: str, engine: str, fig: str) -> StatusRow:
    vals = [paper(fig, f"{engine} learner reward vs Fixed-ICL"), paper(fig, "Fixed-ICL reward"),
            paper(fig, f"{engine} learner cooperation"), paper(fig, "Fixed-ICL cooperation")]
    measured = "vs the Fixed-ICL: reward of learner; of ICL; cooperation of learner; of ICL"
    claim = "the learner earns more than the Fixed-ICL, which cooperates more (every seed)"
    try:
        res = _means(results / name / "evaluate.json")
        scale = scale_of(results / name)
    except _UNREAD:
        return _missing(fig, measured, vals, f"results/{name}", claim)
    per = res["per_seed"]
    ok = all(e["learner"]["reward"] > e["coplayer"]["reward"] and e["coplayer"]["coop"] > e["learner"]["coop"]
             for e in per)
    m = res["mean"]
    return _row(fig, measured, list(zip(vals, (m["learner_reward"], m["coplayer_reward"], m["learner_coop"],
                                                m["coplayer_coop"]))), ok, claim, scale)


def _pair_coop(path) -> np.ndarray:
    """Per seed, the mean cooperation of both sides of a learner-vs-learner evaluation file."""
    return np.array([(e["learner"]["coop"] + e["coplayer"]["coop"]) / 2 for e in _means(path)["per_seed"]])


def _step3_rows(results: Path) -> list[StatusRow]:
    fig = _W + "4E"
    vals = [paper(fig, "A2C vs A2C cooperation, peak"), paper(fig, "A2C vs A2C cooperation, mean at 10k steps")]
    measured = "learner vs learner cooperation: best seed's peak; end (fresh episodes)"
    claim = "the pairs rise towards cooperation: peak >= 0.8 in some seed"
    rows = []
    for name, label, departure in (
            ("step3", "", ""),
            ("step3_mixed", " (variant, beyond the paper)", "the Step-2 extortioners also met tabular agents")):
        try:
            summ = learner_cooperation(results / name)
            end = _pair_coop(results / name / "evaluate.json")
            scale = scale_of(results / name)
        except _UNREAD:
            rows.append(_missing(fig + label, measured, vals, f"results/{name}", claim))
            continue
        peak = max(e["max"] for e in summ)
        rows.append(_row(fig + label, measured, [(vals[0], peak), (vals[1], float(end.mean()))], peak >= 0.8, claim,
                         scale, note=f"{len(summ)} seeds, `results/{name}`", departure=departure))
    return rows


def _heldout_rate(results: Path) -> tuple[int, int] | None:
    d = results / "step4_heldout" / "step4"
    if not (d / "metrics.jsonl").exists():
        return None
    return held_count(d), len(learner_cooperation(d))


def _step4_rows(results: Path) -> list[StatusRow]:
    fig = _W + "1B"
    vals = [paper(fig, "A2C vs A2C cooperation, end of training"), paper(fig, "A2C vs A2C reward, end of training"),
            paper(fig, "A2C vs tabular cooperation")]
    measured = "learner vs learner: cooperation; reward (end of training); cooperation vs U(0,1)^5 agents"
    claim = (f"learner-vs-learner cooperation held >= 0.8 (over the last 10 % of training) in >= {HELD_SHARE:.0%} "
             f"of the seeds, in-sample and held-out where shipped; cooperation with U(0,1)^5 agents <= {TABULAR_COOP_MAX:g}")
    rows = []
    try:
        summ = learner_cooperation(results / "step4")
        fresh = fresh_cooperation(results / "step4")
        scale = scale_of(results / "step4")
    except _UNREAD:
        rows.append(_missing(fig, measured, vals, "results/step4", claim))
    else:
        held, n = held_count(results / "step4"), len(summ)
        heldout = _heldout_rate(results)
        tab = [np.mean([e["coop"] for e in fresh[k].values()]) for k in ("tabular", "tabular_2") if k in fresh]
        tab_coop = float(np.mean(tab)) if tab else float("nan")
        note = f"held in {held} of {n} seeds (in-sample)"
        note += ("; held-out batch not shipped" if heldout is None
                 else f"; held-out: {heldout[0]} of {heldout[1]} seeds")
        ok = (held >= HELD_SHARE * n and (heldout is None or heldout[0] >= HELD_SHARE * heldout[1])
              and tab_coop <= TABULAR_COOP_MAX)
        rows.append(_row(fig, measured, [(vals[0], float(np.mean([e["final"] for e in summ]))),
                                         (vals[1], float(np.mean([e["final_reward"] for e in summ]))),
                                         (vals[2], tab_coop)], ok, claim, scale, note=note,
                         departure="a warm-up against tabular agents (a Step-1 run) before Step 4"))
    claim_ab = "learner-vs-learner cooperation <= 0.2 at the end of training in every seed"
    for name, label, extra, departure in (
            ("step4_opponent_id", "opponent-ID ablation", "opponent-ID ablation: A2C vs tabular reward",
             "a warm-up against tabular agents, with z given"),
            ("step4_no_tabular", "no-tabular ablation", None, "")):
        v = [paper(fig, f"{label}: A2C vs A2C cooperation")] + ([paper(fig, extra)] if extra else [])
        m = "learner vs learner cooperation (end of training)" + ("; reward vs U(0,1)^5 agents" if extra else "")
        try:
            summ = learner_cooperation(results / name)
            scale = scale_of(results / name)
            ours = [float(np.mean([e["final"] for e in summ]))]
            if extra:
                ours.append(_means(results / name / "evaluate.json", "random")["mean"]["learner_reward"])
        except _UNREAD:
            rows.append(_missing(f"{fig} ({label})", m, v, f"results/{name}", claim_ab))
            continue
        rows.append(_row(f"{fig} ({label})", m, list(zip(v, ours)), all(e["final"] <= 0.2 for e in summ), claim_ab,
                         scale, departure=departure))
    return rows


def _replay_row(results: Path, name: str, fig: str, values, fraction: float, late: slice, episodes: int,
                departure: str = "") -> StatusRow:
    """An in-episode panel of Step 4 partway through training (Fig 3: the paper's A2C at 70k of
    200k updates, its PPI at phase 8 of 30): the run's snapshot at ``fraction`` of training,
    replayed as chapter 9 does, learner against learner and against U(0, 1)^5 agents."""
    measured = (f"{fraction:.0%} into Step 4: learner vs learner cooperation, rounds "
                f"{late.start + 1}-{late.stop or 'end'}; cooperation vs U(0,1)^5 agents")
    claim = f"learner-vs-learner cooperation rises within the episode (rounds {late.start + 1}- above rounds 1-10)"
    run = results / name
    try:
        its = snapshot_iterations(run)
        scale = scale_of(run)
    except _UNREAD:
        return _missing(fig, measured, values, f"snapshots in results/{name}", claim)
    it = its[min(len(its) - 1, int(round(fraction * (len(its) - 1))))]
    n = len(learner_cooperation(run))
    coop = lambda opp, k: 1.0 - np.asarray(replay(run, k, it, opp, episodes=episodes).actions, float)
    ll = [coop("co-learner", k) for k in range(n)]
    tab = [coop("random", k)[0].mean() for k in range(n)]
    early, later = np.mean([c[:, :10].mean() for c in ll]), np.mean([c[:, late].mean() for c in ll])
    return _row(fig, measured, [(values[0], float(later)), (values[1], float(np.mean(tab)))], bool(later > early),
                claim, scale, note=f"iteration {it}, {episodes} episodes per seed; rounds 1-10: {early:.2f}",
                departure=departure)


def ppi_step4_run(results) -> Path:
    """The PPI Step-4 run the status reports: the held-out batch ``results/ppi_step4`` once shipped,
    else the search run its preset was chosen on (``results/ppi_step4_b500``)."""
    results = Path(results)
    shipped = results / "ppi_step4"
    return shipped if shipped.exists() or not (results / "ppi_step4_b500").exists() else results / "ppi_step4_b500"


def _ppi_rows(results: Path, replay_episodes: int | None) -> list[StatusRow]:
    rows = _step1_rows(results, "ppi_step1", "PPI", (_W + "2A", _W + "2B"))
    rows.append(_step2_row(results, "ppi_step2", "PPI", _W + "2C"))
    fig = _W + "2E"
    v = [paper(fig, "PPI vs PPI cooperation, phase 10-12")]
    claim = "both learners reach >= 0.9 cooperation"
    try:
        coop = _pair_coop(results / "ppi_step3" / "evaluate.json")
        cfg = read_config(results / "ppi_step3")
        rows.append(_row(fig, "learner vs learner cooperation, final models",
                         [(v[0], float(coop.mean()))], bool(np.all(coop >= 0.9)), claim, scale_of(results / "ppi_step3"),
                         note=f"after {cfg.iterations} phases"))
    except _UNREAD:
        rows.append(_missing(fig, "learner vs learner cooperation", v, "results/ppi_step3", claim))
    fig = _W + "1A"
    v = [paper(fig, "PPI vs PPI cooperation, phase 30"), paper(fig, "PPI vs tabular cooperation")]
    measured = "learner vs learner cooperation (last 10 % of training); learner 1's cooperation vs U(0,1)^5 agents"
    claim = (f"learner-vs-learner cooperation held >= 0.8 (last 10 % of training) in >= {HELD_SHARE:.0%} of the "
             f"seeds, held-out where shipped; cooperation with U(0,1)^5 agents <= {TABULAR_COOP_MAX:g}")
    step4 = ppi_step4_run(results)
    try:
        summ = learner_cooperation(step4)
        held, n = held_count(step4), len(summ)
        tab = float(np.mean([e["tabular_coop"] for e in summ]))
        note = (f"held in {held} of {n} seeds, `{step4.relative_to(results.parent)}`"
                + ("" if step4.name == "ppi_step4" else " (in-sample: the seeds the setting was chosen on; "
                   "held-out batch not shipped)"))
        rows.append(_row(fig, measured, [(v[0], float(np.mean([e["final"] for e in summ]))), (v[1], tab)],
                         held >= HELD_SHARE * n and tab <= TABULAR_COOP_MAX, claim, scale_of(step4), note=note))
    except _UNREAD:
        rows.append(_missing(fig, measured, v, "results/ppi_step4", claim))
    m = "learner vs learner cooperation (last 10 % of training)"
    claim_ab = "learner-vs-learner cooperation <= 0.2 at the end of training in every seed"
    for name, label in (("ppi_step4_opponent_id", "opponent-ID ablation"), ("ppi_step4_no_tabular", "no-tabular ablation")):
        v = [paper(fig, f"{label}: PPI vs PPI cooperation")]
        try:
            summ = learner_cooperation(results / name)
            rows.append(_row(f"{fig} ({label})", m, [(v[0], float(np.mean([e["final"] for e in summ])))],
                             all(e["final"] <= 0.2 for e in summ), claim_ab, scale_of(results / name),
                             note=f"{len(summ)} seeds"))
        except _UNREAD:
            rows.append(_missing(f"{fig} ({label})", m, v, f"results/{name}", claim_ab))
    if replay_episodes is not None:
        fig = _W + "3A"
        rows.append(_replay_row(results, step4.name, fig, [
            paper(fig, "PPI vs PPI cooperation by round 50, phase 8 of Step 4"),
            paper(fig, "PPI vs tabular cooperation, phase 8 of Step 4")], 8 / 30, ROUNDS_40_60.slice, replay_episodes))
    return rows


def background_results(steps: int | None = None, key: int = 1) -> dict:
    """The rows that no shipped run holds, computed here with the package's functions:
    Press and Dyson's ZD(chi = 3) extortioner against ALLC (exact long-run payoffs), and the
    exact-gradient mixed group of the mutual-extortion chapter (p_naive = 0.75; its setup: two aware
    agents, four naive learners per step, ``steps`` aware steps, default by scale as there).
    Returns ``{"zd_vs_allc": (s_X, s_Y), "mixed_group": final aware-vs-aware payoffs per seed,
    "mixed_group_steps": steps}``."""
    game = ipd()
    sx, sy = press_dyson_payoffs(strategies.zd_extortion(game, chi=3.0), strategies.named("allc", game), game)
    steps = pick(fast=300, cpu=600, gpu=3000) if steps is None else steps
    cfg = MixedGroupConfig.for_scale(n_meta=2, shaping=ShapingConfig.for_scale(naive_batch=4), steps=steps,
                                     record_every=25 if steps % 25 == 0 else steps)
    run = train_mixed_group(jax.random.PRNGKey(key), dataclasses.replace(cfg, p_naive=0.75))
    return {"zd_vs_allc": (float(sx), float(sy)), "mixed_group": np.asarray(run.aware_payoff[:, -1]),
            "mixed_group_steps": steps}


def _background_rows(background: dict | None) -> list[StatusRow]:
    pd_fig, coala = "Press & Dyson 2012", "Meulemans Fig 3C"
    v_pd = [paper(pd_fig, "ZD extortioner (chi = 3) vs ALLC: extortioner's payoff"),
            paper(pd_fig, "ZD extortioner (chi = 3) vs ALLC: ALLC's payoff")]
    v_mg = [paper(coala, "aware vs aware payoff, mixed group (p_naive = 0.75)")]
    claim_pd = "s_X - P = chi (s_Y - P) against ALLC, within 1e-6"
    claim_mg = "the mixed group cooperates: median aware-vs-aware payoff > 0.8"
    measured_mg = "mixed group, exact gradients: aware vs aware payoff (median)"
    if background is None:
        return [_missing(pd_fig, "ZD(χ = 3) vs ALLC: long-run payoffs of both", v_pd, "background_results",
                         claim_pd, "not computed"),
                _missing(coala, measured_mg, v_mg, "background_results", claim_mg, "not computed")]
    sx, sy = background["zd_vs_allc"]
    game = ipd()
    rows = [_row(pd_fig, "ZD(χ = 3) vs ALLC: long-run payoffs of both", [(v_pd[0], sx), (v_pd[1], sy)],
                 abs((sx - game.P) - 3.0 * (sy - game.P)) < 1e-6, claim_pd, "exact")]
    pay = np.asarray(background["mixed_group"])
    med = float(np.median(pay))
    rows.append(_row(coala, measured_mg, [(v_mg[0], med)], med > 0.8, claim_mg,
                     f"{background['mixed_group_steps']} aware steps, {len(pay)} seeds",
                     note=f"{np.mean(pay > 0.8):.0%} of seeds > 0.8"))
    return rows


def status_rows(results_dir, background: dict | None = None, replay_episodes: int | None = 64) -> list[StatusRow]:
    """The reproduction-status table from the runs in ``results_dir`` (a missing run gives
    :data:`NOT_ATTEMPTED`), plus the ``background`` rows (:func:`background_results`; None leaves
    them not computed). ``replay_episodes`` plays the in-episode panels of Fig 3 from the Step-4
    snapshots (None leaves those rows out)."""
    results = Path(results_dir)
    if not results.is_dir():
        raise FileNotFoundError(f"{results} is not a directory; pass the repository's results/ (find_results)")
    rows = _step1_rows(results, "step1", "A2C", (_W + "4A", _W + "4B"))
    rows.append(_step2_row(results, "step2", "A2C", _W + "4C"))
    rows += _step3_rows(results)
    rows += _step4_rows(results)
    if replay_episodes is not None:
        fig = _W + "3B"
        rows.append(_replay_row(results, "step4", fig, [
            paper(fig, "A2C vs A2C cooperation after round 10, iteration 70k of Step 4"),
            paper(fig, "A2C vs tabular cooperation, iteration 70k of Step 4")], 70 / 200, slice(10, None),
            replay_episodes, departure="a warm-up against tabular agents before Step 4"))
    rows += _ppi_rows(results, replay_episodes)
    rows += _background_rows(background)
    return rows


def status_markdown(rows, links: bool = False) -> str:
    """A markdown table of :func:`status_rows` (the scale as the preset and the share of the
    paper's episodes; :func:`claims_markdown` has the sizes); ``links`` makes each figure a MyST
    ``{ref}`` to the chapter that shows it (for the book)."""
    esc = lambda s: str(s).replace("|", "\\|")
    head = ["paper figure", "status", "what is measured", "paper", "ours", "scale"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        figure = f"{{ref}}`{r.figure} <{r.chapter}>`" if links else r.figure
        cells = [figure, f"**{r.status}**", r.measured, r.paper_text, r.ours_text, r.scale.split(" (")[0]]
        lines.append("| " + " | ".join(esc(x) for x in cells) + " |")
    return "\n".join(lines)


def claims_markdown(rows) -> str:
    """The claim each row checks, its sizes, and the departure from the paper's protocol where
    there is one, as a markdown list."""
    out = []
    for r in rows:
        extra = f" Departure: {r.departure}." if r.departure else ""
        out.append(f"- **{r.figure}**: {r.claim}. Scale: {r.scale}.{extra}")
    return "\n".join(out)


def criteria_markdown() -> str:
    """The status criteria (:data:`CRITERIA`) as a markdown list."""
    return "\n".join(f"- **{k}**: {v}." for k, v in CRITERIA.items())
