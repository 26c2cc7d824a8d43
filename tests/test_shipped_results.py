"""Golden tests on the committed results under ``results/``: the shipped runs, evaluations and
READMEs still say what the book and the code claim about them.

They are marked ``shipped`` and run as their own stage of ``make test`` (``pytest -m shipped``);
``pytest -m "not shipped"`` runs the unit tests alone.
"""

import json

import numpy as np
import pytest
from conftest import RESULTS, ROOT, readme_script

from ismarl.analysis.summary import fresh_cooperation, round_windows_table
from ismarl.protocol import RoundWindow
from ismarl.cli import main
from ismarl.experiments.warmup import criterion_pairs, warmup_best_responders
from ismarl.runs import checkpoint
from ismarl.runs.evaluate import evaluate_run, read_evaluation
from ismarl.runs.store import config_of

pytestmark = pytest.mark.shipped

W5 = RESULTS / "step4_search" / "w5"


def test_step4_readme_is_written_from_the_committed_results():
    """results/step4/README.md is exactly what ``python results/step4/write_readme.py`` writes from the
    committed files: a changed run, evaluation or manifest without a rewritten README fails here."""
    assert readme_script().step4_readme(RESULTS) == (RESULTS / "step4" / "README.md").read_text()


def test_ppi_step4_readme_is_written_from_the_committed_results():
    """results/ppi_step4_b500/README.md is what its script writes from the committed files."""
    script = readme_script("ppi_step4_b500")
    assert script.readme(RESULTS) == (RESULTS / "ppi_step4_b500" / "README.md").read_text()


@pytest.mark.skipif(not (RESULTS / "ppi_step4" / "README.md").exists(), reason="the held-out batch is not shipped yet")
def test_ppi_step4_heldout_rate_is_what_its_files_give():
    """results/ppi_step4/README.md (the held-out batch) is what its script writes, and the rate it
    reports is the count of seeds held >= 0.8 in the run's metrics, the count of both learners
    >= 0.8 in its fresh games, and the status table's."""
    from ismarl.analysis.status import status_rows
    from ismarl.analysis.summary import held_count, learner_cooperation

    run = RESULTS / "ppi_step4"
    script = readme_script("ppi_step4")
    text = (run / "README.md").read_text()
    assert script.readme(RESULTS) == text
    n = len(learner_cooperation(run))
    assert n >= 10
    assert f"**Held >= 0.8 in {held_count(run)} of {n} held-out seeds**" in text
    fresh = fresh_cooperation(run)["learners"]
    assert sorted(fresh) == sorted(e["seed"] for e in learner_cooperation(run))
    assert f"with each other in {sum(min(v['coop']) >= 0.8 for v in fresh.values())} of {n} seeds" in text
    (row,) = [r for r in status_rows(RESULTS, background=None, replay_episodes=None) if r.figure == "Weis Fig 1A"]
    assert row.ours_text.endswith(f"held in {held_count(run)} of {n} seeds, `results/ppi_step4`")


def test_warmup_best_responders_on_the_five_seed_warm_up():
    """The five-seed warm-up of the Step-4 search: four of its agents meet the Step-1 criterion."""
    assert warmup_best_responders(W5) == {0: True, 1: True, 2: True, 3: False, 4: True}


def test_criterion_pairs_on_the_five_seed_warm_up(capsys):
    """Seed 3 misses the criterion, so the pairs are drawn from agents 0, 1, 2 and 4."""
    assert criterion_pairs(W5, 6) == ((0, 0, 0, 1, 1, 2), (1, 2, 4, 2, 4, 4))
    assert main(["warmup-pairs", str(W5), "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 misses" in out and "seed 2: learners from warm-up agents 0 + 4" in out
    assert "--set 'init_seeds=[[0, 0, 0], [1, 2, 4]]'" in out


def test_round_windows_table_reads_the_fresh_episodes():
    run = RESULTS / "step4_search" / "s4ent01_paperpool_cool_pairs2"
    table = round_windows_table([run], windows=(RoundWindow(1, 50), RoundWindow(51, 100)))
    rows = table.splitlines()[2:]
    assert len(rows) == 5 and rows[3].startswith("| `s4ent01_paperpool_cool_pairs2` | 3 | 3 + 0 |")
    for row, e in zip(rows, fresh_cooperation(run)["learners"].values()):
        first, second, whole = (float(x) for x in row.split("|")[4:7])
        assert abs((first + second) / 2 - whole) <= 0.011 and abs(whole - e["both"]) <= 0.005
    with pytest.raises(ValueError, match=r"episodes of 100 rounds, shorter than the window rounds 1-200"):
        round_windows_table([run], windows=(RoundWindow(1, 200),))
    with pytest.raises(FileNotFoundError, match=r"w5 has no evaluate_learners\.json"):
        round_windows_table([W5])


def _max_difference(old, new, path=""):
    """The largest absolute difference between the numbers of two JSON trees; every key of ``old``
    must be in ``new`` with the same non-numeric values (``new`` may hold more keys)."""
    if isinstance(old, dict):
        missing = set(old) - set(new)
        assert not missing, f"{path}: keys {sorted(missing)} are gone"
        return max([_max_difference(old[k], new[k], f"{path}.{k}") for k in old] or [0.0])
    if isinstance(old, list):
        assert len(old) == len(new), f"{path}: {len(old)} entries became {len(new)}"
        return max([_max_difference(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(old, new))] or [0.0])
    if isinstance(old, float) or isinstance(new, float):
        assert (old is None) == (new is None), f"{path}: {old} became {new}"
        return 0.0 if old is None else abs(old - new)
    assert old == new, f"{path}: {old!r} became {new!r}"
    return 0.0


SHIPPED_EVALUATIONS = sorted(p for p in RESULTS.glob("**/evaluate*.json") if (p.parent / "checkpoint.json").exists())


def test_every_shipped_run_with_a_checkpoint_has_evaluations():
    assert len(SHIPPED_EVALUATIONS) >= 17


@pytest.mark.parametrize("path", SHIPPED_EVALUATIONS, ids=lambda p: str(p.relative_to(RESULTS)))
def test_shipped_runs_evaluate_as_their_evaluation_files_say(path):
    """Evaluating a shipped run again, with the arguments its evaluation file records, gives the same
    JSON: for every seed of an A2C run, for the last seed of a PPI run (each seed's entry does not
    depend on which seeds are evaluated,
    ``test_evaluate_some_seeds_gives_their_entries_of_the_whole_evaluation``; PPI's evaluations
    roll out inside the model at every move, and all their seeds would add about 15 minutes to this
    stage); and the file's means are the means of all its seeds' entries. The
    tolerance is one diverging episode: float32 rounding differs between machines (and between Intel
    and AMD processors) and can flip a decision that sits on its threshold, after which the rest of
    that episode differs: 3 / episodes (the paper's payoff range, 3, in one episode's reward at a
    round), and at least 0.005 (``step4_search/w4d`` differs by 0.002 from its 1000-episode file on
    an Intel machine; ``ppi_ablations_k8/no_tabular/evaluate_learners.json``, 100 episodes, by 0.03 in one
    round's reward on an AMD one, one episode of seed 0)."""
    old = read_evaluation(path)  # format 1 (every committed file) upgraded to the present layout
    for spec, r in old["coplayers"].items():
        entries = r["per_seed"]
        assert [e["seed"] for e in entries] == old["seeds"], spec
        for key, side, field in (("learner_reward", "learner", "reward"), ("learner_coop", "learner", "coop"),
                                 ("coplayer_reward", "coplayer", "reward"), ("coplayer_coop", "coplayer", "coop")):
            if key in r["mean"]:  # format-1 files may lack the co-player's means
                assert r["mean"][key] == pytest.approx(np.mean([e[side][field] for e in entries]), abs=1e-12), (spec, key)
    run = path.parent  # a copied run's file may still name the place it was evaluated in
    engine = config_of(checkpoint.read_sidecar(run), run).engine
    subset = old["seeds"][-1:] if engine == "ppi" else old["seeds"]
    old = dict(old, seeds=subset, coplayers={spec: dict(r, per_seed=[e for e in r["per_seed"] if e["seed"] in subset])
                                             for spec, r in old["coplayers"].items()})
    kw = dict(episodes=old["episodes"], learner=old["learner"], seeds=subset)
    specs = list(old["coplayers"])
    if old.get("coplayer_run"):
        kw["coplayer_run"] = run if old["coplayer_run"] == old["run"] else ROOT / old["coplayer_run"]
        kw["coplayer_learner"] = old["coplayer_learner"]
        specs = []
    new = json.loads(json.dumps(evaluate_run(run, specs, **kw)))
    new["run"], new["coplayer_run"] = old["run"], old["coplayer_run"]
    if old.get("coplayer_run"):  # the co-player run's key names its path
        new["coplayers"] = dict(zip(old["coplayers"], new["coplayers"].values()))
    for r in (*old["coplayers"].values(), *new["coplayers"].values()):
        del r["mean"]  # the subset's mean; the file's are checked against its entries above
    assert _max_difference(old, new) <= max(0.005, 3.0 / old["episodes"]) + 1e-9


def test_read_evaluation_upgrades_a_committed_format_1_file():
    """The committed evaluations predate ``"format"`` (format 1: "agent"/"opponent"); they are read
    in the present layout, every number where it was, and the file itself is left as committed."""
    path = RESULTS / "step1" / "evaluate.json"
    raw = json.loads(path.read_text())
    assert "format" not in raw and "opponents" in raw  # format 1 as committed
    d = read_evaluation(path)
    assert d["format"] == "ismarl-evaluation/2" and "opponents" not in d
    assert d["coplayer_run"] is None and d["coplayer_learner"] is None and d["learner"] == raw["learner"]
    assert list(d["coplayers"]) == list(raw["opponents"]) == ["tft", "allc", "alld", "gtft", "wsls", "random",
                                                              "0.9:0.8:0.1:0.7:0.2"]
    for spec, r in d["coplayers"].items():
        old = raw["opponents"][spec]
        assert r["mean"]["learner_reward"] == old["mean"]["agent_reward"]
        assert r["mean"]["coplayer_coop"] == old["mean"]["opponent_coop"]
        assert r["mean"].get("learner_over_oracle") == old["mean"].get("agent_over_oracle")
        for e, o in zip(r["per_seed"], old["per_seed"], strict=True):
            assert e["learner"] == o["agent"] and e["coplayer"] == o["opponent"]
            assert e["learner_over_oracle"] == o["agent_over_oracle"] and e["normalized_gain"] == o["normalized_gain"]
            assert not {"agent", "opponent", "agent_over_oracle"} & set(e)
    learners = read_evaluation(RESULTS / "step4" / "evaluate_learners.json")
    assert learners["coplayer_run"] == "results/step4" and learners["coplayer_learner"] == 1
    assert list(learners["coplayers"]) == ["run:results/step4#1"]


def test_every_committed_evaluation_reads_in_the_present_layout():
    """Every evaluation file under results/ (most of them of runs whose checkpoints were not kept,
    so they cannot be written again) reads through the one reader."""
    files = sorted(RESULTS.glob("**/evaluate*.json"))
    assert len(files) >= 150
    for f in files:
        d = read_evaluation(f)
        assert d["format"] == "ismarl-evaluation/2" and d["coplayers"], f
        for r in d["coplayers"].values():
            assert {"learner_reward", "learner_coop", "coplayer_reward", "coplayer_coop"} <= set(r["mean"]), f
            assert all({"seed", "learner", "coplayer"} <= set(e) for e in r["per_seed"]), f


def _beside(refs):
    """Run references as experiment names where they name the run beside (``results/step1`` in a
    format-1 config is ``step1`` today)."""
    return tuple(r.split("/", 1)[1] if r and r.startswith("results/") and "/" not in r.split("/", 1)[1] else r for r in refs)


def test_shipped_runs_were_trained_with_todays_cpu_presets():
    """Every shipped run named after an experiment has that experiment's ``cpu`` config, field by
    field (the run it builds on named by experiment), so the settings tables of the chapters,
    which read the presets, describe the shipped runs."""
    from ismarl.experiments.presets import EXPERIMENTS, get_config
    from ismarl.runs.store import read_config
    runs = [d for d in sorted(RESULTS.iterdir()) if d.name in EXPERIMENTS and (d / "config.json").exists()]
    assert len(runs) >= 14
    for run in runs:
        cfg = read_config(run)
        cfg = cfg.replace(frozen=_beside(cfg.frozen), init_from=_beside(cfg.init_from))
        assert cfg == get_config(run.name, "cpu"), run.name
